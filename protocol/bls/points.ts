/**
 * Point (de)serialization for BLS12-381 min-signature: signatures in G1, keys in G2.
 *
 * Wire form (between nodes and aggregators): ZCash compressed points, 48 bytes (G1) and
 * 96 bytes (G2). Chain form: EIP-2537 layouts, each Fp coordinate left-padded to 64 bytes
 * (G1 = 128 bytes, G2 = 256 bytes, Fp2 as c0 ‖ c1), and the 96-byte uncompressed x ‖ y
 * signature that `transmit` takes (decompressing on-chain costs more than the calldata).
 *
 * Every point that enters from outside is checked: on the curve, in the prime-order
 * subgroup, not infinity. Spec: https://eips.ethereum.org/EIPS/eip-2537
 *
 * These are noble points and noble decoders, for the DKG, the chain encodings and the
 * typed decode errors. The round's hot path decodes with mcl (`mcl.ts`), which defers to
 * these decoders for every input it does not accept, so the error codes are the same.
 */
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { BlsError, assertBytes } from './errors.ts';

export const G1 = bls12_381.G1.Point;
export const G2 = bls12_381.G2.Point;
export type G1Point = InstanceType<typeof G1>;
export type G2Point = InstanceType<typeof G2>;

function decodeWith<P extends { is0(): boolean }>(what: string, decode: () => P): P {
  let point: P;
  try {
    point = decode();
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    if (/subgroup/i.test(msg)) throw new BlsError('not_in_subgroup', `${what}: bad point: not in prime-order subgroup`);
    if (/curve|equation/i.test(msg)) throw new BlsError('not_on_curve', `${what}: bad point: not on curve`);
    throw new BlsError('bad_encoding', `${what}: bad point encoding (${msg})`);
  }
  if (point.is0()) throw new BlsError('infinity', `${what}: bad point: infinity is not a valid signature or key`);
  return point;
}

/** Decodes a G1 point from 48-byte compressed or 96-byte uncompressed (x ‖ y) bytes. */
export function decodeG1(bytes: Uint8Array, what = 'G1 point'): G1Point {
  assertBytes(what, bytes, 48, 96);
  return decodeWith(what, () => {
    const p = G1.fromBytes(bytes);
    p.assertValidity();
    return p;
  });
}

/** Decodes a G2 point from 96-byte compressed or 192-byte uncompressed bytes. */
export function decodeG2(bytes: Uint8Array, what = 'G2 point'): G2Point {
  assertBytes(what, bytes, 96, 192);
  return decodeWith(what, () => {
    const p = G2.fromBytes(bytes);
    p.assertValidity();
    return p;
  });
}

const FP_BYTES = 48;
const EVM_FP_BYTES = 64;

function fpToBytes(x: bigint, width: number): Uint8Array {
  const out = new Uint8Array(width);
  let v = x;
  for (let i = width - 1; i >= 0 && v > 0n; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

function bytesToBigint(bytes: Uint8Array): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

/** G1 in the 96-byte x ‖ y form the hub's `transmit` takes. */
export function g1ToUncompressed(point: G1Point): Uint8Array {
  const { x, y } = point.toAffine();
  const out = new Uint8Array(2 * FP_BYTES);
  out.set(fpToBytes(x, FP_BYTES), 0);
  out.set(fpToBytes(y, FP_BYTES), FP_BYTES);
  return out;
}

/** G1 in the 128-byte EIP-2537 layout. */
export function g1ToEip2537(point: G1Point): Uint8Array {
  const { x, y } = point.toAffine();
  const out = new Uint8Array(2 * EVM_FP_BYTES);
  out.set(fpToBytes(x, EVM_FP_BYTES), 0);
  out.set(fpToBytes(y, EVM_FP_BYTES), EVM_FP_BYTES);
  return out;
}

/** G2 in the 256-byte EIP-2537 layout: x.c0 ‖ x.c1 ‖ y.c0 ‖ y.c1, each 64 bytes. */
export function g2ToEip2537(point: G2Point): Uint8Array {
  const { x, y } = point.toAffine();
  const out = new Uint8Array(4 * EVM_FP_BYTES);
  [x.c0, x.c1, y.c0, y.c1].forEach((c, i) => out.set(fpToBytes(c, EVM_FP_BYTES), i * EVM_FP_BYTES));
  return out;
}

function checkPadding(what: string, bytes: Uint8Array, offset: number): bigint {
  for (let i = 0; i < EVM_FP_BYTES - FP_BYTES; i++) {
    if (bytes[offset + i] !== 0) throw new BlsError('bad_encoding', `${what}: EIP-2537 field element has non-zero padding`);
  }
  return bytesToBigint(bytes.subarray(offset + EVM_FP_BYTES - FP_BYTES, offset + EVM_FP_BYTES));
}

/** Parses a 128-byte EIP-2537 G1 point, with all the checks of `decodeG1`. */
export function g1FromEip2537(bytes: Uint8Array, what = 'G1 point'): G1Point {
  assertBytes(what, bytes, 128);
  const x = checkPadding(what, bytes, 0);
  const y = checkPadding(what, bytes, EVM_FP_BYTES);
  return decodeWith(what, () => {
    const p = G1.fromAffine({ x, y });
    p.assertValidity();
    return p;
  });
}

/** Parses a 256-byte EIP-2537 G2 point, with all the checks of `decodeG2`. */
export function g2FromEip2537(bytes: Uint8Array, what = 'G2 point'): G2Point {
  assertBytes(what, bytes, 256);
  const [xc0, xc1, yc0, yc1] = [0, 1, 2, 3].map((i) => checkPadding(what, bytes, i * EVM_FP_BYTES)) as [bigint, bigint, bigint, bigint];
  return decodeWith(what, () => {
    const p = G2.fromAffine({ x: { c0: xc0, c1: xc1 }, y: { c0: yc0, c1: yc1 } });
    p.assertValidity();
    return p;
  });
}
