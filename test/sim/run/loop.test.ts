/**
 * What a step records (sim/run/loop.ts): node 1's filter findings, the consumer's maximum
 * age, and whether the hub's served price was usable.
 */
import { describe, expect, it } from 'vitest';
import type { FeedView } from '../../../node/pricing.ts';
import { consumerMaxAge, sampleOf, sourceFindings, type HubRead } from '../../../sim/run/loop.ts';
import { scenario } from './fixture.ts';

const view = (v: Record<string, unknown>): FeedView => v as unknown as FeedView;

describe('sourceFindings', () => {
  it('lists unused sources with their reason, then sources that never reached the filter, each once', () => {
    const v = view({
      ok: true,
      result: { sources: [{ source: 'binance', used: true }, { source: 'kraken', used: false, reason: 'outlier' }, { source: 'okx', used: false, reason: 'outlier' }] },
      excluded: [{ source: 'bybit', reason: 'no_conversion' }, { source: 'bybit', reason: 'no_conversion' }],
    });
    expect(sourceFindings(v)).toEqual(['kraken: outlier', 'okx: outlier', 'bybit: no_conversion']);
  });

  it('says why a fresh quote went unused: the feed had no observation, or was priced without it', () => {
    const src = { sources: [{ source: 'okx', used: false }] };
    expect(sourceFindings(view({ ok: false, reason: 'too_few_sources', result: src, excluded: [] }))).toEqual(['okx: fresh but unused, the feed has no observation (too_few_sources)']);
    expect(sourceFindings(view({ ok: true, result: src, excluded: [] }))).toEqual(['okx: fresh but unused, the feed has no observation (priced without it)']);
    expect(sourceFindings(undefined)).toEqual([]);
  });
});

describe('consumerMaxAge', () => {
  it('is the futures market limit capped by the hub staleness, else the hub staleness', () => {
    expect(consumerMaxAge(scenario({ oracle: { nodes: 4, hub: { maxStaleness: 600 } } }))).toBe(600);
    expect(consumerMaxAge(scenario({ settlement: { futures: { maxPriceAgeSec: 300, positions: [] } } }))).toBe(300);
    expect(consumerMaxAge(scenario({ oracle: { nodes: 4, hub: { maxStaleness: 200 } }, settlement: { futures: { maxPriceAgeSec: 300, positions: [] } } }))).toBe(200);
  });
});

describe('sampleOf', () => {
  const base = { tSec: 60, truth: 3000, venues: { binance: 3001 }, lastTs: 10_000, maxAgeSec: 300, spendUsd: 12, fromAnswer: (a: bigint) => Number(a) / 1e8 };
  const read = (answer: bigint, observedAt: number, roundId: bigint, status: number): HubRead => [answer, BigInt(observedAt), 0n, roundId, BigInt(status)];

  it('before the first round: nothing served, not usable, no age', () => {
    expect(sampleOf({ ...base, read: read(0n, 0, 0n, 0) })).toEqual({ tSec: 60, truth: 3000, venues: { binance: 3001 }, served: null, status: 'unknown', usable: false, spendUsd: 12, age: null });
  });

  it('usable while active and no older than the consumer maximum age', () => {
    expect(sampleOf({ ...base, read: read(299_950_000_000n, 9_700, 4n, 1) })).toMatchObject({ served: 2999.5, status: 'active', usable: true, age: 300 });
    expect(sampleOf({ ...base, read: read(299_950_000_000n, 9_699, 4n, 1) })).toMatchObject({ usable: false, age: 301 });
  });

  it('not usable when the feed is not active', () => {
    expect(sampleOf({ ...base, read: read(299_950_000_000n, 9_990, 4n, 5) })).toMatchObject({ status: 'suspended', usable: false, served: 2999.5 });
    expect(sampleOf({ ...base, read: read(299_950_000_000n, 9_990, 4n, 2) })).toMatchObject({ status: 'tripped', usable: false });
  });
});
