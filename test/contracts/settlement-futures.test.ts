/**
 * FuturesMarket against the real hub with BLS-signed reports: every rule and every error.
 * Units: collateral USDC (6 decimals); size 1e6 = 1 ETH (one USDC per dollar of move).
 * Risk: max price age 300 s, spread ≤ 100 bps, initial margin 10 % (10x), maintenance 5 %,
 * liquidation bounty 1 % of notional, minimum notional 100 USDC (dust below 50), minimum
 * collateral 10 USDC, maximum profit 100 % of the opening notional. The hub's breaker is 10 %.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Contract, JsonRpcSigner } from 'ethers';
import { feedId } from '../../protocol/report.ts';
import { as, deployTest, deployWith, events, expectRevert, FEED, feedConfig, latestTime, ONE, setup, type Fixture } from './helpers/chain.ts';

const USDC = 10n ** 6n;
const ETH = USDC; // size unit: 1 ETH position = 1e6 USDC base units per dollar
const RISK = { maxPriceAge: 300n, maxSpreadBps: 100n, initialMarginBps: 1000n, maintenanceMarginBps: 500n, liquidationBountyBps: 100n, minNotional: 100n * USDC, minCollateral: 10n * USDC, maxProfitBps: 10_000n };
const ZERO = '0x0000000000000000000000000000000000000000';

let f: Fixture;
let token: Contract;
let market: Contract;
let alice: JsonRpcSigner, bob: JsonRpcSigner, liquidator: JsonRpcSigner, lp: JsonRpcSigner;
let snap: string;

const addr = (s: JsonRpcSigner): Promise<string> => s.getAddress();
async function bal(s: JsonRpcSigner | Contract): Promise<bigint> {
  return (await token.balanceOf!(await s.getAddress())) as bigint;
}
async function price(p: bigint, spreadBps = 10): Promise<void> {
  await f.oracle.push(p * ONE, { spreadBps });
}
async function deployMarket(over: Partial<typeof RISK> = {}, seq = ZERO, grace = 0n, tok?: Contract, feed = FEED): Promise<Contract> {
  return deployWith(f, f.deployer, 'FuturesMarket', [await f.hub.getAddress(), feed, await (tok ?? token).getAddress(), await addr(lp), { ...RISK, ...over }, seq, grace]);
}
async function fund(m: Contract, tok = token): Promise<void> {
  for (const s of [alice, bob, liquidator, lp]) {
    await (await (tok.mint!(await addr(s), 1_000_000n * USDC))).wait();
    await (await as(tok, s).approve!(await m.getAddress(), 2n ** 255n)).wait();
  }
}
/** The market's identities: token balance == pool + Σ collateral; exposure == Σ reserve + Σ claim. */
async function expectSolvent(m: Contract = market, tok: Contract = token): Promise<void> {
  let total = (await m.pool!()) as bigint;
  let exposure = 0n;
  for (const s of [alice, bob, liquidator, lp]) {
    const a = (await m.getAccount!(await addr(s))) as { collateral: bigint; reserve: bigint; claim: bigint };
    total += a.collateral;
    exposure += a.reserve + a.claim;
  }
  expect(await tok.balanceOf!(await m.getAddress())).toBe(total);
  expect(await m.exposure!()).toBe(exposure);
}
/** Pushes reports moving the price to `target` in steps the breaker (10 %) lets through. */
async function walkTo(target: bigint): Promise<void> {
  let [p] = (await f.hub.tryRead!(FEED)) as [bigint];
  while (p !== target * ONE) {
    const step = (p * 9n) / 100n;
    p = target * ONE > p ? (target * ONE - p > step ? p + step : target * ONE) : p - target * ONE > step ? p - step : target * ONE;
    await f.oracle.push(p);
  }
}

beforeAll(async () => {
  f = await setup();
  [, alice, bob, liquidator, lp] = f.signers as [JsonRpcSigner, JsonRpcSigner, JsonRpcSigner, JsonRpcSigner, JsonRpcSigner];
  token = await deployTest(f.deployer, 'TestToken', ['USD Coin (test)', 'USDC', 6]);
  market = await deployMarket();
  await fund(market);
  await (await as(market, lp).fundPool!(10_000n * USDC)).wait();
  snap = await f.snapshot();
});
afterAll(async () => {
  await f?.stop();
});
beforeEach(async () => {
  await f.revert(snap);
  snap = await f.snapshot();
  await price(2000n);
});

describe('collateral and pool', () => {
  it('deposit and withdraw move tokens and the account, with events', async () => {
    const b0 = await bal(alice);
    const rc = await (await as(market, alice).deposit!(300n * USDC)).wait();
    const ev = events(market, rc).find((e) => e.name === 'Deposited')!;
    expect([ev.name, ...ev.args]).toEqual(['Deposited', await addr(alice), 300n * USDC, 300n * USDC]);
    await (await as(market, alice).withdraw!(100n * USDC)).wait();
    expect(await bal(alice)).toBe(b0 - 200n * USDC);
    expect((await market.getAccount!(await addr(alice))).collateral).toBe(200n * USDC);
    await expectRevert(f, as(market, alice).withdraw!(201n * USDC), 'InsufficientCollateral', [201n * USDC, 200n * USDC]);
    await expectRevert(f, as(market, alice).withdraw!(0n), 'ZeroAmount', []);
    await expectRevert(f, as(market, alice).deposit!(0n), 'ZeroAmount', []);
    await expectSolvent();
  });

  it('only the pool owner funds and defunds, and only the free pool beyond the exposure', async () => {
    await expectRevert(f, as(market, alice).fundPool!(1n), 'NotPoolOwner', [await addr(alice), await addr(lp)]);
    await expectRevert(f, as(market, alice).defundPool!(1n), 'NotPoolOwner', [await addr(alice), await addr(lp)]);
    await expectRevert(f, as(market, lp).fundPool!(0n), 'ZeroAmount', []);
    await expectRevert(f, as(market, lp).defundPool!(0n), 'ZeroAmount', []);
    await expectRevert(f, as(market, lp).defundPool!(10_001n * USDC), 'InsufficientPool', [10_001n * USDC, 10_000n * USDC]);
    await (await as(market, alice).deposit!(1000n * USDC)).wait();
    await (await as(market, alice).openPosition!(ETH)).wait(); // reserves its max profit: 100 % of 2000
    expect(await market.exposure!()).toBe(2000n * USDC);
    expect(await market.freePool!()).toBe(8000n * USDC);
    await expectRevert(f, as(market, lp).defundPool!(8000n * USDC + 1n), 'PoolLocked', [8000n * USDC + 1n, 8000n * USDC, 2000n * USDC]);
    const rc = await (await as(market, lp).defundPool!(8000n * USDC)).wait();
    expect([...events(market, rc).find((e) => e.name === 'PoolDefunded')!.args]).toEqual([await addr(lp), 8000n * USDC, 2000n * USDC]);
    // Whatever the price does now, the pool can pay the position's whole (capped) profit.
    await walkTo(4500n);
    await (await as(market, alice).closePosition!()).wait();
    const a = await market.getAccount!(await addr(alice));
    expect([a.collateral, a.claim, a.reserve]).toEqual([3000n * USDC, 0n, 0n]);
    expect([await market.pool!(), await market.exposure!()]).toEqual([0n, 0n]);
    await expectSolvent();
  });

  it('a loss paid in stays reserved while the position is open, and is free once it closes', async () => {
    await (await as(market, alice).deposit!(1000n * USDC)).wait();
    await (await as(market, alice).openPosition!(ETH)).wait();
    await price(1900n);
    await (await as(market, bob).mark!(await addr(alice))).wait(); // alice pays 100 into the pool
    expect((await market.getAccount!(await addr(alice))).reserve).toBe(2100n * USDC);
    expect(await market.freePool!()).toBe(10_100n * USDC - 2100n * USDC);
    await (await as(market, alice).closePosition!()).wait();
    expect(await market.freePool!()).toBe(10_100n * USDC);
    await expectSolvent();
  });

  it('rejects inconsistent risk parameters at deployment', async () => {
    await expectRevert(f, deployMarket({ maintenanceMarginBps: 1000n }), 'InvalidParameter', ['maintenanceMarginBps', 1000n]);
    await expectRevert(f, deployMarket({ liquidationBountyBps: 600n }), 'InvalidParameter', ['liquidationBountyBps', 600n]);
    await expectRevert(f, deployMarket({ maxPriceAge: 0n }), 'InvalidParameter', ['maxPriceAge', 0n]);
    await expectRevert(f, deployMarket({ initialMarginBps: 10_001n }), 'InvalidParameter', ['initialMarginBps', 10_001n]);
    await expectRevert(f, deployMarket({ minNotional: 1n }), 'InvalidParameter', ['minNotional', 1n]);
    await expectRevert(f, deployMarket({ minNotional: 2n ** 128n }), 'InvalidParameter', ['minNotional', 2n ** 128n]);
    await expectRevert(f, deployMarket({ minCollateral: 0n }), 'InvalidParameter', ['minCollateral', 0n]);
    await expectRevert(f, deployMarket({ maxProfitBps: 0n }), 'InvalidParameter', ['maxProfitBps', 0n]);
    await expectRevert(f, deployMarket({ maxProfitBps: 1_000_001n }), 'InvalidParameter', ['maxProfitBps', 1_000_001n]);
  });

  it('refuses collateral that arrives short (fee on transfer): FeeOnTransferUnsupported', async () => {
    const fot = await deployTest(f.deployer, 'FeeOnTransferToken', ['Fee USD', 'fUSD', 6, 100n]);
    const m = await deployMarket({}, ZERO, 0n, fot);
    await fund(m, fot);
    await expectRevert(f, as(m, alice).deposit!(100n * USDC), 'FeeOnTransferUnsupported', [100n * USDC, 99n * USDC]);
    await expectRevert(f, as(m, lp).fundPool!(100n * USDC), 'FeeOnTransferUnsupported', [100n * USDC, 99n * USDC]);
    expect(await fot.balanceOf!(await m.getAddress())).toBe(0n);
  });
});

describe('positions: leverage, mark-to-oracle, close', () => {
  it('opening needs the minimum notional and the minimum collateral', async () => {
    await (await as(market, alice).deposit!(9n * USDC)).wait();
    await expectRevert(f, as(market, alice).openPosition!(1n), 'NotionalBelowMinimum', [2000n, 100n * USDC]);
    await expectRevert(f, as(market, alice).openPosition!(-(ETH / 20n) + 1n), 'NotionalBelowMinimum', [100n * USDC - 2000n, 100n * USDC]);
    await expectRevert(f, as(market, alice).openPosition!(ETH / 20n), 'CollateralBelowMinimum', [9n * USDC, 10n * USDC]);
    await (await as(market, alice).deposit!(1n * USDC)).wait();
    await (await as(market, alice).openPosition!(-ETH / 20n)).wait(); // 100 USDC short at 10 USDC collateral
  });

  it('withdrawing with a position keeps the minimum collateral', async () => {
    const m = await deployMarket({ minCollateral: 250n * USDC });
    await fund(m);
    await (await as(m, lp).fundPool!(5000n * USDC)).wait();
    await (await as(m, alice).deposit!(300n * USDC)).wait();
    await (await as(m, alice).openPosition!(ETH)).wait();
    await expectRevert(f, as(m, alice).withdraw!(51n * USDC), 'CollateralBelowMinimum', [249n * USDC, 250n * USDC]);
    await (await as(m, alice).withdraw!(50n * USDC)).wait();
    await (await as(m, alice).closePosition!()).wait();
    await (await as(m, alice).withdraw!(250n * USDC)).wait(); // flat: no minimum
  });

  it('opening needs the initial margin (10x max leverage); one position per account', async () => {
    await (await as(market, alice).deposit!(199n * USDC)).wait();
    await expectRevert(f, as(market, alice).openPosition!(ETH), 'InsufficientMargin', [199n * USDC, 200n * USDC]);
    await (await as(market, alice).deposit!(1n * USDC)).wait();
    const rc = await (await as(market, alice).openPosition!(ETH)).wait();
    const ev = events(market, rc).find((e) => e.name === 'PositionOpened')!;
    expect([ev.name, ev.args[1], ev.args[2], ev.args[3], ev.args[4]]).toEqual(['PositionOpened', ETH, 2000n * ONE, 2000n * USDC, 2000n * USDC]);
    await expectRevert(f, as(market, alice).openPosition!(-ETH), 'PositionAlreadyOpen', [await addr(alice), ETH]);
    await expectRevert(f, as(market, bob).openPosition!(0n), 'ZeroSize', []);
    expect(await market.exposure!()).toBe(2000n * USDC);
  });

  it('a position takes at most maxProfitBps of its opening notional from the pool: ProfitCapped', async () => {
    const m = await deployMarket({ maxProfitBps: 500n });
    await fund(m);
    await (await as(m, lp).fundPool!(5000n * USDC)).wait();
    await (await as(m, alice).deposit!(300n * USDC)).wait();
    await (await as(m, alice).openPosition!(ETH)).wait(); // reserve 5 % of 2000 = 100
    await price(2080n);
    await (await as(m, bob).mark!(await addr(alice))).wait(); // +80 of the 100
    expect((await m.getAccount!(await addr(alice))).reserve).toBe(20n * USDC);
    expect(await m.equityAt!(await addr(alice), 2200n * ONE)).toBe(400n * USDC); // 380 + min(120, 20)
    await price(2200n);
    const rc = await (await as(m, alice).closePosition!()).wait();
    expect([...events(m, rc).find((e) => e.name === 'ProfitCapped')!.args]).toEqual([await addr(alice), 120n * USDC, 20n * USDC]);
    expect((await m.getAccount!(await addr(alice))).collateral).toBe(400n * USDC);
    expect(await m.exposure!()).toBe(0n);
  });

  it("a short's reserve is at most its notional, whatever maxProfitBps", async () => {
    const m = await deployMarket({ maxProfitBps: 30_000n });
    await fund(m);
    await (await as(m, alice).deposit!(300n * USDC)).wait();
    await (await as(m, alice).openPosition!(-ETH)).wait();
    await (await as(m, bob).deposit!(300n * USDC)).wait();
    await (await as(m, bob).openPosition!(ETH)).wait();
    expect((await m.getAccount!(await addr(alice))).reserve).toBe(2000n * USDC);
    expect((await m.getAccount!(await addr(bob))).reserve).toBe(6000n * USDC);
  });

  it('mark realizes variation margin against the pool and resets the entry; close flattens', async () => {
    await (await as(market, alice).deposit!(500n * USDC)).wait();
    await (await as(market, bob).deposit!(500n * USDC)).wait();
    await (await as(market, alice).openPosition!(2n * ETH)).wait(); // long 2 ETH
    await (await as(market, bob).openPosition!(-ETH)).wait(); // short 1 ETH
    await price(2100n);
    expect(await market.equityAt!(await addr(alice), 2100n * ONE)).toBe(700n * USDC);
    await (await as(market, liquidator).mark!(await addr(alice))).wait();
    await (await as(market, liquidator).mark!(await addr(bob))).wait();
    const a = await market.getAccount!(await addr(alice));
    expect([a.collateral, a.size, a.entryPrice]).toEqual([700n * USDC, 2n * ETH, 2100n * ONE]);
    expect((await market.getAccount!(await addr(bob))).collateral).toBe(400n * USDC);
    expect(await market.pool!()).toBe(10_000n * USDC - 200n * USDC + 100n * USDC);
    await price(2050n);
    await (await as(market, alice).closePosition!()).wait();
    const closed = await market.getAccount!(await addr(alice));
    expect([closed.collateral, closed.size, closed.entryPrice]).toEqual([600n * USDC, 0n, 0n]);
    await expectRevert(f, as(market, alice).closePosition!(), 'NoPosition', [await addr(alice)]);
    await expectRevert(f, as(market, bob).mark!(await addr(alice)), 'NoPosition', [await addr(alice)]);
    await expectSolvent();
  });

  it('withdrawing with a position keeps the initial margin at the mark', async () => {
    await (await as(market, alice).deposit!(300n * USDC)).wait();
    await (await as(market, alice).openPosition!(ETH)).wait();
    await expectRevert(f, as(market, alice).withdraw!(101n * USDC), 'InsufficientMargin', [199n * USDC, 200n * USDC]);
    await (await as(market, alice).withdraw!(100n * USDC)).wait();
  });

  it('a profit beyond the pool becomes a claim, paid when the pool is refunded: ClaimAccrued, ClaimPaid, NoClaim', async () => {
    await (await as(market, lp).defundPool!(9_950n * USDC)).wait(); // pool 50
    await (await as(market, alice).deposit!(300n * USDC)).wait();
    await (await as(market, alice).openPosition!(ETH)).wait();
    await price(2100n);
    const rc = await (await as(market, alice).closePosition!()).wait();
    const accrued = events(market, rc).find((e) => e.name === 'ClaimAccrued')!;
    expect([...accrued.args]).toEqual([await addr(alice), 50n * USDC, 50n * USDC]);
    let a = await market.getAccount!(await addr(alice));
    expect([a.collateral, a.claim, a.reserve]).toEqual([350n * USDC, 50n * USDC, 0n]);
    expect([await market.pool!(), await market.exposure!(), await market.freePool!()]).toEqual([0n, 50n * USDC, 0n]);
    await expectRevert(f, as(market, bob).collectClaim!(await addr(alice)), 'InsufficientPool', [50n * USDC, 0n]);
    await expectRevert(f, as(market, bob).collectClaim!(await addr(bob)), 'NoClaim', [await addr(bob)]);
    await (await as(market, lp).fundPool!(80n * USDC)).wait();
    await expectRevert(f, as(market, lp).defundPool!(31n * USDC), 'PoolLocked', [31n * USDC, 30n * USDC, 50n * USDC]);
    const paid = events(market, await (await as(market, bob).collectClaim!(await addr(alice))).wait()).find((e) => e.name === 'ClaimPaid')!;
    expect([...paid.args]).toEqual([await addr(alice), await addr(bob), 50n * USDC, 0n]);
    a = await market.getAccount!(await addr(alice));
    expect([a.collateral, a.claim]).toEqual([400n * USDC, 0n]);
    expect([await market.pool!(), await market.exposure!()]).toEqual([30n * USDC, 0n]);
    await expectSolvent();
  });

  it('a loss beyond the collateral is set off against the claim before it is bad debt: ClaimSetOff', async () => {
    await (await as(market, lp).defundPool!(9_950n * USDC)).wait(); // pool 50
    await (await as(market, alice).deposit!(200n * USDC)).wait();
    await (await as(market, alice).openPosition!(ETH)).wait();
    await price(2100n);
    await (await as(market, bob).mark!(await addr(alice))).wait(); // +100: 50 paid, 50 claimed
    expect(await market.equityAt!(await addr(alice), 2100n * ONE)).toBe(300n * USDC); // the claim counts
    await price(1900n);
    await price(1750n); // −350 against 250 collateral and a 50 claim
    const rc = await (await as(market, liquidator).liquidate!(await addr(alice))).wait();
    expect([...events(market, rc).find((e) => e.name === 'ClaimSetOff')!.args]).toEqual([await addr(alice), 50n * USDC, 0n]);
    expect([...events(market, rc).find((e) => e.name === 'BadDebt')!.args]).toEqual([await addr(alice), 50n * USDC]);
    const a = await market.getAccount!(await addr(alice));
    expect([a.collateral, a.claim, a.reserve, a.size]).toEqual([0n, 0n, 0n, 0n]);
    expect([await market.pool!(), await market.exposure!()]).toEqual([250n * USDC, 0n]);
    await expectSolvent();
  });
});

describe('liquidation', () => {
  beforeEach(async () => {
    await (await as(market, alice).deposit!(200n * USDC)).wait();
    await (await as(market, alice).openPosition!(ETH)).wait(); // 10x long at 2000
  });

  it('refuses an account above the maintenance margin', async () => {
    await price(1900n); // equity 100 ≥ maintenance 95
    await expectRevert(f, as(market, liquidator).liquidate!(await addr(alice)), 'NotLiquidatable', [await addr(alice), 100n * USDC, 95n * USDC]);
    expect(await market.isLiquidatableAt!(await addr(alice), 1900n * ONE)).toBe(false);
    await expectRevert(f, as(market, liquidator).liquidate!(await addr(bob)), 'NoPosition', [await addr(bob)]);
  });

  it('closes an account below maintenance and pays the liquidator 1 % of notional', async () => {
    await price(1850n); // equity 50 < maintenance 92.5
    const b0 = await bal(liquidator);
    const rc = await (await as(market, liquidator).liquidate!(await addr(alice))).wait();
    const ev = events(market, rc).find((e) => e.name === 'Liquidated')!;
    expect([...ev.args]).toEqual([await addr(alice), await addr(liquidator), 1850n * ONE, 18_500_000n, 31_500_000n]);
    expect((await bal(liquidator)) - b0).toBe(18_500_000n);
    const a = await market.getAccount!(await addr(alice));
    expect([a.collateral, a.size, a.reserve]).toEqual([31_500_000n, 0n, 0n]);
    expect(await market.exposure!()).toBe(0n);
    await expectSolvent();
  });

  it('a gap below zero equity is bad debt: the bounty is what is left (nothing)', async () => {
    await price(1850n);
    await price(1750n); // equity −50
    const rc = await (await as(market, liquidator).liquidate!(await addr(alice))).wait();
    const names = events(market, rc).map((e) => e.name);
    expect(names).toContain('BadDebt');
    const bad = events(market, rc).find((e) => e.name === 'BadDebt')!;
    expect(bad.args[1]).toBe(50n * USDC);
    expect((await market.getAccount!(await addr(alice))).collateral).toBe(0n);
    await expectSolvent();
  });
});

describe('dust: anyone closes a position whose notional fell below half the minimum', () => {
  it('refuses with NotDust above the threshold, closes below it and realizes the PnL: DustClosed', async () => {
    await (await as(market, alice).deposit!(20n * USDC)).wait();
    await (await as(market, alice).openPosition!(-ETH / 20n)).wait(); // short 0.05 ETH, notional 100
    await expectRevert(f, as(market, bob).closeDust!(await addr(alice)), 'NotDust', [await addr(alice), 100n * USDC, 50n * USDC]);
    await expectRevert(f, as(market, bob).closeDust!(await addr(bob)), 'NoPosition', [await addr(bob)]);
    await walkTo(990n); // notional 49.5
    const rc = await (await as(market, bob).closeDust!(await addr(alice))).wait();
    const names = events(market, rc).map((e) => e.name);
    expect(names).toEqual(['PositionMarked', 'DustClosed', 'PositionClosed']);
    expect([...events(market, rc).find((e) => e.name === 'DustClosed')!.args]).toEqual([await addr(alice), await addr(bob), 49_500_000n, 50n * USDC]);
    const a = await market.getAccount!(await addr(alice));
    expect([a.collateral, a.size, a.reserve]).toEqual([20n * USDC + 50_500_000n, 0n, 0n]); // + 0.05 × 1010
    expect(await market.exposure!()).toBe(0n);
    await expectSolvent();
  });
});

describe('price guards: nothing marks or liquidates on a bad price', () => {
  beforeEach(async () => {
    await (await as(market, alice).deposit!(200n * USDC)).wait();
    await (await as(market, alice).openPosition!(ETH)).wait();
  });

  it('tripped: a crash beyond the breaker is held; liquidation and marking refuse with PriceTripped', async () => {
    await price(1500n); // −25 %: the candidate would make alice liquidatable, but it is not served
    const who = await addr(alice);
    await expectRevert(f, as(market, liquidator).liquidate!(who), 'PriceTripped', [FEED]);
    await expectRevert(f, as(market, liquidator).mark!(who), 'PriceTripped', [FEED]);
    await expectRevert(f, as(market, alice).closePosition!(), 'PriceTripped', [FEED]);
    await expectRevert(f, as(market, bob).openPosition!(ETH), 'PriceTripped', [FEED]);
    await expectRevert(f, as(market, alice).withdraw!(1n), 'PriceTripped', [FEED]);
    await expectRevert(f, as(market, bob).closeDust!(who), 'PriceTripped', [FEED]);
    await (await as(market, alice).deposit!(100n * USDC)).wait(); // topping up never needs a price
    // The guardian accepts the candidate: the price is served and liquidation proceeds.
    await (await f.hub.resolveBreaker!(FEED, true)).wait();
    const [p] = await market.markPrice!();
    expect(p).toBe(1500n * ONE);
    await (await as(market, liquidator).liquidate!(who)).wait();
    expect((await market.getAccount!(who)).size).toBe(0n);
  });

  it('paused: PricePaused', async () => {
    await (await f.hub.setFeedPaused!(FEED, true)).wait();
    await expectRevert(f, as(market, liquidator).liquidate!(await addr(alice)), 'PricePaused', [FEED]);
    await expectRevert(f, market.markPrice!(), 'PricePaused', [FEED]);
  });

  it('stale: older than the market max age → PriceStale(age, maxAge)', async () => {
    const [, observedAt] = await f.hub.getRound!(FEED, await f.hub.latestRoundId!(FEED));
    await f.warpTo((observedAt as bigint) + 301n);
    for (const call of [as(market, liquidator).liquidate!(await addr(alice)), as(market, liquidator).mark!(await addr(alice))]) {
      const e = await expectRevert(f, call, 'PriceStale');
      expect(e.args[0]).toBe(FEED);
      expect(e.args[1]).toBeGreaterThanOrEqual(301n); // age at the call's block time
      expect(e.args[2]).toBe(300n);
    }
  });

  it('low confidence: spreadBps above the limit → PriceLowConfidence', async () => {
    await price(1850n, 150);
    await expectRevert(f, as(market, liquidator).liquidate!(await addr(alice)), 'PriceLowConfidence', [FEED, 150n, 100n]);
    await price(1850n, 100);
    await (await as(market, liquidator).liquidate!(await addr(alice))).wait();
  });

  it('no round yet: PriceUnavailable', async () => {
    const fresh = feedId('SOL/USD');
    await (await f.hub.addFeed!(fresh, feedConfig({ description: 'SOL / USD' }))).wait();
    const m = await deployMarket({}, ZERO, 0n, token, fresh);
    await expectRevert(f, m.markPrice!(), 'PriceUnavailable', [fresh]);
  });

  it('sequencer down or in its grace period: no liquidation', async () => {
    const seq = await deployTest(f.deployer, 'MockSequencerUptimeFeed');
    const m = await deployMarket({}, await seq.getAddress(), 600n);
    await fund(m);
    const now = await latestTime(f.hub);
    await (await seq.setStatus!(true, now)).wait();
    await expectRevert(f, m.markPrice!(), 'SequencerDown', [1n]);
    await (await seq.setStatus!(false, now + 5n)).wait();
    await f.warpTo(now + 10n);
    await f.oracle.push(2000n * ONE);
    await expectRevert(f, m.markPrice!(), 'SequencerGracePeriodNotOver');
    await f.warpTo(now + 700n);
    await f.oracle.push(2000n * ONE);
    expect((await m.markPrice!())[0]).toBe(2000n * ONE);
  });
});

describe('reentrancy', () => {
  it('a token calling back into withdraw during a withdrawal is stopped by the lock', async () => {
    const evil = await deployTest(f.deployer, 'ReentrantToken');
    const m = await deployMarket({}, ZERO, 0n, evil);
    await (await evil.mint!(await addr(alice), 1000n * USDC)).wait();
    await (await as(evil, alice).approve!(await m.getAddress(), 2n ** 255n)).wait();
    await (await as(m, alice).deposit!(100n * USDC)).wait();
    await (await evil.arm!(await m.getAddress(), m.interface.encodeFunctionData('withdraw', [50n * USDC]))).wait();
    await (await as(m, alice).withdraw!(50n * USDC)).wait();
    expect(await evil.lastReentrySucceeded!()).toBe(false);
    expect(f.errors.parseError((await evil.lastRevertData!()) as string)?.name).toBe('ReentrancyGuardReentrantCall');
    expect((await m.getAccount!(await addr(alice))).collateral).toBe(50n * USDC);
  });
});
