/**
 * Arithmetic over Fr, the scalar field of BLS12-381: polynomial evaluation for Shamir
 * sharing and Lagrange coefficients at 0 for combining shares. Pure functions on bigint.
 */
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { BlsError } from './errors.ts';

export const Fr = bls12_381.fields.Fr;
export const R = Fr.ORDER;

/** A uniformly random non-zero scalar (64 bytes reduced mod r: bias below 2^-128). */
export function randomScalar(): bigint {
  for (;;) {
    const wide = randomBytes(64);
    let v = 0n;
    for (const b of wide) v = (v << 8n) | BigInt(b);
    const s = v % R;
    if (s !== 0n) return s;
  }
}

/** Evaluates `coefficients[0] + coefficients[1]·x + …` at x, by Horner's rule. */
export function evalPolynomial(coefficients: readonly bigint[], x: bigint): bigint {
  let acc = 0n;
  for (let j = coefficients.length - 1; j >= 0; j--) acc = Fr.add(Fr.mul(acc, x), coefficients[j]!);
  return acc;
}

/** Checks a set of share indices: integers in [1, 2^16), no duplicates. */
export function assertIndices(indices: readonly number[]): void {
  const seen = new Set<number>();
  for (const i of indices) {
    if (!Number.isInteger(i) || i < 1 || i > 0xffff) {
      throw new BlsError('bad_index', `share index ${i}: must be an integer from 1 to 65535 (index 0 would reveal the group secret)`);
    }
    if (seen.has(i)) throw new BlsError('duplicate_index', `share index ${i}: appears twice; each node's share may be used once`);
    seen.add(i);
  }
}

/**
 * Lagrange coefficients λ_i at x = 0 for the given indices:
 * λ_i = Π_{j≠i} j / (j − i) mod r. One batched inversion for all denominators.
 */
export function lagrangeAtZero(indices: readonly number[]): bigint[] {
  assertIndices(indices);
  const xs = indices.map(BigInt);
  const nums: bigint[] = [];
  const dens: bigint[] = [];
  for (let a = 0; a < xs.length; a++) {
    let num = 1n;
    let den = 1n;
    for (let b = 0; b < xs.length; b++) {
      if (a === b) continue;
      num = Fr.mul(num, xs[b]!);
      den = Fr.mul(den, Fr.sub(xs[b]!, xs[a]!));
    }
    nums.push(num);
    dens.push(den);
  }
  const inv = Fr.invertBatch(dens);
  return nums.map((num, k) => Fr.mul(num, inv[k]!));
}

export function scalarToBytes(s: bigint): Uint8Array {
  if (s <= 0n || s >= R) throw new BlsError('bad_scalar', 'scalar: must be in [1, r−1]');
  const out = new Uint8Array(32);
  let v = s;
  for (let i = 31; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

export function scalarFromBytes(bytes: Uint8Array, what = 'secret share'): bigint {
  if (bytes.length !== 32) throw new BlsError('bad_length', `${what}: expected 32 bytes, got ${bytes.length}`);
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  if (v === 0n || v >= R) throw new BlsError('bad_scalar', `${what}: not a valid non-zero scalar mod r`);
  return v;
}
