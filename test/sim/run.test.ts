/**
 * The runner against the real node, aggregator and contracts (anvil): a run is reproducible
 * from its seed, both venue transports give the same run, and a single-venue +30 % pump moves
 * the served price by less than 0.5 % without a liquidation.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parseScenario } from '../../sim/scenario/load.ts';
import { runScenario, stopSimChains } from '../../sim/runner.ts';
import { comparable } from '../../sim/result.ts';
import { toHtml, toMarkdown } from '../../sim/report/index.ts';

const short = (over: Record<string, unknown> = {}) =>
  parseScenario({
    name: 'short-pump',
    description: 'one venue pumped 30 % against a short futures position',
    seed: 5,
    durationSec: 600,
    stepSec: 30,
    feed: { name: 'ETH/USD' },
    market: { path: { kind: 'gbm', start: 3000, volatility: 0.5 }, venues: [{ id: 'binance' }, { id: 'coinbase' }, { id: 'kraken' }, { id: 'okx' }, { id: 'bybit' }] },
    oracle: { nodes: 4 },
    settlement: { futures: { positions: [{ side: 'short', notionalUsd: 1_000_000, collateralUsd: 130_000 }] } },
    attacks: [{ kind: 'liquidation-hunt', venues: ['coinbase'], direction: 'up', movePct: 30, fromSec: 120, toSec: 540, rampSec: 60 }],
    ...over,
  });

// Runs get the test's signal, so a timeout stops them and their anvil; anything left is stopped here.
afterEach(stopSimChains);

describe('sim runner', () => {
  it('a single-venue +30 % pump moves the served price < 0.5 % and liquidates nobody', async ({ signal }) => {
    const r = await runScenario(short(), { signal });
    expect(r.attacker.spendUsd).toBeGreaterThan(0);
    expect(r.served.maxDeviationPct).toBeLessThan(0.5);
    expect(r.settlement.liquidations).toHaveLength(0);
    expect(r.defences.some((d) => d.defence === 'node filter dropped source' && d.detail.startsWith('coinbase'))).toBe(true);
    expect(r.verdict).toBe('defended');
    expect(toMarkdown(r)).toContain('# short-pump: DEFENDED');
    expect(toHtml(r)).toMatch(/<svg[^>]*>.*true vs venue vs on-chain price/s);
  }, 240_000);

  it('is identical for the same seed, and in process as over HTTP', async ({ signal }) => {
    const a = await runScenario(short(), { signal });
    const b = await runScenario(short(), { signal });
    const c = await runScenario(short(), { transport: 'http', signal });
    expect(comparable(b)).toEqual(comparable(a));
    expect({ ...comparable(c), transport: 'inproc' }).toEqual(comparable(a));
    const other = await runScenario(short(), { seed: 6, signal });
    expect(other.timeline.map((s) => s.truth)).not.toEqual(a.timeline.map((s) => s.truth));
  }, 480_000);
});
