/**
 * The in-browser check of a round's group signature, with the repository's own `protocol/`
 * code bundled (the same decoding, message hashing and pairing check the nodes, the
 * aggregator and the hub's tests use; docs/design.md §Report and config digest). The group key
 * and config digest come from the hub over RPC, never from the aggregator, so a reader who
 * distrusts the aggregator still learns whether the committee signed these exact bytes.
 * Loaded on demand: the pairing code is not needed for the first paint.
 */
import { getBytes } from 'ethers';

export interface VerifyResult {
  ok: boolean;
  /** One line for the reader: what was checked and against what. */
  message: string;
  digestMatches: boolean;
  signatureValid: boolean;
  ms: number;
}

export async function verifyRoundSignature(encodedReport: string, signature: string, hub: { configDigest: string; groupPublicKey: string }): Promise<VerifyResult> {
  const t0 = performance.now();
  const [{ decodeReport, reportMessage }, { verifyGroupSignature }, { g2FromEip2537 }] = await Promise.all([
    import('../../protocol/report.ts'),
    import('../../protocol/bls/threshold.ts'),
    import('../../protocol/bls/points.ts'),
  ]);
  let report;
  try {
    report = decodeReport(encodedReport);
  } catch (err) {
    return { ok: false, digestMatches: false, signatureValid: false, ms: performance.now() - t0, message: `report does not decode: ${(err as Error).message}` };
  }
  const digestMatches = report.configDigest.toLowerCase() === hub.configDigest.toLowerCase();
  const groupKey = g2FromEip2537(getBytes(hub.groupPublicKey), "the hub's group public key").toBytes(true);
  const signatureValid = verifyGroupSignature(getBytes(signature), reportMessage(report), groupKey);
  const ok = digestMatches && signatureValid;
  const message = ok
    ? `valid: the committee's group signature verifies over this report against the hub's group key (config digest ${hub.configDigest.slice(0, 10)}… matches)`
    : !signatureValid
      ? `INVALID: the signature does not verify over these report bytes against the hub's group key; the report or the signature was altered, or another committee signed it`
      : `INVALID: the signature verifies, but for config digest ${report.configDigest.slice(0, 10)}…, not the hub's ${hub.configDigest.slice(0, 10)}…`;
  return { ok, digestMatches, signatureValid, ms: performance.now() - t0, message };
}
