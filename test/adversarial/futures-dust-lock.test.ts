/**
 * Adversarial: a dust position that keeps the futures pool locked for good.
 *
 * The attack, on anvil with the real hub, real threshold-BLS reports and the real
 * FuturesMarket: the pool owner has funded the pool; an attacker deposits almost nothing and
 * opens the smallest position it can (size 1: a notional of 0.002 USDC at 2000). Such a position
 * is worth nobody's gas to liquidate, and when the pool lock followed the count of open
 * positions, the owner could never defund again. The attacker then tries the next best thing:
 * the smallest position the market accepts, with its collateral withdrawn down to nothing.
 *
 * Neutralized when: dust cannot be opened (minimum notional and collateral), an open position
 * locks only what it can still take from the pool (its reserve), so the owner defunds the rest at
 * once, the collateral cannot be withdrawn below the minimum while the position is open, and a
 * position whose notional fell below half the minimum can be closed by anyone, after which the
 * owner defunds everything.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Contract, JsonRpcSigner } from 'ethers';
import { as, deployTest, deployWith, events, expectRevert, FEED, ONE, setup, type Fixture, fundAndApprove } from '../contracts/helpers/chain.ts';

const USDC = 10n ** 6n;
const ETH = USDC; // size unit: one USDC per dollar of move
const RISK = { maxPriceAge: 300n, maxSpreadBps: 100n, initialMarginBps: 1000n, maintenanceMarginBps: 500n, liquidationBountyBps: 100n, minNotional: 100n * USDC, minCollateral: 10n * USDC, maxProfitBps: 10_000n };
const ZERO = '0x0000000000000000000000000000000000000000';
const POOL = 10_000n * USDC;

let f: Fixture;
let token: Contract;
let market: Contract;
let attacker: JsonRpcSigner, owner: JsonRpcSigner, keeper: JsonRpcSigner;

/** Pushes reports moving the price to `target` in steps the hub's 10 % breaker lets through. */
async function walkTo(target: bigint): Promise<void> {
  let [p] = (await f.hub.tryRead!(FEED)) as [bigint];
  while (p !== target) {
    const step = (p * 9n) / 100n;
    p = target > p ? (target - p > step ? p + step : target) : p - target > step ? p - step : target;
    await f.oracle.push(p);
  }
}

beforeAll(async () => {
  f = await setup();
  [, attacker, owner, keeper] = f.signers as [JsonRpcSigner, JsonRpcSigner, JsonRpcSigner, JsonRpcSigner];
  token = await deployTest(f.deployer, 'TestToken', ['USD Coin (test)', 'USDC', 6]);
  market = await deployWith(f, f.deployer, 'FuturesMarket', [await f.hub.getAddress(), FEED, await token.getAddress(), await owner.getAddress(), RISK, ZERO, 0n]);
  await fundAndApprove(token, market, [attacker, owner], 100_000n * USDC);
  await (await as(market, owner).fundPool!(POOL)).wait();
});
afterAll(async () => {
  await f?.stop();
});

describe('dust position vs the pool lock', () => {
  it('a size-1 position with next to no collateral cannot be opened', async () => {
    await f.oracle.push(2000n * ONE);
    // 1 unit at 2000.00000000 is a notional of 2000 base units (0.002 USDC); its initial
    // margin is 200 base units, which the attacker deposits.
    await (await as(market, attacker).deposit!(200n)).wait();
    await expectRevert(f, as(market, attacker).openPosition!(1n), 'NotionalBelowMinimum', [2000n, RISK.minNotional]);
    await expectRevert(f, as(market, attacker).openPosition!(-1n), 'NotionalBelowMinimum', [2000n, RISK.minNotional]);
    // The smallest notional the market accepts still needs the minimum collateral.
    await expectRevert(f, as(market, attacker).openPosition!(-ETH / 20n), 'CollateralBelowMinimum', [200n, RISK.minCollateral]);
    expect((await market.getAccount!(await attacker.getAddress())).size).toBe(0n);
    expect(await market.exposure!()).toBe(0n);
    // Nothing is open: the owner could take everything out.
    expect(await market.freePool!()).toBe(POOL);
  });

  it('the smallest accepted position locks only its reserve, and once it turns to dust anyone closes it', async () => {
    const who = await attacker.getAddress();
    await (await as(market, attacker).deposit!(RISK.minCollateral - 200n)).wait(); // 10 USDC in all
    await (await as(market, attacker).openPosition!(-ETH / 20n)).wait(); // short 0.05 ETH: notional 100
    const reserve = (await market.getAccount!(who)).reserve as bigint;
    expect(reserve).toBe(100n * USDC); // a short gains at most its notional
    // The attacker cannot strip the collateral that backs it.
    await expectRevert(f, as(market, attacker).withdraw!(1n), 'CollateralBelowMinimum', [RISK.minCollateral - 1n, RISK.minCollateral]);

    // The lock is the position's reserve, not the existence of a position: the owner takes
    // the rest out at once, and not a unit more.
    const free = POOL - reserve;
    expect(await market.freePool!()).toBe(free);
    await expectRevert(f, as(market, owner).defundPool!(free + 1n), 'PoolLocked', [free + 1n, free, reserve]);
    await (await as(market, owner).defundPool!(free)).wait();
    expect(await market.pool!()).toBe(reserve);

    // While its notional is at least half the minimum, only the attacker or a liquidation closes it.
    await expectRevert(f, as(market, keeper).closeDust!(who), 'NotDust', [who, 100n * USDC, 50n * USDC]);

    // The price falls until the position is dust (0.05 × 990 = 49.5 < 50): anyone closes it,
    // its profit is paid at the oracle price, and the pool is free again.
    await walkTo(990n * ONE);
    const rc = await (await as(market, keeper).closeDust!(who)).wait();
    expect(events(market, rc).map((e) => e.name)).toEqual(['PositionMarked', 'DustClosed', 'PositionClosed']);
    const a = await market.getAccount!(who);
    expect([a.size, a.reserve, a.claim]).toEqual([0n, 0n, 0n]);
    expect(a.collateral).toBe(RISK.minCollateral + 50_500_000n); // 0.05 × (2000 − 990) paid by the pool
    expect(await market.exposure!()).toBe(0n);
    const left = (await market.pool!()) as bigint;
    expect(left).toBe(reserve - 50_500_000n);
    await (await as(market, owner).defundPool!(left)).wait();
    expect(await market.pool!()).toBe(0n);
    // The books still match the tokens: the attacker's collateral is all that is left.
    expect(await token.balanceOf!(await market.getAddress())).toBe(a.collateral);
  });
});
