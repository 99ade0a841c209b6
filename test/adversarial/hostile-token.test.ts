/**
 * Adversarial: fee-on-transfer collateral in the futures market.
 *
 * The attack, on anvil with the real hub and the real FuturesMarket: the collateral token
 * burns 1 % of every transfer. A depositor sends 1000; the market receives 990 but, booking the
 * amount it asked for, credits 1000. Withdrawing 1000 then takes 10 that belong to the pool or
 * to other traders, and the last one out finds the market short. The same holds for the pool
 * owner's funding. A token that turns its fee on after deposits were made is the same attack
 * in two steps.
 *
 * Neutralized when: every deposit and pool funding measures the market's balance before and
 * after the transfer and reverts with `FeeOnTransferUnsupported(expected, received)` unless
 * exactly the amount arrived, so nothing short is ever booked and
 * `balanceOf(market) == pool + Σ collateral` holds throughout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Contract, JsonRpcSigner } from 'ethers';
import { as, deployTest, deployWith, expectRevert, FEED, ONE, setup, type Fixture, fundAndApprove } from '../contracts/helpers/chain.ts';

const USDC = 10n ** 6n;
const RISK = { maxPriceAge: 300n, maxSpreadBps: 100n, initialMarginBps: 1000n, maintenanceMarginBps: 500n, liquidationBountyBps: 100n, minNotional: 100n * USDC, minCollateral: 10n * USDC, maxProfitBps: 10_000n };
const ZERO = '0x0000000000000000000000000000000000000000';

let f: Fixture;
let fot: Contract;
let market: Contract;
let attacker: JsonRpcSigner, honest: JsonRpcSigner, owner: JsonRpcSigner;

async function expectBooks(): Promise<void> {
  let total = (await market.pool!()) as bigint;
  for (const s of [attacker, honest]) total += ((await market.getAccount!(await s.getAddress())) as { collateral: bigint }).collateral;
  expect(await fot.balanceOf!(await market.getAddress())).toBe(total);
}

beforeAll(async () => {
  f = await setup();
  [, attacker, honest, owner] = f.signers as [JsonRpcSigner, JsonRpcSigner, JsonRpcSigner, JsonRpcSigner];
  // Starts plain (fee 0) so the honest trader and the pool can fund the market first.
  fot = await deployTest(f.deployer, 'FeeOnTransferToken', ['Fee USD', 'fUSD', 6, 0n]);
  market = await deployWith(f, f.deployer, 'FuturesMarket', [await f.hub.getAddress(), FEED, await fot.getAddress(), await owner.getAddress(), RISK, ZERO, 0n]);
  await fundAndApprove(fot, market, [attacker, honest, owner], 100_000n * USDC);
});
afterAll(async () => {
  await f?.stop();
});

describe('fee-on-transfer collateral', () => {
  it('is refused at deposit and pool funding once the token charges a fee, so nothing short is booked', async () => {
    await (await as(market, honest).deposit!(1000n * USDC)).wait();
    await (await as(market, owner).fundPool!(5000n * USDC)).wait();
    await expectBooks();

    await (await fot.setFeeBps!(100n)).wait(); // 1 %
    await expectRevert(f, as(market, attacker).deposit!(1000n * USDC), 'FeeOnTransferUnsupported', [1000n * USDC, 990n * USDC]);
    await expectRevert(f, as(market, owner).fundPool!(1000n * USDC), 'FeeOnTransferUnsupported', [1000n * USDC, 990n * USDC]);
    expect((await market.getAccount!(await attacker.getAddress())).collateral).toBe(0n);
    expect(await market.pool!()).toBe(5000n * USDC);
    await expectBooks();

    // Nothing booked, nothing to take: the attacker's withdrawal finds no collateral.
    await expectRevert(f, as(market, attacker).withdraw!(1000n * USDC), 'InsufficientCollateral', [1000n * USDC, 0n]);

    // Outgoing transfers under the fee debit the market exactly what it sends (the recipient
    // bears the fee), so the honest trader and the pool still get out what the books say.
    await (await as(market, honest).withdraw!(1000n * USDC)).wait();
    await (await as(market, owner).defundPool!(5000n * USDC)).wait();
    await expectBooks();
    expect(await fot.balanceOf!(await market.getAddress())).toBe(0n);
  });

  it('a fee token from the start cannot be deposited at all', async () => {
    await f.oracle.push(2000n * ONE);
    const m = await deployWith(f, f.deployer, 'FuturesMarket', [await f.hub.getAddress(), FEED, await fot.getAddress(), await owner.getAddress(), RISK, ZERO, 0n]);
    await (await as(fot, attacker).approve!(await m.getAddress(), 2n ** 255n)).wait();
    await expectRevert(f, as(m, attacker).deposit!(1n * USDC), 'FeeOnTransferUnsupported', [1n * USDC, 990_000n]);
    // Below the fee's rounding (100 × 1 % rounds to 0) the transfer is exact and accepted:
    // the books still match the balance.
    await (await as(m, attacker).deposit!(99n)).wait();
    expect(await fot.balanceOf!(await m.getAddress())).toBe(99n);
    expect((await m.getAccount!(await attacker.getAddress())).collateral).toBe(99n);
  });
});
