/**
 * The attackers' plans (sim/run/attackers.ts): which push, wash and node fault each attack of
 * a scenario becomes, and when a node fault is active on the chain's clock.
 */
import { describe, expect, it } from 'vitest';
import { attackPlans, nodeFaultsOf } from '../../../sim/run/attackers.ts';
import { scenario } from './fixture.ts';

const T0 = 1_900_000_000;

describe('attackPlans', () => {
  const s = scenario({
    oracle: { nodes: 7, sanityBandBps: 300 },
    settlement: { option: { expirySec: 400 } },
    attacks: [
      { kind: 'pump', venues: ['coinbase'], movePct: 30, fromSec: 60, toSec: 500, budgetUsd: 1e6 },
      { kind: 'crash', venues: 'all', movePct: 150, fromSec: 60, toSec: 500 },
      { kind: 'expiry-push', venues: ['kraken'], direction: 'up', movePct: 8, beforeSec: 30, afterSec: 100 },
      { kind: 'wash', venues: ['binance'], usdPerDay: 5e9, fromSec: 0, toSec: 600 },
      { kind: 'byzantine', nodes: 2, strategy: 'bias', fromSec: 100, toSec: 200 },
      { kind: 'dos-nodes', nodes: 2, fromSec: 300, toSec: 400 },
      { kind: 'aggregator', mode: 'forged', atSec: [120, 240] },
      { kind: 'stolen-shares', shares: 4, atSec: [180] },
      { kind: 'dos-sources', venues: ['kraken'], fromSec: 0, toSec: 10 },
    ],
  });
  const p = attackPlans(s);

  it('turns pumps, crashes and the expiry push into venue pushes labelled by index and kind', () => {
    expect(p.pushes.map((x) => [x.label, x.venues, x.targetBps, x.fromSec, x.toSec, x.rampSec, x.budgetUsd])).toEqual([
      ['0:pump', ['coinbase'], 3000, 60, 500, 60, 1e6],
      ['1:crash', ['binance', 'coinbase', 'kraken'], -9999, 60, 500, 60, undefined],
      // Held from 30 s before expiry to 100 s after, ramped over the 30 s before.
      ['2:expiry-push', ['kraken'], 800, 370, 500, 30, undefined],
    ]);
    expect('budgetUsd' in p.pushes[1]!).toBe(false);
    expect(p.washes).toEqual([{ label: '3:wash', venues: ['binance'], usdPerDay: 5e9, fromSec: 0, toSec: 600 }]);
  });

  it('makes nodes 1..k Byzantine and the last k unreachable', () => {
    expect([...p.byzantine.keys()]).toEqual([1, 2]);
    // The default bias: 95 % of the honest nodes' sanity band, rounded down.
    expect(p.byzantine.get(1)).toEqual({ strategy: 'bias', factor: 10, biasBps: 285, fromSec: 100, toSec: 200 });
    expect(p.downs).toEqual([{ nodes: new Set([7, 6]), fromSec: 300, toSec: 400 }]);
  });

  it('makes one shot per time of each hub attack', () => {
    expect(p.aggregator.map((x) => [x.i, x.at, x.done])).toEqual([
      [6, 120, false],
      [6, 240, false],
    ]);
    expect(p.stolen.map((x) => [x.i, x.at, x.a.shares])).toEqual([[7, 180, 4]]);
  });
});

describe('nodeFaultsOf', () => {
  const s = scenario({
    oracle: { nodes: 4 },
    attacks: [
      { kind: 'byzantine', nodes: 1, strategy: 'extreme', factor: 3, fromSec: 100, toSec: 200 },
      { kind: 'dos-nodes', nodes: 1, fromSec: 300, toSec: 400 },
    ],
  });

  it('is active in [fromSec, toSec) of the run, read on the chain clock', () => {
    const f = nodeFaultsOf(attackPlans(s), T0, () => {});
    expect(f.byzantine(1, T0 + 99)).toBeUndefined();
    expect(f.byzantine(1, T0 + 100)).toMatchObject({ strategy: 'extreme', factor: 3 });
    expect(f.byzantine(1, T0 + 199)).toBeDefined();
    expect(f.byzantine(1, T0 + 200)).toBeUndefined();
    expect(f.byzantine(2, T0 + 150)).toBeUndefined();
    expect(f.down(4, T0 + 300)).toBe(true);
    expect(f.down(4, T0 + 400)).toBe(false);
    expect(f.down(3, T0 + 350)).toBe(false);
  });

  it('notes a fault at the run-relative second, naming the node', () => {
    const notes: [number, string][] = [];
    nodeFaultsOf(attackPlans(s), T0, (t, what) => notes.push([t, what])).note(T0 + 150, 1, 'withheld its observation');
    expect(notes).toEqual([[150, 'node 1 withheld its observation']]);
  });
});
