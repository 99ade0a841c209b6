/**
 * Threat model, suspension (docs/suspension.md): a feed is suspended only by a report the
 * committee signs with the same t-of-n rule as a price — t nodes' own signed "no observation".
 * f = 2 Byzantine nodes of n = 7 (t = 5) vote "cannot price" for feeds the five honest
 * production nodes price, and the attacker holds the aggregator key: it builds suspension
 * reports from any subset of the observations and asks every node to sign them. Then a
 * genuine suspension (every honest venue frozen) is signed, posted, resumed, and replayed.
 * Real node HTTP servers, SQLite signing stores, threshold BLS and the hub on anvil.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hexlify, type ContractTransactionReceipt, type Log, type LogDescription } from 'ethers';
import {
  NodeRefusal,
  SUSPENDED_ANSWER,
  SuspendReason,
  buildReport,
  combinePartials,
  observationsRoot,
  observersBitmap,
  reportMessage,
  signatureToEvm,
  type PartialSignature,
  type Report,
  type SignedObservation,
} from '../../protocol/index.ts';
import { FeedStatus } from '../../contracts/hub.ts';
import { BTC, ETH, epochCounter, hubRevert, startLiveCommittee, type LiveCommittee } from './live-committee.ts';

const N = 7;
const T = 5;
const LIARS = [3, 6] as const;
const HONEST = [1, 2, 4, 5, 7];
const SEATS = [...HONEST, ...LIARS].sort((a, b) => a - b);
let net: LiveCommittee;
const nextEpoch = epochCounter();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  // Quotes count as fresh for 4 s, so frozen venues cost the nodes their quorum within seconds.
  net = await startLiveCommittee({ n: N, t: T, byzantine: LIARS, maxAgeMs: 4000 });
  for (const i of LIARS) {
    net.byzantine.get(i)!.observeAs = { kind: 'absent', reasonCode: SuspendReason.too_few_sources };
    net.byzantine.get(i)!.signAs = { kind: 'anything' };
  }
}, 120_000);
afterAll(async () => {
  await net?.close();
});

async function observeAll(epoch: bigint): Promise<SignedObservation[]> {
  return Promise.all(SEATS.map((i) => net.client(i).observe({ configDigest: net.configDigest, epoch, feedIds: [BTC, ETH] })));
}

/** Asks every seat to sign; returns the partials and the honest refusals by code. */
async function askAll(report: Report, observations: SignedObservation[]): Promise<{ partials: PartialSignature[]; refusals: Map<number, string> }> {
  const partials: PartialSignature[] = [];
  const refusals = new Map<number, string>();
  await Promise.all(
    SEATS.map(async (i) => {
      try {
        partials.push(await net.client(i).sign({ report, observations }));
      } catch (err) {
        if (!(err instanceof NodeRefusal)) throw err;
        refusals.set(i, String(err.code));
      }
    }),
  );
  return { partials, refusals };
}

/** A report that suspends BTC over the given observations, made up by the aggregator. */
function madeUpSuspension(epoch: bigint, observations: SignedObservation[]): Report {
  const used = observations.map((s) => s.observation);
  return {
    configDigest: net.configDigest,
    epoch,
    observedAt: used.map((o) => o.observedAt).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))[used.length >> 1]!,
    observationsRoot: observationsRoot(used),
    observers: observersBitmap(used.map((o) => o.nodeIndex)),
    feedIds: [BTC],
    answers: [SUSPENDED_ANSWER],
    spreadBps: [SuspendReason.too_few_sources],
  };
}

describe('suspension: a minority cannot suspend, a suspension cannot be replayed', () => {
  it('two Byzantine "cannot price" votes among five honest prices: the shared rule prices the feed, and a made-up suspension gets no honest signature', async () => {
    const epoch = nextEpoch();
    const observations = await observeAll(epoch);
    const { report } = buildReport(net.configDigest, epoch, observations.map((s) => s.observation), [BTC, ETH], T);
    // The rule itself: 5 answers ≥ t price BTC; 2 absences < t suspend nothing.
    expect(report!.answers.every((a) => a > 0n)).toBe(true);

    // Over every observation, and over only the two absences: each honest node refuses, nothing is recorded.
    for (const subset of [observations, observations.filter((s) => (LIARS as readonly number[]).includes(s.observation.nodeIndex))]) {
      const forged = madeUpSuspension(epoch, subset);
      const { partials, refusals } = await askAll(forged, subset);
      expect([...refusals.keys()].sort()).toEqual(HONEST);
      expect(new Set(refusals.values())).toEqual(new Set(['median_mismatch']));
      expect(partials.map((p) => p.index).sort()).toEqual([...LIARS]);
      // Their own two partials do not make a committee signature: the hub refuses it.
      const sig = hexlify(signatureToEvm(combinePartials(partials, partials.length)));
      expect((await hubRevert(net.hub, net.hub.transmit!(forged, sig)))?.name).toBe('SignatureInvalid');
    }
    expect(((await net.hub.tryRead!(BTC)) as bigint[])[4]).not.toBe(BigInt(FeedStatus.Suspended));
  });

  it('a genuine suspension (every honest venue frozen) is signed by t, posted, resumed by the next priced report, and cannot be replayed', async () => {
    // A priced round first, so the feed is active.
    let epoch = nextEpoch();
    let observations = await observeAll(epoch);
    let built = buildReport(net.configDigest, epoch, observations.map((s) => s.observation), [BTC, ETH], T).report!;
    let signed = await askAll(built, observations);
    await (await net.hub.transmit!(built, hexlify(signatureToEvm(combinePartials(signed.partials, T))))).wait();
    expect(((await net.hub.tryRead!(BTC)) as bigint[])[4]).toBe(BigInt(FeedStatus.Active));

    // Every honest venue freezes: old quotes with old timestamps; the nodes refuse them.
    net.setVenueBehaviour({ kind: 'stale', ageMs: 600_000 });
    for (const i of LIARS) net.byzantine.get(i)!.observeAs = { kind: 'true' }; // the liars now price, to no avail
    await sleep(6000); // the last good quotes age past maxAgeMs
    epoch = nextEpoch();
    observations = await observeAll(epoch);
    const suspension = buildReport(net.configDigest, epoch, observations.map((s) => s.observation), [BTC, ETH], T).report!;
    expect(suspension.answers).toEqual([SUSPENDED_ANSWER, SUSPENDED_ANSWER]);
    expect(suspension.spreadBps).toEqual([SuspendReason.too_few_sources, SuspendReason.too_few_sources]);
    signed = await askAll(suspension, observations);
    expect([...signed.refusals.keys()]).toEqual([]);
    const suspensionSig = hexlify(signatureToEvm(combinePartials(signed.partials.filter((p) => HONEST.includes(p.index)), T)));
    await (await net.hub.transmit!(suspension, suspensionSig)).wait();
    expect(((await net.hub.tryRead!(BTC)) as bigint[])[4]).toBe(BigInt(FeedStatus.Suspended));
    expect((await hubRevert(net.hub, net.hub.read!(BTC, 0)))).toEqual({ name: 'FeedSuspended', args: [BTC, 1n, suspension.observedAt] });

    // The venues come back; the next priced round resumes the feed.
    // A venue that gave bad answers cools down before it is polled again: wait until t nodes price.
    net.setVenueBehaviour({ kind: 'normal' });
    for (let k = 0; ; k++) {
      await sleep(2000);
      epoch = nextEpoch();
      observations = await observeAll(epoch);
      built = buildReport(net.configDigest, epoch, observations.map((s) => s.observation), [BTC, ETH], T).report!;
      if (built.answers.every((a) => a > 0n)) break;
      if (k > 45) throw new Error(`the nodes did not price again within 90 s of the venues' return: ${built.answers.join(', ')}`);
    }
    signed = await askAll(built, observations);
    const rc = (await (await net.hub.transmit!(built, hexlify(signatureToEvm(combinePartials(signed.partials, T))))).wait()) as ContractTransactionReceipt;
    const applied = rc.logs.map((l: Log) => net.hub.interface.parseLog(l)).filter((e): e is LogDescription => e !== null && e.args[0] === BTC).map((e) => e.name);
    expect(applied, `priced report observed at ${built.observedAt}, suspension at ${suspension.observedAt}`).toEqual(['FeedResumed']);
    expect(((await net.hub.tryRead!(BTC)) as bigint[])[4]).toBe(BigInt(FeedStatus.Active));

    // Replaying the committee-signed suspension: refused by epoch; the feed stays active.
    expect((await hubRevert(net.hub, net.hub.transmit!(suspension, suspensionSig)))?.name).toBe('EpochNotAboveLast');
    expect(((await net.hub.tryRead!(BTC)) as bigint[])[4]).toBe(BigInt(FeedStatus.Active));
    // And its message is bound to its epoch: the same signature over a later epoch does not verify.
    const moved = { ...suspension, epoch: nextEpoch() };
    expect(reportMessage(moved)).not.toEqual(reportMessage(suspension));
    expect((await hubRevert(net.hub, net.hub.transmit!(moved, suspensionSig)))?.name).toBe('SignatureInvalid');
  });
});
