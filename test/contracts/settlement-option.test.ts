/**
 * EuropeanOption against the real hub with BLS-signed reports: every rule, every path and
 * every error of write / buy / propose / settle / refund.
 * Terms used throughout: 1 ETH call/put spreads, collateral USDC (6 decimals), quantity 1e6
 * (one USDC per dollar), width $500 → collateral 500 USDC, premium 20 USDC.
 * Periods: observation window 3600 s after expiry, proposals 600 s more, settlement 3600 s more.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { getBytes, hexlify, type Contract, type JsonRpcSigner } from 'ethers';
import { combinePartials, dealerKeygen, g2ToEip2537, partialSign, signatureToEvm } from '../../protocol/bls/index.ts';
import { feedId as toFeedId, type Report } from '../../protocol/report.ts';
import { as, deployTest, deployWith, events, expectRevert, FEED, latestTime, ONE, setup, type Fixture, fundAndApprove } from './helpers/chain.ts';

const USDC = 10n ** 6n;
const WIDTH = 500n * ONE;
const QTY = USDC;
const COLLATERAL = 500n * USDC;
const PREMIUM = 20n * USDC;
const WINDOW = 3600n;
const CHALLENGE = 600n;
const REFUND_DELAY = 3600n;
const MAX_SPREAD = 100n;
const INT96_MAX = (1n << 95n) - 1n;
const ZERO = '0x0000000000000000000000000000000000000000';
const Status = { None: 0n, Open: 1n, Active: 2n, Settled: 3n, Refunded: 4n, Cancelled: 5n };
const Reason = { NoCandidate: 0n, SettlementDeadlinePassed: 1n };
const Source = { None: 0n, Report: 1n, Round: 2n };

let f: Fixture;
let token: Contract;
let option: Contract;
let writer: JsonRpcSigner, buyer: JsonRpcSigner, keeper: JsonRpcSigner;
let snap: string;

async function balances(): Promise<bigint[]> {
  return Promise.all([writer, buyer, keeper].map(async (s) => (await token.balanceOf!(await s.getAddress())) as bigint).concat([token.balanceOf!(await option.getAddress())]));
}
const sum = (xs: bigint[]): bigint => xs.reduce((a, b) => a + b, 0n);

function deployOption(over: { window?: bigint; challenge?: bigint; refundDelay?: bigint; maxSpread?: bigint; sequencer?: string; grace?: bigint; token?: string } = {}): Promise<Contract> {
  return (async () =>
    deployWith(f, f.deployer, 'EuropeanOption', [
      await f.hub.getAddress(),
      FEED,
      over.token ?? (await token.getAddress()),
      over.window ?? WINDOW,
      over.challenge ?? CHALLENGE,
      over.refundDelay ?? REFUND_DELAY,
      over.maxSpread ?? MAX_SPREAD,
      over.sequencer ?? ZERO,
      over.grace ?? 0n,
    ]))();
}

beforeAll(async () => {
  f = await setup();
  [, writer, buyer, keeper] = f.signers as [JsonRpcSigner, JsonRpcSigner, JsonRpcSigner, JsonRpcSigner];
  token = await deployTest(f.deployer, 'TestToken', ['USD Coin (test)', 'USDC', 6]);
  option = await deployOption();
  await fundAndApprove(token, option, [writer, buyer, keeper], 1_000_000n * USDC);
  snap = await f.snapshot();
});
afterAll(async () => {
  await f?.stop();
});
beforeEach(async () => {
  await f.revert(snap);
  snap = await f.snapshot();
});

/** Writes (and by default buys) an option expiring `in` seconds from now. */
async function open(opts: { isCall?: boolean; strike?: bigint; in?: bigint; buy?: boolean; opt?: Contract } = {}): Promise<{ id: bigint; expiry: bigint }> {
  const o = opts.opt ?? option;
  const expiry = (await latestTime(f.hub)) + (opts.in ?? 1000n);
  await (await as(o, writer).write!(opts.isCall ?? true, opts.strike ?? 2000n * ONE, WIDTH, QTY, PREMIUM, expiry)).wait();
  const id = (await o.optionCount!()) as bigint;
  if (opts.buy ?? true) await (await as(o, buyer).buy!(id)).wait();
  return { id, expiry };
}

/** A committee-signed report of the feed (not transmitted); epochs increase per call. */
function signed(answer: bigint, observedAt: bigint, spreadBps = 10): Promise<{ report: Report; signature: Uint8Array }> {
  return f.oracle.report({ [FEED]: answer }, observedAt, spreadBps);
}

/** Pushes a round observed exactly at `t` (mining at `t` first). Returns its round id. */
async function roundAt(t: bigint, answer: bigint, spreadBps = 10): Promise<bigint> {
  await f.warpTo(t);
  const rc = await f.oracle.push(answer, { observedAt: t, spreadBps });
  const names = rc.logs.map((l) => f.hub.interface.parseLog(l)?.name);
  if (names.includes('FeedSkipped') || names.includes('BreakerTripped')) throw new Error(`push at ${t} of ${answer} was not served: ${names.join(', ')}`);
  return (await f.hub.latestRoundId!(FEED)) as bigint;
}

async function propose(id: bigint, s: { report: Report; signature: Uint8Array }, by: JsonRpcSigner = keeper): Promise<unknown> {
  return (await as(option, by).proposeReport!(id, s.report, s.signature)).wait();
}

/** Mines past the proposal deadline of `id`. */
async function closeProposals(id: bigint, o: Contract = option): Promise<bigint> {
  const pd = (await o.proposalDeadline!(id)) as bigint;
  await f.warpTo(pd + 1n);
  return pd;
}

describe('deployment', () => {
  it('refuses a zero window, challenge period or settlement delay, a spread limit above 100 % and periods that overflow', async () => {
    for (const [over, name, value] of [
      [{ window: 0n }, 'settlementWindow', 0n],
      [{ challenge: 0n }, 'challengePeriod', 0n],
      [{ refundDelay: 0n }, 'refundDelay', 0n],
      [{ maxSpread: 10_001n }, 'maxSpreadBps', 10_001n],
      [{ refundDelay: 2n ** 64n }, 'periods', WINDOW + CHALLENGE + 2n ** 64n],
    ] as const) {
      await expectRevert(f, deployOption(over), 'InvalidParameter', [name, value]);
    }
    expect([await option.settlementWindow!(), await option.challengePeriod!(), await option.refundDelay!()]).toEqual([WINDOW, CHALLENGE, REFUND_DELAY]);
  });
});

describe('write, cancel, buy', () => {
  it('write locks width × quantity / 10^decimals from the writer and emits OptionWritten', async () => {
    const before = await balances();
    const { id, expiry } = await open({ buy: false });
    const o = await option.getOption!(id);
    expect(o.writer).toBe(await writer.getAddress());
    expect(o.status).toBe(Status.Open);
    expect(o.collateral).toBe(COLLATERAL);
    expect(o.expiry).toBe(expiry);
    const after = await balances();
    expect(after[0]).toBe(before[0]! - COLLATERAL);
    expect(after[3]).toBe(before[3]! + COLLATERAL);
    expect(await option.windowEnd!(id)).toBe(expiry + WINDOW);
    expect(await option.proposalDeadline!(id)).toBe(expiry + WINDOW + CHALLENGE);
    expect(await option.deadline!(id)).toBe(expiry + WINDOW + CHALLENGE + REFUND_DELAY);
  });

  it('rejects bad terms with named errors', async () => {
    const now = await latestTime(f.hub);
    await expectRevert(f, as(option, writer).write!(true, 0n, WIDTH, QTY, PREMIUM, now + 100n), 'StrikeNotPositive', [0n]);
    await expectRevert(f, as(option, writer).write!(true, -5n, WIDTH, QTY, PREMIUM, now + 100n), 'StrikeNotPositive', [-5n]);
    await expectRevert(f, as(option, writer).write!(true, ONE, WIDTH, QTY, PREMIUM, now - 1n), 'ExpiryNotInFuture');
    await expectRevert(f, as(option, writer).write!(true, ONE, 1n, 1n, PREMIUM, now + 100n), 'CollateralZero', [1n, 1n]);
  });

  it('cancel returns the collateral to the writer only, and only while unsold', async () => {
    const { id } = await open({ buy: false });
    await expectRevert(f, as(option, buyer).cancel!(id), 'NotWriter', [id, await buyer.getAddress(), await writer.getAddress()]);
    const before = await balances();
    const rc = await (await as(option, writer).cancel!(id)).wait();
    const after = await balances();
    expect(after[0]).toBe(before[0]! + COLLATERAL);
    expect(events(option, rc).map((e) => [e.name, ...e.args])).toEqual([['OptionCancelled', id, await writer.getAddress(), COLLATERAL]]);
    expect((await option.getOption!(id)).status).toBe(Status.Cancelled);
    await expectRevert(f, as(option, writer).cancel!(id), 'WrongStatus', [id, Status.Cancelled, Status.Open]);
    await expectRevert(f, as(option, buyer).buy!(id), 'WrongStatus', [id, Status.Cancelled, Status.Open]);
  });

  it('buy escrows the premium; no buying twice, after expiry, or an unknown id', async () => {
    const { id } = await open({ buy: false });
    const before = await balances();
    await (await as(option, buyer).buy!(id)).wait();
    const after = await balances();
    expect(after[1]).toBe(before[1]! - PREMIUM);
    expect(after[3]).toBe(before[3]! + PREMIUM);
    expect((await option.getOption!(id)).holder).toBe(await buyer.getAddress());
    await expectRevert(f, as(option, keeper).buy!(id), 'WrongStatus', [id, Status.Active, Status.Open]);
    await expectRevert(f, as(option, writer).cancel!(id), 'WrongStatus', [id, Status.Active, Status.Open]);
    await expectRevert(f, as(option, buyer).buy!(99n), 'WrongStatus', [99n, Status.None, Status.Open]);
    const late = await open({ buy: false, in: 100n });
    await f.warpTo(late.expiry);
    await expectRevert(f, as(option, buyer).buy!(late.id), 'OptionExpired');
  });
});

describe('proposals and settlement on the price nearest expiry', () => {
  it('call in the money on a proposed signed report: holder gets the intrinsic value, writer the rest plus premium; collateral conserved', async () => {
    const { id, expiry } = await open({ strike: 2000n * ONE });
    await f.warpTo(expiry + 10n);
    const s = await signed(2100n * ONE, expiry + 5n); // never transmitted: pull mode
    const rc = await propose(id, s);
    const ev = events(option, rc);
    expect(ev.map((e) => [e.name, ...e.args])).toEqual([
      ['SettlementProposed', id, await keeper.getAddress(), Source.Report, s.report.epoch, 0n, expiry + 5n, 2100n * ONE, 10n, 0n],
    ]);
    const c = await option.getCandidate!(id);
    expect([c.source, c.answer, c.observedAt, c.epoch, c.roundId, c.spreadBps]).toEqual([Source.Report, 2100n * ONE, expiry + 5n, s.report.epoch, 0n, 10n]);
    expect(c.message).toBe(await f.hub.reportMessage!(s.report));

    // settle waits for the proposal period to close.
    const pd = (await option.proposalDeadline!(id)) as bigint;
    const e = await expectRevert(f, as(option, keeper).settle!(id), 'ProposalPeriodOpen');
    expect([e.args[0], e.args[2]]).toEqual([id, pd]);
    await closeProposals(id);
    const before = await balances();
    const src = await (await as(option, keeper).settle!(id)).wait();
    const after = await balances();
    expect(after[1]! - before[1]!).toBe(100n * USDC); // holder: $100 intrinsic × 1 USDC
    expect(after[0]! - before[0]!).toBe(COLLATERAL - 100n * USDC + PREMIUM);
    expect(after[3]).toBe(before[3]! - COLLATERAL - PREMIUM);
    expect(sum(after)).toBe(sum(before));
    expect(events(option, src).map((x) => [x.name, ...x.args])).toEqual([
      ['OptionSettled', id, await keeper.getAddress(), Source.Report, expiry + 5n, 2100n * ONE, 100n * USDC, COLLATERAL - 100n * USDC + PREMIUM],
    ]);
    expect((await option.getOption!(id)).status).toBe(Status.Settled);
    await expectRevert(f, as(option, keeper).settle!(id), 'WrongStatus', [id, Status.Settled, Status.Active]);
  });

  it('payoff is capped at the width (the writer collateral)', async () => {
    const { id, expiry } = await open({ strike: 1500n * ONE }); // intrinsic 600 > width 500
    const r = await roundAt(expiry, 2100n * ONE);
    await (await as(option, buyer).proposeRound!(id, r)).wait();
    await closeProposals(id);
    const before = await balances();
    await (await as(option, keeper).settle!(id)).wait();
    const after = await balances();
    expect(after[1]! - before[1]!).toBe(COLLATERAL);
    expect(after[0]! - before[0]!).toBe(PREMIUM);
    expect(await option.payoffAt!(id, 10_000n * ONE)).toBe(COLLATERAL);
    await expectRevert(f, option.payoffAt!(99n, ONE), 'WrongStatus', [99n, Status.None, Status.Active]);
  });

  it('put on a proposed hub round: out of the money pays the holder nothing; in the money pays K − S', async () => {
    const { id, expiry } = await open({ isCall: false, strike: 2000n * ONE });
    expect(await option.payoffAt!(id, 1900n * ONE)).toBe(100n * USDC);
    expect(await option.payoffAt!(id, 2100n * ONE)).toBe(0n);
    const r = await roundAt(expiry + 1n, 2050n * ONE);
    const rc = await (await as(option, writer).proposeRound!(id, r)).wait();
    expect(events(option, rc).map((e) => [e.name, ...e.args])).toEqual([
      ['SettlementProposed', id, await writer.getAddress(), Source.Round, 0n, r, expiry + 1n, 2050n * ONE, 10n, 0n],
    ]);
    await closeProposals(id);
    const before = await balances();
    const src = await (await as(option, writer).settle!(id)).wait();
    const after = await balances();
    expect(after[1]).toBe(before[1]);
    expect(after[0]! - before[0]!).toBe(COLLATERAL + PREMIUM);
    expect(events(option, src)[0]!.args[2]).toBe(Source.Round);
  });

  it('a nearer proposal replaces the candidate; a later or equal one reverts ProposalNotBetter', async () => {
    const { id, expiry } = await open();
    await f.warpTo(expiry + 100n);
    const near = await signed(2010n * ONE, expiry + 2n);
    const far = await signed(2180n * ONE, expiry + 30n);
    const mid = await signed(2090n * ONE, expiry + 10n);
    await propose(id, far, buyer);
    const rc = await propose(id, near, writer);
    const ev = events(option, rc)[0]!;
    expect([ev.name, ev.args[5], ev.args[6], ev.args[8]]).toEqual(['SettlementProposed', expiry + 2n, 2010n * ONE, expiry + 30n]);
    await expectRevert(f, as(option, buyer).proposeReport!(id, mid.report, mid.signature), 'ProposalNotBetter', [id, expiry + 10n, mid.report.epoch, expiry + 2n, near.report.epoch]);
    await expectRevert(f, as(option, buyer).proposeReport!(id, far.report, far.signature), 'ProposalNotBetter', [id, expiry + 30n, far.report.epoch, expiry + 2n, near.report.epoch]);
    // The same report again is not better either: nothing changes, the caller learns why.
    await expectRevert(f, as(option, keeper).proposeReport!(id, near.report, near.signature), 'ProposalNotBetter', [id, expiry + 2n, near.report.epoch, expiry + 2n, near.report.epoch]);
    await closeProposals(id);
    const before = await balances();
    await (await as(option, keeper).settle!(id)).wait();
    expect((await balances())[1]! - before[1]!).toBe(10n * USDC);
  });

  it('ties on observedAt: the lower epoch wins whatever the order of proposals', async () => {
    const a = await open();
    const b = await open({ in: 999n });
    await f.warpTo(a.expiry + 50n);
    const low = await signed(2040n * ONE, a.expiry + 7n); // epoch k
    const high = await signed(2140n * ONE, a.expiry + 7n); // epoch k + 1, same observedAt
    expect(high.report.epoch).toBe(low.report.epoch + 1n);
    // Option a: the higher epoch first, then the lower one replaces it.
    await propose(a.id, high);
    await propose(a.id, low);
    expect((await option.getCandidate!(a.id)).answer).toBe(2040n * ONE);
    // Option b: the lower epoch first; the higher one is refused.
    await propose(b.id, low);
    await expectRevert(f, as(option, keeper).proposeReport!(b.id, high.report, high.signature), 'ProposalNotBetter', [b.id, a.expiry + 7n, high.report.epoch, a.expiry + 7n, low.report.epoch]);
    expect((await option.getCandidate!(b.id)).answer).toBe(2040n * ONE);
  });

  it('ties between a hub round and a report: the report wins (a round carries no epoch)', async () => {
    const { id, expiry } = await open();
    const t = expiry + 3n;
    await f.warpTo(t);
    const s = await signed(2060n * ONE, t);
    await (await f.hub.transmit!(s.report, s.signature)).wait();
    const r = (await f.hub.latestRoundId!(FEED)) as bigint;
    await (await as(option, buyer).proposeRound!(id, r)).wait();
    await expectRevert(f, as(option, buyer).proposeRound!(id, r), 'ProposalNotBetter', [id, t, 0n, t, 0n]);
    await propose(id, s, writer);
    expect((await option.getCandidate!(id)).source).toBe(Source.Report);
    await expectRevert(f, as(option, buyer).proposeRound!(id, r), 'ProposalNotBetter', [id, t, 0n, t, s.report.epoch]);
  });

  it('invalid prices never become candidates: before expiry, after the window, low confidence, non-positive, out of bounds, other feed', async () => {
    const { id, expiry } = await open();
    await f.warpTo(expiry + WINDOW + 10n);
    const we = expiry + WINDOW;
    const cases: [Promise<{ report: Report; signature: Uint8Array }>, string, unknown[]][] = [
      [signed(2100n * ONE, expiry - 1n), 'ObservedBeforeExpiry', [expiry - 1n, expiry]],
      [signed(2100n * ONE, we + 1n), 'ObservedAfterWindow', [we + 1n, we]],
      [signed(2100n * ONE, expiry + 1n, 101), 'LowConfidence', [101n, MAX_SPREAD]],
      [signed(0n, expiry + 1n), 'InvalidAnswer', [0n]],
      [signed(-5n, expiry + 1n), 'InvalidAnswer', [-5n]],
      [signed(INT96_MAX + 1n, expiry + 1n), 'AnswerOutOfBounds', [INT96_MAX + 1n, 1n, INT96_MAX]],
      [f.oracle.report({ [toFeedId('BTC/USD')]: 2100n * ONE }, expiry + 1n), 'FeedNotInReport', [FEED]],
    ];
    for (const [p, name, errArgs] of cases) {
      const s = await p;
      await expectRevert(f, as(option, keeper).proposeReport!(id, s.report, s.signature), name, errArgs);
    }
    // Dated beyond the hub's clock rule (block time + maxFutureDrift): refused until then.
    const now = await latestTime(f.hub);
    const { id: id3, expiry: e3 } = await open({ in: 100n });
    const future = await signed(2100n * ONE, e3 + 500n);
    const e = await expectRevert(f, as(option, keeper).proposeReport!(id3, future.report, future.signature), 'ObservedInFuture');
    expect(e.args[0]).toBe(e3 + 500n);
    expect(e.args[1]).toBeGreaterThanOrEqual(now + 60n);
    expect(e.args[1]).toBeLessThan(e3 + 500n);
    // The window bounds themselves are valid: at expiry and at its end.
    await propose(id, await signed(2100n * ONE, we));
    await propose(id, await signed(2100n * ONE, expiry));
    expect((await option.getCandidate!(id)).observedAt).toBe(expiry);
    // A spread exactly at the limit is valid (the feed is found among several).
    const { id: id2 } = await open({ in: 5000n });
    const o2 = await option.getOption!(id2);
    await f.warpTo(o2.expiry + 1n);
    const multi = await f.oracle.report({ [toFeedId('BTC/USD')]: 1n, [FEED]: 2100n * ONE }, o2.expiry + 1n, Number(MAX_SPREAD));
    await (await as(option, keeper).proposeReport!(id2, multi.report, multi.signature)).wait();
    expect((await option.getCandidate!(id2)).spreadBps).toBe(MAX_SPREAD);
  });

  it('a signed report the hub would not serve never becomes a candidate: a move the breaker would hold, a tripped or paused feed', async () => {
    const { id, expiry } = await open();
    await roundAt(expiry - 30n, 2000n * ONE);
    await f.warpTo(expiry + 5n);
    // +30 % against the served 2,000: the hub's breaker would hold it, so the option refuses it.
    const jump = await signed(2600n * ONE, expiry + 2n);
    await expectRevert(f, as(option, keeper).proposeReport!(id, jump.report, jump.signature), 'BreakerWouldHold', [FEED, 2600n * ONE]);
    // Within the limit it is a candidate.
    await propose(id, await signed(2050n * ONE, expiry + 3n));
    expect((await option.getCandidate!(id)).answer).toBe(2050n * ONE);
    // The guardian pauses the feed: no report proposal is taken while paused.
    await (await f.hub.setFeedPaused!(FEED, true)).wait();
    const nearer = await signed(2040n * ONE, expiry + 1n);
    await expectRevert(f, as(option, keeper).proposeReport!(id, nearer.report, nearer.signature), 'BreakerWouldHold', [FEED, 2040n * ONE]);
    await (await f.hub.setFeedPaused!(FEED, false)).wait();
    await propose(id, nearer);
    expect((await option.getCandidate!(id)).answer).toBe(2040n * ONE);
  });

  it('the hub decides the signature: a tampered report, a foreign digest, a malformed signature are refused', async () => {
    const { id, expiry } = await open();
    await f.warpTo(expiry + 20n);
    const s = await signed(2100n * ONE, expiry + 1n);
    const tampered = { ...s.report, answers: [2180n * ONE] };
    const message = await f.hub.reportMessage!(tampered);
    await expectRevert(f, as(option, keeper).proposeReport!(id, tampered, s.signature), 'SignatureInvalid', [message]);
    const foreign = { ...s.report, configDigest: '0x' + '11'.repeat(32) };
    await expectRevert(f, as(option, keeper).proposeReport!(id, foreign, s.signature), 'ConfigDigestMismatch', [foreign.configDigest, await f.hub.configDigest!()]);
    await expectRevert(f, as(option, keeper).proposeReport!(id, s.report, s.signature.slice(0, 95)), 'SignatureMalformed', [95n, 96n]);
    expect((await option.getCandidate!(id)).source).toBe(Source.None);
  });

  it('a report of a committee rotated out no longer verifies; its hub round still can be proposed, or the refund covers it', async () => {
    const { id, expiry } = await open();
    await f.warpTo(expiry + 20n);
    const s = await signed(2100n * ONE, expiry + 1n);
    await (await f.hub.transmit!(s.report, s.signature)).wait();
    const r = (await f.hub.latestRoundId!(FEED)) as bigint;
    const next = dealerKeygen(3, 4);
    const cfg = { groupPublicKey: hexlify(g2ToEip2537(next.groupPublicKey)), n: 4, t: 3 };
    const [message, nextDigest] = (await f.hub.rotationMessage!(cfg)) as [string, string];
    const partials = f.committee.shares.slice(0, 3).map((sh) => partialSign(sh, getBytes(message)));
    await (await f.hub.rotateCommittee!(cfg, signatureToEvm(combinePartials(partials, 3)))).wait();
    await expectRevert(f, as(option, keeper).proposeReport!(id, s.report, s.signature), 'ConfigDigestMismatch', [s.report.configDigest, nextDigest]);
    await (await as(option, keeper).proposeRound!(id, r)).wait();
    expect((await option.getCandidate!(id)).answer).toBe(2100n * ONE);
  });

  it('proposeRound: round 0, unknown rounds and invalid rounds are refused', async () => {
    const { id, expiry } = await open();
    const before = await roundAt(expiry - 1n, 2000n * ONE);
    const noisy = await roundAt(expiry + 2n, 2010n * ONE, 250);
    const late = await roundAt(expiry + WINDOW + 1n, 2020n * ONE);
    await expectRevert(f, as(option, keeper).proposeRound!(id, 0n), 'InvalidRoundId', [0n]);
    await expectRevert(f, as(option, keeper).proposeRound!(id, late + 1n), 'RoundNotFound', [FEED, late + 1n]);
    await expectRevert(f, as(option, keeper).proposeRound!(id, before), 'ObservedBeforeExpiry', [expiry - 1n, expiry]);
    await expectRevert(f, as(option, keeper).proposeRound!(id, noisy), 'LowConfidence', [250n, MAX_SPREAD]);
    await expectRevert(f, as(option, keeper).proposeRound!(id, late), 'ObservedAfterWindow', [expiry + WINDOW + 1n, expiry + WINDOW]);
  });

  it('proposals close at the proposal deadline and need an active option', async () => {
    const { id, expiry } = await open();
    const r = await roundAt(expiry + 1n, 2100n * ONE);
    const s = await signed(2100n * ONE, expiry + 2n);
    const pd = await closeProposals(id);
    let e = await expectRevert(f, as(option, keeper).proposeReport!(id, s.report, s.signature), 'ProposalPeriodClosed');
    expect([e.args[0], e.args[2]]).toEqual([id, pd]);
    e = await expectRevert(f, as(option, keeper).proposeRound!(id, r), 'ProposalPeriodClosed');
    expect([e.args[0], e.args[2]]).toEqual([id, pd]);
    const { id: unsold } = await open({ buy: false });
    await expectRevert(f, as(option, keeper).proposeRound!(unsold, r), 'WrongStatus', [unsold, Status.Open, Status.Active]);
    await expectRevert(f, as(option, keeper).proposeReport!(unsold, s.report, s.signature), 'WrongStatus', [unsold, Status.Open, Status.Active]);
  });
});

describe('fallbacks', () => {
  it('no candidate (feed tripped through the window, every report low-confidence): refund right after the proposal deadline', async () => {
    const { id, expiry } = await open();
    await roundAt(expiry - 50n, 2000n * ONE);
    await f.warpTo(expiry - 40n);
    await f.oracle.push(2600n * ONE, { observedAt: expiry - 40n }); // +30 %: tripped, held, not a round
    await f.warpTo(expiry + 10n);
    await f.oracle.push(2610n * ONE, { observedAt: expiry + 10n }); // still beyond the limit of the held answer
    const latest = (await f.hub.latestRoundId!(FEED)) as bigint;
    await expectRevert(f, as(option, buyer).proposeRound!(id, latest), 'ObservedBeforeExpiry');
    const noisy = await signed(2610n * ONE, expiry + 20n, 500);
    await expectRevert(f, as(option, buyer).proposeReport!(id, noisy.report, noisy.signature), 'LowConfidence', [500n, MAX_SPREAD]);

    const pd = (await option.proposalDeadline!(id)) as bigint;
    await f.warpTo(pd - 1n);
    const e = await expectRevert(f, as(option, buyer).refundAfterDeadline!(id), 'DeadlineNotReached');
    expect([e.args[0], e.args[2]]).toEqual([id, pd]);
    await f.warpTo(pd + 1n);
    await expectRevert(f, as(option, buyer).settle!(id), 'NoCandidate', [id]);
    const before = await balances();
    const rc = await (await as(option, keeper).refundAfterDeadline!(id)).wait();
    const after = await balances();
    expect(after[1]! - before[1]!).toBe(PREMIUM);
    expect(after[0]! - before[0]!).toBe(COLLATERAL);
    expect(sum(after)).toBe(sum(before));
    expect(events(option, rc).map((x) => [x.name, ...x.args])).toEqual([['OptionRefunded', id, await keeper.getAddress(), Reason.NoCandidate]]);
    expect((await option.getOption!(id)).status).toBe(Status.Refunded);
    await expectRevert(f, as(option, keeper).refundAfterDeadline!(id), 'WrongStatus', [id, Status.Refunded, Status.Active]);
  });

  it('with a candidate, settle is accepted until the deadline and the refund opens only after it', async () => {
    const { id, expiry } = await open();
    const r = await roundAt(expiry + 3n, 2100n * ONE);
    await (await as(option, buyer).proposeRound!(id, r)).wait();
    const pd = await closeProposals(id);
    const dl = (await option.deadline!(id)) as bigint;
    expect(dl).toBe(pd + REFUND_DELAY);
    let e = await expectRevert(f, as(option, writer).refundAfterDeadline!(id), 'DeadlineNotReached');
    expect([e.args[0], e.args[2]]).toEqual([id, dl]);
    await f.warpTo(dl + 1n);
    e = await expectRevert(f, as(option, buyer).settle!(id), 'SettlementDeadlinePassed');
    expect([e.args[0], e.args[2]]).toEqual([id, dl]);
    const before = await balances();
    const rc = await (await as(option, writer).refundAfterDeadline!(id)).wait();
    const after = await balances();
    expect(after[1]! - before[1]!).toBe(PREMIUM);
    expect(after[0]! - before[0]!).toBe(COLLATERAL);
    expect(events(option, rc).map((x) => [x.name, ...x.args])).toEqual([['OptionRefunded', id, await writer.getAddress(), Reason.SettlementDeadlinePassed]]);
  });

  it('settle and refund need an active option', async () => {
    const { id } = await open({ buy: false });
    await expectRevert(f, as(option, writer).refundAfterDeadline!(id), 'WrongStatus', [id, Status.Open, Status.Active]);
    await expectRevert(f, as(option, writer).settle!(id), 'WrongStatus', [id, Status.Open, Status.Active]);
  });
});

describe('gas', () => {
  it('write, buy, proposeReport, proposeRound (replacing), settle: receipt gas with warm balances (printed for the README table)', async () => {
    await open(); // the option's and the parties' token balances are nonzero from here on
    const expiry = (await latestTime(f.hub)) + 1000n;
    const gas = async (p: Promise<{ wait(): Promise<{ gasUsed: bigint } | null> }>): Promise<bigint> => (await (await p).wait())!.gasUsed;
    const g: Record<string, bigint> = {};
    g.write = await gas(as(option, writer).write!(true, 2000n * ONE, WIDTH, QTY, PREMIUM, expiry));
    const id = (await option.optionCount!()) as bigint;
    g.buy = await gas(as(option, buyer).buy!(id));
    const r = await roundAt(expiry + 20n, 2050n * ONE);
    g['proposeRound (first candidate)'] = await gas(as(option, keeper).proposeRound!(id, r));
    const s = await signed(2100n * ONE, expiry + 2n);
    g['proposeReport (one feed, replaces the candidate)'] = await gas(as(option, keeper).proposeReport!(id, s.report, s.signature));
    await closeProposals(id);
    g['settle (in the money, two payouts)'] = await gas(as(option, keeper).settle!(id));
    console.log(`EuropeanOption gas: ${JSON.stringify(Object.fromEntries(Object.entries(g).map(([k, v]) => [k, Number(v)])))}`);
    // Loose ceilings: a regression that doubles a path fails here.
    expect(g.write).toBeLessThan(300_000n);
    expect(g.buy).toBeLessThan(120_000n);
    expect(g['proposeReport (one feed, replaces the candidate)']).toBeLessThan(300_000n);
    expect(g['settle (in the money, two payouts)']).toBeLessThan(120_000n);
  });
});

describe('L2 sequencer uptime feed', () => {
  it('settle waits for the sequencer to be up past the grace period; proposals do not', async () => {
    const seq = await deployTest(f.deployer, 'MockSequencerUptimeFeed');
    const GRACE = 3600n;
    // refundDelay above the grace: the settlement must still be open once the grace is over.
    const opt = await deployOption({ sequencer: await seq.getAddress(), grace: GRACE, refundDelay: 3n * GRACE });
    for (const s of [writer, buyer]) await (await as(token, s).approve!(await opt.getAddress(), 2n ** 255n)).wait();
    const { id, expiry } = await open({ opt });
    const r = await roundAt(expiry + 1n, 2100n * ONE);
    // Proposing reads no "latest" price, so an outage does not block it (an honest proposer
    // should never be the one kept out).
    await (await as(opt, buyer).proposeRound!(id, r)).wait();
    await closeProposals(id, opt);
    await expectRevert(f, as(opt, buyer).settle!(id), 'SequencerStatusUnknown', []);
    const t = await latestTime(f.hub);
    await (await seq.setStatus!(true, t)).wait();
    await expectRevert(f, as(opt, buyer).settle!(id), 'SequencerDown', [1n]);
    const back = t + 10n;
    await (await seq.setStatus!(false, back)).wait();
    await f.warpTo(back + 100n);
    const e = await expectRevert(f, as(opt, buyer).settle!(id), 'SequencerGracePeriodNotOver');
    expect(e.args[0]).toBeGreaterThanOrEqual(100n); // elapsed at the call's block time
    expect(e.args[1]).toBe(GRACE);
    await f.warpTo(back + GRACE + 1n);
    await (await as(opt, buyer).settle!(id)).wait();
    expect((await opt.getOption!(id)).status).toBe(Status.Settled);
  });
});

describe('reentrancy', () => {
  it('a token calling back into the option during a payout is stopped by the lock', async () => {
    const evil = await deployTest(f.deployer, 'ReentrantToken');
    const opt = await deployOption({ token: await evil.getAddress() });
    for (const s of [writer, buyer]) {
      await (await evil.mint!(await s.getAddress(), 10_000n * USDC)).wait();
      await (await as(evil, s).approve!(await opt.getAddress(), 2n ** 255n)).wait();
    }
    const expiry = (await latestTime(f.hub)) + 1000n;
    for (let k = 0; k < 2; k++) await (await as(opt, writer).write!(true, 2000n * ONE, WIDTH, QTY, PREMIUM, expiry)).wait();
    // During cancel(1)'s transfer, the token tries cancel(2) (as the token, not the writer).
    await (await evil.arm!(await opt.getAddress(), opt.interface.encodeFunctionData('cancel', [2n]))).wait();
    await (await as(opt, writer).cancel!(1n)).wait();
    expect(await evil.attempts!()).toBe(1n);
    expect(await evil.lastReentrySucceeded!()).toBe(false);
    expect(f.errors.parseError((await evil.lastRevertData!()) as string)?.name).toBe('ReentrancyGuardReentrantCall');
    expect((await opt.getOption!(2n)).status).toBe(Status.Open);
  });
});
