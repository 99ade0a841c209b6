/**
 * Pure measures over a run's ticks (the aggregators' schedule ticks, `aggregator/schedule.ts`:
 * tick k covers [k·intervalMs, (k+1)·intervalMs) of the shared wall clock, and every epoch
 * an aggregator uses in tick k lies in it, so an accepted report's tick is ⌊epoch / intervalMs⌋).
 *
 * ticksNeeded / ticksPosted — definition and why:
 *   The aggregator's posting policy (`aggregator/policy.ts`) posts a feed when its heartbeat
 *   elapsed or its new median deviates from the on-chain answer by ≥ deviationPct. A tick
 *   *needed* a post when either
 *   (a) an aggregator's round of that tick decided to post (its round record carries a
 *       posting reason: the policy said yes on real observations, whatever became of the
 *       round afterwards — a failed signing or a lost transaction is then a miss — except a
 *       round that yielded: it read the hub and found its feeds there already, as new), or
 *   (b) replaying the policy on the TRUE price says so: against the on-chain state the
 *       previous ticks' accepted reports left (ordered by epoch: "if every earlier report
 *       landed"), the true price at the tick's start deviates by ≥ deviationPct + margin, or
 *       the on-chain observedAt is at least heartbeatSec + slack old.
 *   (a) alone would miss exactly the failures a testbed exists for: a dead, cut-off or
 *   quorum-less aggregator writes no decision, and its silence must count. (b) alone would
 *   count almost nothing in a healthy run (the aggregator posts before the truth leaves the
 *   band), and cannot see the noisy medians the policy acts on; its margin (default
 *   max(0.05 pp, ¼ · deviationPct)) and slack (default 2 s) cover venue noise around the
 *   truth and observations up to a poll old, so (b) only fires where any correct network
 *   would have posted. A needed tick was *posted* when an accepted report's epoch falls in
 *   it. So `ticksPosted == ticksNeeded` means no tick that needed a post went without one.
 *   Ticks of excused windows (faults during which the scenario expects no post, such as a
 *   quorum cut; they are judged by `noPostDuring`) count for neither.
 *
 * failoverTicks: from the active aggregator's kill to the first accepted report of a standby
 *   (epoch residue ≠ 0 mod the aggregator count, `epochAtMs`), counted from the first tick
 *   that starts after the kill (the active acts at its tick's start) and needed a post (a standby posts only when the policy
 *   says so; a quiet feed would otherwise be read as a slow failover). The raw distance from
 *   the kill is kept beside it.
 * recoveryTicks: for each fault that ended within the run, the ticks from the first needed
 *   tick at/after its end to the first posted tick at/after its end; the run's value is the
 *   largest. A fault after which nothing posted counts the remaining ticks + 1.
 */

export interface TickFeed {
  feedId: string;
  decimals: number;
  deviationPct: number;
  heartbeatSec: number;
}

export interface Post {
  epoch: bigint;
  observedAt: bigint;
  /** Block timestamp, unix s. */
  blockTime: number;
  updates: { feedId: string; answer: bigint }[];
}

/** True price of a feed at unix ms, or undefined where unknown. */
export type Truth = (feedId: string, tMs: number) => number | undefined;

export interface Window {
  startMs: number;
  endMs: number;
  intervalMs: number;
}

export interface TickInfo {
  tick: number;
  startMs: number;
  needed: boolean;
  /** Why a post was needed (or why the tick was not counted). */
  reasons: string[];
  posted: boolean;
  /** Accepted reports whose epoch is in this tick. */
  posts: number;
  excused: boolean;
}

export interface TickOptions {
  /** The aggregators' round decisions (round databases): epoch and posting reason (null: hold). */
  decisions?: { epoch: bigint; postingReason: string | null; aggregator?: string; txStatus?: string | null }[];
  excused?: { fromMs: number; toMs: number }[];
  marginPct?: (deviationPct: number) => number;
  heartbeatSlackSec?: number;
}

export const tickOfEpoch = (epoch: bigint, intervalMs: number): number => Number(epoch / BigInt(intervalMs));

/** Ticks fully inside the window. */
export function windowTicks(w: Window): number[] {
  const first = Math.ceil(w.startMs / w.intervalMs);
  const last = Math.floor(w.endMs / w.intervalMs) - 1;
  return last >= first ? Array.from({ length: last - first + 1 }, (_, k) => first + k) : [];
}

export function computeTicks(w: Window, feeds: readonly TickFeed[], posts: readonly Post[], truth: Truth, o: TickOptions = {}): TickInfo[] {
  const margin = o.marginPct ?? ((d: number) => Math.max(0.05, d / 4));
  const slack = o.heartbeatSlackSec ?? 2;
  const sorted = [...posts].sort((a, b) => (a.epoch < b.epoch ? -1 : a.epoch > b.epoch ? 1 : 0));
  const postsPerTick = new Map<number, number>();
  for (const p of sorted) postsPerTick.set(tickOfEpoch(p.epoch, w.intervalMs), (postsPerTick.get(tickOfEpoch(p.epoch, w.intervalMs)) ?? 0) + 1);
  const decided = new Map<number, string[]>();
  for (const d of o.decisions ?? []) {
    if (d.postingReason === null || d.postingReason === 'pull') continue;
    // A round that yielded found, on the hub, every feed it would post already there at an
    // observation as new (another aggregator's report): the data was posted, not missed.
    if (d.txStatus === 'yielded') continue;
    const k = tickOfEpoch(d.epoch, w.intervalMs);
    decided.set(k, [...(decided.get(k) ?? []), `${d.aggregator ?? 'aggregator'} decided: ${d.postingReason}`]);
  }
  const state = new Map<string, { answer: bigint; observedAt: bigint }>();
  let next = 0;
  const out: TickInfo[] = [];
  for (const tick of windowTicks(w)) {
    const startMs = tick * w.intervalMs;
    while (next < sorted.length && tickOfEpoch(sorted[next]!.epoch, w.intervalMs) < tick) {
      const p = sorted[next++]!;
      for (const u of p.updates) state.set(u.feedId.toLowerCase(), { answer: u.answer, observedAt: p.observedAt });
    }
    const reasons: string[] = [...(decided.get(tick) ?? [])];
    for (const f of feeds) {
      const s = state.get(f.feedId.toLowerCase());
      if (!s) {
        reasons.push(`${f.feedId}: nothing on-chain yet`);
        continue;
      }
      const age = startMs / 1000 - Number(s.observedAt);
      if (age >= f.heartbeatSec + slack) reasons.push(`${f.feedId}: heartbeat (${age.toFixed(1)} s ≥ ${f.heartbeatSec} + ${slack} s)`);
      const t = truth(f.feedId.toLowerCase(), startMs);
      const onchain = Number(s.answer) / 10 ** f.decimals;
      if (t !== undefined && onchain > 0) {
        const dev = (Math.abs(t - onchain) / onchain) * 100;
        if (dev >= f.deviationPct + margin(f.deviationPct)) reasons.push(`${f.feedId}: deviation ${dev.toFixed(3)} % ≥ ${f.deviationPct} + ${margin(f.deviationPct).toFixed(3)} %`);
      }
    }
    const excused = (o.excused ?? []).some((e) => startMs + w.intervalMs > e.fromMs && startMs < e.toMs);
    const n = postsPerTick.get(tick) ?? 0;
    out.push({ tick, startMs, needed: reasons.length > 0 && !excused, reasons, posted: n > 0, posts: n, excused });
  }
  return out;
}

export function countTicks(ticks: readonly TickInfo[]): { ticksNeeded: number; ticksPosted: number; missed: number[] } {
  const needed = ticks.filter((t) => t.needed);
  return { ticksNeeded: needed.length, ticksPosted: needed.filter((t) => t.posted).length, missed: needed.filter((t) => !t.posted).map((t) => t.tick) };
}

/** Extra accepted reports within one tick (Σ (posts − 1)): two aggregators posting one tick. */
export function doublePosts(posts: readonly Post[], intervalMs: number): number {
  const per = new Map<number, number>();
  for (const p of posts) per.set(tickOfEpoch(p.epoch, intervalMs), (per.get(tickOfEpoch(p.epoch, intervalMs)) ?? 0) + 1);
  return [...per.values()].reduce((a, n) => a + Math.max(0, n - 1), 0);
}

/** First needed tick at or after `tick`, within `ticks`. */
function firstNeeded(ticks: readonly TickInfo[], tick: number): TickInfo | undefined {
  return ticks.find((t) => t.tick >= tick && (t.needed || t.reasons.length > 0));
}

export interface FailoverResult {
  ticks: number | null;
  /** Ticks from the kill's tick to the standby's first accepted report (no anchoring). */
  rawTicks: number | null;
  detail: string;
}

export function failoverTicks(ticks: readonly TickInfo[], posts: readonly Post[], killMs: number | null, w: Window, aggregators: number): FailoverResult {
  if (killMs === null) return { ticks: null, rawTicks: null, detail: 'no active aggregator was killed' };
  const killTick = Math.floor(killMs / w.intervalMs);
  const standby = posts
    .filter((p) => aggregators > 1 && p.epoch % BigInt(aggregators) !== 0n && tickOfEpoch(p.epoch, w.intervalMs) >= killTick)
    .sort((a, b) => (a.epoch < b.epoch ? -1 : 1))[0];
  const lastTick = ticks.at(-1)?.tick ?? killTick;
  if (!standby) return { ticks: lastTick - killTick + 1, rawTicks: null, detail: `no standby report accepted after the kill at tick ${killTick}` };
  const st = tickOfEpoch(standby.epoch, w.intervalMs);
  // The first tick the active aggregator would have acted in after its death starts at or
  // after the kill (it acts at its tick's start): the kill's own tick was already its.
  const firstDead = Math.ceil(killMs / w.intervalMs);
  const anchor = Math.min(st, firstNeeded(ticks, firstDead)?.tick ?? firstDead);
  return { ticks: Math.max(0, st - anchor), rawTicks: st - killTick, detail: `killed in tick ${killTick}; first tick needing a post ${anchor}; standby's first accepted report (epoch ${standby.epoch}) in tick ${st}` };
}

export interface RecoveryResult {
  ticks: number | null;
  perFault: { id: string; endMs: number; ticks: number; detail: string }[];
}

export function recoveryTicks(ticks: readonly TickInfo[], ended: readonly { id: string; endMs: number }[], w: Window): RecoveryResult {
  const perFault: RecoveryResult['perFault'] = [];
  const lastTick = ticks.at(-1)?.tick;
  for (const f of ended) {
    if (lastTick === undefined || f.endMs >= (lastTick + 1) * w.intervalMs) continue;
    const endTick = Math.ceil(f.endMs / w.intervalMs);
    const need = firstNeeded(ticks, endTick);
    if (!need) continue;
    const post = ticks.find((t) => t.tick >= endTick && t.posted);
    if (!post) {
      perFault.push({ id: f.id, endMs: f.endMs, ticks: lastTick - need.tick + 1, detail: `healed in tick ${endTick}; nothing posted until the end (tick ${lastTick})` });
      continue;
    }
    perFault.push({ id: f.id, endMs: f.endMs, ticks: Math.max(0, post.tick - need.tick), detail: `healed in tick ${endTick}; first needed ${need.tick}; posted ${post.tick}` });
  }
  return { ticks: perFault.length ? Math.max(...perFault.map((p) => p.ticks)) : null, perFault };
}

/** Nearest-rank percentile (p in 0..100) of `xs`; null when empty. */
export function percentile(xs: readonly number[], p: number): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

export interface ServedQuality {
  /** Longest time, s, the on-chain observedAt was older than the heartbeat (any feed). */
  maxStaleSec: number;
  /** Longest time, s, the on-chain answer was further from the truth than deviationPct (any feed). */
  maxDeviationSec: number;
  perFeed: { feedId: string; maxStaleSec: number; maxDeviationSec: number }[];
}

/**
 * Served-price quality over the window, sampled every `stepMs`: at time t the on-chain
 * value is the last update whose block time ≤ t. Stale: t − observedAt > heartbeatSec.
 * Off: |onchain − truth| / truth > deviationPct. Longest contiguous run of each.
 */
export function servedQuality(w: Window, feeds: readonly TickFeed[], posts: readonly Post[], truth: Truth, stepMs = 250): ServedQuality {
  const byBlock = [...posts].sort((a, b) => a.blockTime - b.blockTime || (a.epoch < b.epoch ? -1 : 1));
  const perFeed = feeds.map((f) => {
    const id = f.feedId.toLowerCase();
    const ups = byBlock.flatMap((p) => p.updates.filter((u) => u.feedId.toLowerCase() === id).map((u) => ({ atMs: p.blockTime * 1000, answer: u.answer, observedAt: Number(p.observedAt) })));
    let k = -1;
    let stale = 0;
    let off = 0;
    let maxStale = 0;
    let maxOff = 0;
    for (let t = w.startMs; t <= w.endMs; t += stepMs) {
      while (k + 1 < ups.length && ups[k + 1]!.atMs <= t) k++;
      const cur = k >= 0 ? ups[k]! : undefined;
      const isStale = !cur || t / 1000 - cur.observedAt > f.heartbeatSec;
      const tr = truth(id, t);
      const isOff = cur !== undefined && tr !== undefined && (Math.abs(Number(cur.answer) / 10 ** f.decimals - tr) / tr) * 100 > f.deviationPct;
      stale = isStale ? stale + stepMs : 0;
      off = isOff ? off + stepMs : 0;
      maxStale = Math.max(maxStale, stale);
      maxOff = Math.max(maxOff, off);
    }
    return { feedId: f.feedId, maxStaleSec: maxStale / 1000, maxDeviationSec: maxOff / 1000 };
  });
  return { maxStaleSec: Math.max(0, ...perFeed.map((p) => p.maxStaleSec)), maxDeviationSec: Math.max(0, ...perFeed.map((p) => p.maxDeviationSec)), perFeed };
}

/** Truth from samples (unix ms → price per feed id), linearly interpolated, undefined outside. */
export function truthFromSamples(samples: readonly { tMs: number; prices: Record<string, number> }[]): Truth {
  const s = [...samples].sort((a, b) => a.tMs - b.tMs);
  return (feedId, tMs) => {
    if (s.length === 0 || tMs < s[0]!.tMs || tMs > s.at(-1)!.tMs) return undefined;
    let lo = 0;
    let hi = s.length - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (s[mid]!.tMs <= tMs) lo = mid;
      else hi = mid;
    }
    const a = s[lo]!;
    const b = s[hi]!;
    const pa = a.prices[feedId];
    const pb = b.prices[feedId];
    if (pa === undefined || pb === undefined) return pa ?? pb;
    if (b.tMs === a.tMs) return pa;
    return pa + ((pb - pa) * (tMs - a.tMs)) / (b.tMs - a.tMs);
  };
}
