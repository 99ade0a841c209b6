/**
 * Threat model, "compromised aggregator": an attacker holding an aggregator's identity key
 * (decrypted from its keystore) talks to the committee's real nodes directly, with the same
 * client and sign-request encoding the aggregator uses, and to the real hub on anvil.
 *
 * What it must not gain (docs/design.md §Trust model: "a compromised aggregator must gain nothing beyond
 * delaying or censoring rounds"): a signature on answers other than the medians, on forged
 * observations, on two reports for one epoch or on an older epoch; a price outside the honest
 * range by dropping observations; an altered or replayed report on-chain. Each test performs
 * the attack and asserts the exact refusal, and that nothing was recorded or moved.
 *
 * Four production nodes (t = 3); node i sees the true price × (0.998 + 0.001·i), so the honest
 * answers are four distinct values and "within the honest range" is a real bound.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hexlify, type Contract } from 'ethers';
import {
  buildReport,
  combinePartials,
  encodeObservation,
  NodeRefusal,
  observersBitmap,
  reportMessage,
  signatureToEvm,
  signObservation,
  verifyGroupSignature,
  type PartialSignature,
  type Report,
  type SignCall,
  type SignedObservation,
} from '../../protocol/index.ts';
import { BTC, ETH, hubRevert, startLiveCommittee, type LiveCommittee } from './live-committee.ts';

const N = 4;
const T = 3;
const FEED_IDS = [BTC, ETH];
let net: LiveCommittee;
let hubAsAttacker: Contract;
let lastEpoch = 0n;

/** Epochs like the aggregator's (unix milliseconds), strictly increasing. */
function nextEpoch(): bigint {
  const now = BigInt(Date.now());
  lastEpoch = now > lastEpoch ? now : lastEpoch + 1n;
  return lastEpoch;
}

const seats = Array.from({ length: N }, (_, k) => k + 1);

async function observeAll(epoch: bigint): Promise<SignedObservation[]> {
  return Promise.all(seats.map((i) => net.client(i).observe({ configDigest: net.configDigest, epoch, feedIds: FEED_IDS })));
}

function honestReport(epoch: bigint, observations: readonly SignedObservation[], feedIds: readonly string[] = FEED_IDS): Report {
  const { report } = buildReport(net.configDigest, epoch, observations.map((s) => s.observation), feedIds, T);
  if (!report) throw new Error('no feed reached t');
  return report;
}

/** Every node's answer to a sign request: a partial, or its refusal. */
async function askAll(call: SignCall): Promise<(PartialSignature | NodeRefusal)[]> {
  return Promise.all(
    seats.map((i) =>
      net
        .client(i)
        .sign(call)
        .catch((err: unknown) => {
          if (err instanceof NodeRefusal) return err;
          throw err;
        }),
    ),
  );
}

function codes(answers: readonly (PartialSignature | NodeRefusal)[]): string[] {
  return answers.map((a) => (a instanceof NodeRefusal ? a.code : 'signed'));
}

function groupSignature(answers: readonly (PartialSignature | NodeRefusal)[]): string {
  const partials = answers.filter((a): a is PartialSignature => !(a instanceof NodeRefusal));
  const sig = combinePartials(partials.slice(0, T), T);
  return hexlify(signatureToEvm(sig));
}

/** Each node's last signed epoch and report hash, from its status endpoint. */
async function lastSigned(): Promise<({ epoch: string; reportHash: string } | null)[]> {
  return Promise.all(net.urls.map(async (u) => ((await (await fetch(`${u}/v1/status`)).json()) as { lastSigned: { epoch: string; reportHash: string } | null }).lastSigned));
}

async function onchain(): Promise<{ epoch: bigint; btc: bigint; round: bigint }> {
  const [btc, , , round] = (await net.hub.read!(BTC, 0)) as [bigint, bigint, bigint, bigint];
  return { epoch: BigInt(await net.hub.latestEpoch!()), btc, round };
}

/** Honest BTC answers of this round's observations, ascending. */
function btcAnswers(observations: readonly SignedObservation[]): bigint[] {
  return observations.map((s) => s.observation.feeds[0]!.answer!).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** A genuinely signed report the attacker obtained in an honest round (for the on-chain attacks). */
const signedReports: { report: Report; signature: string }[] = [];

beforeAll(async () => {
  net = await startLiveCommittee({ n: N, t: T, honestMultiplier: (i) => 0.998 + 0.001 * i });
  hubAsAttacker = net.hub.connect(net.anvil.wallet(3)) as Contract;
});

afterAll(async () => {
  await net?.close();
});

describe('a compromised aggregator cannot get nodes to sign what the observations do not support', () => {
  it('answers that are not the medians of the forwarded observations: every node refuses median_mismatch and records nothing', async () => {
    const before = await lastSigned();
    const e = nextEpoch();
    const observations = await observeAll(e);
    const honest = honestReport(e, observations);
    const pumped: Report = { ...honest, answers: [(honest.answers[0]! * 11n) / 10n, honest.answers[1]!] };
    const answers = await askAll({ report: pumped, observations });
    expect(codes(answers)).toEqual(['median_mismatch', 'median_mismatch', 'median_mismatch', 'median_mismatch']);
    expect((answers[0] as NodeRefusal).message).toMatch(/answers\[0\] BTC\/USD: report says \d+, the median of the observations is \d+/);

    // A narrower spread (to pass a consumer's confidence gate) and a fresher observedAt are refused too.
    const narrowed: Report = { ...honest, spreadBps: honest.spreadBps.map(() => 0) };
    if (honest.spreadBps.some((s) => s !== 0)) expect(codes(await askAll({ report: narrowed, observations }))).toEqual(Array(N).fill('median_mismatch'));
    const refreshed: Report = { ...honest, observedAt: honest.observedAt + 30n };
    expect(codes(await askAll({ report: refreshed, observations }))).toEqual(Array(N).fill('observation_mismatch'));

    // Nothing was recorded: the nodes still sign the honest report for this very epoch.
    expect(await lastSigned()).toEqual(before);
    const ok = await askAll({ report: honest, observations });
    expect(codes(ok)).toEqual(Array(N).fill('signed'));
    signedReports.push({ report: honest, signature: groupSignature(ok) });
  });

  it('a forged or altered observation: every node refuses bad_observation_signature and records nothing', async () => {
    const before = await lastSigned();
    const e = nextEpoch();
    const observations = await observeAll(e);
    // Nodes 2 and 3 "said" 1.5× the price: the encoding is changed, their signatures kept, and
    // the report is the honest median of the altered set (so only the signature check can catch it).
    const altered = observations.map((s, k) => {
      if (k !== 1 && k !== 2) return s;
      const o = { ...s.observation, feeds: s.observation.feeds.map((f) => ({ feedId: f.feedId, answer: (f.answer! * 3n) / 2n })) };
      return { observation: o, encoded: encodeObservation(o), signature: s.signature };
    });
    const report = honestReport(e, altered);
    expect(report.answers[0]! > (btcAnswers(observations).at(-1)! * 14n) / 10n).toBe(true);
    const answers = await askAll({ report, observations: altered });
    expect(codes(answers)).toEqual(Array(N).fill('bad_observation_signature'));
    expect((answers[0] as NodeRefusal).message).toMatch(/observations\[1\]: signature of node 2 does not verify/);

    // An observation "of node 4" made up and signed with the aggregator's own identity key.
    const madeUp = signObservation({ ...observations[3]!.observation, feeds: observations[3]!.observation.feeds.map((f) => ({ feedId: f.feedId, answer: f.answer! * 2n })) }, net.aggregatorSecret);
    const withMadeUp = [observations[0]!, observations[1]!, madeUp];
    expect(codes(await askAll({ report: honestReport(e, withMadeUp), observations: withMadeUp }))).toEqual(Array(N).fill('bad_observation_signature'));

    // An observation from a seat that is not in the committee.
    const outsider = signObservation({ ...observations[0]!.observation, nodeIndex: 9 }, net.aggregatorSecret);
    const withOutsider = [observations[0]!, observations[1]!, outsider];
    const refused = await askAll({ report: honestReport(e, withOutsider), observations: withOutsider });
    expect(codes(refused)).toEqual(Array(N).fill('bad_observation_signature'));
    expect((refused[0] as NodeRefusal).message).toMatch(/node 9 is not in the committee/);

    expect(await lastSigned()).toEqual(before);
    expect(codes(await askAll({ report: honestReport(e, observations), observations }))).toEqual(Array(N).fill('signed'));
  });

  it('a second, different report for a signed epoch is refused conflicting_report; an older epoch epoch_regression', async () => {
    const older = nextEpoch();
    const olderObservations = await observeAll(older);
    const e = nextEpoch();
    const observations = await observeAll(e);
    const first = honestReport(e, observations);
    const signed = await askAll({ report: first, observations });
    expect(codes(signed)).toEqual(Array(N).fill('signed'));
    const after = await lastSigned();

    // Same epoch, another valid-looking report (built honestly from three of the observations).
    const subset = observations.slice(0, 3);
    const second = honestReport(e, subset);
    expect(hexlify(reportMessage(second))).not.toBe(hexlify(reportMessage(first)));
    const conflicting = await askAll({ report: second, observations: subset });
    expect(codes(conflicting)).toEqual(Array(N).fill('conflicting_report'));
    expect((conflicting[0] as NodeRefusal).message).toMatch(new RegExp(`epoch ${e}: already signed report 0x[0-9a-f]{64}; refusing the different report`));

    // The same report again is an idempotent repeat (one report per epoch, not one request).
    const again = await askAll({ report: first, observations });
    expect(codes(again)).toEqual(Array(N).fill('signed'));
    expect(groupSignature(again)).toBe(groupSignature(signed));

    // An older epoch, with observations the attacker gathered for it before: refused at sign and at observe.
    const regressed = await askAll({ report: honestReport(older, olderObservations), observations: olderObservations });
    expect(codes(regressed)).toEqual(Array(N).fill('epoch_regression'));
    const observeOld = await net.client(1).observe({ configDigest: net.configDigest, epoch: older, feedIds: FEED_IDS }).catch((err: unknown) => err);
    expect(observeOld).toBeInstanceOf(NodeRefusal);
    expect((observeOld as NodeRefusal).code).toBe('epoch_regression');

    expect(await lastSigned()).toEqual(after);
    expect(after.map((s) => s?.epoch)).toEqual(Array(N).fill(e.toString()));
    expect(after.map((s) => s?.reportHash.toLowerCase())).toEqual(Array(N).fill(hexlify(reportMessage(first)).toLowerCase()));
  });

  it('dropping observations: fewer than t is refused; any t-subset signs, but its median stays strictly inside the honest range', async () => {
    // Fewer than t observations: no feed has t answers.
    {
      const e = nextEpoch();
      const observations = await observeAll(e);
      const two = observations.slice(0, T - 1);
      const { report } = buildReport(net.configDigest, e, two.map((s) => s.observation), FEED_IDS, T - 1);
      const answers = await askAll({ report: report!, observations: two });
      expect(codes(answers)).toEqual(Array(N).fill('median_mismatch'));
      expect((answers[0] as NodeRefusal).message).toMatch(/no feed of the report has t=3 answers among the 2 observations sent/);
    }
    // Every subset of at least t observations (four of size 3, one of size 4), each in its own epoch.
    const subsets = [[1, 2, 3], [1, 2, 4], [1, 3, 4], [2, 3, 4], [1, 2, 3, 4]];
    const reached = new Set<bigint>();
    let honestSorted: bigint[] = [];
    let lowest: { report: Report; signature: string } | undefined;
    for (const keep of subsets) {
      const e = nextEpoch();
      const observations = await observeAll(e);
      honestSorted = btcAnswers(observations);
      const chosen = observations.filter((s) => keep.includes(s.observation.nodeIndex));
      const report = honestReport(e, chosen);
      const answers = await askAll({ report, observations: chosen });
      // Every node signs, also the ones whose observation was dropped: the subset is legitimate input.
      expect(codes(answers)).toEqual(Array(N).fill('signed'));
      expect(report.observers).toBe(observersBitmap(keep));
      const btc = report.answers[0]!;
      expect(btc > honestSorted[0]! && btc < honestSorted[N - 1]!).toBe(true);
      reached.add(btc);
      if (!lowest || btc < lowest.report.answers[0]!) lowest = { report, signature: groupSignature(answers) };
    }
    // The choice the attacker has is between the two middle honest values, never an extreme.
    expect([...reached].sort()).toEqual([honestSorted[1]!, honestSorted[2]!].sort());

    // The cherry-picked report lands, and the observers bitmap on-chain names whom it left out.
    await (await hubAsAttacker.transmit!(lowest!.report, lowest!.signature)).wait();
    const now = await onchain();
    expect(now.btc).toBe(honestSorted[1]);
    expect(now.epoch).toBe(lowest!.report.epoch);
    signedReports.push(lowest!);
  });
});

describe('a compromised aggregator cannot get an altered or old report accepted on-chain', () => {
  it('a signed report with an answer changed after signing reverts SignatureInvalid; nothing moves', async () => {
    // observedAt has a resolution of one second, and the hub serves a feed only with a newer
    // one: start this round's observations after the served one's second (and the nodes'
    // one-second snapshots) have passed, so a slow machine cannot land it in the same second.
    const [, servedAt] = (await net.hub.tryRead!(BTC)) as [bigint, bigint];
    while (BigInt(Math.floor(Date.now() / 1000)) <= servedAt + 2n) await new Promise((r) => setTimeout(r, 200));
    const e = nextEpoch();
    const observations = await observeAll(e);
    const genuine = honestReport(e, observations);
    const answers = await askAll({ report: genuine, observations });
    const signature = groupSignature(answers);
    expect(verifyGroupSignature(signatureToEvm(combinePartials(answers.filter((a): a is PartialSignature => !(a instanceof NodeRefusal)).slice(0, T), T)), reportMessage(genuine), net.dealer.groupPublicKey)).toBe(true);
    const before = await onchain();
    for (const altered of [
      { ...genuine, answers: [(genuine.answers[0]! * 3n) / 2n, genuine.answers[1]!] },
      { ...genuine, spreadBps: genuine.spreadBps.map((s) => s + 100) },
      { ...genuine, observers: genuine.observers | (1n << 7n) },
    ]) {
      const err = await hubRevert(net.hub, hubAsAttacker.transmit!.staticCall(altered, signature));
      expect(err).toEqual({ name: 'SignatureInvalid', args: [hexlify(reportMessage(altered))] });
      // Sent anyway, past the simulation: reverted on-chain.
      const tx = await net.anvil.wallet(3).sendTransaction({ to: net.hubAddress, data: net.hub.interface.encodeFunctionData('transmit', [altered, signature]), gasLimit: 3_000_000n });
      expect((await tx.wait().catch(() => net.anvil.provider.getTransactionReceipt(tx.hash)))?.status).toBe(0);
    }
    expect(await onchain()).toEqual(before);
    // The untouched report is accepted at that epoch: the failed attempts consumed nothing.
    await (await hubAsAttacker.transmit!(genuine, signature)).wait();
    const after = await onchain();
    expect(after.epoch).toBe(e);
    expect(after.btc).toBe(genuine.answers[0]);
    signedReports.push({ report: genuine, signature });
  });

  it('replaying an older signed report reverts EpochNotAboveLast; nothing moves', async () => {
    const before = await onchain();
    expect(signedReports.length).toBeGreaterThanOrEqual(3);
    for (const old of signedReports) {
      expect(old.report.epoch <= before.epoch).toBe(true);
      const err = await hubRevert(net.hub, hubAsAttacker.transmit!.staticCall(old.report, old.signature));
      expect(err).toEqual({ name: 'EpochNotAboveLast', args: [old.report.epoch, before.epoch] });
    }
    const latest = signedReports.at(-1)!;
    const tx = await net.anvil.wallet(3).sendTransaction({ to: net.hubAddress, data: net.hub.interface.encodeFunctionData('transmit', [latest.report, latest.signature]), gasLimit: 3_000_000n });
    expect((await tx.wait().catch(() => net.anvil.provider.getTransactionReceipt(tx.hash)))?.status).toBe(0);
    expect(await onchain()).toEqual(before);
  });
});
