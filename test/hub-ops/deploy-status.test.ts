/**
 * `aegis hub deploy` and `aegis hub status` on real chains: the hub and adapter factory land at
 * their CREATE2 addresses (the proxy itself first on a chain without it), the code is checked
 * against the local build, the committee file gets the hub's address, a second run changes
 * nothing, the same committee gets the same address on a chain with another id, and status
 * reads back feeds, breaker candidates and a Safe → timelock guardian chain.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Contract, Wallet, type InterfaceAbi } from 'ethers';
import { ANVIL_KEYS, startAnvil, type Anvil } from '../../contracts/anvil.ts';
import { artifact, compileContracts } from '../../contracts/compile.ts';
import { devCommitteeFile, feedConfig } from '../../contracts/hub.ts';
import { DETERMINISTIC_DEPLOYER, verifyDeployedCode } from '../../contracts/ops/create2.ts';
import { deployHub } from '../../contracts/ops/deploy-hub.ts';
import { hubStatus } from '../../contracts/ops/status.ts';
import { dealerKeygen, g2ToEip2537 } from '../../protocol/bls/index.ts';
import { feedId } from '../../protocol/report.ts';
import { Oracle } from '../contracts/helpers/chain.ts';
import { deploySafe } from '../contracts/helpers/safe.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'aegis-hub-ops-'));
const committee = dealerKeygen(3, 4);
const chains: Anvil[] = [];

function committeeFile(name: string, chainId: number): string {
  const file = join(dir, name);
  writeFileSync(
    file,
    JSON.stringify(devCommitteeFile(committee, chainId)),
  );
  return file;
}

beforeAll(async () => {
  chains.push(await startAnvil({ chainId: 31337, args: ['--disable-default-create2-deployer'] }));
  chains.push(await startAnvil({ chainId: 4242 }));
});
afterAll(async () => {
  for (const c of chains) await c.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('aegis hub deploy', () => {
  it('deploys the proxy where it is missing, then hub and factory at their CREATE2 addresses, verified; the committee file gets the hub', async () => {
    const [a] = chains as [Anvil];
    expect(await a.provider.getCode(DETERMINISTIC_DEPLOYER)).toBe('0x');
    const file = committeeFile('committee-a.json', 31337);
    const lines: string[] = [];
    const r = await deployHub({ signer: a.wallet(0), committeeFile: file, confirmations: 1, say: (l) => lines.push(l) });
    expect(r.deployed).toEqual({ hub: true, factory: true, proxy: true });
    expect(lines[0]).toMatch(/^hub 0x[0-9a-fA-F]{40} and adapter factory 0x[0-9a-fA-F]{40} on chain 31337/);
    expect(JSON.parse(readFileSync(file, 'utf8')).hub).toBe(r.hub);
    const hub = new Contract(r.hub, artifact('AegisHub').abi as InterfaceAbi, a.provider);
    expect(((await hub.configDigest!()) as string).toLowerCase()).toBe(r.configDigest);
    expect(await hub.guardian!()).toBe(a.wallet(0).address);

    // Again: finds both, verifies, sends nothing.
    const nonce = await a.provider.getTransactionCount(a.wallet(0).address);
    const again = await deployHub({ signer: a.wallet(0), committeeFile: file, confirmations: 1 });
    expect(again).toMatchObject({ hub: r.hub, factory: r.factory, deployed: { hub: false, factory: false, proxy: false }, hubCodeHash: r.hubCodeHash });
    expect(await a.provider.getTransactionCount(a.wallet(0).address)).toBe(nonce);
  });

  it('gives the same committee the same addresses on a chain with another id, through the CLI with the key from the environment', async () => {
    const [a, b] = chains as [Anvil, Anvil];
    const fileA = join(dir, 'committee-a.json');
    const fileB = committeeFile('committee-b.json', 4242);
    const run = promisify(execFile);
    const out = await run(process.execPath, ['--import', 'tsx', 'scripts/aegis.ts', 'hub', 'deploy', '--rpc', b.url, '--committee', fileB, '--confirmations', '1', '--key-env', 'DEPLOY_KEY', '--json'], {
      cwd: ROOT,
      env: { ...process.env, DEPLOY_KEY: ANVIL_KEYS[0] },
    });
    const r = JSON.parse(out.stdout) as { hub: string; factory: string; configDigest: string; deployed: { proxy: boolean } };
    expect(r.deployed.proxy).toBe(false); // anvil's genesis has it
    expect(r.hub).toBe(JSON.parse(readFileSync(fileA, 'utf8')).hub);
    // Same address, different digest: the digest binds the chain id.
    const onA = String(await new Contract(r.hub, artifact('AegisHub').abi as InterfaceAbi, a.provider).configDigest!()).toLowerCase();
    expect(r.configDigest).not.toBe(onA);
  });

  it('refuses a committee file of another chain or a later config version, and code that is not the local build', async () => {
    const [a] = chains as [Anvil];
    await expect(deployHub({ signer: a.wallet(0), committeeFile: committeeFile('wrong-chain.json', 1), confirmations: 1 })).rejects.toThrow(/is for chain 1, the RPC serves chain 31337/);
    const v2 = committeeFile('v2.json', 31337);
    writeFileSync(v2, JSON.stringify({ ...JSON.parse(readFileSync(v2, 'utf8')), configVersion: 2 }));
    await expect(deployHub({ signer: a.wallet(0), committeeFile: v2, confirmations: 1 })).rejects.toThrow(/a new hub starts at configVersion 1/);
    const hubAddress = JSON.parse(readFileSync(join(dir, 'committee-a.json'), 'utf8')).hub as string;
    await expect(verifyDeployedCode(a.provider, hubAddress, artifact('AegisAggregatorV3Factory', compileContracts()), 'hub')).rejects.toMatchObject({ code: 'code_mismatch' });
    // One byte changed outside the immutables is caught.
    const build = artifact('AegisHub', compileContracts());
    const tampered = `${build.deployedBytecode.slice(0, 100)}${build.deployedBytecode[100] === 'f' ? 'e' : 'f'}${build.deployedBytecode.slice(101)}`;
    await expect(verifyDeployedCode(a.provider, hubAddress, { ...build, deployedBytecode: tampered }, 'hub')).rejects.toThrow(/differs from the local build .* from byte 49;/);
    await expect(verifyDeployedCode(a.provider, hubAddress, build, 'hub')).resolves.toMatchObject({ immutables: expect.any(Array) });
  });
});

describe('aegis hub status', () => {
  it('reads feeds, a breaker candidate and the Safe → timelock guardian chain from the chain', async () => {
    const [a] = chains as [Anvil];
    const hubAddress = JSON.parse(readFileSync(join(dir, 'committee-a.json'), 'utf8')).hub as string;
    const hub = new Contract(hubAddress, artifact('AegisHub').abi as InterfaceAbi, a.wallet(0));
    const id = feedId('ETH/USD');
    await (await hub.addFeed!(id, feedConfig({ description: 'ETH / USD', deviationBps: 1000 }))).wait();
    const oracle = new Oracle(hub, { ...committee, groupPublicKey: committee.groupPublicKey });
    oracle.epoch = BigInt(Date.now()) - 10_000n;
    await oracle.push(3000_12345678n);
    await oracle.push(4000_00000000n); // +33 %: trips the 10 % breaker, held as the candidate

    const compiled = compileContracts({ extraSources: { 'test/GovernanceImports.sol': '// SPDX-License-Identifier: MIT\npragma solidity ^0.8.30;\nimport {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";\n' } });
    const owners = [1, 2, 3].map((i) => new Wallet(ANVIL_KEYS[i]!, a.provider));
    const safe = await deploySafe(a.wallet(0), owners, 2);
    const tl = artifact('TimelockController', compiled);
    const { ContractFactory } = await import('ethers');
    const timelock = await new ContractFactory(tl.abi as InterfaceAbi, tl.bytecode, a.wallet(0)).deploy(86_400, [safe.address], [safe.address], '0x0000000000000000000000000000000000000000');
    await timelock.waitForDeployment();
    await (await hub.setGuardian!(await timelock.getAddress())).wait();

    const s = await hubStatus(a.provider, hubAddress);
    expect(s.committee).toMatchObject({ configVersion: 1, n: 4, t: 3 });
    expect(s.feeds).toHaveLength(1);
    expect(s.feeds[0]).toMatchObject({ feedId: id, description: 'ETH / USD', price: '3000.12345678', roundId: 1, status: 'tripped', breaker: { candidate: '4000', confirmationsSeen: 0, confirmationsNeeded: 2 } });
    expect(s.guardian).toMatchObject({ kind: 'timelock', minDelaySec: 86_400, proposers: [{ kind: 'safe', address: safe.address, threshold: 2, owners: owners.map((o) => o.address) }], executors: [safe.address] });

    const run = promisify(execFile);
    const out = await run(process.execPath, ['--import', 'tsx', 'scripts/aegis.ts', 'hub', 'status', '--rpc', a.url, '--hub', hubAddress], { cwd: ROOT });
    expect(out.stdout).toContain(`guardian: timelock ${await timelock.getAddress()} (delay 86400 s) proposed by Safe ${safe.address} (2 of 3, v1.4.1)`);
    expect(out.stdout).toMatch(/ETH \/ USD .*3000\.12345678.*tripped.*candidate 4000 \(0\/2\)/);
    expect(out.stdout).not.toMatch(/\x1b\[/); // piped: no colour codes
  });
});
