/**
 * EuropeanOption against the real hub with BLS-signed reports: every rule and every error.
 * Terms used throughout: 1 ETH call/put spreads, collateral USDC (6 decimals), quantity 1e6
 * (one USDC per dollar), width $500 → collateral 500 USDC, premium 20 USDC.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Contract, JsonRpcSigner } from 'ethers';
import { as, deployWith, events, expectRevert, FEED, latestTime, ONE, setup, type Fixture } from './helpers/chain.ts';

const USDC = 10n ** 6n;
const WIDTH = 500n * ONE;
const QTY = USDC;
const COLLATERAL = 500n * USDC;
const PREMIUM = 20n * USDC;
const WINDOW = 3600n;
const REFUND_DELAY = 3600n;
const MAX_SPREAD = 100n;
const ZERO = '0x0000000000000000000000000000000000000000';
const Status = { None: 0n, Open: 1n, Active: 2n, Settled: 3n, Refunded: 4n, Cancelled: 5n };
const Reason = { OutsideWindow: 0n, LowConfidence: 1n, InvalidAnswer: 2n, DeadlinePassed: 3n };

let f: Fixture;
let token: Contract;
let option: Contract;
let writer: JsonRpcSigner, buyer: JsonRpcSigner, keeper: JsonRpcSigner;
let snap: string;

async function balances(): Promise<bigint[]> {
  return Promise.all([writer, buyer, keeper].map(async (s) => (await token.balanceOf!(await s.getAddress())) as bigint).concat([token.balanceOf!(await option.getAddress())]));
}
const sum = (xs: bigint[]): bigint => xs.reduce((a, b) => a + b, 0n);

beforeAll(async () => {
  f = await setup();
  [, writer, buyer, keeper] = f.signers as [JsonRpcSigner, JsonRpcSigner, JsonRpcSigner, JsonRpcSigner];
  token = await deployWith(f, f.deployer, 'TestToken', ['USD Coin (test)', 'USDC', 6]);
  option = await deployWith(f, f.deployer, 'EuropeanOption', [await f.hub.getAddress(), FEED, await token.getAddress(), WINDOW, REFUND_DELAY, MAX_SPREAD, ZERO, 0n]);
  for (const s of [writer, buyer, keeper]) {
    await (await token.mint!(await s.getAddress(), 1_000_000n * USDC)).wait();
    await (await as(token, s).approve!(await option.getAddress(), 2n ** 255n)).wait();
  }
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
  const tx = await as(o, writer).write!(opts.isCall ?? true, opts.strike ?? 2000n * ONE, WIDTH, QTY, PREMIUM, expiry);
  await tx.wait();
  const id = (await o.optionCount!()) as bigint;
  if (opts.buy ?? true) await (await as(o, buyer).buy!(id)).wait();
  return { id, expiry };
}

/** Pushes a round observed exactly at `t` (mining at `t` first). Returns its round id. */
async function roundAt(t: bigint, answer: bigint, spreadBps = 10): Promise<bigint> {
  await f.warpTo(t);
  const rc = await f.oracle.push(answer, { observedAt: t, spreadBps });
  const names = rc.logs.map((l) => f.hub.interface.parseLog(l)?.name);
  if (names.includes('FeedSkipped')) throw new Error(`push at ${t} of ${answer} was not applied: ${names.join(', ')}`);
  return (await f.hub.latestRoundId!(FEED)) as bigint;
}

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
    await (await as(option, writer).cancel!(id)).wait();
    const after = await balances();
    expect(after[0]).toBe(before[0]! + COLLATERAL);
    expect((await option.getOption!(id)).status).toBe(Status.Cancelled);
    await expectRevert(f, as(option, writer).cancel!(id), 'WrongStatus', [id, Status.Cancelled, Status.Open]);
    await expectRevert(f, as(option, buyer).buy!(id), 'WrongStatus', [id, Status.Cancelled, Status.Open]);
  });

  it('buy escrows the premium; no buying twice, after expiry, or an unknown id', async () => {
    const { id, expiry } = await open({ buy: false });
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
    expect(expiry).toBeGreaterThan(0n);
  });
});

describe('settle on the first round at or after expiry', () => {
  it('call in the money: holder gets the intrinsic value, writer the rest plus premium; collateral conserved', async () => {
    const { id, expiry } = await open({ strike: 2000n * ONE });
    await roundAt(expiry - 10n, 2050n * ONE);
    const r = await roundAt(expiry + 5n, 2100n * ONE);
    const before = await balances();
    const rc = await (await as(option, keeper).settle!(id, r)).wait();
    const after = await balances();
    expect(after[1]! - before[1]!).toBe(100n * USDC); // holder: $100 intrinsic × 1 USDC
    expect(after[0]! - before[0]!).toBe(COLLATERAL - 100n * USDC + PREMIUM);
    expect(after[3]).toBe(before[3]! - COLLATERAL - PREMIUM);
    expect(sum(after)).toBe(sum(before));
    const ev = events(option, rc).find((e) => e.name.startsWith('Option'))!;
    expect(ev.name).toBe('OptionSettled');
    expect([...ev.args]).toEqual([id, await keeper.getAddress(), r, 2100n * ONE, 100n * USDC, COLLATERAL - 100n * USDC + PREMIUM]);
    expect((await option.getOption!(id)).status).toBe(Status.Settled);
    await expectRevert(f, as(option, keeper).settle!(id, r), 'WrongStatus', [id, Status.Settled, Status.Active]);
  });

  it('payoff is capped at the width (the writer collateral)', async () => {
    const { id, expiry } = await open({ strike: 1500n * ONE }); // intrinsic 600 > width 500
    const r = await roundAt(expiry, 2100n * ONE);
    const before = await balances();
    await (await as(option, keeper).settle!(id, r)).wait();
    const after = await balances();
    expect(after[1]! - before[1]!).toBe(COLLATERAL);
    expect(after[0]! - before[0]!).toBe(PREMIUM);
    expect(await option.payoffAt!(id, 10_000n * ONE)).toBe(COLLATERAL);
  });

  it('put: out of the money pays the holder nothing; in the money pays K − S', async () => {
    const { id, expiry } = await open({ isCall: false, strike: 2000n * ONE });
    expect(await option.payoffAt!(id, 1900n * ONE)).toBe(100n * USDC);
    expect(await option.payoffAt!(id, 2100n * ONE)).toBe(0n);
    const r = await roundAt(expiry + 1n, 2050n * ONE);
    const before = await balances();
    await (await as(option, writer).settle!(id, r)).wait();
    const after = await balances();
    expect(after[1]).toBe(before[1]);
    expect(after[0]! - before[0]!).toBe(COLLATERAL + PREMIUM);
  });

  it('a round observed before expiry is refused', async () => {
    const { id, expiry } = await open();
    const r = await roundAt(expiry - 1n, 2000n * ONE);
    await f.warpTo(expiry + 10n);
    await expectRevert(f, as(option, keeper).settle!(id, r), 'RoundBeforeExpiry', [r, expiry - 1n, expiry]);
  });

  it('a later round is refused: only the first at or after expiry settles', async () => {
    const { id, expiry } = await open();
    const first = await roundAt(expiry + 1n, 2000n * ONE);
    const second = await roundAt(expiry + 20n, 2150n * ONE);
    await expectRevert(f, as(option, buyer).settle!(id, second), 'NotFirstRoundAfterExpiry', [second, expiry + 1n, expiry]);
    await expectRevert(f, as(option, buyer).refundNoPrice!(id, second), 'NotFirstRoundAfterExpiry', [second, expiry + 1n, expiry]);
    await (await as(option, buyer).settle!(id, first)).wait();
  });

  it('round 0, unknown rounds and rounds that left the history are refused', async () => {
    const { id, expiry } = await open();
    await f.warpTo(expiry + 1n);
    await expectRevert(f, as(option, keeper).settle!(id, 0n), 'InvalidRoundId', [0n]);
    const next = ((await f.hub.latestRoundId!(FEED)) as bigint) + 1n;
    await expectRevert(f, as(option, keeper).settle!(id, next), 'RoundNotFound', [FEED, next]);
    // The first round after expiry stays, its predecessor leaves the 16-round ring.
    const first = await roundAt(expiry + 2n, 2000n * ONE);
    for (let k = 1n; k <= 15n; k++) await roundAt(expiry + 2n + k, 2000n * ONE + k);
    await expectRevert(f, as(option, keeper).settle!(id, first), 'PreviousRoundUnavailable', [first - 1n]);
  });

  it('a first round observed after the settlement window cannot settle; it proves the early refund', async () => {
    const { id, expiry } = await open();
    const r = await roundAt(expiry + WINDOW + 1n, 2100n * ONE);
    await expectRevert(f, as(option, buyer).settle!(id, r), 'RoundOutsideWindow', [r, expiry + WINDOW + 1n, expiry + WINDOW]);
    const before = await balances();
    const rc = await (await as(option, writer).refundNoPrice!(id, r)).wait();
    const after = await balances();
    expect(after[1]! - before[1]!).toBe(PREMIUM);
    expect(after[0]! - before[0]!).toBe(COLLATERAL);
    expect(sum(after)).toBe(sum(before));
    const ev = events(option, rc).find((e) => e.name.startsWith('Option'))!;
    expect([ev.name, ...ev.args]).toEqual(['OptionRefunded', id, await writer.getAddress(), Reason.OutsideWindow, r]);
    expect((await option.getOption!(id)).status).toBe(Status.Refunded);
  });

  it('a low-confidence first round (spreadBps above the limit) cannot settle; it proves the early refund', async () => {
    const { id, expiry } = await open();
    const r = await roundAt(expiry + 3n, 2100n * ONE, 250);
    await expectRevert(f, as(option, buyer).settle!(id, r), 'LowConfidence', [r, 250n, MAX_SPREAD]);
    await (await as(option, writer).refundNoPrice!(id, r)).wait();
    expect((await option.getOption!(id)).status).toBe(Status.Refunded);
  });

  it('no early refund while the first round is a valid price', async () => {
    const { id, expiry } = await open();
    const r = await roundAt(expiry + 3n, 2100n * ONE);
    await expectRevert(f, as(option, writer).refundNoPrice!(id, r), 'SettlementPriceAvailable', [id, r]);
  });

  it('feed tripped through the window: no round is served, nothing settles, the deadline refund unwinds', async () => {
    const { id, expiry } = await open();
    await roundAt(expiry - 50n, 2000n * ONE);
    await roundAt(expiry - 40n, 2600n * ONE); // +30 %: tripped, held, not a round
    await roundAt(expiry + 10n, 2610n * ONE); // still beyond the limit of the held answer
    const latest = (await f.hub.latestRoundId!(FEED)) as bigint;
    await expectRevert(f, as(option, buyer).settle!(id, latest), 'RoundBeforeExpiry');
    const dl = (await option.deadline!(id)) as bigint;
    expect(dl).toBe(expiry + WINDOW + REFUND_DELAY);
    await f.warpTo(dl - 1n);
    const e = await expectRevert(f, as(option, buyer).refundAfterDeadline!(id), 'DeadlineNotReached');
    expect(e.args[1]).toBeLessThanOrEqual(dl); // the call's block time
    expect(e.args[2]).toBe(dl);
    await f.warpTo(dl + 1n);
    const before = await balances();
    await (await as(option, keeper).refundAfterDeadline!(id)).wait();
    const after = await balances();
    expect(after[1]! - before[1]!).toBe(PREMIUM);
    expect(after[0]! - before[0]!).toBe(COLLATERAL);
    expect(sum(after)).toBe(sum(before));
  });

  it('settlement after the deadline is refused even with a valid round', async () => {
    const { id, expiry } = await open();
    const r = await roundAt(expiry + 3n, 2100n * ONE);
    const dl = (await option.deadline!(id)) as bigint;
    await f.warpTo(dl + 1n);
    const e = await expectRevert(f, as(option, buyer).settle!(id, r), 'SettlementDeadlinePassed');
    expect([e.args[0], e.args[2]]).toEqual([id, dl]);
  });

  it('refund paths need an active option', async () => {
    const { id } = await open({ buy: false });
    await expectRevert(f, as(option, writer).refundAfterDeadline!(id), 'WrongStatus', [id, Status.Open, Status.Active]);
    await expectRevert(f, as(option, writer).refundNoPrice!(id, 1n), 'WrongStatus', [id, Status.Open, Status.Active]);
    await expectRevert(f, as(option, writer).settle!(id, 1n), 'WrongStatus', [id, Status.Open, Status.Active]);
  });
});

describe('L2 sequencer uptime feed', () => {
  it('settle waits for the sequencer to be up past the grace period', async () => {
    const seq = await deployWith(f, f.deployer, 'MockSequencerUptimeFeed');
    const GRACE = 3600n;
    const opt = await deployWith(f, f.deployer, 'EuropeanOption', [await f.hub.getAddress(), FEED, await token.getAddress(), WINDOW, REFUND_DELAY, MAX_SPREAD, await seq.getAddress(), GRACE]);
    for (const s of [writer, buyer]) await (await as(token, s).approve!(await opt.getAddress(), 2n ** 255n)).wait();
    const { id, expiry } = await open({ opt });
    const r = await roundAt(expiry + 1n, 2100n * ONE);
    await expectRevert(f, as(opt, buyer).settle!(id, r), 'SequencerStatusUnknown', []);
    await (await seq.setStatus!(true, expiry)).wait();
    await expectRevert(f, as(opt, buyer).settle!(id, r), 'SequencerDown', [1n]);
    const back = expiry + 10n;
    await (await seq.setStatus!(false, back)).wait();
    await f.warpTo(back + 100n);
    const e = await expectRevert(f, as(opt, buyer).settle!(id, r), 'SequencerGracePeriodNotOver');
    expect(e.args[0]).toBeGreaterThanOrEqual(100n); // elapsed at the call's block time
    expect(e.args[1]).toBe(GRACE);
    await f.warpTo(back + GRACE + 1n);
    await (await as(opt, buyer).settle!(id, r)).wait();
    expect((await opt.getOption!(id)).status).toBe(Status.Settled);
  });
});

describe('reentrancy', () => {
  it('a token calling back into the option during a payout is stopped by the lock', async () => {
    const evil = await deployWith(f, f.deployer, 'ReentrantToken');
    const opt = await deployWith(f, f.deployer, 'EuropeanOption', [await f.hub.getAddress(), FEED, await evil.getAddress(), WINDOW, REFUND_DELAY, MAX_SPREAD, ZERO, 0n]);
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
