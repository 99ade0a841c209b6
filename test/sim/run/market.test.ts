/**
 * The run's market (sim/run/market.ts): per-venue overrides of the defaults, the scripted
 * faults with their defaults and the attackers' DoS windows, and a market fixed by the seed.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../sim/market/index.ts';
import { attackedVenues, buildMarket, venueFaults, venueSpecs, venueSymbols } from '../../../sim/run/market.ts';
import { scenario } from './fixture.ts';

describe('venueSpecs', () => {
  it('overrides only the fields a venue sets', () => {
    const [binance, coinbase] = venueSpecs(scenario().market);
    expect(binance).toEqual({
      id: 'binance',
      book: { depthUsdPerBps: 50_000, depthGrowth: 0.5, feeBps: 10, resilienceHalfLifeSec: 120 },
      noiseBps: 3,
      noiseTauSec: 60,
      latencyMs: 0,
      volume24hUsd: 50_000_000,
      outagesPerDay: 0,
      outageMeanSec: 120,
    });
    expect(coinbase!.book.depthUsdPerBps).toBe(2000);
    expect(coinbase!.noiseBps).toBe(9);
    expect(coinbase!.book.feeBps).toBe(10);
  });

  it('takes the scenario defaults where a venue is silent', () => {
    const s = scenario({ market: { path: { kind: 'gbm', start: 100 }, defaults: { feeBps: 25 }, venues: [{ id: 'okx' }, { id: 'bybit', feeBps: 5 }, { id: 'kraken' }] } });
    expect(venueSpecs(s.market).map((v) => v.book.feeBps)).toEqual([25, 5, 25]);
  });
});

describe('venueFaults', () => {
  it('gives the market faults their own or default settings, then the DoS attacks per venue', () => {
    const s = scenario({
      market: {
        path: { kind: 'gbm', start: 3000 },
        venues: [{ id: 'binance' }, { id: 'coinbase' }, { id: 'kraken' }],
        faults: [
          { venue: 'kraken', fromSec: 10, toSec: 20, kind: 'misprice', factor: 50 },
          { venue: 'binance', fromSec: 10, toSec: 20, kind: 'stale' },
          { venue: 'coinbase', fromSec: 10, toSec: 20, kind: 'slow', delayMs: 700 },
          { venue: 'coinbase', fromSec: 30, toSec: 40, kind: 'garbage' },
        ],
      },
      attacks: [
        { kind: 'dos-sources', venues: 'all', behaviour: 'slow', fromSec: 100, toSec: 200 },
        { kind: 'dos-sources', venues: ['kraken'], fromSec: 300, toSec: 400 },
      ],
    });
    const f = venueFaults(s);
    expect(f.slice(0, 4).map((x) => [x.venue, x.cause, x.behaviour])).toEqual([
      ['kraken', 'market', { kind: 'misprice', factor: 50 }],
      ['binance', 'market', { kind: 'stale', ageMs: 300_000 }],
      ['coinbase', 'market', { kind: 'slow', delayMs: 700 }],
      ['coinbase', 'market', { kind: 'garbage' }],
    ]);
    expect(f.slice(4).map((x) => `${x.venue} ${x.cause} ${x.behaviour.kind} ${x.fromSec}-${x.toSec}`)).toEqual([
      'binance attacker slow 100-200',
      'coinbase attacker slow 100-200',
      'kraken attacker slow 100-200',
      'kraken attacker outage 300-400',
    ]);
    expect(f[4]!.behaviour).toEqual({ kind: 'slow', delayMs: 10_000 });
  });

  it('"all" is every venue of the market', () => {
    expect(attackedVenues('all', ['okx', 'bybit'])).toEqual(['okx', 'bybit']);
    expect(attackedVenues(['okx'], ['okx', 'bybit'])).toEqual(['okx']);
  });
});

describe('buildMarket', () => {
  it('is fixed by the seed and sized from the true path', () => {
    const s = scenario();
    const a = buildMarket(s, new Rng(11));
    const b = buildMarket(s, new Rng(11));
    const c = buildMarket(s, new Rng(12));
    a.market.advance(300);
    b.market.advance(300);
    c.market.advance(300);
    expect(a.startPrice).toBe(a.path.at(0));
    expect(a.startPrice).toBeCloseTo(3000, 6);
    expect(a.market.truth(300)).toBe(b.market.truth(300));
    expect(a.market.tick('coinbase')).toEqual(b.market.tick('coinbase'));
    expect(c.market.truth(300)).not.toBe(a.market.truth(300));
    expect(a.venueNoiseBps).toBe(9);
    expect(a.venueIds).toEqual(['binance', 'coinbase', 'kraken']);
  });

  it('names each venue market for the feed', () => {
    const sym = venueSymbols('ETH/USD', ['binance', 'kraken']);
    expect(Object.keys(sym)).toEqual(['binance', 'kraken']);
    expect(sym.binance!['ETH/USD']!.quote).toBe('USD');
    expect(sym.binance!['ETH/USD']!.symbol).toMatch(/ETH/);
  });
});
