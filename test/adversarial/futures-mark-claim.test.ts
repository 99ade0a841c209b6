/**
 * Adversarial: a stranger's `mark` while the pool is short takes a trader's profit.
 *
 * The attack, on anvil with the real hub, real threshold-BLS reports and the real
 * FuturesMarket: the pool holds 50 USDC; a trader is long 1 ETH from 2000 and the price rises
 * to 2100 (+100 owed). A stranger marks the trader: the pool can pay only 50 and the entry
 * resets to 2100. When the unpaid 50 was dropped (a `ProfitCapped` event), the trader lost it
 * for good, even after losses flowed into the pool or the owner refunded it. A second variant
 * uses the mark to push the trader toward liquidation: the open profit (counted in equity)
 * becomes an unpaid amount that no longer counts, and a small dip makes the account liquidatable.
 *
 * Neutralized when: the unpaid part is kept as the trader's claim, counted in the pool's
 * exposure (the owner cannot take the money that flows in) and in the trader's equity, paid by
 * anyone's `collectClaim` once the pool holds tokens, so the trader ends with the full profit,
 * and a dip that the claim covers does not make the account liquidatable.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Contract, JsonRpcSigner } from 'ethers';
import { as, deployTest, deployWith, events, expectRevert, FEED, ONE, setup, type Fixture, fundAndApprove } from '../contracts/helpers/chain.ts';

const USDC = 10n ** 6n;
const ETH = USDC;
const RISK = { maxPriceAge: 300n, maxSpreadBps: 100n, initialMarginBps: 1000n, maintenanceMarginBps: 500n, liquidationBountyBps: 100n, minNotional: 100n * USDC, minCollateral: 10n * USDC, maxProfitBps: 10_000n };
const ZERO = '0x0000000000000000000000000000000000000000';

let f: Fixture;
let token: Contract;
let market: Contract;
let trader: JsonRpcSigner, loser: JsonRpcSigner, stranger: JsonRpcSigner, owner: JsonRpcSigner;
let snap: string;

const addr = (s: JsonRpcSigner): Promise<string> => s.getAddress();
async function wallet(s: JsonRpcSigner): Promise<bigint> {
  return (await token.balanceOf!(await addr(s))) as bigint;
}
/** token balance == pool + Σ collateral, and exposure == Σ reserve + Σ claim, and the pool owner can take only pool − exposure. */
async function expectBooks(): Promise<void> {
  let total = (await market.pool!()) as bigint;
  let exposure = 0n;
  for (const s of [trader, loser, stranger, owner]) {
    const a = (await market.getAccount!(await addr(s))) as { collateral: bigint; reserve: bigint; claim: bigint };
    total += a.collateral;
    exposure += a.reserve + a.claim;
  }
  expect(await token.balanceOf!(await market.getAddress())).toBe(total);
  expect(await market.exposure!()).toBe(exposure);
  const pool = (await market.pool!()) as bigint;
  expect(await market.freePool!()).toBe(pool > exposure ? pool - exposure : 0n);
}

beforeAll(async () => {
  f = await setup();
  [, trader, loser, stranger, owner] = f.signers as [JsonRpcSigner, JsonRpcSigner, JsonRpcSigner, JsonRpcSigner, JsonRpcSigner];
  token = await deployTest(f.deployer, 'TestToken', ['USD Coin (test)', 'USDC', 6]);
  market = await deployWith(f, f.deployer, 'FuturesMarket', [await f.hub.getAddress(), FEED, await token.getAddress(), await addr(owner), RISK, ZERO, 0n]);
  await fundAndApprove(token, market, [trader, loser, stranger, owner], 100_000n * USDC);
  snap = await f.snapshot();
});
afterAll(async () => {
  await f?.stop();
});
beforeEach(async () => {
  await f.revert(snap);
  snap = await f.snapshot();
  await f.oracle.push(2000n * ONE);
});

describe("a stranger's mark while the pool is short", () => {
  it('keeps the unpaid profit as a claim the owner cannot take, and the trader ends with the full profit', async () => {
    const who = await addr(trader);
    await (await as(market, owner).fundPool!(50n * USDC)).wait();
    const w0 = await wallet(trader);
    await (await as(market, trader).deposit!(300n * USDC)).wait();
    await (await as(market, trader).openPosition!(ETH)).wait(); // long 1 ETH at 2000
    await (await as(market, loser).deposit!(300n * USDC)).wait();
    await (await as(market, loser).openPosition!(-ETH)).wait(); // short 1 ETH at 2000: pays when the price rises

    await f.oracle.push(2100n * ONE);
    const rc = await (await as(market, stranger).mark!(who)).wait();
    const names = events(market, rc).map((e) => e.name);
    expect(names).toContain('ClaimAccrued');
    expect([...events(market, rc).find((e) => e.name === 'ClaimAccrued')!.args]).toEqual([who, 50n * USDC, 50n * USDC]);
    let a = await market.getAccount!(who);
    expect([a.collateral, a.claim, a.entryPrice]).toEqual([350n * USDC, 50n * USDC, 2100n * ONE]);
    expect(await market.pool!()).toBe(0n);
    await expectBooks();

    // The short's loss flows into the pool; the owner cannot take it, it is owed to the claim.
    await (await as(market, stranger).mark!(await addr(loser))).wait();
    expect(await market.pool!()).toBe(100n * USDC);
    const exposure = (await market.exposure!()) as bigint;
    await expectRevert(f, as(market, owner).defundPool!(1n), 'PoolLocked', [1n, 0n, exposure]);

    // Anyone pays the claim out of what flowed in.
    await (await as(market, stranger).collectClaim!(who)).wait();
    a = await market.getAccount!(who);
    expect([a.collateral, a.claim]).toEqual([400n * USDC, 0n]);
    await expectBooks();

    // The trader closes at 2100 and leaves with the whole +100.
    await (await as(market, trader).closePosition!()).wait();
    await (await as(market, trader).withdraw!(400n * USDC)).wait();
    expect((await wallet(trader)) - w0).toBe(100n * USDC);
    await expectBooks();
  });

  it('paid when the owner refunds the pool, even after the position is closed', async () => {
    const who = await addr(trader);
    const w0 = await wallet(trader);
    await (await as(market, trader).deposit!(300n * USDC)).wait();
    await (await as(market, trader).openPosition!(ETH)).wait(); // the pool is empty
    await f.oracle.push(2100n * ONE);
    await (await as(market, stranger).mark!(who)).wait();
    expect((await market.getAccount!(who)).claim).toBe(100n * USDC);
    await (await as(market, trader).closePosition!()).wait();
    expect(await market.exposure!()).toBe(100n * USDC); // the reserve is released, the claim is not
    await expectRevert(f, as(market, stranger).collectClaim!(who), 'InsufficientPool', [100n * USDC, 0n]);

    await (await as(market, owner).fundPool!(150n * USDC)).wait();
    await expectRevert(f, as(market, owner).defundPool!(51n * USDC), 'PoolLocked', [51n * USDC, 50n * USDC, 100n * USDC]);
    await (await as(market, trader).collectClaim!(who)).wait();
    await (await as(market, trader).withdraw!(400n * USDC)).wait();
    expect((await wallet(trader)) - w0).toBe(100n * USDC);
    await (await as(market, owner).defundPool!(50n * USDC)).wait();
    await expectBooks();
  });

  it('cannot make the trader liquidatable: the claim counts in equity', async () => {
    const who = await addr(trader);
    await (await as(market, trader).deposit!(200n * USDC)).wait();
    await (await as(market, trader).openPosition!(ETH)).wait(); // 10x long at 2000, pool empty
    await f.oracle.push(2100n * ONE);
    await (await as(market, stranger).mark!(who)).wait(); // +100 becomes a claim
    // Back to 1995: −105 from the new entry. Collateral alone (95) would be below the
    // maintenance margin (99.75); with the claim the equity is 195.
    await f.oracle.push(1995n * ONE);
    await expectRevert(f, as(market, stranger).liquidate!(who), 'NotLiquidatable', [who, 195n * USDC, 99_750_000n]);
    expect(await market.isLiquidatableAt!(who, 1995n * ONE)).toBe(false);
    // A real loss is set off against the claim before the pool books bad debt.
    await f.oracle.push(1820n * ONE); // −280 from 2100: equity 20 < 91 maintenance
    const rc = await (await as(market, stranger).liquidate!(who)).wait();
    expect([...events(market, rc).find((e) => e.name === 'ClaimSetOff')!.args]).toEqual([who, 80n * USDC, 20n * USDC]);
    expect(events(market, rc).map((e) => e.name)).not.toContain('BadDebt');
    await expectBooks();
  });
});
