/**
 * Attacks that reach the hub directly: a compromised aggregator (forged, altered, replayed and
 * stale reports, and equivocation requests to honest nodes) and stolen key shares below `t`.
 * Each attempt is first simulated with `eth_call`; a report the hub would accept is sent (and
 * counted as a breach), a rejected one is recorded with the hub's named error.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { hexlify, type Contract } from 'ethers';
import {
  combinePartials,
  dealerKeygen,
  partialSign,
  reportMessage,
  signatureToEvm,
  type KeyShare,
  type NodeHandlers,
  type Report,
  type SignedObservation,
} from '../../protocol/index.ts';
import { decodeHubError } from '../../aggregator/chain/hub-abi.ts';

export interface HubAttempt {
  accepted: boolean;
  /** The hub's named error when rejected (`SignatureInvalid(…)`). */
  error?: string;
  txHash?: string;
}

/** Simulate a transmit from the attacker; send it only if the hub would accept it. */
export async function tryTransmit(hub: Contract, report: Report, signature: Uint8Array | string): Promise<HubAttempt> {
  const sig = typeof signature === 'string' ? signature : hexlify(signature);
  try {
    await hub.getFunction('transmit').staticCall(report, sig);
  } catch (err) {
    const data = (err as { data?: string }).data;
    const decoded = decodeHubError(data);
    return { accepted: false, error: decoded ? decoded.text : (err as Error).message.slice(0, 160) };
  }
  const tx = await hub.getFunction('transmit')(report, sig);
  const receipt = await tx.wait();
  return { accepted: true, txHash: receipt?.hash };
}

/** A group signature made without the committee: an attacker's own key. */
export function forgeSignature(message: Uint8Array): Uint8Array {
  const own = dealerKeygen(1, 1);
  return signatureToEvm(combinePartials([partialSign(own.shares[0]!, message)], 1));
}

/**
 * Stolen shares below `t`: the real partials of the stolen shares plus made-up ones for the
 * missing indices, combined as if they were `t` partials.
 */
export function stolenShareSignature(stolen: readonly KeyShare[], t: number, n: number, message: Uint8Array): Uint8Array {
  const partials = stolen.map((s) => partialSign(s, message));
  const fake = dealerKeygen(t, n).shares.filter((s) => !stolen.some((x) => x.index === s.index));
  for (const s of fake) {
    if (partials.length >= t) break;
    partials.push(partialSign(s, message));
  }
  return signatureToEvm(combinePartials(partials, t));
}

/**
 * A compromised aggregator asks the honest nodes to sign a second, different report for an
 * epoch they already signed. Returns the refusals (code per node) and how many signed.
 */
export async function equivocationRequest(
  handlers: readonly { index: number; handlers: NodeHandlers }[],
  report: Report,
  observations: SignedObservation[],
): Promise<{ signed: number; refusals: Record<string, number> }> {
  const other: Report = { ...report, answers: report.answers.map((a) => (a * 1_050n) / 1_000n) };
  const refusals: Record<string, number> = {};
  let signed = 0;
  for (const h of handlers) {
    try {
      await h.handlers.sign({ report: other, observations });
      signed++;
    } catch (err) {
      const code = String((err as { code?: string }).code ?? 'error');
      refusals[code] = (refusals[code] ?? 0) + 1;
    }
  }
  return { signed, refusals };
}

/** A random identity, for messages that pretend to come from an unknown aggregator. */
export const randomIdentity = () => ed25519.utils.randomSecretKey();
export { reportMessage };
