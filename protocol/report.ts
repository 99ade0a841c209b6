/**
 * The report every committee signs, and the config digest that binds it to one chain, one
 * hub and one committee (docs/design.md §Report and config digest).
 *
 *   configDigest = keccak256(abi.encode("AEGIS_CONFIG_V1", chainId, hub, configVersion,
 *                                       groupPublicKey (EIP-2537, 256 bytes), n, t))
 *   m            = keccak256(abi.encode("AEGIS_REPORT_V1", configDigest, epoch, observedAt,
 *                                       observationsRoot, observers, feedIds, answers, spreadBps))
 *   rotation     = keccak256(abi.encode("AEGIS_ROTATE_V1", currentDigest, nextDigest)), signed by
 *                  the current committee to hand the hub over (nextDigest at configVersion + 1)
 *
 * Suspension (docs/suspension.md): a feed the committee cannot price travels in the same report
 * format, as the entry answer = SUSPENDED_ANSWER (int192 minimum, outside every feed's int96
 * bounds) with spreadBps = the `SuspendReason` code. It is signed, epoch-ordered and refused
 * when too old exactly like a price; no new report kind, so a round that prices costs what it did.
 *
 * Byte-identical to the hub's on-chain computation (tested against the contract).
 * `encodeReport` is abi.encode of the same fields in struct order: the hub's `Report`
 * calldata struct and the wire form served to pull-mode consumers.
 */
import { AbiCoder, encodeBytes32String, decodeBytes32String, getAddress, getBytes, hexlify, isHexString, keccak256 } from 'ethers';
import { keccak256Bytes } from './keccak.ts';
import { ABI_WORD, bytesToHex0x, hexToBytesStrict, putInt, putSmall, readHex, readSmall, readUint, writeHex } from './abi-words.ts';

export interface Report {
  configDigest: string;
  epoch: bigint;
  /** Median of the node observation times, unix seconds. */
  observedAt: bigint;
  observationsRoot: string;
  /** Bitmap of the nodes (bit i−1 for node i) whose observations went into the medians. */
  observers: bigint;
  feedIds: string[];
  answers: bigint[];
  spreadBps: number[];
}

export interface CommitteeConfig {
  chainId: bigint;
  hub: string;
  configVersion: bigint;
  /** Group public key in the 256-byte EIP-2537 G2 layout. */
  groupPublicKey: Uint8Array;
  n: number;
  t: number;
}

export class ReportError extends Error {
  override readonly name = 'ReportError';
  constructor(
    readonly code: 'bad_field' | 'length_mismatch' | 'empty' | 'bad_encoding',
    message: string,
  ) {
    super(message);
  }
}

const abi = AbiCoder.defaultAbiCoder();
export const CONFIG_DOMAIN = 'AEGIS_CONFIG_V1';
export const REPORT_DOMAIN = 'AEGIS_REPORT_V1';
export const ROTATION_DOMAIN = 'AEGIS_ROTATE_V1';
export const REPORT_FIELD_TYPES = ['bytes32', 'uint64', 'uint64', 'bytes32', 'uint256', 'bytes32[]', 'int192[]', 'uint32[]'] as const;
/** The report as an ethers tuple type, matching the hub's `Report` struct. */
export const REPORT_TUPLE_ABI =
  'tuple(bytes32 configDigest, uint64 epoch, uint64 observedAt, bytes32 observationsRoot, uint256 observers, bytes32[] feedIds, int192[] answers, uint32[] spreadBps)';

const U64_MAX = (1n << 64n) - 1n;

/**
 * The answer of a report entry that suspends its feed: int192's minimum. No feed's bounds can
 * include it (the hub bounds answers by int96), so the hub's steady-state path never mistakes
 * it for a price and its slow path recognises it before the bounds check.
 */
export const SUSPENDED_ANSWER = -(1n << 191n);

/**
 * Why the committee could not price a feed: a node's signed code for its own "no observation"
 * (the first byte of the absent answer in its observation) and, for a suspension entry, the
 * report's spreadBps. Codes are append-only; 0 is "no reason given".
 */
export const SuspendReason = {
  unspecified: 0,
  too_few_sources: 1,
  sources_disagree: 2,
  out_of_range: 3,
  no_snapshot: 4,
  not_configured: 5,
} as const;
export type SuspendReasonName = keyof typeof SuspendReason;
/** The largest reason code this version knows (decoders refuse larger ones). */
export const MAX_SUSPEND_REASON = 5;

/** The reason's name from its code, or `code N` for a code this version does not know. */
export function suspendReasonName(code: number): string {
  const hit = (Object.entries(SuspendReason) as [SuspendReasonName, number][]).find(([, c]) => c === code);
  return hit ? hit[0] : `code ${code}`;
}

/** The code of a node's withheld reason (`too_few_sources`, …); `unspecified` for any other. */
export function suspendReasonCode(reason: string): number {
  return (SuspendReason as Record<string, number>)[reason] ?? SuspendReason.unspecified;
}

/** True when a report entry's answer is the suspension sentinel. */
export function isSuspension(answer: bigint): boolean {
  return answer === SUSPENDED_ANSWER;
}

const I192_MAX = (1n << 191n) - 1n;
const I192_MIN = -(1n << 191n);
const U32_MAX = 0xffffffff;

/** `bytes32` id of a feed name such as "BTC/USD" (ASCII, at most 31 bytes). */
export function feedId(name: string): string {
  if (typeof name !== 'string' || name.length === 0) throw new ReportError('bad_field', `feed name ${JSON.stringify(name)}: must be a non-empty string such as "BTC/USD"`);
  try {
    return encodeBytes32String(name);
  } catch {
    throw new ReportError('bad_field', `feed name ${JSON.stringify(name)}: longer than 31 bytes; use a shorter name`);
  }
}

/** The feed name back from its `bytes32` id. */
export function feedName(id: string): string {
  return decodeBytes32String(id);
}

function assertBytes32(what: string, v: unknown): void {
  if (typeof v !== 'string' || !isHexString(v, 32)) throw new ReportError('bad_field', `${what}: expected 0x-prefixed 32-byte hex, got ${JSON.stringify(v)}`);
}

function assertRange(what: string, v: unknown, min: bigint, max: bigint): void {
  if (typeof v !== 'bigint' || v < min || v > max) throw new ReportError('bad_field', `${what}: expected an integer in [${min}, ${max}], got ${String(v)}`);
}

/** Validates every field: ranges of the Solidity types, equal array lengths, no empty report. */
export function assertReport(r: Report): void {
  assertBytes32('configDigest', r.configDigest);
  assertRange('epoch', r.epoch, 1n, U64_MAX);
  assertRange('observedAt', r.observedAt, 0n, U64_MAX);
  assertBytes32('observationsRoot', r.observationsRoot);
  assertRange('observers', r.observers, 0n, (1n << 256n) - 1n);
  if (!Array.isArray(r.feedIds) || !Array.isArray(r.answers) || !Array.isArray(r.spreadBps)) throw new ReportError('bad_field', 'feedIds, answers, spreadBps: must be arrays');
  if (r.feedIds.length === 0) throw new ReportError('empty', 'report: no feeds; a report carries at least one feed');
  if (r.answers.length !== r.feedIds.length || r.spreadBps.length !== r.feedIds.length) {
    throw new ReportError('length_mismatch', `report: ${r.feedIds.length} feedIds, ${r.answers.length} answers, ${r.spreadBps.length} spreadBps; the three arrays must have equal length`);
  }
  const seen = new Set<string>();
  r.feedIds.forEach((id, k) => {
    assertBytes32(`feedIds[${k}]`, id);
    if (seen.has(id.toLowerCase())) throw new ReportError('bad_field', `feedIds[${k}]: feed ${id} appears twice`);
    seen.add(id.toLowerCase());
    assertRange(`answers[${k}]`, r.answers[k], I192_MIN, I192_MAX);
    const s = r.spreadBps[k];
    if (!Number.isInteger(s) || s! < 0 || s! > U32_MAX) throw new ReportError('bad_field', `spreadBps[${k}]: expected a uint32, got ${String(s)}`);
  });
}

export function computeConfigDigest(c: CommitteeConfig): string {
  if (c.groupPublicKey.length !== 256) throw new ReportError('bad_field', `groupPublicKey: expected the 256-byte EIP-2537 form, got ${c.groupPublicKey.length} bytes`);
  return keccak256(
    abi.encode(
      ['string', 'uint256', 'address', 'uint64', 'bytes', 'uint16', 'uint16'],
      [CONFIG_DOMAIN, c.chainId, getAddress(c.hub), c.configVersion, c.groupPublicKey, c.n, c.t],
    ),
  );
}

/**
 * The message the current committee signs to hand the hub over (`IAegisHub.rotationMessage`):
 * keccak256(abi.encode("AEGIS_ROTATE_V1", currentDigest, nextDigest)).
 */
export function rotationMessage(currentDigest: string, nextDigest: string): Uint8Array {
  assertBytes32('currentDigest', currentDigest);
  assertBytes32('nextDigest', nextDigest);
  return getBytes(keccak256(abi.encode(['string', 'bytes32', 'bytes32'], [ROTATION_DOMAIN, currentDigest, nextDigest])));
}

/**
 * What the hub's `rotationMessage(next)` view returns while `current` is its committee: the
 * message and the digest of `next` at configVersion + 1 on the same chain and hub.
 */
export function rotationTo(current: CommitteeConfig, next: Pick<CommitteeConfig, 'groupPublicKey' | 'n' | 't'>): { message: Uint8Array; nextDigest: string } {
  const nextDigest = computeConfigDigest({ chainId: current.chainId, hub: current.hub, configVersion: current.configVersion + 1n, groupPublicKey: next.groupPublicKey, n: next.n, t: next.t });
  return { message: rotationMessage(computeConfigDigest(current), nextDigest), nextDigest };
}

const REPORT_DOMAIN_BYTES = new TextEncoder().encode(REPORT_DOMAIN);

function putBytes32(buf: Uint8Array, offset: number, hex: string, what: string): void {
  if (!writeHex(buf, offset, hex, 32)) throw new ReportError('bad_field', `${what}: expected 0x-prefixed 32-byte hex, got ${JSON.stringify(hex)}`);
}

/**
 * The five static fields, then the three arrays, ABI-encoded at `base` with `headWords` head
 * words before the arrays' offsets (offsets are relative to `base`). Shared by the message
 * encoding (domain string first) and the wire encoding (the report as one tuple).
 */
function writeReport(buf: Uint8Array, base: number, firstStatic: number, tailStart: number, r: Report): void {
  const k = r.feedIds.length;
  const arrayBytes = ABI_WORD * (k + 1);
  const offFeeds = tailStart;
  const offAnswers = offFeeds + arrayBytes;
  const offSpreads = offAnswers + arrayBytes;
  let w = base + firstStatic;
  putBytes32(buf, w, r.configDigest, 'configDigest');
  putInt(buf, (w += ABI_WORD), r.epoch);
  putInt(buf, (w += ABI_WORD), r.observedAt);
  putBytes32(buf, (w += ABI_WORD), r.observationsRoot, 'observationsRoot');
  putInt(buf, (w += ABI_WORD), r.observers);
  putSmall(buf, (w += ABI_WORD), offFeeds);
  putSmall(buf, (w += ABI_WORD), offAnswers);
  putSmall(buf, (w += ABI_WORD), offSpreads);
  putSmall(buf, base + offFeeds, k);
  putSmall(buf, base + offAnswers, k);
  putSmall(buf, base + offSpreads, k);
  for (let i = 0; i < k; i++) {
    const slot = ABI_WORD * (i + 1);
    putBytes32(buf, base + offFeeds + slot, r.feedIds[i]!, `feedIds[${i}]`);
    putInt(buf, base + offAnswers + slot, r.answers[i]!);
    putSmall(buf, base + offSpreads + slot, r.spreadBps[i]!);
  }
}

/**
 * `abi.encode("AEGIS_REPORT_V1", configDigest, epoch, observedAt, observationsRoot, observers,
 * feedIds, answers, spreadBps)`, written directly (a property test holds it byte-equal to
 * ethers' `AbiCoder.encode`). Validates the report first.
 */
export function encodeReportMessage(r: Report): Uint8Array {
  assertReport(r);
  const k = r.feedIds.length;
  const head = 9 * ABI_WORD;
  const domainTail = ABI_WORD + Math.ceil(REPORT_DOMAIN_BYTES.length / ABI_WORD) * ABI_WORD;
  const buf = new Uint8Array(head + domainTail + 3 * ABI_WORD * (k + 1));
  putSmall(buf, 0, head);
  putSmall(buf, head, REPORT_DOMAIN_BYTES.length);
  buf.set(REPORT_DOMAIN_BYTES, head + ABI_WORD);
  writeReport(buf, 0, ABI_WORD, head + domainTail, r);
  return buf;
}

/** The 32-byte message the committee BLS-signs for this report. */
export function reportMessage(r: Report): Uint8Array {
  return keccak256Bytes(encodeReportMessage(r));
}

/** `abi.encode(tuple Report)` as bytes, written directly (property-tested against ethers). */
export function encodeReportBytes(r: Report): Uint8Array {
  assertReport(r);
  const k = r.feedIds.length;
  // One offset word to the dynamic tuple, then its 8-word head and the three arrays.
  const head = 8 * ABI_WORD;
  const buf = new Uint8Array(ABI_WORD + head + 3 * ABI_WORD * (k + 1));
  putSmall(buf, 0, ABI_WORD);
  writeReport(buf, ABI_WORD, 0, head, r);
  return buf;
}

export function encodeReport(r: Report): string {
  return bytesToHex0x(encodeReportBytes(r));
}

/**
 * The canonical layout read directly; undefined when the bytes are not exactly the canonical
 * encoding of a valid report (the caller then takes the generic decoder's path and error).
 */
function decodeCanonical(bytes: Uint8Array): Report | undefined {
  const base = ABI_WORD;
  if (bytes.length < base + 8 * ABI_WORD + 3 * ABI_WORD || readSmall(bytes, 0) !== ABI_WORD) return undefined;
  const offFeeds = readSmall(bytes, base + 5 * ABI_WORD);
  const k = offFeeds === 8 * ABI_WORD ? readSmall(bytes, base + offFeeds) : -1;
  if (k < 1 || bytes.length !== base + 8 * ABI_WORD + 3 * ABI_WORD * (k + 1)) return undefined;
  const offAnswers = offFeeds + ABI_WORD * (k + 1);
  const offSpreads = offAnswers + ABI_WORD * (k + 1);
  // Every word is what the encoder writes for a valid report: canonical offsets and lengths,
  // uint64 / uint32 zero-padded, int192 sign-extended, epoch at least 1, no feed twice. Then
  // re-encoding gives back exactly these bytes (property-tested against the generic decoder).
  if (readSmall(bytes, base + 6 * ABI_WORD) !== offAnswers || readSmall(bytes, base + 7 * ABI_WORD) !== offSpreads) return undefined;
  if (readSmall(bytes, base + offAnswers) !== k || readSmall(bytes, base + offSpreads) !== k) return undefined;
  if (!zeroes(bytes, base + ABI_WORD, 24) || !zeroes(bytes, base + 2 * ABI_WORD, 24)) return undefined;
  const feedIds: string[] = [];
  const answers: bigint[] = [];
  const spreadBps: number[] = [];
  const seen = new Set<string>();
  for (let i = 1; i <= k; i++) {
    const id = readHex(bytes, base + offFeeds + ABI_WORD * i, 32);
    if (seen.has(id)) return undefined;
    seen.add(id);
    feedIds.push(id);
    const a = base + offAnswers + ABI_WORD * i;
    const pad = bytes[a + 8]! >= 0x80 ? 0xff : 0;
    for (let j = a; j < a + 8; j++) if (bytes[j] !== pad) return undefined;
    answers.push(BigInt.asIntN(256, readUint(bytes, a)));
    const s = base + offSpreads + ABI_WORD * i;
    if (!zeroes(bytes, s, 28)) return undefined;
    spreadBps.push(readSmall(bytes, s));
  }
  const epoch = readUint(bytes, base + ABI_WORD);
  if (epoch < 1n) return undefined;
  return {
    configDigest: readHex(bytes, base, 32),
    epoch,
    observedAt: readUint(bytes, base + 2 * ABI_WORD),
    observationsRoot: readHex(bytes, base + 3 * ABI_WORD, 32),
    observers: readUint(bytes, base + 4 * ABI_WORD),
    feedIds,
    answers,
    spreadBps,
  };
}

function zeroes(bytes: Uint8Array, offset: number, count: number): boolean {
  for (let i = offset; i < offset + count; i++) if (bytes[i] !== 0) return false;
  return true;
}

export function decodeReport(data: string | Uint8Array): Report {
  const bytes = typeof data === 'string' ? hexToBytesStrict(data) : data;
  const fast = bytes && decodeCanonical(bytes);
  if (fast) return fast;
  // Anything else (non-canonical offsets, garbage): the generic decoder decides. ethers defers
  // some decoding errors to the first property access, so the fields are read inside the try.
  let r: Report;
  try {
    const [decoded] = abi.decode([REPORT_TUPLE_ABI], data);
    r = {
      configDigest: hexlify(decoded.configDigest),
      epoch: BigInt(decoded.epoch),
      observedAt: BigInt(decoded.observedAt),
      observationsRoot: hexlify(decoded.observationsRoot),
      observers: BigInt(decoded.observers),
      feedIds: [...decoded.feedIds].map((x: string) => hexlify(x)),
      answers: [...decoded.answers].map((x: bigint) => BigInt(x)),
      spreadBps: [...decoded.spreadBps].map((x: bigint) => Number(x)),
    };
  } catch (err) {
    throw new ReportError('bad_encoding', `report: not an ABI-encoded Aegis report (${(err as Error).message.split('(')[0]!.trim()})`);
  }
  assertReport(r);
  return r;
}

/** Hex of the report message, convenient as a key in stores and logs. */
export function reportHash(r: Report): string {
  return bytesToHex0x(reportMessage(r));
}
