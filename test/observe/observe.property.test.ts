import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { observeFeed, parsePolicy, type SourceQuote } from '../../node/observe/index.ts';
import { cappedShares } from '../../node/observe/stats.ts';

const NOW = 1_700_000_000_000;

const policyArb = fc.record({
  maxAgeMs: fc.integer({ min: 1_000, max: 60_000 }),
  madMultiplier: fc.double({ min: 0.5, max: 10, noNaN: true }),
  minBandBps: fc.double({ min: 1, max: 300, noNaN: true }),
  extraBandBps: fc.double({ min: 0, max: 2_000, noNaN: true }),
  volatilityBps: fc.option(fc.double({ min: 0, max: 500, noNaN: true }), { nil: undefined }),
});

/** Anything a lying or broken venue might send. */
const liarPriceArb = fc.oneof(
  fc.double({ noNaN: false }),
  fc.double({ min: 1e-12, max: 1e15, noNaN: true }),
  fc.double({ min: -0.05, max: 0.05, noNaN: true }).map((x) => 50_000 * (1 + x)), // close enough to survive
);
const liarVolumeArb = fc.option(fc.oneof(fc.constant(0), fc.double({ min: 0, max: 1e300, noNaN: true })), { nil: undefined });

/**
 * n sources of which fewer than half lie. Honest venues quote around `base` within 90 % of the
 * minimum band (honest venues agree); liars send arbitrary prices, volumes and timestamps.
 */
function scenarioArb(maxLiarsForCap?: (cap: number) => number) {
  return fc
    .record({
      policy: policyArb,
      base: fc.double({ min: 1e-6, max: 1e9, noNaN: true }),
      honest: fc.array(
        fc.record({ u: fc.double({ min: 0, max: 1, noNaN: true }), age: fc.integer({ min: 0, max: 999 }), volume: fc.double({ min: 1, max: 1e6, noNaN: true }) }),
        { minLength: 1, maxLength: 9 },
      ),
      liars: fc.array(fc.record({ price: liarPriceArb, volume: liarVolumeArb, age: fc.integer({ min: -10_000, max: 100_000 }) }), { maxLength: 8 }),
      capShare: fc.double({ min: 0.05, max: 1, noNaN: true }),
      minSourcesFrac: fc.double({ min: 0, max: 1, noNaN: true }),
    })
    .map((s) => {
      const liarLimit = Math.min(s.honest.length - 1, maxLiarsForCap ? maxLiarsForCap(s.capShare) : Infinity);
      const liars = s.liars.slice(0, Math.max(0, liarLimit));
      const n = s.honest.length + liars.length;
      const honestQuotes: SourceQuote[] = s.honest.map((h, i) => ({
        source: `honest-${i}`,
        price: s.base * (1 + (h.u * 0.9 * s.policy.minBandBps) / 10_000),
        volume: h.volume,
        timestampMs: NOW - h.age,
      }));
      const liarQuotes: SourceQuote[] = liars.map((l, i) => ({
        source: `liar-${i}`,
        price: l.price,
        timestampMs: NOW - l.age,
        ...(l.volume === undefined ? {} : { volume: l.volume }),
      }));
      let minSources = Math.max(1, Math.ceil(s.minSourcesFrac * n));
      if (maxLiarsForCap) minSources = Math.max(minSources, Math.ceil(1 / s.capShare));
      const policy = parsePolicy({
        maxAgeMs: s.policy.maxAgeMs,
        minSources,
        madMultiplier: s.policy.madMultiplier,
        minBandBps: s.policy.minBandBps,
        maxBandBps: s.policy.minBandBps + s.policy.extraBandBps,
        ...(s.policy.volatilityBps === undefined ? {} : { volatilityBps: s.policy.volatilityBps }),
        ...(maxLiarsForCap ? { volumeWeighting: { enabled: true, capShare: s.capShare } } : {}),
      });
      return { honestQuotes, quotes: [...honestQuotes, ...liarQuotes], policy };
    });
}

let answered = 0;
function assertInsideHonestRange({ honestQuotes, quotes, policy }: { honestQuotes: SourceQuote[]; quotes: SourceQuote[]; policy: ReturnType<typeof parsePolicy> }) {
  const r = observeFeed({ feed: 'BTC/USD', quotes, nowMs: NOW, policy });
  if (!r.ok) return;
  answered++;
  const prices = honestQuotes.map((q) => q.price);
  expect(r.price).toBeGreaterThanOrEqual(Math.min(...prices));
  expect(r.price).toBeLessThanOrEqual(Math.max(...prices));
}

describe('observeFeed properties', () => {
  it('stays inside the honest range when fewer than half of the sources lie (median)', () => {
    answered = 0;
    fc.assert(fc.property(scenarioArb(), assertInsideHonestRange), { numRuns: 2_000 });
    expect(answered).toBeGreaterThan(500); // the property is not vacuous: most runs give a price
  });

  it('stays inside the honest range with volume weighting while liars × capShare < 1/2', () => {
    answered = 0;
    fc.assert(fc.property(scenarioArb((cap) => Math.floor(0.49 / cap)), assertInsideHonestRange), { numRuns: 2_000 });
    expect(answered).toBeGreaterThan(500);
  });

  it('does not depend on source order, and identical inputs give identical outputs', () => {
    const quoteArb = fc.record({
      source: fc.constantFrom('binance', 'coinbase', 'kraken', 'okx', 'bybit', 'bitstamp'),
      price: fc.oneof(fc.double({ min: 99, max: 101, noNaN: true }), fc.double()),
      volume: fc.option(fc.double({ min: 0, max: 1e9, noNaN: true }), { nil: undefined }),
      timestampMs: fc.integer({ min: NOW - 20_000, max: NOW + 10_000 }),
    });
    const arb = fc
      .array(quoteArb, { maxLength: 10 })
      .chain((quotes) => fc.tuple(fc.constant(quotes), fc.shuffledSubarray(quotes, { minLength: quotes.length, maxLength: quotes.length })));
    const policy = parsePolicy({ maxAgeMs: 10_000, minSources: 2, madMultiplier: 3, minBandBps: 10, maxBandBps: 100, volumeWeighting: { enabled: true, capShare: 0.5 } });
    fc.assert(
      fc.property(arb, ([quotes, shuffled]) => {
        const snapshot = structuredClone(quotes);
        const a = observeFeed({ feed: 'F', quotes, nowMs: NOW, policy });
        expect(observeFeed({ feed: 'F', quotes, nowMs: NOW, policy })).toEqual(a);
        expect(observeFeed({ feed: 'F', quotes: shuffled, nowMs: NOW, policy })).toEqual(a);
        expect(quotes).toEqual(snapshot); // inputs are not mutated
      }),
      { numRuns: 2_000 },
    );
  });

  it('never gives one venue more than its cap share', () => {
    const arb = fc
      .record({
        weights: fc.array(fc.oneof(fc.constant(0), fc.double({ min: 0, max: 1e300, noNaN: true })), { minLength: 1, maxLength: 20 }),
        cap: fc.double({ min: 0.01, max: 1, noNaN: true }),
      })
      .filter(({ weights, cap }) => cap * weights.length >= 1);
    fc.assert(
      fc.property(arb, ({ weights, cap }) => {
        const shares = cappedShares(weights, cap);
        for (const s of shares) expect(s).toBeLessThanOrEqual(cap);
        expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
      }),
      { numRuns: 5_000 },
    );
  });

  it('never gives one venue more than its cap share inside an observation', () => {
    const arb = fc.record({
      volumes: fc.array(fc.double({ min: 0, max: 1e12, noNaN: true }), { minLength: 3, maxLength: 12 }),
      cap: fc.double({ min: 0.1, max: 1, noNaN: true }),
    });
    fc.assert(
      fc.property(arb, ({ volumes, cap }) => {
        const minSources = Math.ceil(1 / cap);
        fc.pre(minSources <= volumes.length);
        const policy = parsePolicy({ maxAgeMs: 10_000, minSources, madMultiplier: 3, minBandBps: 50, maxBandBps: 100, volumeWeighting: { enabled: true, capShare: cap } });
        const quotes = volumes.map((volume, i) => ({ source: `v${i}`, price: 100 + (i % 3) * 0.01, volume, timestampMs: NOW }));
        const r = observeFeed({ feed: 'F', quotes, nowMs: NOW, policy });
        expect(r.ok).toBe(true);
        for (const s of r.sources) expect(s.weightShare ?? 0).toBeLessThanOrEqual(cap);
      }),
      { numRuns: 2_000 },
    );
  });
});
