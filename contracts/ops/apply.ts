/**
 * `aegis hub apply`: closes the plan. A key guardian sends the batches itself; a Safe guardian
 * gets a file for the Safe web app's Transaction Builder (its import format: version, chainId,
 * meta, transactions) and nothing is sent; a TimelockController guardian gets the
 * `scheduleBatch` / `executeBatch` calldata (and, when a Safe proposes to it, the Transaction
 * Builder file that schedules). Adapters are created by anyone, so a key sends them at once
 * where the guardian is a key, and they join the multisig batch otherwise.
 */
import { writeFileSync } from 'node:fs';
import { Contract, Interface, ZeroHash, getAddress, id, type Provider, type Signer, type TransactionReceipt } from 'ethers';
import { describeGuardian, type Guardian } from './guardian.ts';
import type { Call, Plan } from './plan.ts';

const TIMELOCK = new Interface([
  'function scheduleBatch(address[] targets, uint256[] values, bytes[] payloads, bytes32 predecessor, bytes32 salt, uint256 delay)',
  'function executeBatch(address[] targets, uint256[] values, bytes[] payloads, bytes32 predecessor, bytes32 salt)',
  'function hashOperationBatch(address[] targets, uint256[] values, bytes[] payloads, bytes32 predecessor, bytes32 salt) view returns (bytes32)',
  'function getTimestamp(bytes32 id) view returns (uint256)',
  'function isOperationPending(bytes32 id) view returns (bool)',
  'function isOperationReady(bytes32 id) view returns (bool)',
  'function isOperationDone(bytes32 id) view returns (bool)',
  'event CallScheduled(bytes32 indexed id, uint256 indexed index, address target, uint256 value, bytes data, bytes32 predecessor, uint256 delay)',
]);

/** The Safe Transaction Builder's import format (version 1.0). */
export interface SafeBatchFile {
  version: '1.0';
  chainId: string;
  createdAt: number;
  meta: { name: string; description: string; txBuilderVersion: string; createdFromSafeAddress: string; createdFromOwnerAddress: string };
  transactions: { to: string; value: string; data: string; contractMethod: null; contractInputsValues: null }[];
}

export function safeBatch(chainId: number, safe: string, name: string, calls: Call[]): SafeBatchFile {
  return {
    version: '1.0',
    chainId: String(chainId),
    createdAt: Date.now(),
    meta: { name, description: calls.map((c) => c.what).join('; ').slice(0, 1000), txBuilderVersion: '1.18.0', createdFromSafeAddress: getAddress(safe), createdFromOwnerAddress: '' },
    transactions: calls.map((c) => ({ to: getAddress(c.to), value: '0', data: c.data, contractMethod: null, contractInputsValues: null })),
  };
}

export interface TimelockBatch {
  timelock: string;
  operationId: string;
  minDelaySec: number;
  salt: string;
  schedule: { to: string; data: string };
  execute: { to: string; data: string };
}

/** The timelock batch for `calls` (salt from their content, so the same plan is the same operation). */
export async function timelockBatch(provider: Provider, timelock: string, minDelaySec: number, calls: Call[]): Promise<TimelockBatch> {
  const targets = calls.map((c) => c.to);
  const values = calls.map(() => 0n);
  const payloads = calls.map((c) => c.data);
  const salt = id(JSON.stringify(payloads));
  const t = new Contract(timelock, TIMELOCK, provider);
  const operationId = String(await t.getFunction('hashOperationBatch').staticCall(targets, values, payloads, ZeroHash, salt));
  return {
    timelock: getAddress(timelock),
    operationId,
    minDelaySec,
    salt,
    schedule: { to: getAddress(timelock), data: TIMELOCK.encodeFunctionData('scheduleBatch', [targets, values, payloads, ZeroHash, salt, minDelaySec]) },
    execute: { to: getAddress(timelock), data: TIMELOCK.encodeFunctionData('executeBatch', [targets, values, payloads, ZeroHash, salt]) },
  };
}

export interface PendingOperation {
  id: string;
  state: 'pending' | 'ready' | 'done';
  readyAt: number;
  calls: number;
}

/** Timelock operations that touch `hub`, from its CallScheduled events, with their state. */
export async function pendingTimelockOperations(provider: Provider, timelock: string, hub: string): Promise<PendingOperation[]> {
  const t = new Contract(timelock, TIMELOCK, provider);
  const byId = new Map<string, number>();
  for (const log of await t.queryFilter(t.filters.CallScheduled!(), 0)) {
    const args = (log as unknown as { args: [string, bigint, string] }).args;
    if (getAddress(args[2]) !== getAddress(hub)) continue;
    byId.set(args[0], (byId.get(args[0]) ?? 0) + 1);
  }
  const out: PendingOperation[] = [];
  for (const [opId, calls] of byId) {
    const [done, ready, readyAt] = (await Promise.all([t.getFunction('isOperationDone').staticCall(opId), t.getFunction('isOperationReady').staticCall(opId), t.getFunction('getTimestamp').staticCall(opId)])) as [boolean, boolean, bigint];
    if (readyAt === 0n) continue; // cancelled
    out.push({ id: opId, state: done ? 'done' : ready ? 'ready' : 'pending', readyAt: Number(readyAt), calls });
  }
  return out;
}

export type ApplyResult =
  | { mode: 'sent'; receipts: { what: string; hash: string; gasUsed: bigint }[] }
  | { mode: 'safe'; guardian: Guardian; files: string[] }
  | { mode: 'timelock'; guardian: Guardian; files: string[]; batch: TimelockBatch }
  | { mode: 'nothing' };

export interface ApplyOptions {
  /** Sends where the guardian is this key, and sends adapters. */
  signer?: Signer;
  /** Path prefix of the files written for a multisig guardian (default `hub-apply`). */
  out?: string;
  confirmations?: number;
  say?: (line: string) => void;
}

async function send(signer: Signer, calls: Call[], confirmations: number, say: (l: string) => void): Promise<{ what: string; hash: string; gasUsed: bigint }[]> {
  const out: { what: string; hash: string; gasUsed: bigint }[] = [];
  for (const c of calls) {
    const estimate = await signer.estimateGas({ to: c.to, data: c.data });
    // A 20 % margin, never above the block's gas limit (a batch sized close to it would be refused).
    const blockLimit = (await signer.provider!.getBlock('latest'))?.gasLimit ?? estimate;
    const padded = (estimate * 12n) / 10n;
    const tx = await signer.sendTransaction({ to: c.to, data: c.data, gasLimit: padded < blockLimit ? padded : blockLimit });
    const r = (await tx.wait(confirmations)) as TransactionReceipt;
    if (r.status !== 1) throw new Error(`${c.what}: transaction ${tx.hash} reverted`);
    say(`sent ${c.what.slice(0, 120)}: tx ${tx.hash}, ${r.gasUsed} gas`);
    out.push({ what: c.what, hash: tx.hash, gasUsed: r.gasUsed });
  }
  return out;
}

export async function applyPlan(provider: Provider, hub: string, plan: Plan, o: ApplyOptions = {}): Promise<ApplyResult> {
  const say = o.say ?? (() => undefined);
  if (plan.hubCalls.length === 0 && plan.factoryCalls.length === 0) return { mode: 'nothing' };
  const h = new Contract(hub, ['function guardian() view returns (address)'], provider);
  const guardian = await describeGuardian(provider, String(await h.getFunction('guardian').staticCall()));
  const chainId = Number((await provider.getNetwork()).chainId);
  const prefix = o.out ?? 'hub-apply';
  const confirmations = o.confirmations ?? 1;
  if (plan.hubCalls.length === 0 || guardian.kind === 'eoa') {
    if (plan.hubCalls.length && (!o.signer || getAddress(await o.signer.getAddress()) !== guardian.address)) {
      throw new Error(`the hub's guardian is the key ${guardian.address}; give that key (--keystore or --key-env) to apply, or hand the role to a Safe`);
    }
    if (!o.signer) throw new Error('adapters are created by a transaction: give a key (--keystore or --key-env) to pay for it');
    return { mode: 'sent', receipts: [...(await send(o.signer, plan.hubCalls, confirmations, say)), ...(await send(o.signer, plan.factoryCalls, confirmations, say))] };
  }
  if (guardian.kind === 'safe') {
    const file = `${prefix}.safe.json`;
    writeFileSync(file, `${JSON.stringify(safeBatch(chainId, guardian.address, 'aegis hub apply', [...plan.hubCalls, ...plan.factoryCalls]), null, 2)}\n`);
    say(`guardian is ${guardian.threshold}-of-${guardian.owners.length} Safe ${guardian.address}: nothing sent. Import ${file} in the Safe app (Transaction Builder → drag the file in), review, and collect ${guardian.threshold} signatures`);
    return { mode: 'safe', guardian, files: [file] };
  }
  if (guardian.kind === 'timelock') {
    const batch = await timelockBatch(provider, guardian.address, guardian.minDelaySec, plan.hubCalls);
    const files = [`${prefix}.timelock.json`];
    writeFileSync(files[0]!, `${JSON.stringify({ ...batch, calls: plan.hubCalls.map((c) => c.what), afterExecution: plan.factoryCalls }, null, 2)}\n`);
    const safeProposer = guardian.proposers.find((p) => p.kind === 'safe');
    if (safeProposer) {
      files.push(`${prefix}.schedule.safe.json`, `${prefix}.execute.safe.json`);
      writeFileSync(files[1]!, `${JSON.stringify(safeBatch(chainId, safeProposer.address, 'aegis hub apply: schedule', [{ ...batch.schedule, what: `schedule ${batch.operationId} on timelock ${batch.timelock} (delay ${batch.minDelaySec} s)` }]), null, 2)}\n`);
      writeFileSync(files[2]!, `${JSON.stringify(safeBatch(chainId, safeProposer.address, 'aegis hub apply: execute', [{ ...batch.execute, what: `execute ${batch.operationId} on timelock ${batch.timelock}` }, ...plan.factoryCalls]), null, 2)}\n`);
    }
    say(`guardian is timelock ${guardian.address} (delay ${guardian.minDelaySec} s): nothing sent. Operation ${batch.operationId}: schedule with ${files[1] ?? `the schedule calldata in ${files[0]}`}, then after ${guardian.minDelaySec} s execute with ${files[2] ?? `the execute calldata in ${files[0]}`}`);
    return { mode: 'timelock', guardian, files, batch };
  }
  throw new Error(`the hub's guardian ${guardian.address} is a contract that is neither a Safe nor a TimelockController; apply the calls it needs by hand (aegis hub plan --json lists them)`);
}
