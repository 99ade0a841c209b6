/**
 * Threshold BLS (min-signature) over BLS12-381: Shamir shares of the group secret with
 * Feldman commitments in G2, partial signatures σ_i = s_i·H(m) in G1, and combination of
 * any t partials by Lagrange interpolation at 0 into σ = s·H(m), which verifies against the
 * group key PK = s·G2 like any ordinary BLS signature.
 *
 * Partials are checked before they are combined. `batchVerifyPartials` checks all of them
 * with one pairing check (random 32-bit weights r_i: e(Σ r_i σ_i, G2) = e(H(m), Σ r_i PK_i)),
 * and when the batch fails it bisects to name every bad signer. `PartialBatch` does the same
 * for partials that arrive one by one, decoding each as it comes.
 *
 * Ciphersuite: BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_ (RFC 9380 hash_to_curve for G1).
 *
 * Signing, verifying and combining run on mcl-wasm (`mcl.ts`: why, with timings); a share
 * is multiplied in constant time. Key generation and the Feldman helpers stay on noble:
 * they are G2 work done once per committee, off the round's path.
 */
import { randomBytes } from '@noble/hashes/utils.js';
import { BlsError, assertBytes } from './errors.ts';
import { decodeMclG1, decodeMclG2Cached, hashToCurveG1, mclAdd, mulSecret, pairingCheck, sumOfMultiples, toNobleG1, type MclG1, type MclG2 } from './mcl.ts';
import { G2, type G1Point, type G2Point, decodeG2 } from './points.ts';
import { Fr, R, assertIndices, evalPolynomial, lagrangeAtZero, randomScalar } from './scalar.ts';

export const SIGNATURE_DST = 'BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_';
const SIGNATURE_DST_BYTES = new TextEncoder().encode(SIGNATURE_DST);

/** One node's share of the group secret: s_i = f(i). */
export interface KeyShare {
  index: number;
  secret: bigint;
}

/** A partial signature σ_i, 48-byte compressed G1. */
export interface PartialSignature {
  index: number;
  signature: Uint8Array;
}

/** The public side of a committee: what aggregators, nodes and the hub need. */
export interface CommitteePublic {
  t: number;
  n: number;
  /** Group public key PK = f(0)·G2, 96-byte compressed. */
  groupPublicKey: Uint8Array;
  /** Public shares PK_i = s_i·G2 for i = 1..n (array position i−1), 96-byte compressed. */
  publicShares: Uint8Array[];
}

export interface DealerOutput extends CommitteePublic {
  /** Feldman commitments C_j = a_j·G2, j = 0..t−1 (C_0 is the group key). */
  commitments: Uint8Array[];
  shares: KeyShare[];
}

/** Default fault tolerance for n nodes: f = ⌊(n−1)/3⌋, t = 2f+1 (docs/design.md §Cryptography). */
export function defaultThreshold(n: number): number {
  return 2 * Math.floor((n - 1) / 3) + 1;
}

export function assertThreshold(t: number, n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > 256) {
    throw new BlsError('bad_threshold', `committee size n=${n}: must be an integer from 1 to 256 (the report's observers bitmap has 256 bits)`);
  }
  if (!Number.isInteger(t) || t < 1 || t > n) {
    throw new BlsError('bad_threshold', `threshold t=${t}: must be an integer from 1 to n=${n}`);
  }
  if (2 * t <= n) {
    throw new BlsError('bad_threshold', `threshold t=${t}: must exceed n/2 (n=${n}) so two disjoint quorums cannot sign conflicting reports; use t=${defaultThreshold(n)}`);
  }
}

/**
 * Dealer key generation, for development and tests only: whoever runs it learns the group
 * secret. Production committees use the distributed key generation.
 */
export function dealerKeygen(t: number, n: number, secret?: bigint): DealerOutput {
  assertThreshold(t, n);
  const coefficients = [secret ?? randomScalar()];
  if (coefficients[0]! <= 0n || coefficients[0]! >= R) throw new BlsError('bad_scalar', 'group secret: must be in [1, r−1]');
  for (let j = 1; j < t; j++) coefficients.push(randomScalar());
  const commitments = coefficients.map((a) => G2.BASE.multiply(a).toBytes());
  const shares: KeyShare[] = [];
  for (let i = 1; i <= n; i++) {
    const s = evalPolynomial(coefficients, BigInt(i));
    // f(i) = 0 happens with probability ~n/r; a zero share could not sign, so redeal.
    if (s === 0n) return dealerKeygen(t, n, secret);
    shares.push({ index: i, secret: s });
  }
  return {
    t,
    n,
    groupPublicKey: commitments[0]!,
    commitments,
    shares,
    publicShares: shares.map((s) => publicShareOf(s)),
  };
}

/** PK_i = s_i·G2, compressed. */
export function publicShareOf(share: KeyShare): Uint8Array {
  assertShare(share);
  return G2.BASE.multiply(share.secret).toBytes();
}

/** Feldman: PK_i = Σ_j C_j·i^j, computable by anyone from the public commitments. */
export function publicShareFromCommitments(commitments: readonly Uint8Array[], index: number): G2Point {
  assertIndices([index]);
  let acc = G2.ZERO;
  let power = 1n;
  for (const [j, c] of commitments.entries()) {
    acc = acc.add(decodeG2(c, `commitment ${j}`).multiplyUnsafe(power));
    power = Fr.mul(power, BigInt(index));
  }
  return acc;
}

/** Checks s_i·G2 against the Feldman commitments (what a share holder does on receipt). */
export function verifyShareAgainstCommitments(share: KeyShare, commitments: readonly Uint8Array[]): boolean {
  assertShare(share);
  return G2.BASE.multiply(share.secret).equals(publicShareFromCommitments(commitments, share.index));
}

function assertShare(share: KeyShare): void {
  assertIndices([share.index]);
  if (typeof share.secret !== 'bigint' || share.secret <= 0n || share.secret >= R) {
    throw new BlsError('bad_scalar', `share ${share.index}: secret must be a scalar in [1, r−1]`);
  }
}

export function assertMessage(message: Uint8Array): void {
  assertBytes('message', message);
}

function hashMessage(message: Uint8Array, dst: string | Uint8Array = SIGNATURE_DST_BYTES): MclG1 {
  assertMessage(message);
  const tag = typeof dst === 'string' ? new TextEncoder().encode(dst) : dst;
  assertBytes('hash to G1: DST', tag);
  if (tag.length === 0) throw new RangeError('hash to G1: DST must be non-empty (RFC 9380 section 3.1)');
  return hashToCurveG1(message, tag);
}

/**
 * H(m) in G1, with the signature DST unless another is given (the DKG's proofs of
 * possession). Hashed by mcl, returned as a noble point for the callers that compute with
 * it (the DKG, the hub tooling, tests).
 */
export function hashToG1(message: Uint8Array, dst: string | Uint8Array = SIGNATURE_DST): G1Point {
  return toNobleG1(hashMessage(message, dst));
}

/** σ_i = s_i·H(m), the share multiplied in constant time. */
export function partialSign(share: KeyShare, message: Uint8Array): PartialSignature {
  assertShare(share);
  return { index: share.index, signature: mulSecret(hashMessage(message), share.secret).serialize() };
}

/** One partial against its signer's public share: one pairing check. */
export function verifyPartial(partial: PartialSignature, publicShare: Uint8Array, message: Uint8Array): boolean {
  const sig = decodeMclG1(partial.signature, `partial signature of node ${partial.index}`);
  const pk = decodeMclG2Cached(publicShare, `public share of node ${partial.index}`);
  return pairingCheck(sig, hashMessage(message), pk);
}

export interface BatchResult {
  valid: PartialSignature[];
  /** Bad signers with the reason: a failed check, or a malformed point. */
  invalid: { index: number; reason: string }[];
  /** The decoded (checked) points of the valid partials by node index, for `combinePartials`. */
  points: Map<number, MclG1>;
}

/**
 * 32-bit random weights (small-exponent batch test): a bad partial passes a batch with
 * probability 2^-32. The batch is a filter, not the gate: the combined signature is always
 * verified against the group key before use, so a miss costs one retried round, never a
 * wrong report — and short weights halve the G2 work that dominates the batch.
 */
function randomWeights(count: number): number[] {
  const b = randomBytes(4 * count);
  const out: number[] = [];
  for (let k = 0; k < count; k++) out.push(((b[4 * k]! << 24) | (b[4 * k + 1]! << 16) | (b[4 * k + 2]! << 8) | b[4 * k + 3]! | 1) >>> 0);
  return out;
}

type Checked = { partial: PartialSignature; sig: MclG1; pk: MclG2 };

/**
 * The per-partial checks of a batch: known signer, not seen before, signature a G1 point in
 * the subgroup (its decoding is most of a partial's verification cost). Returns the decoded
 * partial, or the reason it is invalid.
 */
function checkPartial(partial: PartialSignature, publicShares: readonly Uint8Array[], seen: Set<number>): Checked | { index: number; reason: string } {
  try {
    assertIndices([partial.index]);
    if (seen.has(partial.index)) throw new BlsError('duplicate_index', `partial of node ${partial.index}: sent twice`);
    seen.add(partial.index);
    const share = publicShares[partial.index - 1];
    if (!share) throw new BlsError('bad_index', `partial of node ${partial.index}: no such node in a committee of ${publicShares.length}`);
    return { partial, sig: decodeMclG1(partial.signature, `partial signature of node ${partial.index}`), pk: decodeMclG2Cached(share, `public share of node ${partial.index}`) };
  } catch (err) {
    if (!(err instanceof BlsError) && !(err instanceof TypeError)) throw err;
    return { index: partial.index, reason: err.message };
  }
}

/**
 * Splits checked partials into valid and invalid: one randomized batch check, and on failure
 * bisection, so k bad signers cost O(k·log n) batch checks.
 */
function sortOut(items: readonly Checked[], h: MclG1, invalid: BatchResult['invalid']): BatchResult {
  const check = (list: readonly Checked[]): boolean => {
    if (list.length === 1) return pairingCheck(list[0]!.sig, h, list[0]!.pk);
    // The weights are the verifier's public randomness: variable-time sums leak nothing.
    const r = randomWeights(list.length);
    return pairingCheck(sumOfMultiples(list.map((x) => x.sig), r), h, sumOfMultiples(list.map((x) => x.pk), r));
  };
  const valid: PartialSignature[] = [];
  const bisect = (list: readonly Checked[]): void => {
    if (list.length === 0) return;
    if (check(list)) {
      for (const item of list) valid.push(item.partial);
      return;
    }
    if (list.length === 1) {
      invalid.push({ index: list[0]!.partial.index, reason: `partial signature of node ${list[0]!.partial.index}: does not verify against its public share` });
      return;
    }
    const mid = list.length >> 1;
    bisect(list.slice(0, mid));
    bisect(list.slice(mid));
  };
  bisect(items);
  return finish(items, valid, invalid);
}

function finish(items: readonly Checked[], valid: PartialSignature[], invalid: BatchResult['invalid']): BatchResult {
  valid.sort((a, b) => a.index - b.index);
  invalid.sort((a, b) => a.index - b.index);
  const good = new Set(valid.map((p) => p.index));
  return { valid, invalid, points: new Map(items.filter((d) => good.has(d.partial.index)).map((d) => [d.partial.index, d.sig])) };
}

/**
 * Verifies many partials over one message. Malformed points and unknown signers are
 * reported, not thrown; the rest are checked in one randomized batch (two multi-scalar
 * multiplications and one pairing check) and, when it fails, by bisection.
 */
export function batchVerifyPartials(partials: readonly PartialSignature[], publicShares: readonly Uint8Array[], message: Uint8Array): BatchResult {
  const invalid: BatchResult['invalid'] = [];
  const items: Checked[] = [];
  const seen = new Set<number>();
  for (const partial of partials) {
    const c = checkPartial(partial, publicShares, seen);
    if ('sig' in c) items.push(c);
    else invalid.push(c);
  }
  return sortOut(items, hashMessage(message), invalid);
}

/**
 * `batchVerifyPartials` fed one partial at a time, as the partials arrive: each is checked and
 * decoded on arrival (the subgroup check is most of a partial's verification cost), while the
 * other nodes are still signing; `result` then runs the batch check over all of them. Same
 * verdicts and reasons as `batchVerifyPartials` over the same partials. The weighted sums are
 * taken in a few multi-scalar multiplications (`fold`), not one partial at a time: a sum over
 * many points costs about half as much per point, and the aggregator's core is not idle while
 * nodes sign.
 */
export class PartialBatch {
  readonly #shares: readonly Uint8Array[];
  readonly #h: MclG1;
  readonly #seen = new Set<number>();
  readonly #items: Checked[] = [];
  readonly #invalid: BatchResult['invalid'] = [];
  /** The weighted sums of the first `count` items (`fold`). */
  #folded: { sig: MclG1; pk: MclG2; count: number } | undefined;

  constructor(publicShares: readonly Uint8Array[], message: Uint8Array) {
    this.#shares = publicShares;
    this.#h = hashMessage(message);
  }

  /** Checks and decodes one partial; returns its point, or undefined when it is invalid on its face. */
  add(partial: PartialSignature): MclG1 | undefined {
    const c = checkPartial(partial, this.#shares, this.#seen);
    if (!('sig' in c)) {
      this.#invalid.push(c);
      return undefined;
    }
    this.#items.push(c);
    return c.sig;
  }

  /**
   * Sums the partials added so far into the batch check with fresh random weights, so that
   * `result` only sums the ones added after: a caller that waits for stragglers folds what it
   * has while it waits.
   */
  fold(): void {
    const from = this.#folded?.count ?? 0;
    const fresh = this.#items.slice(from);
    if (fresh.length === 0) return;
    const r = randomWeights(fresh.length);
    const sig = sumOfMultiples(fresh.map((x) => x.sig), r);
    const pk = sumOfMultiples(fresh.map((x) => x.pk), r);
    this.#folded = this.#folded ? { sig: mclAdd(this.#folded.sig, sig), pk: mclAdd(this.#folded.pk, pk), count: this.#items.length } : { sig, pk, count: this.#items.length };
  }

  /** The verdicts on everything added so far: one pairing check when all are good, bisection otherwise. */
  result(): BatchResult {
    const invalid = [...this.#invalid];
    if (this.#items.length > 1) {
      this.fold();
      if (pairingCheck(this.#folded!.sig, this.#h, this.#folded!.pk)) return finish(this.#items, this.#items.map((x) => x.partial), invalid);
    }
    return sortOut(this.#items, this.#h, invalid);
  }
}

/**
 * Combines exactly the first t of the given partials: σ = Σ λ_i·σ_i. The caller verifies
 * the partials first (or the result, with `verifyGroupSignature`): an unchecked bad
 * partial yields a group signature that does not verify.
 */
export function combinePartials(partials: readonly PartialSignature[], t: number, decoded?: ReadonlyMap<number, MclG1>): Uint8Array {
  if (!Number.isInteger(t) || t < 1) throw new BlsError('bad_threshold', `threshold t=${t}: must be a positive integer`);
  if (partials.length < t) {
    throw new BlsError('too_few_partials', `combine: need t=${t} partial signatures, got ${partials.length}; wait for more nodes or check why they refused`);
  }
  const chosen = partials.slice(0, t);
  const lambdas = lagrangeAtZero(chosen.map((p) => p.index));
  // Points already decoded and checked by `batchVerifyPartials` (same partial objects) are reused.
  const points = chosen.map((p) => decoded?.get(p.index) ?? decodeMclG1(p.signature, `partial signature of node ${p.index}`));
  // λ_i are public, so a variable-time multi-scalar multiplication leaks nothing.
  const acc = sumOfMultiples(points, lambdas);
  if (acc.isZero()) throw new BlsError('infinity', 'combine: the partials interpolate to infinity; at least one partial is bad');
  return acc.serialize();
}

/** Verifies a (group or ordinary) signature: e(σ, G2) = e(H(m), PK). Never throws on bad points. */
export function verifyGroupSignature(signature: Uint8Array, message: Uint8Array, groupPublicKey: Uint8Array): boolean {
  let sig: MclG1;
  let pk: MclG2;
  try {
    sig = decodeMclG1(signature, 'group signature');
    pk = decodeMclG2Cached(groupPublicKey, 'group public key');
  } catch (err) {
    if (err instanceof BlsError || err instanceof TypeError) return false;
    throw err;
  }
  return pairingCheck(sig, hashMessage(message), pk);
}
