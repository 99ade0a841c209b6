/**
 * Threat model, "hostile collateral token": a token with transfer hooks (ERC777-style,
 * `contracts/test/ReentrantHookToken.sol`) hands control to the attacker's own account
 * contract in the middle of a transfer, after balances moved and before the settlement
 * contract's action returned. The attacker re-enters the same contract as itself — a second
 * withdrawal of its own collateral, a withdrawal of a deposit still being pulled, a second
 * refund of a cancelled option, a cancel of an option still being written. The transient
 * reentrancy lock must stop every re-entry (`ReentrancyGuardReentrantCall`), and the contract's
 * books must match its token balance afterwards.
 *
 * Real FuturesMarket and EuropeanOption on anvil, over the real hub of the shared fixture.
 * Constructor arguments are given by parameter name, so the suite does not depend on their order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Contract, type JsonRpcSigner } from 'ethers';
import { deployTest, deployWith, FEED, latestTime, ONE, setup, type Fixture } from '../contracts/helpers/chain.ts';

const ZERO = '0x0000000000000000000000000000000000000000';
const UNIT = 10n ** 18n; // HookToken has 18 decimals
const MAX = 2n ** 255n;
const OptionStatus = { Open: 1n, Cancelled: 5n } as const;

let f: Fixture;
let attacker: JsonRpcSigner;
let token: Contract;
let trader: Contract;
let traderAddress: string;

interface AbiInput {
  name: string;
  type: string;
  components?: AbiInput[];
}

/** Constructor arguments of `name` from values keyed by parameter (and struct field) name. */
function ctorArgs(name: string, values: Record<string, unknown>): unknown[] {
  const abi = f.compiled.contracts[name]!.abi as { type: string; inputs?: AbiInput[] }[];
  const ctor = abi.find((x) => x.type === 'constructor')!;
  const pick = (input: AbiInput, from: Record<string, unknown>, where: string): unknown => {
    if (!(input.name in from)) throw new Error(`${where}: no value for constructor parameter "${input.name}"; add it to this test`);
    const v = from[input.name];
    if (!input.components) return v;
    const inner = v as Record<string, unknown>;
    return Object.fromEntries(input.components.map((c) => [c.name, pick(c, inner, `${where}.${input.name}`)]));
  };
  return ctor.inputs!.map((i) => pick(i, values, name));
}

/** The custom error name in the revert data the trader recorded. */
function reentryError(data: string): string | undefined {
  return f.errors.parseError(data)?.name;
}

async function balance(of: string | Contract): Promise<bigint> {
  return (await token.balanceOf!(typeof of === 'string' ? of : await of.getAddress())) as bigint;
}

/** Runs `data` on `target` as the trader contract, mined. */
async function act(target: Contract, fn: string, args: unknown[]): Promise<void> {
  await (await trader.exec!(await target.getAddress(), target.interface.encodeFunctionData(fn, args))).wait();
}

async function armReentry(target: Contract, fn: string, args: unknown[]): Promise<void> {
  await (await trader.arm!(await target.getAddress(), target.interface.encodeFunctionData(fn, args))).wait();
}

async function expectStoppedByLock(attemptsBefore: bigint): Promise<void> {
  expect(await trader.attempts!()).toBe(attemptsBefore + 1n);
  expect(await trader.lastReentrySucceeded!()).toBe(false);
  expect(reentryError((await trader.lastRevertData!()) as string)).toBe('ReentrancyGuardReentrantCall');
}

beforeAll(async () => {
  f = await setup();
  attacker = f.signers[7]!;
  token = await deployTest(f.deployer, 'HookToken');
  trader = await deployTest(attacker, 'HookedTrader');
  traderAddress = await trader.getAddress();
  await (await token.mint!(traderAddress, 1_000_000n * UNIT)).wait();
  await act(token, 'register', [true]);
});

afterAll(async () => {
  await f?.stop();
});

describe('FuturesMarket with a hooked collateral token', () => {
  let market: Contract;
  const collateralOf = async (a: string): Promise<bigint> => ((await market.getAccount!(a)) as { collateral: bigint }).collateral;
  /** The market's accounting identity: token balance == pool + the trader's collateral (the only account). */
  const expectBooksMatch = async (): Promise<void> => {
    expect(await balance(market)).toBe(((await market.pool!()) as bigint) + (await collateralOf(traderAddress)));
  };

  beforeAll(async () => {
    market = await deployWith(
      f,
      f.deployer,
      'FuturesMarket',
      ctorArgs('FuturesMarket', {
        hub_: await f.hub.getAddress(),
        feedId_: FEED,
        collateral_: await token.getAddress(),
        poolOwner_: await f.deployer.getAddress(),
        risk: { maxPriceAge: 300n, maxSpreadBps: 100n, initialMarginBps: 1000n, maintenanceMarginBps: 500n, liquidationBountyBps: 100n, minNotional: 100n * UNIT, minCollateral: 10n * UNIT, maxProfitBps: 10_000n },
        sequencerFeed: ZERO,
        sequencerGrace: 0n,
      }),
    );
    await act(token, 'approve', [await market.getAddress(), MAX]);
  });

  it('a second withdrawal of the same collateral from inside the payout is stopped by the lock', async () => {
    await act(market, 'deposit', [100n * UNIT]);
    const wallet = await balance(traderAddress);
    const attempts = await trader.attempts!();
    await armReentry(market, 'withdraw', [50n * UNIT]);
    await act(market, 'withdraw', [50n * UNIT]);
    await expectStoppedByLock(attempts);
    expect(await collateralOf(traderAddress)).toBe(50n * UNIT);
    expect(await balance(traderAddress)).toBe(wallet + 50n * UNIT);
    await expectBooksMatch();
  });

  it('withdrawing a deposit while its transfer is still being pulled is stopped by the lock', async () => {
    const before = await collateralOf(traderAddress);
    const wallet = await balance(traderAddress);
    const attempts = await trader.attempts!();
    await armReentry(market, 'withdraw', [before + 100n * UNIT]);
    await act(market, 'deposit', [100n * UNIT]);
    await expectStoppedByLock(attempts);
    expect(await collateralOf(traderAddress)).toBe(before + 100n * UNIT);
    expect(await balance(traderAddress)).toBe(wallet - 100n * UNIT);
    await expectBooksMatch();
  });
});

describe('EuropeanOption with a hooked collateral token', () => {
  let option: Contract;
  const WIDTH = 100n * ONE; // collateral = width × quantity / 10^decimals
  const QTY = ONE;
  const collateral = WIDTH; // × QTY / ONE
  const write = async (): Promise<bigint> => {
    const expiry = (await latestTime(f.hub)) + 3600n;
    await act(option, 'write', [true, 2000n * ONE, WIDTH, QTY, 5n * UNIT, expiry]);
    return (await option.optionCount!()) as bigint;
  };
  const status = async (id: bigint): Promise<bigint> => ((await option.getOption!(id)) as { status: bigint }).status;

  beforeAll(async () => {
    option = await deployWith(
      f,
      f.deployer,
      'EuropeanOption',
      ctorArgs('EuropeanOption', {
        hub_: await f.hub.getAddress(),
        feedId_: FEED,
        collateral_: await token.getAddress(),
        settlementWindow_: 3600n,
        challengePeriod_: 600n,
        refundDelay_: 3600n,
        maxSpreadBps_: 100n,
        sequencerFeed: ZERO,
        sequencerGrace: 0n,
      }),
    );
    await act(token, 'approve', [await option.getAddress(), MAX]);
  });

  it('a second refund of a cancelled option from inside the refund is stopped by the lock', async () => {
    const first = await write();
    const second = await write();
    const held = await balance(option);
    const wallet = await balance(traderAddress);
    const attempts = await trader.attempts!();
    await armReentry(option, 'cancel', [first]);
    await act(option, 'cancel', [first]);
    await expectStoppedByLock(attempts);
    expect(await status(first)).toBe(OptionStatus.Cancelled);
    expect(await status(second)).toBe(OptionStatus.Open);
    expect(await balance(option)).toBe(held - collateral);
    expect(await balance(traderAddress)).toBe(wallet + collateral);
  });

  it('cancelling an option while its collateral is still being pulled is stopped by the lock', async () => {
    const held = await balance(option);
    const next = ((await option.optionCount!()) as bigint) + 1n;
    const attempts = await trader.attempts!();
    await armReentry(option, 'cancel', [next]);
    expect(await write()).toBe(next);
    await expectStoppedByLock(attempts);
    expect(await status(next)).toBe(OptionStatus.Open);
    expect(await balance(option)).toBe(held + collateral);
  });
});
