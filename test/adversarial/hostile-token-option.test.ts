/**
 * Adversarial: fee-on-transfer collateral in EuropeanOption. A token that delivers less than
 * `transferFrom` names would leave the option's books crediting more than it holds, so the
 * last payout of the contract would fail or take another option's collateral. `write` and
 * `buy` measure what arrived and refuse with `FeeOnTransferUnsupported(expected, received)`;
 * such tokens (and rebasing ones) are documented as unsupported.
 * Real hub and threshold-BLS reports on anvil; the token is contracts/test/FeeOnTransferToken.sol.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Contract, JsonRpcSigner } from 'ethers';
import { as, deployTest, deployWith, expectRevert, FEED, latestTime, ONE, setup, type Fixture, fundAndApprove } from '../contracts/helpers/chain.ts';

const USDC = 10n ** 6n;
const WIDTH = 500n * ONE;
const COLLATERAL = 500n * USDC;
const PREMIUM = 20n * USDC;
const FEE_BPS = 100n; // 1 %
const ZERO = '0x0000000000000000000000000000000000000000';

let f: Fixture;
let fot: Contract;
let option: Contract;
let writer: JsonRpcSigner, buyer: JsonRpcSigner;
let snap: string;

beforeAll(async () => {
  f = await setup();
  [, writer, buyer] = f.signers as [JsonRpcSigner, JsonRpcSigner, JsonRpcSigner];
  fot = await deployTest(f.deployer, 'FeeOnTransferToken', ['Fee USD', 'fUSD', 6, FEE_BPS]);
  option = await deployWith(f, f.deployer, 'EuropeanOption', [await f.hub.getAddress(), FEED, await fot.getAddress(), 600n, 300n, 3600n, 100n, ZERO, 0n]);
  await fundAndApprove(fot, option, [writer, buyer], 100_000n * USDC);
  snap = await f.snapshot();
});
afterAll(async () => {
  await f?.stop();
});
beforeEach(async () => {
  await f.revert(snap);
  snap = await f.snapshot();
});

const held = async (): Promise<bigint> => (await fot.balanceOf!(await option.getAddress())) as bigint;

describe('adversarial: fee-on-transfer collateral in EuropeanOption', () => {
  it('write refuses: 500 asked, 495 arrived; nothing is booked', async () => {
    const expiry = (await latestTime(f.hub)) + 1000n;
    const fee = (COLLATERAL * FEE_BPS) / 10_000n;
    await expectRevert(f, as(option, writer).write!(true, 2000n * ONE, WIDTH, USDC, PREMIUM, expiry), 'FeeOnTransferUnsupported', [COLLATERAL, COLLATERAL - fee]);
    expect(await option.optionCount!()).toBe(0n);
    expect(await held()).toBe(0n);
  });

  it('buy refuses once the token starts charging (fee switched on after the write); a zero premium passes', async () => {
    await (await fot.setFeeBps!(0n)).wait();
    const expiry = (await latestTime(f.hub)) + 1000n;
    await (await as(option, writer).write!(true, 2000n * ONE, WIDTH, USDC, PREMIUM, expiry)).wait();
    await (await as(option, writer).write!(true, 2000n * ONE, WIDTH, USDC, 0n, expiry)).wait();
    expect(await held()).toBe(2n * COLLATERAL);
    await (await fot.setFeeBps!(FEE_BPS)).wait();
    const fee = (PREMIUM * FEE_BPS) / 10_000n;
    await expectRevert(f, as(option, buyer).buy!(1n), 'FeeOnTransferUnsupported', [PREMIUM, PREMIUM - fee]);
    expect((await option.getOption!(1n)).status).toBe(1n); // still Open
    await (await as(option, buyer).buy!(2n)).wait(); // nothing moves, nothing is short
    expect(await held()).toBe(2n * COLLATERAL);
  });

  it('a plain token (fee 0) is accepted, and the books equal the balance through settlement', async () => {
    await (await fot.setFeeBps!(0n)).wait();
    const expiry = (await latestTime(f.hub)) + 1000n;
    await (await as(option, writer).write!(true, 2000n * ONE, WIDTH, USDC, PREMIUM, expiry)).wait();
    await (await as(option, buyer).buy!(1n)).wait();
    expect(await held()).toBe(COLLATERAL + PREMIUM);
    await f.warpTo(expiry + 5n);
    const s = await f.oracle.report({ [FEED]: 2050n * ONE }, expiry + 1n);
    await (await as(option, buyer).proposeReport!(1n, s.report, s.signature)).wait();
    await f.warpTo(((await option.proposalDeadline!(1n)) as bigint) + 1n);
    const b0 = (await fot.balanceOf!(await buyer.getAddress())) as bigint;
    await (await as(option, buyer).settle!(1n)).wait();
    expect(((await fot.balanceOf!(await buyer.getAddress())) as bigint) - b0).toBe(50n * USDC);
    expect(await held()).toBe(0n);
  });
});
