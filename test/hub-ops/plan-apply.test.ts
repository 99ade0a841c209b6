/**
 * `aegis hub plan` / `apply` against a real hub: 100 feeds from empty in at most 2
 * transactions per 50 feeds, then nothing left to plan; a change of breaker, a pause and a new
 * feed in one pass; the guardian handed to a real 2-of-3 Safe, whose batch file (the
 * Transaction Builder format) is executed by the Safe the way its web app does it (MultiSend
 * through a delegatecall); then a timelock behind the Safe: schedule, pending in the plan,
 * execute after the delay.
 */
import { devCommitteeFile } from '../../contracts/hub.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Contract, ContractFactory, SigningKey, Wallet, concat, getBytes, solidityPacked, type InterfaceAbi } from 'ethers';
import { parse, stringify } from 'yaml';
import { ANVIL_KEYS, startAnvil, type Anvil } from '../../contracts/anvil.ts';
import { abiOf } from '../../contracts/abi.ts';
import { artifact, compileContracts, ROOT } from '../../contracts/compile.ts';
import { deployHub } from '../../contracts/ops/deploy-hub.ts';
import { applyPlan, pendingTimelockOperations, type SafeBatchFile } from '../../contracts/ops/apply.ts';
import { loadHubConfig, resolveHubConfig } from '../../contracts/ops/hub-config.ts';
import { planHub } from '../../contracts/ops/plan.ts';
import { dealerKeygen } from '../../protocol/bls/index.ts';
import { feedId } from '../../protocol/report.ts';
import { deploySafe, type SafeHandle } from '../contracts/helpers/safe.ts';

const dir = mkdtempSync(join(tmpdir(), 'aegis-hub-apply-'));
let anvil: Anvil;
let hubAddress: string;
let factoryAddress: string;
const committee = dealerKeygen(3, 4);
const NAMES = Array.from({ length: 100 }, (_, i) => `T${String(i).padStart(3, '0')}/USD`);

function yamlFile(name: string, doc: Record<string, unknown>): string {
  const file = join(dir, name);
  writeFileSync(file, stringify(doc));
  return file;
}
function desired(extra: Record<string, unknown> = {}, feeds: Record<string, unknown>[] = NAMES.map((name) => ({ name }))): Record<string, unknown> {
  return { hub: hubAddress, chainId: 31337, factory: factoryAddress, defaults: { decimals: 8, minAnswer: '0.0001', maxAnswer: '1000000', historyCapacity: 32, breaker: { deviationPct: 10 } }, feeds, ...extra };
}

beforeAll(async () => {
  anvil = await startAnvil({ gasLimit: 30_000_000n });
  const file = join(dir, 'committee.json');
  writeFileSync(
    file,
    JSON.stringify(devCommitteeFile(committee, 31337)),
  );
  const r = await deployHub({ signer: anvil.wallet(0), committeeFile: file, confirmations: 1 });
  hubAddress = r.hub;
  factoryAddress = r.factory;
});
afterAll(async () => {
  await anvil?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('aegis hub plan / apply', () => {
  it('adds 100 feeds from empty in at most 2 transactions per 50 feeds; then plan shows nothing', async () => {
    const file = yamlFile('hub.yaml', desired({}, NAMES.map((name, i) => ({ name, ...(i < 2 ? { adapters: ['lenient', { strict: { maxAgeSec: 3600 } }] } : {}) }))));
    const plan = await planHub(anvil.provider, loadHubConfig(file));
    expect(plan.counts).toEqual({ add: 100, configure: 0, pause: 0, adapters: 4 });
    expect(plan.hubCalls.length).toBeLessThanOrEqual(4);
    const r = await applyPlan(anvil.provider, hubAddress, plan, { signer: anvil.wallet(0) });
    expect(r.mode).toBe('sent');
    if (r.mode !== 'sent') return;
    expect(r.receipts.length).toBe(plan.hubCalls.length + plan.factoryCalls.length);
    for (const x of r.receipts) expect(x.gasUsed).toBeLessThan(30_000_000n);
    const hub = new Contract(hubAddress, abiOf('AegisHub'), anvil.provider);
    expect(((await hub.feedIds!()) as string[]).length).toBe(100);
    expect((await hub.feedConfig!(feedId('T042/USD'))).minAnswer).toBe(10_000n);
    const factory = new Contract(factoryAddress, abiOf('AegisAggregatorV3Factory'), anvil.provider);
    expect(BigInt(await factory.strictAdapterOf!(hubAddress, feedId('T001/USD'), 3600))).not.toBe(0n);
    const again = await planHub(anvil.provider, loadHubConfig(file));
    expect(again).toMatchObject({ changes: [], hubCalls: [], factoryCalls: [] });
  });

  it('closes a breaker change, a pause and a new feed in one pass, and warns about what it cannot change', async () => {
    const feeds = NAMES.map((name) => ({ name })) as Record<string, unknown>[];
    feeds[3] = { name: NAMES[3], breaker: { deviationPct: 5, confirmations: 3 } };
    feeds[5] = { name: NAMES[5], paused: true };
    feeds[7] = { name: NAMES[7], historyCapacity: 8 };
    feeds.push({ name: 'NEW/USD', description: 'New / USD' });
    const file = yamlFile('hub-2.yaml', desired({}, feeds));
    const plan = await planHub(anvil.provider, loadHubConfig(file));
    expect(plan.changes).toEqual([
      '~ feed T003/USD: deviationBps 1000 → 500, confirmations 2 → 3',
      '~ feed T005/USD: paused',
      '+ feed NEW/USD: New / USD, 8 decimals, breaker 10 %, heartbeat 3600 s, history 32',
    ]);
    expect(plan.warnings).toEqual([expect.stringMatching(/^feed T007\/USD: historyCapacity 32 on chain, 8 in the file; the hub fixes it/)]);
    expect(plan.hubCalls).toHaveLength(2); // addFeeds, then one multicall of the two others
    await applyPlan(anvil.provider, hubAddress, plan, { signer: anvil.wallet(0) });
    expect((await planHub(anvil.provider, loadHubConfig(file))).changes).toEqual([]);
  });

  it('with a Safe guardian, writes a Transaction Builder batch that the Safe executes; plan then shows nothing', async () => {
    const owners = [1, 2, 3].map((i) => new Wallet(ANVIL_KEYS[i]!, anvil.provider));
    const safe = await deploySafe(anvil.wallet(0), owners, 2);
    const handOver = yamlFile('hub-3.yaml', { ...desired(), guardian: safe.address, feeds: loadFeeds('hub-2.yaml') });
    const p1 = await planHub(anvil.provider, loadHubConfig(handOver));
    expect(p1.changes).toEqual([`~ guardian ${anvil.wallet(0).address} → ${safe.address} (applied last)`]);
    await applyPlan(anvil.provider, hubAddress, p1, { signer: anvil.wallet(0) });

    const change = yamlFile('hub-4.yaml', { ...desired(), guardian: safe.address, feeds: loadFeeds('hub-2.yaml').map((f) => (f.name === 'NEW/USD' ? { ...f, heartbeatSec: 600 } : f)) });
    const plan = await planHub(anvil.provider, loadHubConfig(change));
    expect(plan.changes).toEqual(['~ feed NEW/USD: heartbeat 3600 → 600']);
    const r = await applyPlan(anvil.provider, hubAddress, plan, { signer: anvil.wallet(0), out: join(dir, 'safe') });
    expect(r.mode).toBe('safe');
    const batch = JSON.parse(readFileSync(join(dir, 'safe.safe.json'), 'utf8')) as SafeBatchFile;
    expect(batch).toMatchObject({ version: '1.0', chainId: '31337', meta: { createdFromSafeAddress: safe.address } });
    await execBatch(safe, batch, owners.slice(0, 2));
    expect((await planHub(anvil.provider, loadHubConfig(change))).changes).toEqual([]);
    // The key alone can no longer apply a change.
    const other = yamlFile('hub-5.yaml', { ...desired(), guardian: safe.address, feeds: loadFeeds('hub-4.yaml').map((f) => (f.name === 'NEW/USD' ? { ...f, heartbeatSec: 700 } : f)) });
    const p5 = await planHub(anvil.provider, loadHubConfig(other));
    await expect(applyPlan(anvil.provider, hubAddress, { ...p5, factoryCalls: [] }, { signer: anvil.wallet(0), out: join(dir, 'safe5') })).resolves.toMatchObject({ mode: 'safe' });
    expect((await planHub(anvil.provider, loadHubConfig(other))).changes).toEqual(['~ feed NEW/USD: heartbeat 600 → 700']);

    // Then the Safe hands the role to a timelock it proposes to: schedule, pending, execute.
    const compiled = compileContracts({ extraSources: { 'test/GovernanceImports.sol': '// SPDX-License-Identifier: MIT\npragma solidity ^0.8.30;\nimport {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";\n' } });
    const tl = artifact('TimelockController', compiled);
    const timelock = await new ContractFactory(tl.abi as InterfaceAbi, tl.bytecode, anvil.wallet(0)).deploy(3600, [safe.address], [safe.address], '0x0000000000000000000000000000000000000000');
    await timelock.waitForDeployment();
    const toTimelock = yamlFile('hub-6.yaml', { ...desired(), guardian: await timelock.getAddress(), feeds: loadFeeds('hub-4.yaml') });
    await applyPlan(anvil.provider, hubAddress, await planHub(anvil.provider, loadHubConfig(toTimelock)), { signer: anvil.wallet(0), out: join(dir, 'handover') });
    await execBatch(safe, JSON.parse(readFileSync(join(dir, 'handover.safe.json'), 'utf8')) as SafeBatchFile, owners.slice(1, 3));

    const viaTimelock = yamlFile('hub-7.yaml', { ...desired(), guardian: await timelock.getAddress(), feeds: loadFeeds('hub-4.yaml').map((f) => (f.name === 'NEW/USD' ? { ...f, heartbeatSec: 900 } : f)) });
    const p7 = await planHub(anvil.provider, loadHubConfig(viaTimelock));
    const t7 = await applyPlan(anvil.provider, hubAddress, p7, { signer: anvil.wallet(0), out: join(dir, 'tl') });
    expect(t7.mode).toBe('timelock');
    await execBatch(safe, JSON.parse(readFileSync(join(dir, 'tl.schedule.safe.json'), 'utf8')) as SafeBatchFile, owners.slice(0, 2));
    const pending = await pendingTimelockOperations(anvil.provider, await timelock.getAddress(), hubAddress);
    expect(pending).toEqual([expect.objectContaining({ id: t7.mode === 'timelock' ? t7.batch.operationId : '', state: 'pending', calls: 1 })]);
    await anvil.increaseTime(3601);
    await execBatch(safe, JSON.parse(readFileSync(join(dir, 'tl.execute.safe.json'), 'utf8')) as SafeBatchFile, owners.slice(0, 2));
    expect((await planHub(anvil.provider, loadHubConfig(viaTimelock))).changes).toEqual([]);
    expect((await pendingTimelockOperations(anvil.provider, await timelock.getAddress(), hubAddress))[0]!.state).toBe('done');
  });

  it('names the field of a bad hub.yaml, with the nearest key for a typo', () => {
    expect(() => resolveHubConfig({ hub: hubAddress, chainId: 31337, feeds: [{ name: 'A/USD', hearbeatSec: 5 }] })).toThrow(/feeds\.0: unknown key "hearbeatSec" \(did you mean "heartbeatSec"\?\)/);
    expect(() => resolveHubConfig({ hub: hubAddress, chainId: 31337, feeds: [{ name: 'A/USD', minAnswer: '5', maxAnswer: '1' }] })).toThrow(/feeds\.0 \(A\/USD\): minAnswer 5 must be below maxAnswer 1/);
    expect(() => resolveHubConfig({ hub: hubAddress, chainId: 31337, feeds: [{ name: 'A/USD', adapters: ['lenient'] }] })).toThrow(/feeds list adapters but "factory" is not set/);
  });
});

function loadFeeds(name: string): Record<string, unknown>[] {
  return (parse(readFileSync(join(dir, name), 'utf8')) as { feeds: Record<string, unknown>[] }).feeds;
}

/** What the Safe app does with a Transaction Builder batch: MultiSendCallOnly through a delegatecall, signed by `signers`. */
async function execBatch(safe: SafeHandle, batch: SafeBatchFile, signers: Wallet[]): Promise<void> {
  const art = JSON.parse(readFileSync(join(ROOT, 'node_modules/@safe-global/safe-contracts/build/artifacts/contracts/libraries/MultiSendCallOnly.sol/MultiSendCallOnly.json'), 'utf8')) as { abi: InterfaceAbi; bytecode: string };
  const multiSend = await new ContractFactory(art.abi, art.bytecode, anvil.wallet(0)).deploy();
  await multiSend.waitForDeployment();
  const packed = concat(batch.transactions.map((t) => solidityPacked(['uint8', 'address', 'uint256', 'uint256', 'bytes'], [0, t.to, BigInt(t.value), getBytes(t.data).length, t.data])));
  const data = multiSend.interface.encodeFunctionData('multiSend', [packed]);
  const to = await multiSend.getAddress();
  const ZERO = '0x0000000000000000000000000000000000000000';
  const nonce = (await safe.safe.nonce!()) as bigint;
  const hash = (await safe.safe.getTransactionHash!(to, 0n, data, 1, 0n, 0n, 0n, ZERO, ZERO, nonce)) as string;
  const sorted = [...signers].sort((a, b) => (BigInt(a.address) < BigInt(b.address) ? -1 : 1));
  const sigs = concat(sorted.map((w) => new SigningKey(w.privateKey).sign(getBytes(hash)).serialized));
  const rc = await (await (safe.safe.connect(anvil.wallet(0)) as Contract).execTransaction!(to, 0n, data, 1, 0n, 0n, 0n, ZERO, ZERO, sigs)).wait();
  const failed = rc!.logs.some((l: { topics: readonly string[] }) => l.topics[0] === safe.safe.interface.getEvent('ExecutionFailure')!.topicHash);
  if (failed) throw new Error('the Safe executed the batch but it failed (ExecutionFailure)');
}
