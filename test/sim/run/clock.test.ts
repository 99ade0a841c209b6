/**
 * The run's clocks (sim/run/clock.ts): block timestamps only move forward, each transaction
 * takes the next second, and a refused transaction gives its second back.
 */
import { describe, expect, it } from 'vitest';
import { BlockClock, SimClock } from '../../../sim/run/clock.ts';

function rpc() {
  const calls: [string, unknown[]][] = [];
  return { calls, send: async (method: string, params: unknown[]) => void calls.push([method, params]) };
}

describe('BlockClock', () => {
  it('mines at the given time, or one second after the last block when that is not later', async () => {
    const r = rpc();
    const c = new BlockClock(r, 1000);
    await c.mineAt(1500);
    await c.mineAt(1200);
    await c.mineAt(1501);
    expect(r.calls).toEqual([
      ['evm_mine', [1500]],
      ['evm_mine', [1501]],
      ['evm_mine', [1502]],
    ]);
    expect(c.lastTs).toBe(1502);
  });

  it('gives each transaction the next second; an unmined one frees it', async () => {
    const r = rpc();
    const c = new BlockClock(r, 1000);
    await c.nextTx();
    await c.nextTx();
    c.unmined();
    await c.nextTx();
    expect(r.calls).toEqual([
      ['evm_setNextBlockTimestamp', [1001]],
      ['evm_setNextBlockTimestamp', [1002]],
      ['evm_setNextBlockTimestamp', [1002]],
    ]);
    await c.mineAt(0);
    expect(r.calls.at(-1)).toEqual(['evm_mine', [1003]]);
  });
});

describe('SimClock', () => {
  it('hands out bound readers that follow the step loop', () => {
    const c = new SimClock(5_999);
    const { now, nowSec } = c;
    expect([now(), nowSec()]).toEqual([5_999, 5]);
    c.ms = 61_000;
    expect([now(), nowSec()]).toEqual([61_000, 61]);
  });
});
