/**
 * A run's measures from its real artifacts (docs/running-over-real-networks.md, "The testbed"): the hub's accepted
 * reports and their calldata (chain.ts), the aggregators' round databases and every node's
 * signing store (stores.ts), `/health` samples (health.ts) and the sampled true price path,
 * folded into the run-level JSON fields tools read (`RunMeasures`). Definitions of each
 * measure are in the module that computes it; ticks.ts explains ticksNeeded / ticksPosted,
 * failoverTicks and recoveryTicks.
 */
import type { JsonRpcProvider } from 'ethers';
import { readAccepted, unsignedAccepted, type AcceptedReport } from './chain.ts';
import { unhealthyIntervals, type HealthSample, type UnhealthyInterval } from './health.ts';
import { findEquivocations, readRounds, readSigned, type Equivocation } from './stores.ts';
import {
  computeTicks,
  countTicks,
  doublePosts,
  failoverTicks,
  percentile,
  recoveryTicks,
  servedQuality,
  truthFromSamples,
  type FailoverResult,
  type Post,
  type RecoveryResult,
  type ServedQuality,
  type TickFeed,
  type TickInfo,
} from './ticks.ts';

export * from './chain.ts';
export * from './health.ts';
export * from './stores.ts';
export * from './ticks.ts';

/** A fault as it really happened (wall clock), with the layer that produced it. */
export interface FaultTiming {
  id: string;
  kind: string;
  hosts: string[];
  fromMs: number;
  /** When it was lifted (or the restart happened); null when it lasted to the end. */
  toMs: number | null;
  layer: string;
  detail?: string;
}

export interface MeasureInput {
  scenario: string;
  n: number;
  t: number;
  intervalMs: number;
  aggregators: number;
  feeds: TickFeed[];
  /** The measured window, unix ms. */
  window: { startMs: number; endMs: number };
  provider: JsonRpcProvider;
  hub: string;
  fromBlock?: number;
  committee: { configDigest: string; groupPublicKey: Uint8Array | string };
  aggregatorDbs: { host: string; file: string }[];
  nodeStores: { host: string; file: string }[];
  truthSamples: { tMs: number; prices: Record<string, number> }[];
  healthSamples: HealthSample[];
  faults: FaultTiming[];
  /** Fault ids during which no post is expected (their ticks count for neither side). */
  excused?: string[];
  /** When the active aggregator (agg0) was SIGKILLed, if it was. */
  activeKillMs?: number | null;
  layer: string;
}

export interface RunMeasures {
  scenario: string;
  n: number;
  t: number;
  ticksNeeded: number;
  ticksPosted: number;
  roundP50Ms: number | null;
  roundP99Ms: number | null;
  equivocations: number;
  unsignedAccepted: number;
  failoverTicks: number | null;
  recoveryTicks: number | null;
  layer: string;
  details: {
    window: { startMs: number; endMs: number; intervalMs: number };
    missedTicks: number[];
    doublePosts: number;
    acceptedReports: number;
    acceptedByAggregator: Record<string, number>;
    rounds: { total: number; signed: number; failed: number; byStatus: Record<string, number>; failures: Record<string, number> };
    served: ServedQuality;
    maxStaleSec: number;
    maxDeviationSec: number;
    equivocationsFound: Equivocation[];
    signaturesRead: number;
    unsignedReasons: string[];
    failover: FailoverResult;
    recovery: RecoveryResult;
    unhealthy: UnhealthyInterval[];
    faults: FaultTiming[];
    ticks: TickInfo[];
    posts: { epoch: string; tick: number; blockTime: number; aggregator: string; feeds: number }[];
  };
}

export function postsOf(accepted: readonly AcceptedReport[]): Post[] {
  return accepted.map((a) => ({ epoch: a.epoch, observedAt: a.observedAt, blockTime: a.blockTime, updates: a.updates.map((u) => ({ feedId: u.feedId, answer: u.answer })) }));
}

export async function measureRun(m: MeasureInput): Promise<RunMeasures> {
  const w = { ...m.window, intervalMs: m.intervalMs };
  const accepted = await readAccepted(m.provider, m.hub, m.fromBlock ?? 0);
  const posts = postsOf(accepted);
  const truth = truthFromSamples(m.truthSamples);
  const allRounds = m.aggregatorDbs.flatMap((d) => readRounds(d.host, d.file));
  const excused = m.faults.filter((f) => (m.excused ?? []).includes(f.id)).map((f) => ({ fromMs: f.fromMs, toMs: f.toMs ?? m.window.endMs }));
  const ticks = computeTicks(w, m.feeds, posts, truth, { excused, decisions: allRounds });
  const counted = countTicks(ticks);

  const rounds = allRounds.filter((r) => r.startedAt >= m.window.startMs && r.startedAt < m.window.endMs);
  const signedMs = rounds.filter((r) => r.status === 'signed' && r.totalMs !== null).map((r) => r.totalMs!);
  const byStatus: Record<string, number> = {};
  const failures: Record<string, number> = {};
  for (const r of rounds) {
    byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
    if (r.failureCode) failures[r.failureCode] = (failures[r.failureCode] ?? 0) + 1;
  }

  const signed = m.nodeStores.flatMap((s) => readSigned(s.host, s.file));
  const equivocationsFound = findEquivocations(signed);
  const unsigned = unsignedAccepted(accepted, m.committee);
  const inWindow = accepted.filter((a) => Number(a.epoch) >= m.window.startMs && Number(a.epoch) < m.window.endMs);
  const failover = failoverTicks(ticks, posts, m.activeKillMs ?? null, w, m.aggregators);
  const healed = m.faults.filter((f) => f.toMs !== null && f.toMs < m.window.endMs).map((f) => ({ id: f.id, endMs: f.toMs! }));
  const recovery = recoveryTicks(ticks, healed, w);
  const served = servedQuality(w, m.feeds, posts, truth);
  const byAgg: Record<string, number> = {};
  for (const a of inWindow) {
    const k = `agg${Number(a.epoch % BigInt(m.aggregators))}`;
    byAgg[k] = (byAgg[k] ?? 0) + 1;
  }
  const r1 = (x: number | null) => (x === null ? null : Math.round(x * 10) / 10);
  return {
    scenario: m.scenario,
    n: m.n,
    t: m.t,
    ticksNeeded: counted.ticksNeeded,
    ticksPosted: counted.ticksPosted,
    roundP50Ms: r1(percentile(signedMs, 50)),
    roundP99Ms: r1(percentile(signedMs, 99)),
    equivocations: equivocationsFound.length,
    unsignedAccepted: unsigned.count,
    failoverTicks: failover.ticks,
    recoveryTicks: recovery.ticks,
    layer: m.layer,
    details: {
      window: w,
      missedTicks: counted.missed,
      doublePosts: doublePosts(postsOf(inWindow), m.intervalMs),
      acceptedReports: inWindow.length,
      acceptedByAggregator: byAgg,
      rounds: { total: rounds.length, signed: signedMs.length, failed: byStatus.failed ?? 0, byStatus, failures },
      served,
      maxStaleSec: served.maxStaleSec,
      maxDeviationSec: served.maxDeviationSec,
      equivocationsFound,
      signaturesRead: signed.length,
      unsignedReasons: unsigned.reasons,
      failover,
      recovery,
      unhealthy: unhealthyIntervals(m.healthSamples),
      faults: m.faults,
      ticks,
      posts: accepted.map((a) => ({ epoch: a.epoch.toString(), tick: Number(a.epoch / BigInt(m.intervalMs)), blockTime: a.blockTime, aggregator: `agg${Number(a.epoch % BigInt(m.aggregators))}`, feeds: a.updates.length })),
    },
  };
}
