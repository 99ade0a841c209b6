/**
 * The pure tick measures (sim/testbed/measure/ticks.ts) and health intervals on small,
 * hand-checked histories: which ticks needed a post, failover and recovery counts, served
 * staleness, and the scenario verdict over them.
 */
import { describe, expect, it } from 'vitest';
import { computeTicks, countTicks, doublePosts, failoverTicks, percentile, recoveryTicks, servedQuality, truthFromSamples, type Post } from '../../sim/testbed/measure/ticks.ts';
import { judgeHealth, unhealthyIntervals } from '../../sim/testbed/measure/health.ts';

const F = '0xfeed';
const I = 2000;
const T0 = 1_000_000; // tick 500 starts at T0 ms
const feed = { feedId: F, decimals: 0, deviationPct: 1, heartbeatSec: 10 };
const post = (tick: number, answer: number, pos = 0): Post => ({ epoch: BigInt(tick * I + pos), observedAt: BigInt(Math.floor((tick * I) / 1000)), blockTime: Math.floor((tick * I) / 1000) + 1, updates: [{ feedId: F, answer: BigInt(answer) }] });
const flat = truthFromSamples([
  { tMs: 0, prices: { [F]: 100 } },
  { tMs: 10_000_000, prices: { [F]: 100 } },
]);

describe('ticks needed and posted', () => {
  const w = { startMs: T0, endMs: T0 + 20 * I, intervalMs: I };

  it('a flat price needs a post only at the heartbeat (with slack); posted heartbeats count', () => {
    const posts = [post(499, 100), post(506, 100), post(513, 100)];
    const ticks = computeTicks(w, [feed], posts, flat);
    // last post at tick 499 (t = 998 s): 10 s + 2 s slack later is tick 505 (t = 1010 s).
    expect(ticks.filter((t) => t.needed).map((t) => t.tick)).toEqual([505, 506, 512, 513, 519]);
    expect(countTicks(ticks)).toEqual({ ticksNeeded: 5, ticksPosted: 2, missed: [505, 512, 519] });
  });

  it("the aggregator's own decision makes a tick needed; a decided tick without an accepted report is a miss", () => {
    const posts = [post(499, 100), post(502, 100)];
    const ticks = computeTicks({ ...w, endMs: T0 + 5 * I }, [feed], posts, flat, { decisions: [{ epoch: BigInt(502 * I), postingReason: 'heartbeat' }, { epoch: BigInt(503 * I + 1), postingReason: 'deviation', aggregator: 'agg1' }, { epoch: BigInt(501 * I), postingReason: null }] });
    expect(ticks.filter((t) => t.needed).map((t) => [t.tick, t.posted])).toEqual([
      [502, true],
      [503, false],
    ]);
    expect(ticks.find((t) => t.tick === 503)!.reasons[0]).toBe('agg1 decided: deviation');
    // The same decision in a round that yielded (its feeds were on the hub already, as new) is no need.
    const yielded = computeTicks({ ...w, endMs: T0 + 5 * I }, [feed], posts, flat, { decisions: [{ epoch: BigInt(503 * I + 1), postingReason: 'deviation', aggregator: 'agg1', txStatus: 'yielded' }] });
    expect(yielded.filter((t) => t.needed).map((t) => t.tick)).toEqual([]);
  });

  it('a move beyond deviation + margin needs a post; inside the margin it does not', () => {
    const truth = truthFromSamples([
      { tMs: T0, prices: { [F]: 100 } },
      { tMs: T0 + 2 * I, prices: { [F]: 100 } },
      { tMs: T0 + 3 * I, prices: { [F]: 101.1 } }, // 1.1 %: inside 1 + 0.25
      { tMs: T0 + 4 * I, prices: { [F]: 101.3 } }, // 1.3 %: needed
      { tMs: T0 + 20 * I, prices: { [F]: 101.3 } },
    ]);
    const ticks = computeTicks({ ...w, endMs: T0 + 6 * I }, [feed], [post(499, 100), post(504, 101)], truth);
    expect(ticks.filter((t) => t.needed).map((t) => t.tick)).toEqual([504]);
    expect(ticks.find((t) => t.tick === 504)!.posted).toBe(true);
  });

  it('excused windows count for neither side', () => {
    const ticks = computeTicks(w, [feed], [post(499, 100)], flat, { excused: [{ fromMs: T0 + 4 * I, toMs: T0 + 30 * I }] });
    expect(countTicks(ticks).ticksNeeded).toBe(0);
  });

  it('double posts: two accepted reports in one tick', () => {
    expect(doublePosts([post(500, 1), post(500, 1, 1), post(501, 1)], I)).toBe(1);
  });
});

describe('failover and recovery', () => {
  const w = { startMs: T0, endMs: T0 + 20 * I, intervalMs: I };
  const decisions = (ticks: number[]) => ticks.map((k) => ({ epoch: BigInt(k * I), postingReason: 'heartbeat' }));

  it('counts from the first needed tick after the kill to the standby’s first accepted report', () => {
    const posts = [post(499, 100), post(503, 100), post(507, 100, 1)];
    const ticks = computeTicks(w, [feed], posts, flat, { decisions: decisions([503, 505]) });
    const f = failoverTicks(ticks, posts, T0 + 4 * I + 300, w, 2);
    expect(f.ticks).toBe(2); // needed at 505 (the killed one decided), standby posted at 507
    expect(f.rawTicks).toBe(3);
    expect(failoverTicks(ticks, posts, null, w, 2).ticks).toBeNull();
  });

  it('a kill after the active posted in its tick counts from the next tick', () => {
    const posts = [post(499, 100), post(503, 100), post(506, 100, 1)];
    const ticks = computeTicks(w, [feed], posts, flat, { decisions: [...decisions([503]), { epoch: BigInt(506 * I + 1), postingReason: 'heartbeat' }] });
    const f = failoverTicks(ticks, posts, T0 + 3 * I + 1500, w, 2);
    expect(f.ticks).toBe(0); // first needed after the kill: 506, posted by the standby then
    expect(f.rawTicks).toBe(3);
  });

  it('recovery: from the first needed tick after a heal to the first post; null when nothing healed', () => {
    const posts = [post(499, 100), post(512, 100)];
    const ticks = computeTicks(w, [feed], posts, flat);
    const r = recoveryTicks(ticks, [{ id: 'cut', endMs: T0 + 10 * I }], w);
    expect(r.ticks).toBe(2); // heartbeat overdue since 505: first needed ≥ 510 is 510, posted 512
    expect(recoveryTicks(ticks, [], w).ticks).toBeNull();
    const never = recoveryTicks(computeTicks(w, [feed], [post(499, 100)], flat), [{ id: 'cut', endMs: T0 + 10 * I }], w);
    expect(never.ticks).toBe(10);
    expect(never.perFault[0]!.detail).toMatch(/nothing posted until the end/);
  });
});

describe('served quality, percentiles, health', () => {
  it('longest stale and off-truth runs', () => {
    const w = { startMs: T0, endMs: T0 + 30_000, intervalMs: I };
    const truth = truthFromSamples([
      { tMs: T0, prices: { [F]: 100 } },
      { tMs: T0 + 30_000, prices: { [F]: 100 } },
    ]);
    const q = servedQuality(w, [feed], [post(499, 100), { ...post(505, 103), blockTime: 1011 }], truth, 500);
    // observedAt 998 s: stale from 1008 s to the next block at 1011 s (3 s); observedAt 1010 s:
    // stale again from 1020 s to the end at 1030 s (10 s). Off by 3 % from 1011 s to the end: 19 s.
    expect(q.maxStaleSec).toBeCloseTo(10, 0);
    expect(q.maxDeviationSec).toBeGreaterThanOrEqual(19);
    expect(q.maxDeviationSec).toBeLessThanOrEqual(20);
  });

  it('nearest-rank percentiles', () => {
    expect(percentile([], 50)).toBeNull();
    expect(percentile([5, 1, 3, 2, 4], 50)).toBe(3);
    expect(percentile(Array.from({ length: 100 }, (_, k) => k + 1), 99)).toBe(99);
  });

  it('unhealthy intervals per process with the words it gave', () => {
    const s = (tMs: number, host: string, ok: boolean, message = ok ? 'ok' : 'no round for 9 s (more than 3 intervals)') => ({ tMs, host, ok, message });
    const iv = unhealthyIntervals([s(0, 'agg0', true), s(1000, 'agg0', false), s(2000, 'agg0', false, 'unreachable (ECONNREFUSED)'), s(3000, 'agg0', true), s(0, 'node1', false)]);
    expect(iv).toEqual([
      { host: 'node1', fromMs: 0, toMs: 0, messages: ['no round for 9 s (more than 3 intervals)'] },
      { host: 'agg0', fromMs: 1000, toMs: 3000, messages: ['no round for 9 s (more than 3 intervals)', 'unreachable (ECONNREFUSED)'] },
    ]);
    expect(judgeHealth(503, { status: 'unhealthy', message: 'no round for 7 s' })).toEqual({ ok: false, message: 'no round for 7 s' });
    expect(judgeHealth(200, { status: 'ok', ready: false })).toEqual({ ok: false, message: 'not ready' });
  });
});
