/**
 * Feldman commitments evaluated by Horner's rule in the exponent: Σ_j C_j·x^j computed as
 * (…(C_{t−1}·x + C_{t−2})·x + …)·x + C_0. With small x (a node index ≤ 256) each step is a
 * multiplication by an 8-bit scalar, about 25× cheaper than `publicShareFromCommitments`,
 * which multiplies by the full-width powers x^j. The DKG checks n² shares against
 * commitments, so this matters there. Inputs are already-decoded (validated) points.
 */
import { G2, type G2Point } from './points.ts';
import { Fr, assertIndices } from './scalar.ts';

/** Σ_j C_j·x^j for x = index (1..65535). Equals `publicShareFromCommitments` on the same input. */
export function evalCommitmentsAt(commitments: readonly G2Point[], index: number): G2Point {
  assertIndices([index]);
  const x = BigInt(index);
  let acc = G2.ZERO;
  for (let j = commitments.length - 1; j >= 0; j--) {
    acc = acc.multiplyUnsafe(x).add(commitments[j]!);
  }
  return acc;
}

/**
 * Coefficient-wise weighted sum of several commitment vectors of the same length:
 * C_k = Σ_d w_d·C_{d,k} (all weights 1 when `weights` is absent). The commitments of a sum
 * of polynomials, or of a Lagrange combination of them (resharing).
 */
export function combineCommitments(sets: readonly (readonly G2Point[])[], weights?: readonly bigint[]): G2Point[] {
  if (sets.length === 0) return [];
  const len = sets[0]!.length;
  const out: G2Point[] = Array.from({ length: len }, () => G2.ZERO);
  sets.forEach((set, d) => {
    if (set.length !== len) throw new RangeError(`commitments: vector ${d} has ${set.length} entries, expected ${len}`);
    const w = weights ? Fr.create(weights[d]!) : 1n;
    for (let k = 0; k < len; k++) out[k] = out[k]!.add(w === 1n ? set[k]! : set[k]!.multiplyUnsafe(w));
  });
  return out;
}
