/**
 * Testbed reports: the JSON entry has exactly the fields first and in order, then
 * details; Markdown lists failed expectations; the SVG timeline draws faults, reports,
 * missed ticks and unhealthy intervals.
 */
import { describe, expect, it } from 'vitest';
import { runEntry, timelineSvg, toJson, toMarkdown, type TestbedRun } from '../../sim/testbed/report/index.ts';

const T0 = 1_796_000_000_000;
const run: TestbedRun = {
  scenario: 'quorum-edge',
  n: 10,
  t: 7,
  ticksNeeded: 12,
  ticksPosted: 11,
  roundP50Ms: 140.2,
  roundP99Ms: 610,
  equivocations: 0,
  unsignedAccepted: 0,
  failoverTicks: null,
  recoveryTicks: 1,
  layer: 'nftables',
  pass: false,
  expectations: [
    { expect: 'recoveryTicks <= 2', ok: true, actual: '1 <= 2' },
    { expect: 'aggregators unhealthy during cut-quorum naming /quorum/', ok: false, actual: 'healthy throughout' },
  ],
  dir: '/tmp/x',
  mode: 'namespaces',
  runId: 'abcd',
  wallMs: 1000,
  details: {
    window: { startMs: T0, endMs: T0 + 60_000, intervalMs: 2000 },
    missedTicks: [T0 / 2000 + 10],
    doublePosts: 0,
    acceptedReports: 2,
    acceptedByAggregator: { agg0: 1, agg1: 1 },
    rounds: { total: 30, signed: 11, failed: 4, byStatus: {}, failures: {} },
    served: { maxStaleSec: 3, maxDeviationSec: 0, perFeed: [] },
    maxStaleSec: 3,
    maxDeviationSec: 0,
    equivocationsFound: [],
    signaturesRead: 77,
    unsignedReasons: [],
    failover: { ticks: null, rawTicks: null, detail: '' },
    recovery: { ticks: 1, perFault: [] },
    unhealthy: [{ host: 'node8', fromMs: T0 + 10_000, toMs: T0 + 20_000, messages: ['unreachable (UND_ERR_CONNECT_TIMEOUT)'] }],
    faults: [{ id: 'cut-quorum', kind: 'partition', hosts: ['node7', 'node8'], fromMs: T0 + 10_000, toMs: T0 + 30_000, layer: 'nftables' }],
    ticks: [],
    posts: [
      { epoch: String(T0 + 4000), tick: T0 / 2000 + 2, blockTime: T0 / 1000 + 5, aggregator: 'agg0', feeds: 1 },
      { epoch: String(T0 + 40_001), tick: T0 / 2000 + 20, blockTime: T0 / 1000 + 41, aggregator: 'agg1', feeds: 1 },
    ],
  },
};

describe('testbed reports', () => {
  it('JSON: {"runs":[…]} with the issue’s fields in order, then details', () => {
    const parsed = JSON.parse(toJson([run])) as { runs: Record<string, unknown>[] };
    expect(Object.keys(parsed.runs[0]!)).toEqual(['scenario', 'n', 't', 'ticksNeeded', 'ticksPosted', 'roundP50Ms', 'roundP99Ms', 'equivocations', 'unsignedAccepted', 'failoverTicks', 'recoveryTicks', 'layer', 'pass', 'details']);
    expect(parsed.runs[0]!.failoverTicks).toBeNull();
    expect((runEntry(run).details as Record<string, unknown>).expectations).toHaveLength(2);
  });

  it('Markdown: one row per run and each failed expectation', () => {
    const md = toMarkdown([run]);
    expect(md).toContain('| quorum-edge | 10 | 7 | 12 | 11 | 140.2 | 610 | 0 | 0 | – | 1 | nftables | **fail** |');
    expect(md).toContain('quorum-edge: `aggregators unhealthy during cut-quorum naming /quorum/` failed (healthy throughout)');
  });

  it('SVG: fault bands, report ticks, missed ticks and unhealthy rows', () => {
    const svg = timelineSvg(run);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('cut-quorum (nftables)');
    expect(svg).toContain('epoch 1796000004000 by agg0');
    expect(svg).toContain('needed a post, none accepted');
    expect(svg).toContain('node8 unhealthy 10.0–20.0 s: unreachable (UND_ERR_CONNECT_TIMEOUT)');
  });
});
