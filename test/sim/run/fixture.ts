/** A small scenario for the runner's part tests: parsed by the real schema, so every default is the one a run sees. */
import { parseScenario } from '../../../sim/scenario/load.ts';
import type { Scenario } from '../../../sim/scenario/schema.ts';

export function scenario(over: Record<string, unknown> = {}): Scenario {
  return parseScenario({
    name: 'parts',
    description: 'a scenario for the runner part tests',
    seed: 3,
    durationSec: 600,
    stepSec: 30,
    feed: { name: 'ETH/USD' },
    market: { path: { kind: 'gbm', start: 3000, volatility: 0.5 }, venues: [{ id: 'binance' }, { id: 'coinbase', depthUsdPerBps: 2000, noiseBps: 9 }, { id: 'kraken' }] },
    oracle: { nodes: 4 },
    ...over,
  });
}
