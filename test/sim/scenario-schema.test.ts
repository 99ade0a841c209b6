/** Scenario files with a mistake get a message naming the field and what is allowed. */
import { describe, expect, it } from 'vitest';
import { listScenarios, loadScenario, parseScenario, parseScenarioText, ScenarioError } from '../../sim/scenario/load.ts';

const minimal = () => ({
  name: 'x',
  description: 'test',
  durationSec: 600,
  feed: { name: 'ETH/USD' },
  market: { path: { kind: 'gbm', start: 3000 }, venues: [{ id: 'binance' }, { id: 'kraken' }, { id: 'okx' }] },
});

function errorOf(raw: unknown): ScenarioError {
  try {
    parseScenario(raw, 'test.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ScenarioError);
    return err as ScenarioError;
  }
  throw new Error('expected a ScenarioError');
}

describe('scenario schema', () => {
  it('accepts a minimal scenario and fills the defaults', () => {
    const s = parseScenario(minimal());
    expect(s.oracle.nodes).toBe(7);
    expect(s.stepSec).toBe(30);
    expect(s.market.defaults.depthUsdPerBps).toBe(50_000);
  });

  it('names an unknown attack kind and lists the allowed ones', () => {
    const e = errorOf({ ...minimal(), attacks: [{ kind: 'pmup', venues: 'all', movePct: 5, fromSec: 0, toSec: 10 }] });
    expect(e.message).toMatch(/test\.yaml: attacks\.0\.kind: .*pump.*crash/);
  });

  it('names an unknown venue with the supported ones', () => {
    const e = errorOf({ ...minimal(), market: { ...minimal().market, venues: [{ id: 'ftx' }] } });
    expect(e.message).toContain('market.venues.0.id');
    expect(e.message).toContain('binance');
    expect(e.message).toContain('"ftx"');
  });

  it('names a misspelled field', () => {
    const e = errorOf({ ...minimal(), durationSecs: 10 });
    expect(e.message).toContain('unknown field(s) durationSecs');
  });

  it('rejects an attacked venue that is not in the market, naming the allowed ones', () => {
    const e = errorOf({ ...minimal(), attacks: [{ kind: 'pump', venues: ['coinbase'], movePct: 5, fromSec: 0, toSec: 10 }] });
    expect(e.message).toBe('scenario test.yaml: attacks.0.venues.0: coinbase is not a venue of this market; allowed: binance, kraken, okx or "all"');
  });

  it('rejects stolen shares at or above the threshold', () => {
    const e = errorOf({ ...minimal(), attacks: [{ kind: 'stolen-shares', shares: 5, atSec: [10] }] });
    expect(e.message).toContain('attacks.0.shares: 5 shares reach the threshold t=5');
  });

  it('rejects a window that ends before it starts', () => {
    const e = errorOf({ ...minimal(), attacks: [{ kind: 'dos-nodes', nodes: 1, fromSec: 100, toSec: 50 }] });
    expect(e.message).toContain('attacks.0.toSec: must be after fromSec (100)');
  });

  it('rejects a wrong type with the value it got', () => {
    const e = errorOf({ ...minimal(), durationSec: 'long' });
    expect(e.message).toMatch(/durationSec: .*number.*got "long"/);
  });

  it('reports broken YAML as such', () => {
    expect(() => parseScenarioText('name: [oops', 'broken.yaml')).toThrow(/broken\.yaml: not valid YAML/);
  });

  it('every library scenario parses', () => {
    const names = listScenarios();
    expect(names.length).toBeGreaterThanOrEqual(12);
    for (const n of names) expect(loadScenario(n).name).toBe(n);
  });

  it('an unknown scenario name lists the library', () => {
    expect(() => loadScenario('nope')).toThrow(/no such library scenario or file; library: .*dai-coinbase-spike/);
  });
});
