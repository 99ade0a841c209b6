/**
 * Writing and reading 32-byte ABI words directly, for the hand-written canonical encoders of
 * observations and reports (`observation.ts`, `report.ts`). A round encodes and hashes every
 * observation on every node and the report several times; ethers' generic coder and its hex
 * helpers were the largest cost of a 100-feed round. Each encoder built on these is
 * property-tested byte for byte against `AbiCoder.encode`.
 */
export const ABI_WORD = 32;

const MASK64 = (1n << 64n) - 1n;

/** Nibble value of an ASCII hex digit, or 255. */
const NIBBLE = new Uint8Array(256).fill(255);
for (let c = 0; c < 10; c++) NIBBLE[48 + c] = c;
for (let c = 0; c < 6; c++) {
  NIBBLE[65 + c] = 10 + c;
  NIBBLE[97 + c] = 10 + c;
}

const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

/**
 * Writes the bytes of `hex` (0x-prefixed, exactly `len` bytes, either case) at `offset`;
 * false when it is not such a string (nothing meaningful is written then).
 */
export function writeHex(buf: Uint8Array, offset: number, hex: string, len: number): boolean {
  if (typeof hex !== 'string' || hex.length !== 2 + 2 * len || hex.charCodeAt(0) !== 48 || (hex.charCodeAt(1) | 0x20) !== 120) return false;
  for (let i = 0; i < len; i++) {
    const hi = NIBBLE[hex.charCodeAt(2 + 2 * i) & 0xff]!;
    const lo = NIBBLE[hex.charCodeAt(3 + 2 * i) & 0xff]!;
    // charCodeAt > 255 masked to a byte could alias a digit: reject non-ASCII explicitly.
    if (hi === 255 || lo === 255 || hex.charCodeAt(2 + 2 * i) > 127 || hex.charCodeAt(3 + 2 * i) > 127) return false;
    buf[offset + i] = (hi << 4) | lo;
  }
  return true;
}

/** A non-negative safe integer (offsets, lengths, uint32, uint16) into one word. */
export function putSmall(buf: Uint8Array, offset: number, v: number): void {
  // Words start zeroed; write the low 7 bytes (safe integers fit in 53 bits).
  let x = v;
  for (let i = offset + ABI_WORD - 1; x > 0; i--) {
    buf[i] = x % 256;
    x = Math.floor(x / 256);
  }
}

/** Any integer as a 256-bit two's-complement word (negative int192 answers sign-extend). */
export function putInt(buf: Uint8Array, offset: number, v: bigint): void {
  if (v >= 0n && v <= 9007199254740991n) return putSmall(buf, offset, Number(v));
  let x = BigInt.asUintN(256, v);
  for (let w = 3; w >= 0 && x > 0n; w--) {
    const limb = x & MASK64;
    x >>= 64n;
    // 64-bit limb as two 32-bit halves, big-endian.
    const hi = Number(limb >> 32n);
    const lo = Number(limb & 0xffffffffn);
    const o = offset + w * 8;
    buf[o] = hi >>> 24;
    buf[o + 1] = (hi >>> 16) & 0xff;
    buf[o + 2] = (hi >>> 8) & 0xff;
    buf[o + 3] = hi & 0xff;
    buf[o + 4] = lo >>> 24;
    buf[o + 5] = (lo >>> 16) & 0xff;
    buf[o + 6] = (lo >>> 8) & 0xff;
    buf[o + 7] = lo & 0xff;
  }
}

/** One word as an unsigned 256-bit integer. */
export function readUint(buf: Uint8Array, offset: number): bigint {
  let x = 0n;
  for (let w = 0; w < 4; w++) {
    const o = offset + w * 8;
    const hi = ((buf[o]! << 24) | (buf[o + 1]! << 16) | (buf[o + 2]! << 8) | buf[o + 3]!) >>> 0;
    const lo = ((buf[o + 4]! << 24) | (buf[o + 5]! << 16) | (buf[o + 6]! << 8) | buf[o + 7]!) >>> 0;
    x = (x << 64n) | (BigInt(hi) << 32n) | BigInt(lo);
  }
  return x;
}

/** One word as a number when it is below 2^48 (offsets, lengths, uint32), else -1. */
export function readSmall(buf: Uint8Array, offset: number): number {
  for (let i = offset; i < offset + ABI_WORD - 6; i++) if (buf[i] !== 0) return -1;
  let x = 0;
  for (let i = offset + ABI_WORD - 6; i < offset + ABI_WORD; i++) x = x * 256 + buf[i]!;
  return x;
}

/** Lower-case 0x hex of `len` bytes at `offset`. */
export function readHex(buf: Uint8Array, offset: number, len: number): string {
  let s = '0x';
  for (let i = offset; i < offset + len; i++) s += HEX[buf[i]!]!;
  return s;
}

/** Bytes of an even-length 0x hex string of any length, or undefined when it is not one. */
export function hexToBytesStrict(hex: string): Uint8Array | undefined {
  if (typeof hex !== 'string' || hex.length % 2 !== 0 || hex.length < 2) return undefined;
  const out = new Uint8Array((hex.length - 2) / 2);
  return writeHex(out, 0, hex, out.length) ? out : undefined;
}

/** Lower-case 0x hex of a whole byte array. */
export function bytesToHex0x(bytes: Uint8Array): string {
  return readHex(bytes, 0, bytes.length);
}
