/**
 * Governance on a real chain: a 2-of-3 Safe (the audited 1.4.1 release bytecode) behind
 * OpenZeppelin's TimelockController is the hub's guardian. A feed configuration change is
 * proposed by the Safe through the timelock and executed after the delay (anvil time travel);
 * one owner alone cannot propose, nothing executes early, and every guardian function called
 * directly by anyone else (deployer, an owner, the Safe itself) fails with the hub's
 * `NotGuardian(caller, guardian)`. The new configuration then governs real BLS-signed reports.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Wallet, ZeroHash, id as keccakText, type Contract } from 'ethers';
import { ANVIL_KEYS } from '../../contracts/anvil.ts';
import { deployWith, expectRevert, FEED, feedConfig, ONE, setup, Status, type Fixture } from './helpers/chain.ts';
import { deploySafe, type SafeHandle } from './helpers/safe.ts';

const DELAY = 86_400; // one day
const GOV_SOURCES = {
  'test/GovernanceImports.sol': '// SPDX-License-Identifier: MIT\npragma solidity ^0.8.30;\nimport {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";\n',
};

let f: Fixture;
let safe: SafeHandle;
let timelock: Contract;
let owners: Wallet[];

beforeAll(async () => {
  f = await setup({ extraSources: GOV_SOURCES });
  owners = [1, 2, 3].map((i) => new Wallet(ANVIL_KEYS[i]!, f.anvil.provider));
  safe = await deploySafe(f.deployer, owners, 2);
  timelock = await deployWith(f, f.deployer, 'TimelockController', [DELAY, [safe.address], [safe.address], '0x0000000000000000000000000000000000000000']);
  // Bootstrap: the deployer configured the feed, then hands the guardian role to the timelock.
  await (await f.hub.setGuardian!(await timelock.getAddress())).wait();
});
afterAll(async () => {
  await f?.stop();
});

async function errorText(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    const err = e as { reason?: string; shortMessage?: string; message: string };
    return `${err.reason ?? ''} ${err.shortMessage ?? ''} ${err.message}`;
  }
  throw new Error('expected the call to fail');
}

describe('Safe 2-of-3 → TimelockController → AegisHub guardian', () => {
  it('the Safe is a real 2-of-3 and the timelock is the guardian', async () => {
    expect(await safe.safe.getThreshold!()).toBe(2n);
    expect([...((await safe.safe.getOwners!()) as string[])].sort()).toEqual(owners.map((o) => o.address).sort());
    expect(await f.hub.guardian!()).toBe(await timelock.getAddress());
    expect(await timelock.getMinDelay!()).toBe(BigInt(DELAY));
  });

  it('direct calls from non-guardians are rejected with NotGuardian', async () => {
    const guardian = await timelock.getAddress();
    const cfg = feedConfig({ deviationBps: 500 });
    for (const caller of [f.deployer, f.signers[4]!, owners[0]!]) {
      const hub = f.hub.connect(caller) as Contract;
      const who = await caller.getAddress();
      await expectRevert(f, hub.configureFeed!(FEED, cfg), 'NotGuardian', [who, guardian]);
      await expectRevert(f, hub.setFeedPaused!(FEED, true), 'NotGuardian', [who, guardian]);
      await expectRevert(f, hub.resolveBreaker!(FEED, true), 'NotGuardian', [who, guardian]);
      await expectRevert(f, hub.pause!(), 'NotGuardian', [who, guardian]);
      await expectRevert(f, hub.setGuardian!(who), 'NotGuardian', [who, guardian]);
    }
    // The Safe itself, skipping the timelock, is not the guardian either (inner call fails: GS013).
    const data = f.hub.interface.encodeFunctionData('configureFeed', [FEED, cfg]);
    expect(await errorText(safe.exec(await f.hub.getAddress(), data, owners.slice(0, 2), f.deployer))).toMatch(/GS013/);
    expect((await f.hub.feedConfig!(FEED)).deviationBps).toBe(1000n);
  });

  it('a feed change proposed by the Safe through the timelock executes only after the delay', async () => {
    const hubAddr = await f.hub.getAddress();
    const tl = await timelock.getAddress();
    const cfg = feedConfig({ deviationBps: 500 }); // tighten the breaker from 10 % to 5 %
    const call = f.hub.interface.encodeFunctionData('configureFeed', [FEED, cfg]);
    const salt = keccakText('aegis: tighten ETH/USD breaker to 5%');
    const schedule = timelock.interface.encodeFunctionData('schedule', [hubAddr, 0n, call, ZeroHash, salt, DELAY]);
    const execute = timelock.interface.encodeFunctionData('execute', [hubAddr, 0n, call, ZeroHash, salt]);
    const opId = (await timelock.hashOperation!(hubAddr, 0n, call, ZeroHash, salt)) as string;

    // One owner is not enough (Safe: GS020 signatures data too short).
    expect(await errorText(safe.exec(tl, schedule, [owners[1]!], f.deployer))).toMatch(/GS020/);
    // Nobody but the Safe may schedule or execute on the timelock.
    await expectRevert(f, (timelock.connect(owners[0]!) as Contract).schedule!(hubAddr, 0n, call, ZeroHash, salt, DELAY), 'AccessControlUnauthorizedAccount');

    // Owners 1 and 3 sign; anyone relays.
    await safe.exec(tl, schedule, [owners[0]!, owners[2]!], f.signers[5]!);
    expect(await timelock.isOperationPending!(opId)).toBe(true);

    // Too early: the timelock refuses, so the Safe transaction fails.
    expect(await errorText(safe.exec(tl, execute, [owners[0]!, owners[1]!], f.deployer))).toMatch(/GS013/);
    await f.anvil.increaseTime(DELAY - 120);
    expect(await timelock.isOperationReady!(opId)).toBe(false);
    await f.anvil.increaseTime(121);
    expect(await timelock.isOperationReady!(opId)).toBe(true);

    const rc = await safe.exec(tl, execute, [owners[1]!, owners[2]!], f.deployer);
    const configured = rc.logs.map((l) => f.hub.interface.parseLog(l)).find((e) => e?.name === 'FeedConfigured')!;
    expect([...configured.args]).toEqual([FEED, tl]);
    expect(await timelock.isOperationDone!(opId)).toBe(true);
    expect((await f.hub.feedConfig!(FEED)).deviationBps).toBe(500n);

    // The new limit governs real reports: a 7 % move now trips the breaker (it would not at 10 %).
    await f.oracle.push(2000n * ONE);
    await f.oracle.push(2140n * ONE);
    const [, , , , status] = await f.hub.tryRead!(FEED);
    expect(status).toBe(Status.Tripped);
  });
});
