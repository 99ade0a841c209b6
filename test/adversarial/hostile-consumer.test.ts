/**
 * Threat model, "hostile consumer contract": a contract (`contracts/test/HostileConsumer.sol`)
 * that reads the hub from its own state-changing transactions, tries the guardian's functions,
 * brings forged, altered and foreign reports to the pull-mode path (`updateAndRead`), and probes
 * the Chainlink adapter for a held breaker candidate. The real AegisHub on anvil, a committee
 * with real threshold BLS (the shared fixture, n = 4, t = 3).
 *
 * "No hub state changed" is checked with anvil's prestate tracer in diff mode: the accounts
 * whose balance, nonce, code or storage a transaction changed. The hub and the adapter must not
 * be among them; the consumer itself must be (the tracer sees its writes, so the check can fail).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hexlify, type Contract, type JsonRpcSigner } from 'ethers';
import { combinePartials, partialSign, reportMessage, signatureToEvm, type Report } from '../../protocol/index.ts';
import { deployHub } from '../../contracts/hub.ts';
import { as, deployTest, deployWith, expectRevert, FEED, latestTime, ONE, setup, Status, type Fixture } from '../contracts/helpers/chain.ts';

let f: Fixture;
let attacker: JsonRpcSigner;
let consumer: Contract;
let adapter: Contract;
let hubAddress: string;
let adapterAddress: string;

/** Lower-case addresses of the accounts whose state transaction `hash` changed. */
async function touched(hash: string): Promise<Set<string>> {
  const diff = (await f.anvil.provider.send('debug_traceTransaction', [hash, { tracer: 'prestateTracer', tracerConfig: { diffMode: true } }])) as { post: Record<string, unknown> };
  return new Set(Object.keys(diff.post).map((a) => a.toLowerCase()));
}

async function hubView(): Promise<unknown[]> {
  const h = f.hub;
  return [await h.latestEpoch!(), await h.configDigest!(), await h.guardian!(), await h.paused!(), [...(await h.tryRead!(FEED))], [...(await h.breakerState!(FEED))], await h.latestRoundId!(FEED), [...(await h.feedConfig!(FEED))]];
}

/** One second after both the latest block and the feed's last observation (a report the feed takes as newer). */
async function nextObservedAt(): Promise<bigint> {
  const [, observedAt] = (await f.hub.tryRead!(FEED)) as [bigint, bigint];
  const now = await latestTime(f.hub);
  return (now > observedAt ? now : observedAt) + 1n;
}

/** A report the committee signs for `answer`, newer than anything the feed holds. */
async function signed(answer: bigint): Promise<{ report: Report; signature: string }> {
  const { report, signature } = await f.oracle.report({ [FEED]: answer }, await nextObservedAt());
  return { report, signature: hexlify(signature) };
}

beforeAll(async () => {
  f = await setup();
  attacker = f.signers[6]!;
  hubAddress = (await f.hub.getAddress()).toLowerCase();
  consumer = await deployTest(attacker, 'HostileConsumer', [hubAddress]);
  adapter = await deployWith(f, f.deployer, 'AegisAggregatorV3', [hubAddress, FEED]);
  adapterAddress = (await adapter.getAddress()).toLowerCase();
});

afterAll(async () => {
  await f?.stop();
});

describe('a hostile consumer cannot change hub state', () => {
  it('every read of the hub and the adapter, called with CALL from a writing transaction, changes no hub or adapter state', async () => {
    const before = await hubView();
    const [ok, total] = (await consumer.readEverything!.staticCall(FEED, adapterAddress)) as [bigint, bigint];
    expect([ok, total]).toEqual([18n, 18n]);
    const rc = await (await consumer.readEverything!(FEED, adapterAddress)).wait();
    const changed = await touched(rc!.hash);
    expect(changed.has((await consumer.getAddress()).toLowerCase())).toBe(true);
    expect(changed.has(hubAddress)).toBe(false);
    expect(changed.has(adapterAddress)).toBe(false);
    expect(rc!.logs.filter((l: { address: string }) => l.address.toLowerCase() === hubAddress)).toEqual([]);
    expect(await hubView()).toEqual(before);
  });

  it("the guardian's functions called by the consumer all fail (NotGuardian) and change nothing", async () => {
    const before = await hubView();
    expect(await consumer.tryGovern!.staticCall(FEED)).toBe(0n);
    const rc = await (await consumer.tryGovern!(FEED)).wait();
    expect(await consumer.governSucceeded!()).toBe(0n);
    expect((await touched(rc!.hash)).has(hubAddress)).toBe(false);
    await expectRevert(f, as(f.hub, attacker).pause!(), 'NotGuardian', [await attacker.getAddress(), await f.deployer.getAddress()]);
    expect(await hubView()).toEqual(before);
  });
});

describe('a hostile consumer cannot get a forged or altered report accepted through updateAndRead', () => {
  it('a t − 1 forgery, an altered answer, a malformed signature and a report signed for another hub all revert; nothing moves', async () => {
    const genuine = await signed(2100n * ONE);
    const message = hexlify(reportMessage(genuine.report));
    const partials = f.committee.shares.slice(0, f.committee.t - 1).map((s) => partialSign(s, reportMessage(genuine.report)));
    const tMinus1 = hexlify(signatureToEvm(combinePartials(partials, f.committee.t - 1)));
    const altered: Report = { ...genuine.report, answers: [5000n * ONE] };
    // The same committee also serves a second hub: its report carries that hub's config digest.
    const other = await deployHub(f.deployer, f.committee, { compiled: f.compiled });
    const foreign: Report = { ...genuine.report, configDigest: (await other.configDigest!()) as string };
    const foreignSig = hexlify(signatureToEvm(combinePartials(f.committee.shares.slice(0, f.committee.t).map((s) => partialSign(s, reportMessage(foreign))), f.committee.t)));

    const before = await hubView();
    const pokes = await consumer.pokes!();
    const c = as(consumer, attacker);
    await expectRevert(f, c.pull!(genuine.report, tMinus1, FEED, 3600), 'SignatureInvalid', [message]);
    await expectRevert(f, c.pull!(altered, genuine.signature, FEED, 3600), 'SignatureInvalid', [hexlify(reportMessage(altered))]);
    await expectRevert(f, c.pull!(genuine.report, genuine.signature.slice(0, -2), FEED, 3600), 'SignatureMalformed', [95n, 96n]);
    await expectRevert(f, c.pull!(foreign, foreignSig, FEED, 3600), 'ConfigDigestMismatch', [foreign.configDigest, before[1]]);
    expect(await hubView()).toEqual(before);
    expect(await consumer.pokes!()).toBe(pokes);

    // Control: the genuine report goes through the same path and is served.
    await (await c.pull!(genuine.report, genuine.signature, FEED, 3600)).wait();
    expect(await consumer.lastAnswer!()).toBe(2100n * ONE);
    expect(BigInt(await f.hub.latestEpoch!())).toBe(genuine.report.epoch);
  });
});

describe('a hostile consumer cannot make the Chainlink adapter serve a breaker candidate', () => {
  it('while a candidate is held, the adapter serves the last served round; one round past it does not exist; pull mode reverts FeedTripped', async () => {
    const [served, , , round] = (await f.hub.tryRead!(FEED)) as [bigint, bigint, bigint, bigint, bigint];
    // The committee signs a 50 % move: beyond the 10 % breaker, so it is held, not served.
    await f.oracle.push((served * 3n) / 2n, { observedAt: await nextObservedAt() });
    const breaker = await f.hub.breakerState!(FEED);
    expect(breaker.tripped).toBe(true);
    expect(breaker.candidate).toBe((served * 3n) / 2n);
    expect(await adapter.status!()).toBe(Status.Tripped);

    const [r, answer] = (await consumer.readAdapter!.staticCall(adapterAddress)) as [bigint, bigint, bigint];
    expect([r, answer]).toEqual([round, served]);
    expect([...(await consumer.probeRound!(adapterAddress, round + 1n))]).toEqual([false, 0n]);
    expect([...(await consumer.probeRound!(adapterAddress, round))]).toEqual([true, served]);
    await expectRevert(f, adapter.getRoundData!(round + 1n), 'RoundNotFound', [FEED, round + 1n]);
    await expectRevert(f, f.hub.read!(FEED, 0), 'FeedTripped', [FEED]);

    // Bringing another signed report at the candidate's level through pull mode: the read reverts,
    // and with it the whole transaction (the confirmation it carried is not recorded either).
    const seen = breaker.confirmationsSeen;
    const again = await signed((served * 3n) / 2n);
    await expectRevert(f, as(consumer, attacker).pull!(again.report, again.signature, FEED, 3600), 'FeedTripped', [FEED]);
    expect((await f.hub.breakerState!(FEED)).confirmationsSeen).toBe(seen);
    await (await as(consumer, attacker).readAdapter!(adapterAddress)).wait();
    expect(await consumer.lastAnswer!()).toBe(served);

    // The guardian rejects the candidate: it never becomes a round; the next honest report is round + 1.
    await (await f.hub.resolveBreaker!(FEED, false)).wait();
    expect([...(await consumer.probeRound!(adapterAddress, round + 1n))]).toEqual([false, 0n]);
    await f.oracle.push(served + ONE, { observedAt: await nextObservedAt() });
    const latest = await adapter.latestRoundData!();
    expect([latest[0], latest[1]]).toEqual([round + 1n, served + ONE]);
  });
});
