/**
 * Committee-signed suspension in the report format (docs/suspension.md): a node's signed
 * reason for "no observation", the aggregation rule that turns t signed absences into a
 * suspension entry, and why fewer than t nodes can never suspend a feed t nodes price.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ed25519 } from '@noble/curves/ed25519.js';
import { hexlify, randomBytes } from 'ethers';
import {
  MAX_SUSPEND_REASON,
  SUSPENDED_ANSWER,
  SuspendReason,
  aggregateFeeds,
  buildReport,
  decodeObservation,
  decodeReport,
  encodeObservation,
  encodeReport,
  feedId,
  isSuspension,
  signObservation,
  suspendReasonCode,
  suspendReasonName,
  verifyObservation,
  type Observation,
} from '../../protocol/index.ts';

const digest = hexlify(randomBytes(32));
const eth = feedId('ETH/USD').toLowerCase();
const btc = feedId('BTC/USD').toLowerCase();

function obs(nodeIndex: number, feeds: Observation['feeds']): Observation {
  return { configDigest: digest, epoch: 9n, nodeIndex, observedAt: BigInt(1000 + nodeIndex), feeds };
}

describe('signed reason of an absent observation', () => {
  it('travels in the first byte of the absent answer, is covered by the signature and decodes back', () => {
    const secret = ed25519.utils.randomSecretKey();
    const o = obs(3, [
      { feedId: btc, answer: 6_000_000_000_000n },
      { feedId: eth, answer: null, reasonCode: SuspendReason.too_few_sources },
    ]);
    const signed = signObservation(o, secret);
    const back = decodeObservation(signed.encoded, [btc, eth]);
    expect(back.feeds[1]).toEqual({ feedId: eth, answer: null, reasonCode: 1 });
    expect(verifyObservation({ ...signed, observation: back }, ed25519.getPublicKey(secret))).toBe(true);
    // Changing the code changes the signed bytes: the old signature no longer verifies.
    const altered = decodeObservation(encodeObservation({ ...o, feeds: [o.feeds[0]!, { feedId: eth, answer: null, reasonCode: SuspendReason.sources_disagree }] }), [btc, eth]);
    expect(verifyObservation({ ...signed, observation: altered }, ed25519.getPublicKey(secret))).toBe(false);
  });

  it('refuses a code this version does not know and any other nonzero byte', () => {
    const enc = encodeObservation(obs(1, [{ feedId: eth, answer: null }]));
    const at = enc.length - 24;
    const unknown = enc.slice();
    unknown[at] = MAX_SUSPEND_REASON + 1;
    expect(() => decodeObservation(unknown, [eth])).toThrow(`observation.answers[0]: feed ${eth} is absent with reason code ${MAX_SUSPEND_REASON + 1}, this version knows 0..${MAX_SUSPEND_REASON}; upgrade the aggregator or the node`);
    const other = enc.slice();
    other[at + 5] = 1;
    expect(() => decodeObservation(other, [eth])).toThrow(/is absent but its answer is \d+, not zero$/);
    expect(() => encodeObservation(obs(1, [{ feedId: eth, answer: null, reasonCode: 99 }]))).toThrow('observation.feeds[0].reasonCode: expected 0..5, got 99');
  });

  it('names every code and maps the node\'s withheld reasons', () => {
    expect(suspendReasonName(1)).toBe('too_few_sources');
    expect(suspendReasonName(77)).toBe('code 77');
    expect(suspendReasonCode('sources_disagree')).toBe(2);
    expect(suspendReasonCode('something new')).toBe(0);
  });
});

describe('suspension entry (t signed absences)', () => {
  it('is built when t nodes signed that they cannot price, with the reason most of them gave, and round-trips the report encoding', () => {
    const o = [1, 2, 3, 4].map((i) =>
      obs(i, [
        { feedId: btc, answer: 6_000_000_000_000n + BigInt(i) },
        { feedId: eth, answer: null, reasonCode: i === 4 ? SuspendReason.sources_disagree : SuspendReason.too_few_sources },
      ]),
    );
    const { report, aggregate } = buildReport(digest, 9n, o, [btc, eth], 3);
    expect(aggregate.skipped).toEqual([]);
    expect(aggregate.feeds[1]).toEqual({ feedId: eth, answer: SUSPENDED_ANSWER, spreadBps: 1, contributors: [1, 2, 3, 4], suspendReason: 1 });
    expect(report!.answers[1]).toBe(SUSPENDED_ANSWER);
    expect(isSuspension(report!.answers[1]!)).toBe(true);
    expect(decodeReport(encodeReport(report!))).toEqual(report);
  });

  it('is not built from fewer than t absences, nor when t nodes price the feed', () => {
    const mixed = [1, 2, 3, 4].map((i) => obs(i, [{ feedId: eth, answer: i <= 2 ? 3000n : null, reasonCode: i <= 2 ? undefined : 1 }]));
    expect(aggregateFeeds(mixed, [eth], 3)).toEqual({ feeds: [], skipped: [{ feedId: eth, reason: 'ETH/USD: 2 node(s) observed it, need t=3' }] });
    const priced = [1, 2, 3, 4].map((i) => obs(i, [{ feedId: eth, answer: i <= 3 ? 3000n : null, reasonCode: i <= 3 ? undefined : 1 }]));
    expect(aggregateFeeds(priced, [eth], 3).feeds[0]!.answer).toBe(3000n);
  });

  it('property: with t > n/2, whatever any nodes sign, a feed t nodes price is never suspended', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 31 }), fc.array(fc.boolean(), { minLength: 31, maxLength: 31 }), fc.integer({ min: 0, max: 100 }), (n, pricedMask, tPick) => {
        const t = Math.floor(n / 2) + 1 + (tPick % (n - Math.floor(n / 2)));
        const o = Array.from({ length: n }, (_, k) => obs(k + 1, [{ feedId: eth, answer: pricedMask[k] ? 3000n : null, reasonCode: pricedMask[k] ? undefined : 1 }]));
        const pricing = pricedMask.slice(0, n).filter(Boolean).length;
        const row = aggregateFeeds(o, [eth], t).feeds[0];
        if (pricing >= t) expect(row?.answer).toBe(3000n);
        if (row && isSuspension(row.answer)) expect(n - pricing).toBeGreaterThanOrEqual(t);
        // An aggregator may leave observations out, never turn an answer into an absence: any subset suspends only with t absences in it.
        const subset = o.filter((_, k) => k % 2 === 0 || !pricedMask[k]);
        const sub = aggregateFeeds(subset, [eth], t).feeds[0];
        if (sub && isSuspension(sub.answer)) expect(sub.contributors.length).toBeGreaterThanOrEqual(t);
      }),
      { numRuns: 300 },
    );
  });
});
