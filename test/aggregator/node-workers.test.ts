import { describe, expect, it } from 'vitest';
import { measureRoundLatency } from '../../bench/round-latency.ts';
import { splitEvenly, startNodesInWorkers } from '../../testkit/node-workers.ts';

describe('node host workers', () => {
  it('splits indices into contiguous, balanced slices', () => {
    expect(splitEvenly([1, 2, 3, 4, 5, 6, 7], 2)).toEqual([[1, 2, 3, 4], [5, 6, 7]]);
    expect(splitEvenly([1], 2)).toEqual([[1]]);
  });

  it('runs signed rounds against reference nodes hosted in workers over loopback HTTP', async () => {
    const r = await measureRoundLatency({ n: 4, feeds: 3, rounds: 2, warmup: 0 });
    expect(r.failures).toBe(0);
    expect(r.rounds).toBe(2);
  }, 60_000);

  it('names a host function that does not exist and leaves no worker running', async () => {
    const module = new URL('../../testkit/reference-node/servers.ts', import.meta.url).href;
    await expect(startNodesInWorkers([{ module, fn: 'noSuchHost', arg: {} }])).rejects.toThrow(/exports no function noSuchHost/);
  }, 60_000);
});
