/**
 * Posting policy: does a feed's new median need to go on-chain? Pure and deterministic, one
 * branch per reason in the style of libocr's `median.go` (`shouldReport: yes, because …`),
 * so every decision carries the sentence the operator reads in the log.
 *
 * Branches, in order:
 *   1. not configured on the hub       → no  (the hub would revert the whole batch)
 *   2. paused by the guardian          → no
 *   3. nothing on-chain yet            → yes (initial)
 *   4. not newer than on-chain         → no  (the hub only moves forward)
 *   s. the committee cannot price it   → yes (suspend) unless the hub has it suspended already
 *                                        (like a deviation: a state change consumers must see at
 *                                        once, docs/suspension.md); no (already_suspended)
 *   r. suspended on-chain, now priced  → yes (resume, subject to the hub's breaker)
 *   5. circuit breaker tripped         → yes (later reports confirm the new level, docs/design.md §Hub)
 *   6. heartbeat elapsed               → yes (heartbeat): the on-chain observation is heartbeatSec
 *                                        old at the round's tick start (the wall clock every
 *                                        aggregator of the schedule shares), not at the new
 *                                        observation's time, which trails the clock by up to a
 *                                        source poll and would let the served price grow older
 *                                        than its heartbeat by that much
 *   7. deviation ≥ threshold           → yes (deviation)
 *   8. otherwise                       → no  (within threshold)
 *
 * Thresholds are per feed: deviation in percent (default 0.5) and heartbeat in seconds
 * (default 3600), both against the on-chain state (answer and observedAt of the last served
 * round), never against the aggregator's memory, so a restarted or standby aggregator
 * decides the same way.
 */
import { isSuspension, suspendReasonName } from '../protocol/index.ts';

export interface FeedPolicy {
  /** Percent, e.g. 0.5 for 0.5 %. */
  deviationPct: number;
  /** Seconds between posts when the price does not move. */
  heartbeatSec: number;
}

export const DEFAULT_POLICY: FeedPolicy = { deviationPct: 0.5, heartbeatSec: 3600 };

export type FeedStatusName = 'active' | 'tripped' | 'paused' | 'stale' | 'suspended' | 'unknown';

export interface OnchainFeedState {
  /** False when the hub does not know this feed. */
  configured: boolean;
  status: FeedStatusName;
  /** Last served answer (fixed point) and its observation time (unix s); roundId 0 = none yet. */
  answer: bigint;
  observedAt: bigint;
  roundId: bigint;
}

export interface Candidate {
  feed: string;
  answer: bigint;
  observedAt: bigint;
  /** Set when t nodes signed that they cannot price the feed: the `SuspendReason` code. */
  suspendReason?: number;
}

export type PostReason = 'suspend' | 'resume' | 'initial' | 'tripped' | 'heartbeat' | 'deviation';
export type HoldReason = 'unconfigured' | 'paused' | 'not_newer' | 'already_suspended' | 'within_threshold';

export type Decision =
  | { post: true; reason: PostReason; log: string }
  | { post: false; reason: HoldReason; log: string };

const PPB = 1_000_000_000n;

/** |new − old| / |old| in parts per billion; old = 0 counts as an unbounded move. */
export function deviationPpb(oldAnswer: bigint, newAnswer: bigint): bigint | null {
  const abs = (x: bigint): bigint => (x < 0n ? -x : x);
  if (oldAnswer === 0n) return newAnswer === 0n ? 0n : null;
  return (abs(newAnswer - oldAnswer) * PPB) / abs(oldAnswer);
}

function pct(ppb: bigint | null): string {
  return ppb === null ? '∞ %' : `${(Number(ppb) / 1e7).toFixed(6)} %`;
}

/**
 * @param nowSec the round's clock (unix s; the aggregator passes its tick's start, so every aggregator
 *   of a schedule decides a heartbeat alike, whatever the freshness of its quotes); omitted, the
 *   candidate's observation time stands in for it.
 */
export function shouldPost(c: Candidate, chain: OnchainFeedState, policy: FeedPolicy = DEFAULT_POLICY, nowSec?: bigint): Decision {
  const no = (reason: HoldReason, why: string): Decision => ({ post: false, reason, log: `shouldPost ${c.feed}: no, because ${why}` });
  const yes = (reason: PostReason, why: string): Decision => ({ post: true, reason, log: `shouldPost ${c.feed}: yes, because ${why}` });

  if (!chain.configured) return no('unconfigured', 'the hub does not know this feed; ask the guardian to configure it or remove it from the aggregator config');
  if (chain.status === 'paused') return no('paused', 'the guardian paused the feed on the hub');
  const suspendReason = c.suspendReason ?? (isSuspension(c.answer) ? 0 : undefined);
  if (suspendReason !== undefined) {
    if (chain.status === 'suspended') return no('already_suspended', `the committee still cannot price it (${suspendReasonName(suspendReason)}) and the hub serves it as suspended already`);
    if (chain.roundId !== 0n && c.observedAt <= chain.observedAt) return no('not_newer', `observation time ${c.observedAt} is not after the on-chain ${chain.observedAt}`);
    return yes('suspend', `t nodes signed that they cannot price it (${suspendReasonName(suspendReason)}); the hub must stop serving the ${chain.status} price at once`);
  }
  if (chain.roundId === 0n) return yes('initial', 'no round on-chain yet');
  if (c.observedAt <= chain.observedAt) return no('not_newer', `observation time ${c.observedAt} is not after the on-chain ${chain.observedAt}`);
  if (chain.status === 'suspended') return yes('resume', 'the hub serves it as suspended and the committee prices it again (the hub\'s breaker still applies)');
  if (chain.status === 'tripped') return yes('tripped', 'the deviation breaker is tripped; later reports confirm the new level');
  // Only the tick clock when given, never the later of it and the observation: a standby acting
  // later in the tick holds fresher quotes and would otherwise cross the heartbeat first.
  const age = (nowSec ?? c.observedAt) - chain.observedAt;
  if (age >= BigInt(policy.heartbeatSec)) return yes('heartbeat', `heartbeat: the on-chain observation is ${age} s old ≥ ${policy.heartbeatSec} s`);
  const dev = deviationPpb(chain.answer, c.answer);
  const threshold = BigInt(Math.round(policy.deviationPct * 1e7));
  if (dev === null || dev >= threshold) return yes('deviation', `deviation ${pct(dev)} ≥ threshold ${policy.deviationPct} % (on-chain ${chain.answer}, new ${c.answer})`);
  return no('within_threshold', `deviation ${pct(dev)} < ${policy.deviationPct} % and heartbeat not due (${age} s of ${policy.heartbeatSec} s)`);
}

export interface BatchDecision {
  /** Feeds to put in the report, with their decision. */
  post: { feedId: string; decision: Extract<Decision, { post: true }> }[];
  hold: { feedId: string; decision: Extract<Decision, { post: false }> }[];
}

/** Applies `shouldPost` per feed; a batch carries only the feeds that need it. */
export function decideBatch(
  candidates: readonly (Candidate & { feedId: string })[],
  chain: ReadonlyMap<string, OnchainFeedState>,
  policies: ReadonlyMap<string, FeedPolicy>,
  nowSec?: bigint,
): BatchDecision {
  const out: BatchDecision = { post: [], hold: [] };
  for (const c of candidates) {
    const id = c.feedId.toLowerCase();
    const state = chain.get(id) ?? { configured: false, status: 'unknown' as const, answer: 0n, observedAt: 0n, roundId: 0n };
    const d = shouldPost(c, state, policies.get(id) ?? DEFAULT_POLICY, nowSec);
    if (d.post) out.post.push({ feedId: id, decision: d });
    else out.hold.push({ feedId: id, decision: d });
  }
  return out;
}

/** One word for a batch in logs and the store: the feeds' reasons, most urgent first. */
export function batchReason(post: BatchDecision['post']): string {
  const order: PostReason[] = ['suspend', 'resume', 'initial', 'tripped', 'deviation', 'heartbeat'];
  const present = new Set(post.map((p) => p.decision.reason));
  return order.filter((r) => present.has(r)).join('+');
}
