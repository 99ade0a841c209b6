/**
 * Chainlink's current feed path, from `@chainlink/contracts` 1.5.0: `KeystoneForwarder.report`
 * with `f + 1` ECDSA signatures of the DON, delivering to `DataFeedsCache.onReport` with a
 * decimal report (`ReceivedDecimalReport[]`).
 *
 * Report layout (read from `KeystoneForwarder._getMetadata` and `DataFeedsCache
 * ._getWorkflowMetaData`): `rawReport` = version (1) ‖ workflowExecutionId (32) ‖ timestamp (4)
 * ‖ donId (4) ‖ donConfigVersion (4) ‖ workflowCid (32) ‖ workflowName (10) ‖ workflowOwner
 * (20) ‖ reportId (2) ‖ body; the forwarder passes bytes 45..109 as `metadata` and the body as
 * `report`. Signers sign `keccak256(keccak256(rawReport) ‖ reportContext)` with raw (r, s, v−27)
 * signatures. Data ids are `bytes16` with byte 7 = 0x20 + decimals (0x28 for 8 decimals).
 *
 * One forwarder and one cache serve every committee size: committee `n` is DON 1, config
 * version `n`, `f = ⌊(n−1)/3⌋` (the forwarder allows at most 31 signers).
 */
import { AbiCoder, Contract, Signature, SigningKey, concat, keccak256, toBeHex, toUtf8Bytes, type Signer, type Wallet } from 'ethers';
import { foreignArtifact } from '../../contracts/foreign.ts';
import { committeeWallets, deployArtifact, PeerError, sendRaw, testAnswer } from './common.ts';
import { compileDataFeedsCache, compileKeystoneForwarder } from './compile.ts';

/** `KeystoneForwarder.MAX_ORACLES`. */
export const KEYSTONE_MAX_SIGNERS = 31;
const DON_ID = 1;
const WORKFLOW_NAME = '0x' + Buffer.from('aegisbench').toString('hex'); // bytes10
const WORKFLOW_CID = keccak256(toUtf8Bytes('aegis-bench workflow'));
const REPORT_ID = '0x0001';
const coder = AbiCoder.defaultAbiCoder();

export interface KeystoneSetup {
  forwarder: Contract;
  cache: Contract;
  /** The workflow owner configured in the cache's allowances. */
  workflowOwner: string;
  dataIds: string[];
  committees: Map<number, { f: number; wallets: Wallet[] }>;
  execution: number;
}

/** Data id of feed `i`: 0x01, six bytes of index, 0x28 (decimal, 8 decimals), zeros. */
export function keystoneDataId(i: number): string {
  return '0x01' + i.toString(16).padStart(12, '0') + '28' + '00'.repeat(8);
}

export async function setupKeystone(signer: Signer, opts: { committees: number[]; feeds: number }): Promise<KeystoneSetup> {
  const forwarder = await deployArtifact(signer, foreignArtifact(compileKeystoneForwarder(), 'KeystoneForwarder'));
  const cache = await deployArtifact(signer, foreignArtifact(compileDataFeedsCache(), 'DataFeedsCache'));
  const admin = await signer.getAddress();
  const workflowOwner = committeeWallets('keystone-workflow-owner', 1)[0]!.address;
  await (await cache.setFeedAdmin!(admin, true)).wait();
  const dataIds = Array.from({ length: opts.feeds }, (_, i) => keystoneDataId(i));
  const meta = [{ allowedSender: await forwarder.getAddress(), allowedWorkflowOwner: workflowOwner, allowedWorkflowName: WORKFLOW_NAME }];
  for (let i = 0; i < dataIds.length; i += 50) {
    const ids = dataIds.slice(i, i + 50);
    await (await cache.setDecimalFeedConfigs!(ids, ids.map((_, j) => `F${i + j} / USD`), meta)).wait();
  }
  const committees = new Map<number, { f: number; wallets: Wallet[] }>();
  for (const n of opts.committees) {
    if (n > KEYSTONE_MAX_SIGNERS) throw new PeerError('peer_bad_committee', `keystone: committee ${n} exceeds the forwarder's maximum of ${KEYSTONE_MAX_SIGNERS} signers`);
    const f = Math.floor((n - 1) / 3);
    const wallets = committeeWallets('keystone', n);
    await (await forwarder.setConfig!(DON_ID, n, f, wallets.map((w) => w.address))).wait();
    committees.set(n, { f, wallets });
  }
  return { forwarder, cache, workflowOwner, dataIds, committees, execution: 0 };
}

/** Builds the raw report (metadata header + decimal-report body) for the first `feeds` data ids. */
export function keystoneRawReport(s: KeystoneSetup, n: number, answers: bigint[], timestamp: number): { rawReport: string; executionId: string } {
  s.execution += 1;
  const executionId = keccak256(toUtf8Bytes(`aegis-bench execution ${s.execution}`));
  const header = concat([
    '0x01',
    executionId,
    toBeHex(timestamp, 4),
    toBeHex(DON_ID, 4),
    toBeHex(n, 4),
    WORKFLOW_CID,
    WORKFLOW_NAME,
    s.workflowOwner,
    REPORT_ID,
  ]);
  const body = coder.encode(
    ['tuple(bytes32 dataId, uint32 timestamp, uint224 answer)[]'],
    [answers.map((answer, i) => ({ dataId: s.dataIds[i]! + '00'.repeat(16), timestamp, answer }))],
  );
  return { rawReport: concat([header, body]), executionId };
}

/** `f + 1` raw signatures (r ‖ s ‖ v−27) over `keccak256(keccak256(rawReport) ‖ reportContext)`. */
export function keystoneSign(wallets: Wallet[], count: number, rawReport: string, reportContext: string): string[] {
  const hash = keccak256(concat([keccak256(rawReport), reportContext]));
  return wallets.slice(0, count).map((w) => {
    const sig = Signature.from(new SigningKey(w.privateKey).sign(hash));
    return concat([sig.r, sig.s, toBeHex(sig.yParity, 1)]);
  });
}

/**
 * One update of the first `feeds` feeds by committee `n`: builds, signs and sends
 * `forwarder.report(cache, …)`. Throws unless the forwarder reports a successful delivery and
 * the cache emitted one `DecimalReportUpdated` per feed.
 */
export async function keystoneUpdate(s: KeystoneSetup, signer: Signer, n: number, feeds: number, step: number, timestamp: number): Promise<{ gas: number; answers: bigint[] }> {
  const c = s.committees.get(n);
  if (!c) throw new PeerError('peer_bad_committee', `keystone: committee ${n} not configured; pass it to setupKeystone`);
  const answers = Array.from({ length: feeds }, (_, i) => testAnswer(i, step));
  const { rawReport } = keystoneRawReport(s, n, answers, timestamp);
  const reportContext = concat([keccak256(toUtf8Bytes(`config ${n}`)), toBeHex(step, 32), '0x' + '00'.repeat(32)]);
  const signatures = keystoneSign(c.wallets, c.f + 1, rawReport, reportContext);
  const cacheAddr = await s.cache.getAddress();
  const data = s.forwarder.interface.encodeFunctionData('report', [cacheAddr, rawReport, reportContext, signatures]);
  const receipt = await sendRaw(signer, await s.forwarder.getAddress(), data, `keystone report (n=${n}, feeds=${feeds})`);
  let processed: boolean | undefined;
  let updated = 0;
  for (const log of receipt.logs) {
    const fwd = log.address.toLowerCase() === (await s.forwarder.getAddress()).toLowerCase() ? s.forwarder.interface.parseLog(log) : null;
    if (fwd?.name === 'ReportProcessed') processed = fwd.args.result as boolean;
    const cl = log.address.toLowerCase() === cacheAddr.toLowerCase() ? s.cache.interface.parseLog(log) : null;
    if (cl?.name === 'DecimalReportUpdated') updated += 1;
    if (cl?.name === 'InvalidUpdatePermission' || cl?.name === 'StaleDecimalReport') {
      throw new PeerError('peer_update_rejected', `keystone: cache rejected a feed with ${cl.name}; check the workflow allowances and timestamps`);
    }
  }
  if (processed !== true) throw new PeerError('peer_update_rejected', `keystone: forwarder delivery failed (ReportProcessed result ${String(processed)})`);
  if (updated !== feeds) throw new PeerError('peer_update_rejected', `keystone: ${updated} of ${feeds} feeds updated`);
  return { gas: Number(receipt.gasUsed), answers };
}

/** Reads back feed `i` from the cache. */
export async function keystoneRead(s: KeystoneSetup, i: number): Promise<{ answer: bigint; timestamp: bigint }> {
  const id = s.dataIds[i]!;
  return { answer: (await s.cache.getLatestAnswer!(id)) as bigint, timestamp: (await s.cache.getLatestTimestamp!(id)) as bigint };
}
