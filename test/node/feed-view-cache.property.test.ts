/**
 * `FeedViewCache` (the node's views, computed once per snapshot) against `priceFeeds` (the
 * math, computed per call): for random snapshots, price histories and clock readings, above all
 * the readings where a quote turns stale or stops being "from the future" and where a history
 * point enters or leaves the volatility window, the cache returns exactly what `priceFeeds`
 * returns; a new snapshot or a new history point is priced afresh.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseNodeConfig, type FeedConfig } from '../../node/config.ts';
import { FeedViewCache, PriceHistory, priceFeeds, type FeedAnswer } from '../../node/pricing.ts';
import type { Snapshot, SourceEntry } from '../../node/poller.ts';

const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;
const MAX_FUTURE_MS = 5_000; // the policy default

function feedsWith(maxAgeMs: { usdt: number; btc: number; eth: number }): FeedConfig[] {
  return parseNodeConfig(
    {
      committee: './committee.json',
      keys: { identity: { path: './id.json', passwordEnv: 'ID_PW' }, share: { path: './share.json', passwordFile: './share.pass' } },
      store: './store.sqlite',
      feeds: [
        { name: 'USDT/USD', minSources: 2, maxAgeMs: maxAgeMs.usdt, sources: [{ venue: 'coinbase' }, { venue: 'kraken' }, { venue: 'bitstamp' }] },
        {
          name: 'BTC/USD',
          minSources: 2,
          maxAgeMs: maxAgeMs.btc,
          band: { minBandBps: 5, maxBandBps: 300 },
          sources: [{ venue: 'coinbase' }, { venue: 'kraken' }, { venue: 'binance' }, { venue: 'bitstamp' }],
        },
        { name: 'ETH/USD', minSources: 1, maxAgeMs: maxAgeMs.eth, volumeWeighting: { capShare: 1 }, sources: [{ venue: 'gemini' }, { venue: 'kraken' }] },
      ],
    },
    '/x/node.yaml',
  ).feeds;
}

const BASE: Record<string, number> = { 'USDT/USD': 0.999, 'BTC/USD': 60_000, 'ETH/USD': 3_000 };
const SOURCES = ['coinbase', 'kraken', 'binance', 'bitstamp', 'gemini'];

/** Integer milliseconds mostly, fractional ones too (some venues stamp sub-millisecond). */
const offsetArb = fc.oneof(fc.integer({ min: -200_000, max: 20_000 }), fc.double({ min: -200_000, max: 20_000, noNaN: true }));

const entryArb = fc.record({
  source: fc.constantFrom(...SOURCES), // repeats give duplicate_source verdicts
  hasQuote: fc.boolean(),
  move: fc.oneof(fc.double({ min: -0.002, max: 0.002, noNaN: true }), fc.double({ min: -0.5, max: 0.5, noNaN: true })),
  quote: fc.constantFrom('USD', 'USD', 'USDT'),
  volume: fc.option(fc.double({ min: 0, max: 1e6, noNaN: true }), { nil: undefined }),
  venueOffset: fc.option(offsetArb, { nil: undefined }),
  receivedOffset: offsetArb,
});

const snapshotArb = fc.record({
  'USDT/USD': fc.array(entryArb, { maxLength: 5 }),
  'BTC/USD': fc.array(entryArb, { maxLength: 6 }),
  'ETH/USD': fc.array(entryArb, { maxLength: 4 }),
});

/**
 * Per feed: points from five minutes before the window's start at T0 on, strictly increasing in
 * time, so that around T0 (where the quotes are fresh) points leave the window and enter it.
 */
const HISTORY_START = T0 - HOUR - 300_000;
const pointsArb = fc.array(
  fc.record({
    gap: fc.oneof(fc.integer({ min: 1, max: 600_000 }), fc.double({ min: 0.25, max: 600_000, noNaN: true })),
    move: fc.double({ min: -0.02, max: 0.02, noNaN: true }),
  }),
  { maxLength: 12 },
);
const historyArb = fc.record({ 'USDT/USD': pointsArb, 'BTC/USD': pointsArb, 'ETH/USD': pointsArb });

type ValueOf<A> = A extends fc.Arbitrary<infer T> ? T : never;
type SnapshotSpec = ValueOf<typeof snapshotArb>;
type HistorySpec = ValueOf<typeof historyArb>;

function snapshotOf(spec: SnapshotSpec, version: number): Snapshot {
  const feeds = new Map<string, SourceEntry[]>();
  for (const [feed, entries] of Object.entries(spec)) {
    feeds.set(
      feed,
      entries.map((e): SourceEntry => {
        const base: SourceEntry = { feed, source: e.source, venue: e.source as SourceEntry['venue'], market: 'M' };
        if (!e.hasQuote) return { ...base, error: { kind: 'timeout', message: `source ${e.source}: timed out` } };
        const price = (BASE[feed] as number) * (1 + e.move) * (e.quote === 'USDT' ? 1 / 0.999 : 1);
        return {
          ...base,
          quote: {
            source: e.source,
            feed,
            price,
            ...(e.volume !== undefined ? { volume: e.volume } : {}),
            ...(e.venueOffset !== undefined ? { venueTimestampMs: T0 + e.venueOffset } : {}),
            receivedAtMs: T0 + e.receivedOffset,
            market: 'M',
            quote: feed === 'USDT/USD' ? 'USD' : e.quote,
          },
        };
      }),
    );
  }
  return { version, takenAtMs: T0, feeds };
}

function historyOf(spec: HistorySpec): PriceHistory {
  const history = new PriceHistory();
  for (const [feed, points] of Object.entries(spec)) {
    let t = HISTORY_START;
    let price = BASE[feed] as number;
    for (const p of points) {
      t += p.gap;
      price *= 1 + p.move;
      history.add(feed, { timestampMs: t, price });
    }
  }
  return history;
}

/** The clock readings where some verdict or the volatility window changes, and their neighbours. */
function edgesOf(feeds: FeedConfig[], snapshot: Snapshot, historySpec: HistorySpec): number[] {
  const edges: number[] = [];
  for (const feed of feeds) {
    for (const e of snapshot.feeds.get(feed.name) ?? []) {
      if (!e.quote) continue;
      const ts = e.quote.venueTimestampMs ?? e.quote.receivedAtMs;
      edges.push(ts + feed.policy.maxAgeMs, ts - MAX_FUTURE_MS);
    }
  }
  for (const points of Object.values(historySpec)) {
    let t = HISTORY_START;
    for (const p of points) {
      t += p.gap;
      edges.push(t, t + HOUR);
    }
  }
  return edges.flatMap((x) => [x - 1, x - 0.5, x, x + 1e-6, x + 0.5, x + 1]);
}

const maxAgeArb = fc.record({
  usdt: fc.integer({ min: 1_000, max: 120_000 }),
  btc: fc.integer({ min: 1_000, max: 120_000 }),
  eth: fc.integer({ min: 1_000, max: 120_000 }),
});
const nowArb = fc.oneof(fc.integer({ min: T0 - 300_000, max: T0 + 300_000 }), fc.double({ min: T0 - 300_000, max: T0 + 300_000, noNaN: true }));

/** What `answersAt` promises: each view's verdict, answer and reason, not the per-source ages. */
function answersOf(views: ReadonlyMap<string, FeedAnswer>): unknown[] {
  return [...views].map(([name, v]) => (v.ok ? [name, v.feed, v.price, v.answer] : [name, v.feed, v.reason, v.detail]));
}

describe('FeedViewCache', () => {
  it('returns exactly what priceFeeds returns, at any clock reading, across stale and window boundaries', () => {
    fc.assert(
      fc.property(maxAgeArb, snapshotArb, snapshotArb, historyArb, fc.array(nowArb, { maxLength: 20 }), (maxAge, s1, s2, h, randomNows) => {
        const feeds = feedsWith(maxAge);
        const history = historyOf(h);
        const cache = new FeedViewCache(feeds, history);
        const first = snapshotOf(s1, 1);
        const second = snapshotOf(s2, 2);
        const check = (snapshot: Snapshot | undefined, nowMs: number) => {
          const expected = priceFeeds({ feeds, snapshot, nowMs, history });
          expect(answersOf(cache.answersAt(snapshot, nowMs)), `answersAt ${nowMs}`).toStrictEqual(answersOf(expected));
          expect(cache.at(snapshot, nowMs), `at ${nowMs}`).toStrictEqual(expected);
        };
        check(undefined, T0);
        for (const now of [...edgesOf(feeds, first, h).sort((a, b) => a - b), ...randomNows]) check(first, now);
        // A new snapshot (same clock readings, some of them already seen).
        for (const now of [...randomNows, ...edgesOf(feeds, second, h)]) check(second, now);
        // Back to the first snapshot object: priced again, never mixed up with the second.
        for (const now of randomNows) check(first, now);
      }),
      { numRuns: 200 },
    );
  });

  it('reuses the views while no quote changes verdict, and prices again when one turns stale', () => {
    const feeds = feedsWith({ usdt: 30_000, btc: 30_000, eth: 30_000 });
    const history = new PriceHistory();
    const spec = (offset: number): SnapshotSpec => ({
      'USDT/USD': ['coinbase', 'kraken'].map((source) => ({ source, hasQuote: true, move: 0, quote: 'USD', volume: undefined, venueOffset: offset, receivedOffset: 0 })),
      'BTC/USD': ['coinbase', 'kraken', 'bitstamp'].map((source) => ({ source, hasQuote: true, move: 0, quote: 'USD', volume: undefined, venueOffset: offset, receivedOffset: 0 })),
      'ETH/USD': [],
    });
    const snapshot = snapshotOf(spec(-1_000), 1);
    const cache = new FeedViewCache(feeds, history);
    const at = (nowMs: number) => {
      const views = cache.at(snapshot, nowMs);
      expect(views).toStrictEqual(priceFeeds({ feeds, snapshot, nowMs, history }));
      return views;
    };
    // The quotes are stamped T0 − 1 s, so they turn stale after T0 + 29 s.
    for (const now of [T0, T0 + 10_000, T0 + 29_000]) expect(at(now).get('BTC/USD')?.ok).toBe(true);
    expect(cache.computations).toBe(1);
    const btc = at(T0 + 29_001).get('BTC/USD');
    expect(btc).toMatchObject({ ok: false, reason: 'too_few_sources' });
    expect(cache.computations).toBe(2);
    expect(btc?.result?.sources.map((v) => v.detail)).toEqual(Array(3).fill('age 30001 ms exceeds maxAgeMs 30000'));
    expect(at(T0 + 40_000).get('BTC/USD')?.result?.sources[0]?.detail).toBe('age 41000 ms exceeds maxAgeMs 30000');
    expect(cache.computations).toBe(2);
    // A clock that steps back is priced again too, never served the later verdicts.
    expect(at(T0 + 5_000).get('BTC/USD')?.ok).toBe(true);
    expect(cache.computations).toBe(3);
  });

  it('prices a new snapshot and a new history point afresh', () => {
    const feeds = feedsWith({ usdt: 30_000, btc: 30_000, eth: 30_000 });
    const history = new PriceHistory();
    const quotes = (move: number): SnapshotSpec => ({
      'USDT/USD': ['coinbase', 'kraken'].map((source) => ({ source, hasQuote: true, move, quote: 'USD', volume: undefined, venueOffset: undefined, receivedOffset: 0 })),
      'BTC/USD': ['coinbase', 'kraken'].map((source) => ({ source, hasQuote: true, move, quote: 'USD', volume: undefined, venueOffset: undefined, receivedOffset: 0 })),
      'ETH/USD': [],
    });
    const cache = new FeedViewCache(feeds, history);
    const first = snapshotOf(quotes(0), 1);
    const second = snapshotOf(quotes(0.01), 2);
    const btcAt = (snapshot: Snapshot, nowMs: number) => cache.at(snapshot, nowMs).get('BTC/USD');
    expect(btcAt(first, T0)).toMatchObject({ ok: true, price: 60_000 });
    expect(btcAt(second, T0)).toMatchObject({ ok: true, price: 60_600 });
    expect(cache.computations).toBe(2);
    history.add('BTC/USD', { timestampMs: T0 - 60_000, price: 59_000 });
    history.add('BTC/USD', { timestampMs: T0, price: 60_600 });
    const widened = cache.at(second, T0 + 1).get('BTC/USD');
    expect(cache.computations).toBe(3);
    expect(widened).toStrictEqual(priceFeeds({ feeds, snapshot: second, nowMs: T0 + 1, history }).get('BTC/USD'));
    expect(widened?.ok && widened.result.ok && widened.result.bandBps).toBeGreaterThan(50); // the volatility band is in use
  });

  it('refuses a history point with a timestamp that is not a finite number, naming the feed', () => {
    expect(() => new PriceHistory().add('BTC/USD', { timestampMs: Number.NaN, price: 1 })).toThrow(/price history of BTC\/USD: timestamp NaN is not a finite number/);
  });
});
