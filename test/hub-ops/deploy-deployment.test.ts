/**
 * `aegis hub deploy --deployment`: the hub of a further deployment of one committee file
 * (docs/design.md §Committee file) on a second chain. A name the file does not list adds the
 * entry once the hub is verified; a listed entry is verified against its chain and address
 * before any transaction, and a run on the wrong chain is refused naming the deployment.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Contract, type InterfaceAbi } from 'ethers';
import { ANVIL_KEYS, startAnvil, type Anvil } from '../../contracts/anvil.ts';
import { artifact, compileContracts } from '../../contracts/compile.ts';
import { devCommitteeFile } from '../../contracts/hub.ts';
import { deployHub } from '../../contracts/ops/deploy-hub.ts';
import { dealerKeygen } from '../../protocol/bls/index.ts';
import { committeeDeployments, parseCommittee } from '../../protocol/committee.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'aegis-hub-deployment-'));
const file = join(dir, 'committee.json');
const chains: Anvil[] = [];
const compiled = compileContracts();
const readFile = () => JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown> & { hub: string; deployments?: { chainId: number; hub: string; configVersion: number; name?: string }[] };

beforeAll(async () => {
  chains.push(await startAnvil({ chainId: 31337 }));
  chains.push(await startAnvil({ chainId: 4242 }));
  writeFileSync(file, JSON.stringify(devCommitteeFile(dealerKeygen(3, 4), 31337)));
});
afterAll(async () => {
  for (const c of chains) await c.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('aegis hub deploy --deployment', () => {
  it('adds a new named deployment on the second chain once its hub is verified, with that hub\'s digest on chain', async () => {
    const [a, b] = chains as [Anvil, Anvil];
    const primary = await deployHub({ signer: a.wallet(0), committeeFile: file, confirmations: 1, compiled });
    const lines: string[] = [];
    const r = await deployHub({ signer: b.wallet(0), committeeFile: file, confirmations: 1, compiled, deployment: 'base', say: (l) => lines.push(l) });
    expect(r.deployment).toEqual({ chainId: '4242', name: 'base', added: true });
    expect(r.deployed.hub).toBe(true);
    expect(r.hub).toBe(primary.hub); // same committee and salt: same address on every chain
    const after = readFile();
    expect(after.hub).toBe(primary.hub); // the primary is untouched
    expect(after.deployments).toEqual([{ chainId: 4242, hub: r.hub, configVersion: 1, name: 'base' }]);
    expect(lines.some((l) => l.startsWith(`committee file ${file}: added {"chainId":4242,`))).toBe(true);
    const base = committeeDeployments(parseCommittee(after)).find((d) => d.name === 'base')!;
    expect(r.configDigest).toBe(base.configDigest);
    const onB = String(await new Contract(r.hub, artifact('AegisHub', compiled).abi as InterfaceAbi, b.provider).configDigest!()).toLowerCase();
    expect(onB).toBe(base.configDigest);
    expect(base.configDigest).not.toBe(primary.configDigest);
  });

  it('verifies a listed deployment by chain id through the CLI, sending nothing and rewriting nothing', async () => {
    const [, b] = chains as [Anvil, Anvil];
    const before = readFileSync(file, 'utf8');
    const nonce = await b.provider.getTransactionCount(b.wallet(0).address);
    const out = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/aegis.ts', 'hub', 'deploy', '--rpc', b.url, '--committee', file, '--deployment', '4242', '--confirmations', '1', '--key-env', 'DEPLOY_KEY', '--json'], {
      cwd: ROOT,
      env: { ...process.env, DEPLOY_KEY: ANVIL_KEYS[0] },
    });
    const r = JSON.parse(out.stdout) as { hub: string; deployed: { hub: boolean; factory: boolean }; deployment: unknown };
    expect(r).toMatchObject({ deployed: { hub: false, factory: false }, deployment: { chainId: '4242', name: 'base', added: false } });
    expect(readFileSync(file, 'utf8')).toBe(before);
    expect(await b.provider.getTransactionCount(b.wallet(0).address)).toBe(nonce);
  });

  it('refuses, by name and before any transaction, the wrong chain, an address the file does not list, and a second entry for one hub', async () => {
    const [a, b] = chains as [Anvil, Anvil];
    const nonceA = await a.provider.getTransactionCount(a.wallet(0).address);
    await expect(deployHub({ signer: a.wallet(0), committeeFile: file, confirmations: 1, compiled, deployment: 'base' })).rejects.toThrow(
      /--deployment base: deployment base \(chain 4242, hub 0x[0-9a-fA-F]{40}\) of committee file .* is on chain 4242, the RPC serves chain 31337; point --rpc at chain 4242/,
    );
    await expect(deployHub({ signer: a.wallet(0), committeeFile: file, confirmations: 1, compiled, deployment: '4242' })).rejects.toThrow(/is on chain 4242, the RPC serves chain 31337/);
    // Without --deployment on the second chain: the primary is for another chain; the hint names the entry.
    await expect(deployHub({ signer: b.wallet(0), committeeFile: file, confirmations: 1, compiled })).rejects.toThrow(/is for chain 31337, the RPC serves chain 4242; point --rpc at chain 31337, or deploy its hub for chain 4242 with --deployment base/);
    // The same name on the primary's chain would list the primary's hub twice.
    await expect(deployHub({ signer: a.wallet(0), committeeFile: file, confirmations: 1, compiled, deployment: 'mainnet-twin' })).rejects.toThrow(/adding hub 0x[0-9a-fA-F]{40} to committee file .* would make it invalid .*listed twice.*give another --salt/);
    expect(await a.provider.getTransactionCount(a.wallet(0).address)).toBe(nonceA);

    // Another guardian gives another address than the entry lists: refused before sending.
    const nonceB = await b.provider.getTransactionCount(b.wallet(0).address);
    await expect(deployHub({ signer: b.wallet(0), committeeFile: file, confirmations: 1, compiled, deployment: 'base', guardian: b.wallet(1).address })).rejects.toMatchObject({
      code: 'address_mismatch',
      message: expect.stringMatching(/deployment base \(chain 4242, hub 0x[0-9a-fA-F]{40}\): committee file .* lists hub 0x[0-9a-fA-F]{40}, this deployment lands at 0x[0-9a-fA-F]{40}; .*remove the entry and run again/),
    });
    // A listed entry at a later config version is reached by rotation, not a new hub.
    const raw = readFile();
    writeFileSync(file, JSON.stringify({ ...raw, deployments: [{ ...raw.deployments![0]!, configVersion: 2 }] }));
    await expect(deployHub({ signer: b.wallet(0), committeeFile: file, confirmations: 1, compiled, deployment: 'base' })).rejects.toThrow(/configVersion 2 for deployment base .*a new hub starts at configVersion 1/);
    expect(await b.provider.getTransactionCount(b.wallet(0).address)).toBe(nonceB);
  });
});
