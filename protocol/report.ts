/**
 * The report every committee signs, and the config digest that binds it to one chain, one
 * hub and one committee (DESIGN "Report and domain separation").
 *
 *   configDigest = keccak256(abi.encode("AEGIS_CONFIG_V1", chainId, hub, configVersion,
 *                                       groupPublicKey (EIP-2537, 256 bytes), n, t))
 *   m            = keccak256(abi.encode("AEGIS_REPORT_V1", configDigest, epoch, observedAt,
 *                                       observationsRoot, observers, feedIds, answers, spreadBps))
 *
 * Byte-identical to the hub's on-chain computation (tested against the contract).
 * `encodeReport` is abi.encode of the same fields in struct order: the hub's `Report`
 * calldata struct and the wire form served to pull-mode consumers.
 */
import { AbiCoder, encodeBytes32String, decodeBytes32String, getAddress, getBytes, hexlify, isHexString, keccak256 } from 'ethers';

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
export const REPORT_FIELD_TYPES = ['bytes32', 'uint64', 'uint64', 'bytes32', 'uint256', 'bytes32[]', 'int192[]', 'uint32[]'] as const;
/** The report as an ethers tuple type, matching the hub's `Report` struct. */
export const REPORT_TUPLE_ABI =
  'tuple(bytes32 configDigest, uint64 epoch, uint64 observedAt, bytes32 observationsRoot, uint256 observers, bytes32[] feedIds, int192[] answers, uint32[] spreadBps)';

const U64_MAX = (1n << 64n) - 1n;
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

function fields(r: Report): unknown[] {
  return [r.configDigest, r.epoch, r.observedAt, r.observationsRoot, r.observers, r.feedIds, r.answers, r.spreadBps];
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

/** The 32-byte message the committee BLS-signs for this report. */
export function reportMessage(r: Report): Uint8Array {
  assertReport(r);
  return getBytes(keccak256(abi.encode(['string', ...REPORT_FIELD_TYPES], [REPORT_DOMAIN, ...fields(r)])));
}

export function encodeReport(r: Report): string {
  assertReport(r);
  return abi.encode([REPORT_TUPLE_ABI], [{ ...r }]);
}

export function decodeReport(data: string | Uint8Array): Report {
  let decoded;
  try {
    [decoded] = abi.decode([REPORT_TUPLE_ABI], data);
  } catch (err) {
    throw new ReportError('bad_encoding', `report: not an ABI-encoded Aegis report (${(err as Error).message.split('(')[0]!.trim()})`);
  }
  const r: Report = {
    configDigest: hexlify(decoded.configDigest),
    epoch: BigInt(decoded.epoch),
    observedAt: BigInt(decoded.observedAt),
    observationsRoot: hexlify(decoded.observationsRoot),
    observers: BigInt(decoded.observers),
    feedIds: [...decoded.feedIds].map((x: string) => hexlify(x)),
    answers: [...decoded.answers].map((x: bigint) => BigInt(x)),
    spreadBps: [...decoded.spreadBps].map((x: bigint) => Number(x)),
  };
  assertReport(r);
  return r;
}

/** Hex of the report message, convenient as a key in stores and logs. */
export function reportHash(r: Report): string {
  return hexlify(reportMessage(r));
}
