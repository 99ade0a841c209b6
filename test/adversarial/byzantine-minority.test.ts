/**
 * Threat model, "Byzantine minority": f = 2 of n = 7 nodes (t = 5) hold their real identity
 * keys and BLS shares and follow none of the rules — they lie ×1.5 or ×0.5, equivocate on
 * observations, return bad partial signatures, refuse or stall, sign anything. Five production
 * nodes, the production aggregator (driven tick by tick) and the hub on anvil do the rest.
 *
 * What the minority must not achieve: a price outside the honest nodes' range on-chain, a
 * spreadBps above the honest range (the trimmed spread of `protocol/median.ts`: at least
 * ⌊(t−1)/2⌋ = f answers are trimmed from each end, however many of the n answered), a round
 * that fails or a
 * bad partial that goes unnamed. Honest node i sees the true price × (0.997 + 0.001·i), so the
 * honest range is an interval and every bound below is a real one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hexlify, type Contract } from 'ethers';
import pino from 'pino';
import {
  buildReport,
  combinePartials,
  NodeRefusal,
  reportMessage,
  signatureToEvm,
  type PartialSignature,
  type Report,
  type SignedObservation,
} from '../../protocol/index.ts';
import { loadConfig } from '../../aggregator/config.ts';
import { startAggregator, type RunningAggregator } from '../../aggregator/start.ts';
import type { TickOutcome } from '../../aggregator/service.ts';
import { BTC, ETH, hubRevert, startLiveCommittee, type ByzantineNode, type LiveCommittee } from './live-committee.ts';

const N = 7;
const T = 5;
const LIARS = [3, 6] as const;
const HONEST = [1, 2, 4, 5, 7];
let net: LiveCommittee;
let agg: RunningAggregator;

const liar = (i: number): ByzantineNode => net.byzantine.get(i)!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function tick(): Promise<Extract<TickOutcome, { kind: 'round' }>> {
  await sleep(1100); // nodes snapshot every second; a newer observedAt makes the 1 s heartbeat due
  const out = await agg.service.tick();
  if (out.kind !== 'round') throw new Error(`expected a round, got ${out.kind}`);
  return out;
}

/** The honest nodes' BTC answers in this round's signed observations: [min, max]. */
function honestRange(observations: readonly SignedObservation[]): [bigint, bigint] {
  const a = observations.filter((s) => HONEST.includes(s.observation.nodeIndex)).map((s) => s.observation.feeds.find((f) => f.feedId.toLowerCase() === BTC)!.answer!);
  expect(a).toHaveLength(HONEST.length);
  a.sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  return [a[0]!, a.at(-1)!];
}

/** Every BTC answer that went into the round (liars included): [min, max]. */
function fullRange(observations: readonly SignedObservation[]): [bigint, bigint] {
  const a = observations.map((s) => s.observation.feeds.find((f) => f.feedId.toLowerCase() === BTC)!.answer!).sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  return [a[0]!, a.at(-1)!];
}

/** The honest spread bound in bps, rounded up the way `spreadBpsOf` rounds. */
function honestSpreadBound([lo, hi]: [bigint, bigint], median: bigint): number {
  return Number(((hi - lo) * 10_000n + median - 1n) / median);
}

async function onchainBtc(): Promise<{ answer: bigint; spreadBps: bigint; epoch: bigint }> {
  const [answer, , spreadBps] = (await net.hub.read!(BTC, 0)) as [bigint, bigint, bigint];
  return { answer, spreadBps, epoch: BigInt(await net.hub.latestEpoch!()) };
}

/** Runs one round with the liars as configured and checks the on-chain BTC against the honest range. */
async function roundWithinHonestRange(): Promise<{ out: Extract<TickOutcome, { kind: 'round' }>; honest: [bigint, bigint]; full: [bigint, bigint] }> {
  const out = await tick();
  expect(out.round.status).toBe('signed');
  expect(out.transmission?.status).toBe('accepted');
  const observations = out.round.signed!.observations;
  const honest = honestRange(observations);
  const full = fullRange(observations);
  const onchain = await onchainBtc();
  expect(onchain.epoch).toBe(out.round.epoch);
  expect(onchain.answer >= honest[0] && onchain.answer <= honest[1]).toBe(true);
  expect(Number(onchain.spreadBps)).toBeLessThanOrEqual(honestSpreadBound(honest, onchain.answer));
  return { out, honest, full };
}

beforeAll(async () => {
  net = await startLiveCommittee({ n: N, t: T, byzantine: [...LIARS], honestMultiplier: (i) => 0.997 + 0.001 * i });
  agg = await startAggregator(loadConfig(net.aggregatorConfig()), { run: false, logger: pino({ level: 'silent' }) });
});

afterAll(async () => {
  await agg?.stop();
  await net?.close();
});

describe('f Byzantine nodes of n cannot move the price or the spread outside the honest range', () => {
  it('liars at ×1.5 and ×0.5: the on-chain price and spreadBps stay within the honest range', async () => {
    liar(3).observeAs = { kind: 'skew', factor: 1.5 };
    liar(6).observeAs = { kind: 'skew', factor: 0.5 };
    const { out, honest, full } = await roundWithinHonestRange();
    // The lies were in the input (not filtered before the median), so the bound is the median's doing.
    expect(out.round.participants.observed).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(full[1] > (honest[1] * 14n) / 10n && full[0] < (honest[0] * 6n) / 10n).toBe(true);
  });

  it('both liars on one side (×1.5): the price is dragged at most to an honest value, the spread not past the honest range', async () => {
    liar(3).observeAs = { kind: 'skew', factor: 1.5 };
    liar(6).observeAs = { kind: 'skew', factor: 1.5 };
    const { out, full, honest } = await roundWithinHonestRange();
    expect(out.round.participants.observed).toEqual([1, 2, 3, 4, 5, 6, 7]);
    // Untrimmed, the spread of these answers would be about 5,000 bps.
    expect(honestSpreadBound(full, honest[1])).toBeGreaterThan(4000);
  });

  it('liars that equivocate (a different signed observation per request) still land only an honest-range price', async () => {
    liar(3).observeAs = { kind: 'equivocate', factors: [1.5, 0.5] };
    liar(6).observeAs = { kind: 'equivocate', factors: [0.5, 1.5] };
    await roundWithinHonestRange();
    await roundWithinHonestRange();
  });
});

describe('f Byzantine signers cannot stop a round or slip in a bad partial', () => {
  it('bad partial signatures are named and excluded; the round completes with the n − f honest partials', async () => {
    for (const i of LIARS) {
      liar(i).observeAs = { kind: 'true' };
      liar(i).signAs = { kind: 'bad_partial' };
    }
    const { out } = await roundWithinHonestRange();
    const bad = out.round.excluded.filter((e) => e.code === 'bad_partial');
    expect(bad.map((e) => [e.index, e.phase])).toEqual([
      [3, 'sign'],
      [6, 'sign'],
    ]);
    for (const e of bad) expect(e.reason).toMatch(new RegExp(`node ${e.index}: partial signature of node ${e.index}: does not verify against its public share`));
    expect(out.round.participants.signed).toEqual(HONEST);
    expect(agg.store.get(out.round.epoch)!.excluded).toEqual(expect.arrayContaining([expect.objectContaining({ index: 3, code: 'bad_partial' }), expect.objectContaining({ index: 6, code: 'bad_partial' })]));
  });

  it('refusing and stalling signers: the round completes with the n − f honest partials and says who withheld', async () => {
    liar(3).signAs = { kind: 'refuse' };
    liar(6).signAs = { kind: 'silent', ms: 10_000 };
    const { out } = await roundWithinHonestRange();
    expect(out.round.participants.signed).toEqual(HONEST);
    const withheld = out.round.excluded.filter((e) => e.phase === 'sign');
    expect(withheld).toEqual(
      expect.arrayContaining([expect.objectContaining({ index: 3, code: 'outside_sanity_band' }), expect.objectContaining({ index: 6, code: 'timeout' })]),
    );
    liar(6).release();
  });

  it('liars that lie, equivocate and sign anything: one report per epoch from the honest nodes, and their own partials cannot stand in for t', async () => {
    for (const i of LIARS) {
      liar(i).observeAs = { kind: 'equivocate', factors: [1.5, 0.5] };
      liar(i).signAs = { kind: 'anything' };
    }
    // Two candidate reports for one epoch from the liars' two observations each (the attack needs an
    // aggregator to forward them; the honest nodes sign only the first).
    const e = (await onchainBtc()).epoch + 1_000n;
    const observe = (i: number) => net.client(i).observe({ configDigest: net.configDigest, epoch: e, feedIds: [BTC, ETH] });
    const honestObs = await Promise.all(HONEST.map(observe));
    const [a3, b3, a6, b6] = [await observe(3), await observe(3), await observe(6), await observe(6)];
    expect(a3.signature).not.toBe(b3.signature);
    const reportOf = (obs: SignedObservation[]): Report => buildReport(net.configDigest, e, obs.map((s) => s.observation), [BTC, ETH], T).report!;
    const first = reportOf([...honestObs, a3, a6]);
    const second = reportOf([...honestObs, b3, b6]);
    expect(hexlify(reportMessage(first))).not.toBe(hexlify(reportMessage(second)));
    const sign = async (i: number, report: Report, observations: SignedObservation[]) => net.client(i).sign({ report, observations }).catch((err: unknown) => err as NodeRefusal);
    const firstAnswers = await Promise.all(net.committee.nodes.map((m) => sign(m.index, first, [...honestObs, a3, a6])));
    const secondAnswers = await Promise.all(net.committee.nodes.map((m) => sign(m.index, second, [...honestObs, b3, b6])));
    expect(firstAnswers.every((x) => !(x instanceof NodeRefusal))).toBe(true);
    // The second report: the honest nodes refuse it, only the two liars sign — 2 partials of t = 5.
    const secondPartials = secondAnswers.filter((x): x is PartialSignature => !(x instanceof NodeRefusal));
    expect(secondPartials.map((p) => p.index)).toEqual([...LIARS]);
    expect(secondAnswers.filter((x): x is NodeRefusal => x instanceof NodeRefusal).map((r) => [r.nodeIndex, r.code])).toEqual(HONEST.map((i) => [i, 'conflicting_report']));
    // Whatever t-combination the liars try with what they hold, the hub rejects it.
    const forged = hexlify(signatureToEvm(combinePartials([...secondPartials, ...firstAnswers.filter((x): x is PartialSignature => HONEST.slice(0, 3).includes((x as PartialSignature).index))], T)));
    const before = await onchainBtc();
    expect(await hubRevert(net.hub, net.hub.transmit!.staticCall(second, forged))).toEqual({ name: 'SignatureInvalid', args: [hexlify(reportMessage(second))] });
    // The first report's price, signed by the committee, is within the honest range.
    const goodSig = hexlify(signatureToEvm(combinePartials(firstAnswers.filter((x): x is PartialSignature => HONEST.includes((x as PartialSignature).index)), T)));
    await (await net.hub.transmit!(first, goodSig)).wait();
    const after = await onchainBtc();
    expect(after.epoch).toBe(e);
    expect(after.epoch > before.epoch).toBe(true);
    const [lo, hi] = honestRange([...honestObs, a3, a6]);
    expect(after.answer >= lo && after.answer <= hi).toBe(true);
  });
});

describe('the spread guarantee holds with honest nodes missing', () => {
  // The trimmed spread once dropped only ⌊(k−1)/3⌋ answers from each end, k = the answers that
  // went into the round: f only with all n answering. With an honest node missing (crashed,
  // slow past the grace period, or dropped by a compromised aggregator), k = n − 1 and one
  // fewer was trimmed, so the two liars set the spread (about 5,000 bps here) and consumers that
  // require a low spreadBps were denied prices. The trim now covers the ⌊(t−1)/2⌋ liars the
  // quorum tolerates at any k.
  it('with one honest node down, two liars at ×1.5 cannot inflate spreadBps past the honest range; the price stays within it', async () => {
    for (const i of LIARS) {
      liar(i).observeAs = { kind: 'skew', factor: 1.5 };
      liar(i).signAs = { kind: 'anything' };
    }
    await net.stopHonest(7);
    const out = await tick();
    expect(out.transmission?.status).toBe('accepted');
    expect(out.round.participants.observed).toEqual([1, 2, 3, 4, 5, 6]);
    const observations = out.round.signed!.observations;
    const honestAnswers = observations.filter((s) => HONEST.includes(s.observation.nodeIndex)).map((s) => s.observation.feeds.find((f) => f.feedId.toLowerCase() === BTC)!.answer!);
    const lo = honestAnswers.reduce((a, b) => (a < b ? a : b));
    const hi = honestAnswers.reduce((a, b) => (a > b ? a : b));
    const onchain = await onchainBtc();
    expect(onchain.answer >= lo && onchain.answer <= hi).toBe(true);
    expect(honestSpreadBound([lo, hi], onchain.answer)).toBeLessThan(100);
    expect(Number(onchain.spreadBps)).toBeLessThanOrEqual(honestSpreadBound([lo, hi], onchain.answer));
  });
});
