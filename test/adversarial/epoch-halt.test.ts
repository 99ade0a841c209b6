/**
 * Threat model, "compromised aggregator": halting the oracle with a far-future epoch.
 *
 * The hub accepts a report only with an epoch above the last, and nodes never sign an epoch
 * below one they signed. Before epochs were tied to the clock, one report at epoch 2^64 − 1
 * (requested by a single aggregator from honest nodes, which checked only "above the last")
 * would have been accepted by the hub, and from then on every report reverted
 * `EpochNotAboveLast` while nodes refused anything lower: the oracle halted for good.
 *
 * Now (docs/design.md §Epochs and the clock): epochs are unix milliseconds at most; nodes
 * refuse an epoch that leads their clock by more than `signer.maxEpochLeadMs`
 * (`epoch_ahead_of_clock`), and the hub refuses one above (block time + maxFutureDrift)·1000
 * (`EpochAheadOfClock`) even when the committee signed it. The most an attacker can do is push
 * the epoch to the edge of the tolerance, and the next honest round continues above it.
 *
 * Four production nodes on loopback (t = 3), the real hub on anvil, the attacker holding the
 * aggregator's identity key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hexlify, type Contract } from 'ethers';
import {
  buildReport,
  combinePartials,
  NodeRefusal,
  partialSign,
  reportMessage,
  signatureToEvm,
  type PartialSignature,
  type Report,
  type SignCall,
  type SignedObservation,
} from '../../protocol/index.ts';
import { epochFor } from '../../aggregator/schedule.ts';
import { BTC, ETH, hubRevert, startLiveCommittee, type LiveCommittee } from './live-committee.ts';

const N = 4;
const T = 3;
const FEED_IDS = [BTC, ETH];
const MAX_U64 = (1n << 64n) - 1n;
/** The nodes' default `signer.maxEpochLeadMs`. */
const LEAD_MS = 30_000n;
const seats = Array.from({ length: N }, (_, k) => k + 1);
let net: LiveCommittee;
let hubAsAttacker: Contract;

beforeAll(async () => {
  net = await startLiveCommittee({ n: N, t: T });
  hubAsAttacker = net.hub.connect(net.anvil.wallet(3)) as Contract;
});

afterAll(async () => {
  await net?.close();
});

async function observeAll(epoch: bigint): Promise<(SignedObservation | NodeRefusal)[]> {
  return Promise.all(seats.map((i) => net.client(i).observe({ configDigest: net.configDigest, epoch, feedIds: FEED_IDS }).catch((e: unknown) => (e instanceof NodeRefusal ? e : Promise.reject(e)))));
}

async function signAll(call: SignCall): Promise<(PartialSignature | NodeRefusal)[]> {
  return Promise.all(seats.map((i) => net.client(i).sign(call).catch((e: unknown) => (e instanceof NodeRefusal ? e : Promise.reject(e)))));
}

const codes = (xs: readonly unknown[]): string[] => xs.map((x) => (x instanceof NodeRefusal ? x.code : 'ok'));

function reportOf(epoch: bigint, observations: readonly SignedObservation[]): Report {
  const { report } = buildReport(net.configDigest, epoch, observations.map((s) => s.observation), FEED_IDS, T);
  if (!report) throw new Error('no feed reached t');
  return report;
}

async function lastSignedEpochs(): Promise<(string | null)[]> {
  return Promise.all(net.urls.map(async (u) => ((await (await fetch(`${u}/v1/status`)).json()) as { lastSigned: { epoch: string } | null }).lastSigned?.epoch ?? null));
}

/** One honest round at `epoch` through the real nodes; returns the combined report. */
async function honestRound(epoch: bigint): Promise<{ report: Report; signature: string }> {
  const observations = (await observeAll(epoch)) as SignedObservation[];
  expect(codes(observations)).toEqual(['ok', 'ok', 'ok', 'ok']);
  const report = reportOf(epoch, observations);
  const partials = await signAll({ report, observations });
  expect(codes(partials)).toEqual(['ok', 'ok', 'ok', 'ok']);
  return { report, signature: hexlify(signatureToEvm(combinePartials(partials as PartialSignature[], T))) };
}

describe('an aggregator cannot halt the oracle with a far-future epoch', () => {
  it('every node refuses to observe epoch 2^64 − 1, or one ten minutes ahead, with epoch_ahead_of_clock', async () => {
    expect(codes(await observeAll(MAX_U64))).toEqual(Array(N).fill('epoch_ahead_of_clock'));
    expect(codes(await observeAll(BigInt(Date.now()) + 600_000n))).toEqual(Array(N).fill('epoch_ahead_of_clock'));
    const refusal = (await observeAll(MAX_U64))[0] as NodeRefusal;
    expect(refusal.message).toMatch(/epoch 18446744073709551615 is \d+ ms ahead of this node's clock .* more than signer\.maxEpochLeadMs 30000/);
  });

  it('every node refuses to sign a report at epoch 2^64 − 1 built on valid observations, and records nothing', async () => {
    const before = await lastSignedEpochs();
    const e = BigInt(Date.now());
    const observations = (await observeAll(e)) as SignedObservation[];
    const honest = reportOf(e, observations);
    // The observations are for epoch e; the attacker relabels the report. The epoch check comes
    // first, so the refusal names the real problem.
    const answers = await signAll({ report: { ...honest, epoch: MAX_U64 }, observations });
    expect(codes(answers)).toEqual(Array(N).fill('epoch_ahead_of_clock'));
    expect(await lastSignedEpochs()).toEqual(before);
  });

  it('the hub refuses a committee-signed epoch beyond its clock (EpochAheadOfClock), and the next honest round lands', async () => {
    const { report } = await honestRound(BigInt(Date.now()));
    // As if t nodes had been made to sign it (a bug, a compromised majority of clocks): the
    // hub is the second line and still refuses.
    const forged: Report = { ...report, epoch: MAX_U64 };
    const signature = hexlify(signatureToEvm(combinePartials(net.dealer.shares.slice(0, T).map((s) => partialSign(s, reportMessage(forged))), T)));
    const epochBefore = BigInt(await net.hub.latestEpoch!());
    const revert = await hubRevert(net.hub, hubAsAttacker.transmit!(forged, signature));
    expect(revert?.name).toBe('EpochAheadOfClock');
    expect(revert!.args[0]).toBe(MAX_U64);
    expect(BigInt(await net.hub.latestEpoch!())).toBe(epochBefore);
    const next = await honestRound(BigInt(Date.now()));
    await (await hubAsAttacker.transmit!(next.report, next.signature)).wait();
    expect(BigInt(await net.hub.latestEpoch!())).toBe(next.report.epoch);
  });

  it('at the edge of the tolerance the attacker only moves the epoch a few seconds; the aggregator schedule continues above it', async () => {
    // The largest epoch nodes still accept: LEAD_MS ahead, minus slack for the request's flight.
    const edge = BigInt(Date.now()) + LEAD_MS - 5_000n;
    const pushed = await honestRound(edge);
    await (await hubAsAttacker.transmit!(pushed.report, pushed.signature)).wait();
    const floor = BigInt(await net.hub.latestEpoch!());
    expect(floor).toBe(edge);
    // An honest aggregator's next tick: its epoch rises above the floor, and nodes sign it
    // because it is within their tolerance (the floor was).
    const tick = Math.floor(Date.now() / 2000);
    const e = epochFor(tick, floor, { intervalMs: 2000, position: 0, of: 1 });
    expect(e).toBe(floor + 1n);
    const next = await honestRound(e);
    await (await hubAsAttacker.transmit!(next.report, next.signature)).wait();
    expect(BigInt(await net.hub.latestEpoch!())).toBe(e);
  });
});
