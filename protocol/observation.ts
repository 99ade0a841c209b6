/**
 * A node's signed observation for one epoch: its filtered answer per feed, or "no
 * observation" with a reason. Signed with the node's Ed25519 identity key over a canonical
 * ABI encoding, so the aggregator can forward observations to the other nodes (who recompute
 * every median before they sign) and publish them (`observationsRoot` commits to them).
 */
import { keccak256Bytes } from './keccak.ts';
import { ReportError } from './report.ts';
import { ABI_WORD, bytesToHex0x, hexToBytesStrict, putInt, putSmall, writeHex } from './abi-words.ts';
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

export const OBSERVATION_DOMAIN = 'AEGIS_OBSERVATION_V1';

const DOMAIN_BYTES = new TextEncoder().encode(OBSERVATION_DOMAIN);
const hashCache = new WeakMap<Observation, string>();

function putHex32(buf: Uint8Array, offset: number, hex: string, what: string): void {
  if (!writeHex(buf, offset, hex, 32)) throw new ReportError('bad_field', `${what}: expected 0x-prefixed 32-byte hex, got ${JSON.stringify(hex)}`);
}

/**
 * The canonical encoding `abi.encode(string domain, bytes32 configDigest, uint64 epoch,
 * uint16 nodeIndex, uint64 observedAt, bytes32[] feedIds, int192[] answers, bool[] present)`,
 * written directly: a round hashes every observation several times on every node, and a
 * generic ABI coder made that the largest cost of a 100-feed round. Equality with ethers'
 * encoder is a property test.
 */
export function encodeObservation(o: Observation): Uint8Array {
  const k = o.feeds.length;
  const head = 8 * ABI_WORD;
  const domainTail = ABI_WORD + Math.ceil(DOMAIN_BYTES.length / ABI_WORD) * ABI_WORD;
  const arrayTail = ABI_WORD + k * ABI_WORD;
  const buf = new Uint8Array(head + domainTail + 3 * arrayTail);
  const offFeeds = head + domainTail;
  const offAnswers = offFeeds + arrayTail;
  const offPresent = offAnswers + arrayTail;
  putSmall(buf, 0, head);
  putHex32(buf, 32, o.configDigest, 'observation.configDigest');
  putInt(buf, 64, BigInt.asUintN(64, o.epoch));
  putSmall(buf, 96, o.nodeIndex & 0xffff);
  putInt(buf, 128, BigInt.asUintN(64, o.observedAt));
  putSmall(buf, 160, offFeeds);
  putSmall(buf, 192, offAnswers);
  putSmall(buf, 224, offPresent);
  putSmall(buf, head, DOMAIN_BYTES.length);
  buf.set(DOMAIN_BYTES, head + ABI_WORD);
  putSmall(buf, offFeeds, k);
  putSmall(buf, offAnswers, k);
  putSmall(buf, offPresent, k);
  const feeds = o.feeds;
  for (let i = 0; i < k; i++) {
    const f = feeds[i]!;
    const slot = ABI_WORD * (i + 1);
    putHex32(buf, offFeeds + slot, f.feedId, `observation.feeds[${i}].feedId`);
    if (f.answer !== null) {
      putInt(buf, offAnswers + slot, f.answer);
      buf[offPresent + slot + ABI_WORD - 1] = 1;
    }
  }
  return buf;
}

/**
 * keccak256 of the canonical encoding; the leaf that `observationsRoot` commits to.
 * Memoized per observation object: observations are values and are never mutated.
 */
export function observationHash(o: Observation): string {
  const hit = hashCache.get(o);
  if (hit) return hit;
  assertObservationRanges(o);
  const h = bytesToHex0x(keccak256Bytes(encodeObservation(o)));
  hashCache.set(o, h);
  return h;
}

function assertObservationRanges(o: Observation): void {
  const U64 = (1n << 64n) - 1n;
  if (typeof o.epoch !== 'bigint' || o.epoch < 0n || o.epoch > U64) throw new ReportError('bad_field', `observation.epoch: expected a uint64, got ${String(o.epoch)}`);
  if (typeof o.observedAt !== 'bigint' || o.observedAt < 0n || o.observedAt > U64) throw new ReportError('bad_field', `observation.observedAt: expected a uint64, got ${String(o.observedAt)}`);
  if (!Number.isInteger(o.nodeIndex) || o.nodeIndex < 0 || o.nodeIndex > 0xffff) throw new ReportError('bad_field', `observation.nodeIndex: expected a uint16, got ${String(o.nodeIndex)}`);
  o.feeds.forEach((f, i) => {
    if (f.answer !== null && (typeof f.answer !== 'bigint' || f.answer < -(1n << 191n) || f.answer >= 1n << 191n)) {
      throw new ReportError('bad_field', `observation.feeds[${i}].answer: expected an int192, got ${String(f.answer)}`);
    }
  });
}

export function signObservation(o: Observation, identitySecret: Uint8Array): SignedObservation {
  return { observation: o, signature: bytesToHex0x(edSign(hexToBytesStrict(observationHash(o))!, identitySecret)) };
}

/** True when the signature is the given identity key's over this exact observation. */
export function verifyObservation(s: SignedObservation, identityPublicKey: Uint8Array): boolean {
  try {
    const signature = hexToBytesStrict(s.signature);
    return signature !== undefined && edVerify(signature, hexToBytesStrict(observationHash(s.observation))!, identityPublicKey);
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
  // abi.encode(bytes32[]): offset word, length word, then the hashes.
  const buf = new Uint8Array(ABI_WORD * (2 + sorted.length));
  putSmall(buf, 0, ABI_WORD);
  putSmall(buf, ABI_WORD, sorted.length);
  sorted.forEach((o, k) => writeHex(buf, ABI_WORD * (2 + k), observationHash(o), 32));
  return bytesToHex0x(keccak256Bytes(buf));
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
