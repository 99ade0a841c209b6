import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { batchReason, decideBatch, deviationPpb, shouldPost, type OnchainFeedState } from '../../aggregator/policy.ts';
import { SUSPENDED_ANSWER } from '../../protocol/index.ts';

const policy = { deviationPct: 0.5, heartbeatSec: 3600 };
const chain = (over: Partial<OnchainFeedState> = {}): OnchainFeedState => ({ configured: true, status: 'active', answer: 100_000_000n, observedAt: 1000n, roundId: 7n, ...over });
const cand = (answer: bigint, observedAt = 1010n) => ({ feed: 'BTC/USD', answer, observedAt });

describe('posting policy branches', () => {
  it('holds an unconfigured feed', () => {
    const d = shouldPost(cand(1n), chain({ configured: false }), policy);
    expect(d).toMatchObject({ post: false, reason: 'unconfigured' });
    expect(d.log).toMatch(/^shouldPost BTC\/USD: no, because the hub does not know this feed/);
  });
  it('holds a paused feed even with a big move', () => {
    expect(shouldPost(cand(200_000_000n), chain({ status: 'paused' }), policy)).toMatchObject({ post: false, reason: 'paused' });
  });
  it('posts when nothing is on-chain yet', () => {
    expect(shouldPost(cand(1n, 1n), chain({ roundId: 0n, answer: 0n, observedAt: 0n }), policy)).toMatchObject({ post: true, reason: 'initial' });
  });
  it('holds an observation not newer than the on-chain one', () => {
    expect(shouldPost(cand(200_000_000n, 1000n), chain(), policy)).toMatchObject({ post: false, reason: 'not_newer' });
  });
  it('posts on a tripped feed so the new level can be confirmed', () => {
    expect(shouldPost(cand(100_000_000n), chain({ status: 'tripped' }), policy)).toMatchObject({ post: true, reason: 'tripped' });
  });
  it('posts when the heartbeat elapsed, exactly at the boundary', () => {
    const d = shouldPost(cand(100_000_000n, 4600n), chain(), policy);
    expect(d).toMatchObject({ post: true, reason: 'heartbeat' });
    expect(d.log).toBe('shouldPost BTC/USD: yes, because heartbeat: the on-chain observation is 3600 s old ≥ 3600 s');
    expect(shouldPost(cand(100_000_000n, 4599n), chain(), policy)).toMatchObject({ post: false, reason: 'within_threshold' });
  });
  it('judges the heartbeat at the round clock: observations that trail it by a source poll still post in time', () => {
    // The newest quote is 5 s old (sources polled every 5 s) when the tick starts 3600 s after
    // the on-chain observation: the served price is due now, not one poll later.
    expect(shouldPost(cand(100_000_000n, 4595n), chain(), policy, 4600n)).toMatchObject({ post: true, reason: 'heartbeat' });
    expect(shouldPost(cand(100_000_000n, 4595n), chain(), policy, 4599n)).toMatchObject({ post: false, reason: 'within_threshold' });
    // Only the tick clock decides, not the freshness of the quotes: a standby acting later in the
    // tick with newer observations decides the heartbeat exactly as the active one did.
    expect(shouldPost(cand(100_000_000n, 4601n), chain(), policy, 4599n)).toMatchObject({ post: false, reason: 'within_threshold' });
    // Still never a post of an observation that is not newer than on-chain, however late the clock.
    expect(shouldPost(cand(100_000_000n, 1000n), chain(), policy, 9999n)).toMatchObject({ post: false, reason: 'not_newer' });
  });
  it('posts on a deviation at or above the threshold, up or down', () => {
    expect(shouldPost(cand(100_500_000n), chain(), policy)).toMatchObject({ post: true, reason: 'deviation' });
    expect(shouldPost(cand(99_500_000n), chain(), policy)).toMatchObject({ post: true, reason: 'deviation' });
    const d = shouldPost(cand(100_499_999n), chain(), policy);
    expect(d).toMatchObject({ post: false, reason: 'within_threshold' });
    expect(d.log).toMatch(/deviation 0\.499999 % < 0\.5 % and heartbeat not due \(10 s of 3600 s\)/);
  });
  it('posts a committee suspension at once (like a deviation), unless the hub has it suspended already; resumes a suspended feed at once', () => {
    const suspension = { ...cand(SUSPENDED_ANSWER), suspendReason: 1 };
    const d = shouldPost(suspension, chain(), policy);
    expect(d).toMatchObject({ post: true, reason: 'suspend' });
    expect(d.log).toBe('shouldPost BTC/USD: yes, because t nodes signed that they cannot price it (too_few_sources); the hub must stop serving the active price at once');
    // The sentinel alone is recognised (reason unspecified), and before any round too.
    expect(shouldPost(cand(SUSPENDED_ANSWER), chain({ roundId: 0n, answer: 0n, observedAt: 0n }), policy)).toMatchObject({ post: true, reason: 'suspend' });
    expect(shouldPost(suspension, chain({ status: 'suspended' }), policy)).toMatchObject({ post: false, reason: 'already_suspended' });
    expect(shouldPost(suspension, chain({ status: 'paused' }), policy)).toMatchObject({ post: false, reason: 'paused' });
    expect(shouldPost({ ...suspension, observedAt: 1000n }, chain(), policy)).toMatchObject({ post: false, reason: 'not_newer' });
    // Priced again while the hub has it suspended: post at once, however small the move.
    expect(shouldPost(cand(100_000_001n), chain({ status: 'suspended' }), policy)).toMatchObject({ post: true, reason: 'resume' });
    expect(batchReason([{ feedId: 'a', decision: { post: true, reason: 'deviation', log: '' } }, { feedId: 'b', decision: { post: true, reason: 'suspend', log: '' } }])).toBe('suspend+deviation');
  });
  it('treats a move away from an on-chain zero as a deviation', () => {
    expect(shouldPost(cand(1n), chain({ answer: 0n }), policy)).toMatchObject({ post: true, reason: 'deviation' });
    expect(deviationPpb(0n, 0n)).toBe(0n);
  });
  it('per-feed thresholds: a batch carries only the feeds that need it', () => {
    const a = '0x' + 'aa'.repeat(32);
    const b = '0x' + 'bb'.repeat(32);
    const states = new Map([[a, chain()], [b, chain()]]);
    const policies = new Map([[a, { deviationPct: 0.1, heartbeatSec: 3600 }], [b, { deviationPct: 1, heartbeatSec: 3600 }]]);
    const d = decideBatch([{ feedId: a, ...cand(100_200_000n) }, { feedId: b, ...cand(100_200_000n) }], states, policies);
    expect(d.post.map((p) => p.feedId)).toEqual([a]);
    expect(d.hold.map((p) => [p.feedId, p.decision.reason])).toEqual([[b, 'within_threshold']]);
    expect(batchReason(d.post)).toBe('deviation');
  });
  it('property: never posts a paused or unconfigured feed; always posts past the heartbeat when active', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.bigInt({ min: 1n, max: 10n ** 30n }), fc.integer({ min: 1, max: 100_000 }), (answer, old, dt) => {
        const c = { feed: 'X', answer, observedAt: 1000n + BigInt(dt) };
        expect(shouldPost(c, chain({ status: 'paused', answer: old }), policy).post).toBe(false);
        expect(shouldPost(c, chain({ configured: false, answer: old }), policy).post).toBe(false);
        if (dt >= 3600) expect(shouldPost(c, chain({ answer: old }), policy).post).toBe(true);
      }),
    );
  });
});
