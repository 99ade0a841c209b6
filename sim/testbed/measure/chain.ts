/**
 * What the chain says happened, read back from a real node (anvil) after a run: every
 * `ReportAccepted` on the hub with its transaction, the report and signature decoded from
 * the calldata (`transmit` or `updateAndRead`), the feeds it updated (`FeedUpdated` in the
 * same receipt), and an offline re-verification of the group signature against the
 * committee's group key with protocol/ code (docs/running-over-real-networks.md, "The testbed": `unsignedAccepted`).
 *
 * The re-check does not trust the hub: it recomputes the report message from the decoded
 * fields (`reportMessage`), checks the config digest is the committee's, and verifies the
 * BLS signature with `verifyGroupSignature`. A hub that accepted a forged report (a bug in
 * its verifier, a wrong key installed) shows up here as `unsignedAccepted > 0`.
 */
import { getBytes, Interface, type JsonRpcProvider, type Log } from 'ethers';
import { REPORT_TUPLE_ABI, assertReport, reportMessage, verifyGroupSignature, type Report } from '../../../protocol/index.ts';

/** The hub's events as `contracts/src/interfaces/IAegisHub.sol` declares them. */
export const EVENT_INTERFACE = new Interface([
  'event ReportAccepted(address indexed transmitter, uint64 indexed epoch, uint64 observedAt)',
  'event FeedUpdated(bytes32 indexed feedId, int256 answer)',
]);

/** `updateAndRead` is the consumers' path (pull mode); `transmit` the aggregators'. */
export const CALL_INTERFACE = new Interface([
  `function transmit(${REPORT_TUPLE_ABI} report, bytes signature)`,
  `function updateAndRead(${REPORT_TUPLE_ABI} report, bytes signature, bytes32 feedId, uint256 maxAge) returns (int256 answer, uint256 observedAt, uint256 spreadBps, uint256 roundId)`,
]);

export interface FeedUpdate {
  feedId: string;
  answer: bigint;
}

export interface AcceptedReport {
  txHash: string;
  blockNumber: number;
  /** Block timestamp, unix s. */
  blockTime: number;
  transmitter: string;
  epoch: bigint;
  observedAt: bigint;
  /** The function the calldata called, or null when it was not a hub call we can decode. */
  method: 'transmit' | 'updateAndRead' | null;
  report: Report | null;
  /** The signature bytes of the calldata (96-byte x ‖ y). */
  signature: string | null;
  updates: FeedUpdate[];
}

export interface SignatureCheck {
  ok: boolean;
  /** Why not, worded for the report. */
  reason?: string;
}

/** Decodes a hub call's calldata into the report and signature it carried. */
export function decodeHubCall(data: string): { method: 'transmit' | 'updateAndRead'; report: Report; signature: string } | null {
  let parsed;
  try {
    parsed = CALL_INTERFACE.parseTransaction({ data });
  } catch {
    return null;
  }
  if (!parsed || (parsed.name !== 'transmit' && parsed.name !== 'updateAndRead')) return null;
  const r = parsed.args[0];
  const report: Report = {
    configDigest: String(r.configDigest).toLowerCase(),
    epoch: BigInt(r.epoch),
    observedAt: BigInt(r.observedAt),
    observationsRoot: String(r.observationsRoot).toLowerCase(),
    observers: BigInt(r.observers),
    feedIds: [...r.feedIds].map((x: string) => String(x).toLowerCase()),
    answers: [...r.answers].map((x: bigint) => BigInt(x)),
    spreadBps: [...r.spreadBps].map((x: bigint) => Number(x)),
  };
  try {
    assertReport(report);
  } catch {
    return null;
  }
  return { method: parsed.name, report, signature: String(parsed.args[1]) };
}

/**
 * The committee's verdict on one accepted report, offline: digest is the committee's, and
 * the group signature verifies over the recomputed message. Never throws.
 */
export function checkAccepted(a: Pick<AcceptedReport, 'report' | 'signature' | 'epoch'>, committee: { configDigest: string; groupPublicKey: Uint8Array | string }): SignatureCheck {
  if (!a.report || !a.signature) return { ok: false, reason: `epoch ${a.epoch}: the accepting transaction's calldata is not transmit/updateAndRead; cannot re-verify` };
  if (a.report.configDigest.toLowerCase() !== committee.configDigest.toLowerCase()) {
    return { ok: false, reason: `epoch ${a.epoch}: config digest ${a.report.configDigest} is not the committee's ${committee.configDigest}` };
  }
  if (a.report.epoch !== a.epoch) return { ok: false, reason: `event epoch ${a.epoch} differs from the calldata's report epoch ${a.report.epoch}` };
  let sig: Uint8Array;
  try {
    sig = getBytes(a.signature);
  } catch {
    return { ok: false, reason: `epoch ${a.epoch}: signature is not hex` };
  }
  const key = typeof committee.groupPublicKey === 'string' ? getBytes(committee.groupPublicKey) : committee.groupPublicKey;
  if (!verifyGroupSignature(sig, reportMessage(a.report), key)) return { ok: false, reason: `epoch ${a.epoch}: the group signature does not verify against the committee's group key` };
  return { ok: true };
}

/** Every `ReportAccepted` of `hub` from `fromBlock` on, with calldata decoded and feed updates. */
export async function readAccepted(provider: JsonRpcProvider, hub: string, fromBlock = 0): Promise<AcceptedReport[]> {
  const topic = EVENT_INTERFACE.getEvent('ReportAccepted')!.topicHash;
  const logs: Log[] = await provider.getLogs({ address: hub, topics: [topic], fromBlock, toBlock: 'latest' });
  const blockTimes = new Map<number, number>();
  const out: AcceptedReport[] = [];
  for (const log of logs) {
    const ev = EVENT_INTERFACE.parseLog(log)!;
    const [tx, receipt] = await Promise.all([provider.getTransaction(log.transactionHash), provider.getTransactionReceipt(log.transactionHash)]);
    if (!blockTimes.has(log.blockNumber)) blockTimes.set(log.blockNumber, (await provider.getBlock(log.blockNumber))!.timestamp);
    const call = tx && tx.to?.toLowerCase() === hub.toLowerCase() ? decodeHubCall(tx.data) : null;
    const updates: FeedUpdate[] = [];
    for (const l of receipt?.logs ?? []) {
      if (l.address.toLowerCase() !== hub.toLowerCase()) continue;
      let p;
      try {
        p = EVENT_INTERFACE.parseLog(l);
      } catch {
        continue;
      }
      if (p?.name === 'FeedUpdated') updates.push({ feedId: String(p.args[0]).toLowerCase(), answer: BigInt(p.args[1]) });
    }
    out.push({
      txHash: log.transactionHash,
      blockNumber: log.blockNumber,
      blockTime: blockTimes.get(log.blockNumber)!,
      transmitter: String(ev.args[0]),
      epoch: BigInt(ev.args[1]),
      observedAt: BigInt(ev.args[2]),
      method: call?.method ?? null,
      report: call?.report ?? null,
      signature: call?.signature ?? null,
      updates,
    });
  }
  return out;
}

/** Count and reasons of accepted reports the committee did not sign. */
export function unsignedAccepted(accepted: readonly AcceptedReport[], committee: { configDigest: string; groupPublicKey: Uint8Array | string }): { count: number; reasons: string[] } {
  const reasons = accepted.map((a) => checkAccepted(a, committee)).filter((c) => !c.ok).map((c) => c.reason!);
  return { count: reasons.length, reasons };
}
