import { describe, expect, it } from 'vitest';
import { ObserveError, observeFeed, parsePolicy, type SourceQuote } from '../../node/observe/index.ts';

const NOW = 1_700_000_000_000;
const policy = parsePolicy({ maxAgeMs: 10_000, minSources: 3, madMultiplier: 3, minBandBps: 25, maxBandBps: 200 });
const q = (source: string, price: number, ageMs = 1_000, volume?: number): SourceQuote => ({
  source,
  price,
  timestampMs: NOW - ageMs,
  ...(volume === undefined ? {} : { volume }),
});
const reasonOf = (r: ReturnType<typeof observeFeed>, source: string) => r.sources.find((s) => s.source === source)?.reason;

describe('observeFeed', () => {
  it('prices agreeing sources with the median and reports the spread', () => {
    const r = observeFeed({ feed: 'BTC/USD', nowMs: NOW, policy, quotes: [q('a', 100), q('b', 100.1), q('c', 100.2)] });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.price).toBe(100.1);
    expect(r.method).toBe('median');
    expect(r.spreadBps).toBe(20);
    expect(r.sources.every((s) => s.used)).toBe(true);
  });

  it('drops stale quotes with reason stale', () => {
    const r = observeFeed({ feed: 'BTC/USD', nowMs: NOW, policy, quotes: [q('a', 100), q('b', 100), q('c', 100), q('d', 100, 20_000)] });
    expect(r.ok).toBe(true);
    expect(reasonOf(r, 'd')).toBe('stale');
    expect(r.sources.find((s) => s.source === 'd')?.detail).toMatch(/age 20000 ms exceeds maxAgeMs 10000/);
  });

  it('drops outliers with reason outlier and keeps the rest', () => {
    const r = observeFeed({ feed: 'BTC/USD', nowMs: NOW, policy, quotes: [q('a', 100), q('b', 100.05), q('c', 99.95), q('d', 130)] });
    expect(r.ok).toBe(true);
    expect(reasonOf(r, 'd')).toBe('outlier');
    if (r.ok) expect(r.price).toBe(100);
  });

  it('marks garbage invalid and duplicates as duplicate_source', () => {
    const quotes = [q('a', 100), q('b', 100), q('c', 100), q('x', Number.NaN), q('y', -1), q('z', 100, -60_000), q('w', 100, 1_000, -5)];
    quotes.push(q('a', 100, 5_000));
    const r = observeFeed({ feed: 'BTC/USD', nowMs: NOW, policy, quotes });
    expect(r.ok).toBe(true);
    for (const s of ['x', 'y', 'z', 'w']) expect(reasonOf(r, s)).toBe('invalid');
    const dup = r.sources.filter((s) => s.source === 'a');
    expect(dup.map((s) => s.reason)).toEqual([undefined, 'duplicate_source']);
    expect(dup[0]?.timestampMs).toBe(NOW - 1_000); // the freshest quote is the one kept
  });

  it('answers too_few_sources when too few fresh quotes remain', () => {
    const r = observeFeed({ feed: 'ETH/USD', nowMs: NOW, policy, quotes: [q('a', 100), q('b', 100), q('c', 100, 60_000)] });
    expect(r).toMatchObject({ ok: false, reason: 'too_few_sources' });
    if (!r.ok) expect(r.detail).toMatch(/ETH\/USD: no observation, 2 fresh valid sources \(1 stale\), need 3/);
  });

  it('answers sources_disagree when the survivors are too few', () => {
    const r = observeFeed({ feed: 'ETH/USD', nowMs: NOW, policy, quotes: [q('a', 100), q('b', 100), q('c', 120), q('d', 80)] });
    expect(r).toMatchObject({ ok: false, reason: 'sources_disagree' });
  });

  it('answers sources_disagree when no majority agrees, even with enough survivors', () => {
    const loose = parsePolicy({ ...policy, minSources: 2 });
    const r = observeFeed({ feed: 'ETH/USD', nowMs: NOW, policy: loose, quotes: [q('a', 100), q('b', 100), q('c', 110), q('d', 111)] });
    expect(r).toMatchObject({ ok: false, reason: 'sources_disagree' });
  });

  it('widens the band with realized volatility', () => {
    const quotes = [q('a', 100), q('b', 100.05), q('c', 99.95), q('d', 101)];
    expect(reasonOf(observeFeed({ feed: 'F', nowMs: NOW, policy, quotes }), 'd')).toBe('outlier');
    const volatile = parsePolicy({ ...policy, volatilityBps: 50 });
    const r = observeFeed({ feed: 'F', nowMs: NOW, policy: volatile, quotes });
    expect(reasonOf(r, 'd')).toBeUndefined();
    if (r.ok) expect(r.bandBps).toBe(150);
  });

  it('never widens the band beyond maxBandBps', () => {
    const wild = parsePolicy({ ...policy, volatilityBps: 10_000 });
    const r = observeFeed({ feed: 'F', nowMs: NOW, policy: wild, quotes: [q('a', 100), q('b', 100), q('c', 100), q('d', 103)] });
    expect(reasonOf(r, 'd')).toBe('outlier');
    if (r.ok) expect(r.bandBps).toBe(200);
  });

  it('weights by volume with a per-venue cap', () => {
    const weighted = parsePolicy({ ...policy, volumeWeighting: { enabled: true, capShare: 0.4 } });
    const quotes = [q('a', 100, 1_000, 1e9), q('b', 100.1, 1_000, 1), q('c', 100.2, 1_000, 1), q('d', 100.15, 1_000, 1)];
    const r = observeFeed({ feed: 'F', nowMs: NOW, policy: weighted, quotes });
    expect(r.ok && r.method).toBe('volume_weighted_median');
    if (!r.ok) return;
    expect(r.sources.find((s) => s.source === 'a')?.weightShare).toBeCloseTo(0.4, 12);
    expect(r.price).toBe(100.1); // a's wash volume buys 40 %, not the median
  });

  it('falls back to the plain median when a venue has no volume, and says so', () => {
    const weighted = parsePolicy({ ...policy, volumeWeighting: { enabled: true, capShare: 0.5 } });
    const r = observeFeed({ feed: 'F', nowMs: NOW, policy: weighted, quotes: [q('a', 100, 1_000, 5), q('b', 100.1), q('c', 100.2, 1_000, 5)] });
    expect(r).toMatchObject({ ok: true, method: 'median', price: 100.1 });
    if (r.ok) expect(r.methodNote).toMatch(/no volume from b/);
  });
});

describe('parsePolicy', () => {
  it('names the bad field, the problem and the fix', () => {
    expect(() => parsePolicy({ maxAgeMs: -1, minSources: 3, madMultiplier: 3, minBandBps: 300, maxBandBps: 200 }, 'BTC/USD')).toThrowError(
      /observation policy of BTC\/USD is invalid: maxAgeMs: .*; maxBandBps: maxBandBps must be at least minBandBps; fix these fields/,
    );
    try {
      parsePolicy({}, 'X');
    } catch (e) {
      expect(e).toBeInstanceOf(ObserveError);
      expect((e as ObserveError).code).toBe('invalid_policy');
    }
  });
});
