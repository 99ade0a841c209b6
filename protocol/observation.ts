/**
 * A node's signed observation for one epoch: its filtered answer per requested feed, or "no
 * observation". Signed with the node's Ed25519 identity key over keccak256 of a compact
 * canonical encoding, so the aggregator can forward observations to the other nodes (who
 * recompute every median before they sign) and publish them (`observationsRoot` commits to
 * them).
 *
 * Encoding v2, packed, fixed layout, big-endian (Solidity `abi.encodePacked(bytes20 domain,
 * bytes32 configDigest, uint64 epoch, uint16 nodeIndex, uint64 observedAt, bytes32 feedsHash,
 * uint16 count, bytes present, int192 answer_0, …, int192 answer_{count−1})`):
 *
 *   offset  size              field
 *   0       20                domain, the ASCII bytes of "AEGIS_OBSERVATION_V2"
 *   20      32                configDigest
 *   52      8                 epoch (uint64)
 *   60      2                 nodeIndex (uint16)
 *   62      8                 observedAt (uint64, unix seconds of the node's snapshot)
 *   70      32                feedsHash = keccak256(feedId_0 ‖ … ‖ feedId_{count−1}), the
 *                             requested feed list in request order, 32 bytes per id
 *   102     2                 count (uint16), the number of feeds in that list
 *   104     ⌈count/8⌉         present bitmap: feed k is bit (k mod 8) of byte ⌊k/8⌋, least
 *                             significant bit first; bits at k ≥ count are zero
 *   …       24 × count        answers, int192 two's complement each; where absent, the
 *                             first byte is the node's `SuspendReason` code (0 = none given)
 *                             and the other 23 are zero
 *
 * 2,517 bytes at 100 feeds (the v1 `abi.encode` form was 9.6 kB). Feed ids are not repeated
 * per observation: every observation of a round covers the same requested list, which
 * travels once per message, and `feedsHash` binds each signature to it. Decoding is strict
 * (exact length, domain, count, no bit beyond count, zero answer where absent), so a decoded
 * observation re-encodes to exactly the bytes received: nodes hash those bytes, never a
 * re-encoding. The reason code of an absent feed is signed (the committee suspends a feed on t
 * of them, docs/suspension.md); the free-text detail travels unsigned beside the encoding.
 */
import { keccak256Bytes } from './keccak.ts';
import { MAX_SUSPEND_REASON, ReportError } from './report.ts';
import { ABI_WORD, bytesToHex0x, hexToBytesStrict, putSmall, readHex, writeHex } from './abi-words.ts';
import { edSign, edVerify } from './ed25519.ts';

export interface FeedObservation {
  feedId: string;
  /** Fixed-point answer with the feed's decimals, or null for "no observation". */
  answer: bigint | null;
  /** Why there is no observation, in words (not signed; informational). */
  reason?: string;
  /** Why there is no observation, as a signed `SuspendReason` code (absent feeds only; default 0). */
  reasonCode?: number;
}

export interface Observation {
  configDigest: string;
  epoch: bigint;
  nodeIndex: number;
  /** Unix seconds at which the node's snapshot was taken. */
  observedAt: bigint;
  /** One entry per requested feed, in request order. */
  feeds: FeedObservation[];
}

/**
 * What travels and is stored: the canonical encoding the signature covers, with its decoded
 * form. Made only by `signObservation` and `decodeSignedObservation`, so `observation` always
 * decodes from `encoded`; every check hashes through `observation` (see `observationHash`), so
 * a hand-built pair that disagrees can only fail verification.
 */
export interface SignedObservation {
  observation: Observation;
  /** Encoding v2 (see the module header). */
  encoded: Uint8Array;
  /** Ed25519 signature (64 bytes hex) over keccak256(encoded). */
  signature: string;
}

export const OBSERVATION_DOMAIN = 'AEGIS_OBSERVATION_V2';

const DOMAIN_BYTES = new TextEncoder().encode(OBSERVATION_DOMAIN);
const OFF_DIGEST = 20;
const OFF_EPOCH = 52;
const OFF_NODE = 60;
const OFF_OBSERVED_AT = 62;
const OFF_FEEDS_HASH = 70;
const OFF_COUNT = 102;
const HEADER_BYTES = 104;
const ANSWER_BYTES = 24;
const U64_MAX = (1n << 64n) - 1n;
const I192_MIN = -(1n << 191n);
const I192_MAX = (1n << 191n) - 1n;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;

/** Byte length of the encoding of an observation of `count` feeds. */
export function encodedObservationLength(count: number): number {
  return HEADER_BYTES + Math.ceil(count / 8) + ANSWER_BYTES * count;
}

/** keccak256 of each observation's encoding, by decoded observation (observations are values). */
const hashCache = new WeakMap<Observation, Uint8Array>();

function badField(message: string): never {
  throw new ReportError('bad_field', message);
}

function putHex32(buf: Uint8Array, offset: number, hex: string, what: string): void {
  if (!writeHex(buf, offset, hex, 32)) badField(`${what}: expected 0x-prefixed 32-byte hex, got ${JSON.stringify(hex)}`);
}

/** A feed list's hash and lower-case ids, once per list object: one sign request decodes n observations against the same list. */
interface FeedList {
  hash: Uint8Array;
  ids: string[];
}
const feedLists = new WeakMap<readonly string[], FeedList>();

function feedListOf(feedIds: readonly string[], what: string): FeedList {
  const hit = feedLists.get(feedIds);
  if (hit) return hit;
  if (feedIds.length > 0xffff) badField(`${what}: ${feedIds.length} feeds, at most 65535 fit the uint16 count`);
  const buf = new Uint8Array(32 * feedIds.length);
  feedIds.forEach((id, k) => putHex32(buf, 32 * k, id, `${what}[${k}]`));
  const list = { hash: keccak256Bytes(buf), ids: feedIds.map((id) => id.toLowerCase()) };
  feedLists.set(feedIds, list);
  return list;
}

/** `feedsHash` of a feed list: keccak256 of the bytes32 ids concatenated, lower-case 0x hex. */
export function feedsHash(feedIds: readonly string[]): string {
  return bytesToHex0x(feedListOf(feedIds, 'feedIds').hash);
}

/** Writes an int192 as 24 bytes of two's complement at `offset` (the range is checked by the caller). */
function putInt192(view: DataView, offset: number, v: bigint): void {
  if (v >= I64_MIN && v <= I64_MAX) {
    // Prices fit 64 bits: sign-extend the upper 16 bytes instead of three limbs.
    const fill = v < 0n ? 0xffffffff : 0;
    for (let i = 0; i < 16; i += 4) view.setUint32(offset + i, fill);
    view.setBigInt64(offset + 16, v);
    return;
  }
  const x = BigInt.asUintN(192, v);
  view.setBigUint64(offset, x >> 128n);
  view.setBigUint64(offset + 8, (x >> 64n) & U64_MAX);
  view.setBigUint64(offset + 16, x & U64_MAX);
}

/** Reads 24 bytes of two's complement; every 24-byte string is an int192, so no range check is needed. */
function readInt192(buf: Uint8Array, view: DataView, offset: number): bigint {
  const top = buf[offset + 16]!;
  const fill = top & 0x80 ? 0xff : 0;
  let extended = true;
  for (let i = offset; i < offset + 16; i++) {
    if (buf[i] !== fill) {
      extended = false;
      break;
    }
  }
  if (extended) return view.getBigInt64(offset + 16);
  const x = (view.getBigUint64(offset) << 128n) | (view.getBigUint64(offset + 8) << 64n) | view.getBigUint64(offset + 16);
  return BigInt.asIntN(192, x);
}

/** The canonical encoding v2 of an observation (module header); checks every field's range. */
export function encodeObservation(o: Observation): Uint8Array {
  if (typeof o.epoch !== 'bigint' || o.epoch < 0n || o.epoch > U64_MAX) badField(`observation.epoch: expected a uint64, got ${String(o.epoch)}`);
  if (typeof o.observedAt !== 'bigint' || o.observedAt < 0n || o.observedAt > U64_MAX) badField(`observation.observedAt: expected a uint64, got ${String(o.observedAt)}`);
  if (!Number.isInteger(o.nodeIndex) || o.nodeIndex < 0 || o.nodeIndex > 0xffff) badField(`observation.nodeIndex: expected a uint16, got ${String(o.nodeIndex)}`);
  const count = o.feeds.length;
  if (count > 0xffff) badField(`observation.feeds: ${count} feeds, at most 65535 fit the uint16 count`);
  const buf = new Uint8Array(encodedObservationLength(count));
  const view = new DataView(buf.buffer);
  buf.set(DOMAIN_BYTES, 0);
  putHex32(buf, OFF_DIGEST, o.configDigest, 'observation.configDigest');
  view.setBigUint64(OFF_EPOCH, o.epoch);
  view.setUint16(OFF_NODE, o.nodeIndex);
  view.setBigUint64(OFF_OBSERVED_AT, o.observedAt);
  const ids = new Uint8Array(32 * count);
  const offAnswers = HEADER_BYTES + Math.ceil(count / 8);
  for (let k = 0; k < count; k++) {
    const f = o.feeds[k]!;
    putHex32(ids, 32 * k, f.feedId, `observation.feeds[${k}].feedId`);
    if (f.answer === null) {
      const code = f.reasonCode ?? 0;
      if (!Number.isInteger(code) || code < 0 || code > MAX_SUSPEND_REASON) badField(`observation.feeds[${k}].reasonCode: expected 0..${MAX_SUSPEND_REASON}, got ${String(code)}`);
      buf[offAnswers + ANSWER_BYTES * k] = code;
      continue;
    }
    if (typeof f.answer !== 'bigint' || f.answer < I192_MIN || f.answer > I192_MAX) badField(`observation.feeds[${k}].answer: expected an int192 or null, got ${String(f.answer)}`);
    buf[HEADER_BYTES + (k >> 3)]! |= 1 << (k & 7);
    putInt192(view, offAnswers + ANSWER_BYTES * k, f.answer);
  }
  buf.set(keccak256Bytes(ids), OFF_FEEDS_HASH);
  view.setUint16(OFF_COUNT, count);
  return buf;
}

/**
 * Strictly decodes encoding v2 against the feed list the observation must cover (the
 * requested list, sent once per message). Throws `ReportError('bad_field')` naming `what`,
 * the field and the value. The observation's hash is taken from these bytes.
 */
export function decodeObservation(encoded: Uint8Array, feedIds: readonly string[], what = 'observation'): Observation {
  const list = feedListOf(feedIds, 'feedIds');
  const count = list.ids.length;
  if (encoded.length < HEADER_BYTES) badField(`${what}: ${encoded.length} bytes, shorter than the ${HEADER_BYTES}-byte header of encoding v2`);
  for (let i = 0; i < DOMAIN_BYTES.length; i++) {
    if (encoded[i] !== DOMAIN_BYTES[i]) {
      badField(`${what}.domain: expected "${OBSERVATION_DOMAIN}", got ${JSON.stringify(String.fromCharCode(...encoded.subarray(0, DOMAIN_BYTES.length)))}; the node speaks another observation encoding`);
    }
  }
  const view = new DataView(encoded.buffer, encoded.byteOffset, encoded.byteLength);
  const declared = view.getUint16(OFF_COUNT);
  if (declared !== count) badField(`${what}.count: ${declared}, but the feed list sent has ${count} feeds`);
  if (encoded.length !== encodedObservationLength(count)) badField(`${what}: ${encoded.length} bytes, expected ${encodedObservationLength(count)} for ${count} feeds`);
  for (let i = 0; i < 32; i++) {
    if (encoded[OFF_FEEDS_HASH + i] !== list.hash[i]) {
      badField(`${what}.feedsHash: ${readHex(encoded, OFF_FEEDS_HASH, 32)}, but the feed list sent hashes to ${bytesToHex0x(list.hash)}; an observation covers exactly the requested feeds in order`);
    }
  }
  const bitmapBytes = Math.ceil(count / 8);
  if (count % 8 !== 0 && encoded[HEADER_BYTES + bitmapBytes - 1]! >> (count % 8) !== 0) {
    badField(`${what}.present: bits set beyond count ${count} (last bitmap byte 0x${encoded[HEADER_BYTES + bitmapBytes - 1]!.toString(16).padStart(2, '0')})`);
  }
  const offAnswers = HEADER_BYTES + bitmapBytes;
  const feeds: FeedObservation[] = new Array(count);
  for (let k = 0; k < count; k++) {
    const at = offAnswers + ANSWER_BYTES * k;
    if ((encoded[HEADER_BYTES + (k >> 3)]! >> (k & 7)) & 1) {
      feeds[k] = { feedId: list.ids[k]!, answer: readInt192(encoded, view, at) };
      continue;
    }
    for (let i = at + 1; i < at + ANSWER_BYTES; i++) {
      if (encoded[i] !== 0) badField(`${what}.answers[${k}]: feed ${list.ids[k]} is absent but its answer is ${readInt192(encoded, view, at)}, not zero`);
    }
    const code = encoded[at]!;
    if (code > MAX_SUSPEND_REASON) badField(`${what}.answers[${k}]: feed ${list.ids[k]} is absent with reason code ${code}, this version knows 0..${MAX_SUSPEND_REASON}; upgrade the aggregator or the node`);
    feeds[k] = code === 0 ? { feedId: list.ids[k]!, answer: null } : { feedId: list.ids[k]!, answer: null, reasonCode: code };
  }
  const o: Observation = {
    configDigest: readHex(encoded, OFF_DIGEST, 32),
    epoch: view.getBigUint64(OFF_EPOCH),
    nodeIndex: view.getUint16(OFF_NODE),
    observedAt: view.getBigUint64(OFF_OBSERVED_AT),
    feeds,
  };
  hashCache.set(o, keccak256Bytes(encoded));
  return o;
}

/** A signed observation from the bytes and signature received; throws like `decodeObservation`. */
export function decodeSignedObservation(encoded: Uint8Array, signature: string, feedIds: readonly string[], what = 'observation'): SignedObservation {
  return { observation: decodeObservation(encoded, feedIds, what), encoded, signature };
}

function hashBytesOf(o: Observation): Uint8Array {
  let h = hashCache.get(o);
  if (!h) {
    h = keccak256Bytes(encodeObservation(o));
    hashCache.set(o, h);
  }
  return h;
}

/**
 * keccak256 of the canonical encoding; the leaf that `observationsRoot` commits to. For a
 * decoded observation, the hash of the bytes received; otherwise of its encoding. Memoized per
 * observation object: observations are values and are never mutated.
 */
export function observationHash(o: Observation): string {
  return bytesToHex0x(hashBytesOf(o));
}

export function signObservation(o: Observation, identitySecret: Uint8Array): SignedObservation {
  const encoded = encodeObservation(o);
  const hash = keccak256Bytes(encoded);
  hashCache.set(o, hash);
  return { observation: o, encoded, signature: bytesToHex0x(edSign(hash, identitySecret)) };
}

/** True when the signature is the given identity key's over this exact observation. */
export function verifyObservation(s: SignedObservation, identityPublicKey: Uint8Array): boolean {
  try {
    const signature = hexToBytesStrict(s.signature);
    return signature !== undefined && signature.length === 64 && edVerify(signature, hashBytesOf(s.observation), identityPublicKey);
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
    if (sorted[k]!.nodeIndex === sorted[k - 1]!.nodeIndex) badField(`observations: node ${sorted[k]!.nodeIndex} appears twice`);
  }
  // abi.encode(bytes32[]): offset word, length word, then the hashes.
  const buf = new Uint8Array(ABI_WORD * (2 + sorted.length));
  putSmall(buf, 0, ABI_WORD);
  putSmall(buf, ABI_WORD, sorted.length);
  sorted.forEach((o, k) => buf.set(hashBytesOf(o), ABI_WORD * (2 + k)));
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
