/**
 * BLS12-381 arithmetic of the round's hot path on mcl-wasm (herumi's mcl in WebAssembly):
 * hash to G1, the signing multiplication, decoding signatures and public shares, weighted
 * sums and the pairing check.
 *
 * Why mcl: at n = 31 a round signs 31 partials, batch-verifies them and verifies the
 * combined signature. On pure-JS @noble/curves that was ≈ 221 ms of partial signing (hash
 * to G1 ≈ 3 ms + constant-time G1 multiplication ≈ 4.8 ms each), ≈ 128 ms of batch check
 * and ≈ 24 ms of group-signature check, most of the 300 ms round budget (the n = 31 round bar in docs/benchmarks.md §Timing). mcl
 * measured on the same machine: hash to G1 0.26 ms, G1 multiplication 0.37 ms, G2
 * multiplication 0.74 ms, pairing 3.8 ms, G1 decode with subgroup check 0.4 ms (noble:
 * 2.2 ms), 5–10× faster.
 *
 * The scheme is byte-for-byte the one noble implemented: ZCash/IETF compressed points
 * (`setETHserialization`), RFC 9380 hash to curve with an explicit DST per call
 * (`setMapToMode(IRTF)`, `mclBnG1_hashAndMapToWithDst`), subgroup checks on every
 * deserialization (`verifyOrderG1/G2`). Equality with noble is a property test
 * (`test/protocol/bls-mcl.test.ts`).
 *
 * Constant time: the only secret here is a key share, and it is only ever multiplied with
 * `mclBnG1_mulCT` (mcl's `mul` uses secret-dependent windows, as noble's `multiplyUnsafe`
 * does). Everything else (messages, weights, Lagrange coefficients, signatures) is public.
 *
 * Decoding: mcl decodes the compressed forms. Whatever it does not accept as a finite point
 * (a malformed or non-canonical encoding, infinity, the uncompressed forms it does not
 * parse) goes to noble's decoder in `points.ts`, which throws the typed `BlsError` (bad
 * length, not on curve, not in subgroup, infinity) or returns the checked point. The two
 * accept the same compressed encodings except non-canonical infinity, which mcl reads as 0.
 *
 * What stays on noble: the DKG and dealer key generation (G2 work off the round's path),
 * the chain encodings (EIP-2537, uncompressed signatures) and error classification.
 *
 * The module is instantiated once at import (top-level await); mcl's settings are global to
 * the process, so nothing else may initialise mcl-wasm with another curve or encoding.
 */
import mcl from 'mcl-wasm';
import type { Fr as MclFr, G1 as MclG1, G2 as MclG2 } from 'mcl-wasm';
import { bytesToHex, bytesToNumberBE } from '@noble/curves/utils.js';
import { assertBytes } from './errors.ts';
import { G1, G2, type G1Point, decodeG1, decodeG2 } from './points.ts';

export type { MclG1, MclG2 };

await mcl.init(mcl.BLS12_381);
mcl.setETHserialization(true);
mcl.setMapToMode(mcl.IRTF);
mcl.verifyOrderG1(true);
mcl.verifyOrderG2(true);

/** The parts of mcl-wasm's module object used below (they are not in its type declarations). */
interface McLModule {
  HEAP8: Int8Array;
  _malloc(size: number): number;
  _free(ptr: number): void;
  copyFromHeap32(a: Uint32Array, pos: number): void;
  callOp2(func: (z: number, x: number, y: number) => void, z: Uint32Array, x: Uint32Array, y: Uint32Array): void;
  _mclBnG1_hashAndMapToWithDst(out: number, msg: number, msgSize: number, dst: number, dstSize: number): number;
  _mclBnG1_mulCT(out: number, point: number, scalar: number): void;
}
const wasm = (mcl as unknown as { mod: McLModule }).mod;
/** A value's limbs, the Uint32Array every mcl-wasm class keeps in `a_`. */
const limbs = (v: MclG1 | MclFr): Uint32Array => (v as unknown as { a_: Uint32Array }).a_;

/** H(m) with domain separation tag `dst`: RFC 9380 hash_to_curve, BLS12381G1_XMD:SHA-256_SSWU_RO_. */
export function hashToCurveG1(message: Uint8Array, dst: Uint8Array): MclG1 {
  const out = new mcl.G1();
  const outBytes = 4 * limbs(out).length;
  // On the heap, not mcl-wasm's 1 MiB stack: messages have no size limit.
  const base = wasm._malloc(outBytes + message.length + dst.length);
  try {
    wasm.HEAP8.set(message, base + outBytes);
    wasm.HEAP8.set(dst, base + outBytes + message.length);
    const r = wasm._mclBnG1_hashAndMapToWithDst(base, base + outBytes, message.length, base + outBytes + message.length, dst.length);
    if (r !== 0) throw new Error(`hash to G1: mcl mclBnG1_hashAndMapToWithDst failed (${r})`);
    wasm.copyFromHeap32(limbs(out), base);
  } finally {
    wasm._free(base);
  }
  return out;
}

function fr(value: bigint | number): MclFr {
  const out = new mcl.Fr();
  out.setStr(value.toString(16), 16);
  return out;
}

/** secret·P in constant time (`mclBnG1_mulCT`): for key shares. */
export function mulSecret(point: MclG1, secret: bigint): MclG1 {
  const out = new mcl.G1();
  wasm.callOp2(wasm._mclBnG1_mulCT, limbs(out), limbs(point), limbs(fr(secret)));
  return out;
}

/** Σ k_i·P_i for public scalars (variable time). */
export function sumOfMultiples<P extends MclG1 | MclG2>(points: readonly P[], scalars: readonly (bigint | number)[]): P {
  return mcl.mulVec(points as P[], scalars.map(fr));
}

/** P + Q. */
export function mclAdd<P extends MclG1 | MclG2>(p: P, q: P): P {
  return mcl.add(p, q) as P;
}

/** The same point as a noble point (through its affine coordinates; no square root). */
export function toNobleG1(point: MclG1): G1Point {
  if (point.isZero()) return G1.ZERO;
  const affine = mcl.normalize(point);
  return G1.fromAffine({ x: bytesToNumberBE(affine.getX().serialize()), y: bytesToNumberBE(affine.getY().serialize()) });
}

function decodeWith<P extends MclG1 | MclG2>(
  make: () => P,
  compressedBytes: number,
  bytes: Uint8Array,
  what: string,
  decodeNoble: (bytes: Uint8Array, what: string) => { toBytes(): Uint8Array },
): P {
  assertBytes(what, bytes, compressedBytes, 2 * compressedBytes);
  const point = make();
  if (bytes.length === compressedBytes) {
    try {
      point.deserialize(bytes);
      if (!point.isZero()) return point;
    } catch {
      // Rejected: noble's decoder below names the reason.
    }
  }
  point.deserialize(decodeNoble(bytes, what).toBytes());
  return point;
}

/** A G1 point from 48-byte compressed or 96-byte uncompressed bytes, with every check of `decodeG1`. */
export function decodeMclG1(bytes: Uint8Array, what = 'G1 point'): MclG1 {
  return decodeWith(() => new mcl.G1(), 48, bytes, what, decodeG1);
}

/** A G2 point from 96-byte compressed or 192-byte uncompressed bytes, with every check of `decodeG2`. */
export function decodeMclG2(bytes: Uint8Array, what = 'G2 point'): MclG2 {
  return decodeWith(() => new mcl.G2(), 96, bytes, what, decodeG2);
}

const g2Cache = new Map<string, MclG2>();
const G2_CACHE_MAX = 4096;

/**
 * `decodeMclG2` memoized by the exact bytes. Public shares and group keys are decoded for
 * every round and their subgroup check costs about as much as a pairing. mcl-wasm values
 * are never mutated by the operations used here, so sharing them is safe; the cache is
 * bounded.
 */
export function decodeMclG2Cached(bytes: Uint8Array, what = 'G2 point'): MclG2 {
  // bytesToHex, not Buffer: protocol/ also runs in the browser (the dashboard's signature check).
  const key = bytesToHex(bytes);
  const hit = g2Cache.get(key);
  if (hit) return hit;
  const p = decodeMclG2(bytes, what);
  if (g2Cache.size >= G2_CACHE_MAX) g2Cache.delete(g2Cache.keys().next().value!);
  g2Cache.set(key, p);
  return p;
}

const g2 = new mcl.G2();
g2.deserialize(G2.BASE.toBytes());
/** −G2 with its Miller-loop line functions precomputed (allocated once, never freed). */
const negG2 = new mcl.PrecomputedG2(mcl.neg(g2));

/**
 * e(σ, G2) = e(H, PK), checked as e(H, PK)·e(σ, −G2) = 1: one Miller loop over both pairs
 * and one final exponentiation.
 */
export function pairingCheck(signature: MclG1, hashed: MclG1, publicKey: MclG2): boolean {
  return mcl.finalExp(mcl.precomputedMillerLoop2mixed(hashed, publicKey, signature, negG2)).isOne();
}
