/**
 * A node's signed observation for one epoch: its filtered answer per feed, or "no
 * observation" with a reason. Signed with the node's Ed25519 identity key over a canonical
 * ABI encoding, so the aggregator can forward observations to the other nodes (who recompute
 * every median before they sign) and publish them (`observationsRoot` commits to them).
 */
import { AbiCoder, getBytes, hexlify, keccak256 } from 'ethers';
import { ReportError } from './report.ts';
import { edSign, edVerify } from './ed25519.ts';

export interface FeedObservation {
  feedId: string;
  /** Fixed-point answer with the feed's decimals, or null for "no observation". */
  answer: bigint | null;
  /** Why there is no observation (not signed; informational). */
  reason?: string;
}

export interface Observation {
  configDigest: string;
  epoch: bigint;
  nodeIndex: number;
  /** Unix seconds at which the node's snapshot was taken. */
  observedAt: bigint;
  feeds: FeedObservation[];
}

export interface SignedObservation {
  observation: Observation;
  /** Ed25519 signature (64 bytes hex) over `observationHash`. */
  signature: string;
}

const abi = AbiCoder.defaultAbiCoder();
export const OBSERVATION_DOMAIN = 'AEGIS_OBSERVATION_V1';

/** keccak256 of the canonical encoding; the leaf that `observationsRoot` commits to. */
export function observationHash(o: Observation): string {
  return keccak256(
    abi.encode(
      ['string', 'bytes32', 'uint64', 'uint16', 'uint64', 'bytes32[]', 'int192[]', 'bool[]'],
      [
        OBSERVATION_DOMAIN,
        o.configDigest,
        o.epoch,
        o.nodeIndex,
        o.observedAt,
        o.feeds.map((f) => f.feedId),
        o.feeds.map((f) => f.answer ?? 0n),
        o.feeds.map((f) => f.answer !== null),
      ],
    ),
  );
}

export function signObservation(o: Observation, identitySecret: Uint8Array): SignedObservation {
  return { observation: o, signature: hexlify(edSign(getBytes(observationHash(o)), identitySecret)) };
}

/** True when the signature is the given identity key's over this exact observation. */
export function verifyObservation(s: SignedObservation, identityPublicKey: Uint8Array): boolean {
  try {
    return edVerify(getBytes(s.signature), getBytes(observationHash(s.observation)), identityPublicKey);
  } catch {
    return false;
  }
}

/**
 * Commitment to the observations a report was built from: keccak256 of the ABI-encoded
 * list of observation hashes in node-index order. Anyone holding the published signed
 * observations recomputes it, then every median.
 */
export function observationsRoot(observations: readonly Observation[]): string {
  const sorted = [...observations].sort((a, b) => a.nodeIndex - b.nodeIndex);
  for (let k = 1; k < sorted.length; k++) {
    if (sorted[k]!.nodeIndex === sorted[k - 1]!.nodeIndex) throw new ReportError('bad_field', `observations: node ${sorted[k]!.nodeIndex} appears twice`);
  }
  return keccak256(abi.encode(['bytes32[]'], [sorted.map(observationHash)]));
}

/** Bitmap with bit i−1 set for each node index i. */
export function observersBitmap(nodeIndices: readonly number[]): bigint {
  let bits = 0n;
  for (const i of nodeIndices) {
    if (!Number.isInteger(i) || i < 1 || i > 256) throw new ReportError('bad_field', `node index ${i}: must be from 1 to 256`);
    bits |= 1n << BigInt(i - 1);
  }
  return bits;
}

/** Node indices from an observers bitmap, ascending. */
export function observersFromBitmap(bits: bigint): number[] {
  const out: number[] = [];
  for (let i = 0; i < 256; i++) if ((bits >> BigInt(i)) & 1n) out.push(i + 1);
  return out;
}
