/**
 * Threshold BLS for Aegis: the one module every part imports for keys, partial signatures,
 * combination and the chain encodings. See docs/design.md §Cryptography.
 *
 * Signing, verifying and combining run on mcl-wasm (`mcl.ts`, the round's hot path); the
 * points exported here (`G1`, `G2`, the decoders, the EIP-2537 encodings) are noble's, for
 * the DKG, the contracts tooling and tests.
 */
import { decodeMclG1, toNobleG1 } from './mcl.ts';
import { decodeG1, decodeG2, g1ToEip2537 as pointG1ToEip2537, g1ToUncompressed, g2ToEip2537 as pointG2ToEip2537 } from './points.ts';

export { BlsError, type BlsErrorCode } from './errors.ts';
export type { MclG1 } from './mcl.ts';
export {
  G1,
  G2,
  type G1Point,
  type G2Point,
  decodeG1,
  decodeG2,
  g1FromEip2537,
  g2FromEip2537,
} from './points.ts';
export { Fr, R, evalPolynomial, lagrangeAtZero, randomScalar, scalarFromBytes, scalarToBytes } from './scalar.ts';
export {
  SIGNATURE_DST,
  assertThreshold,
  batchVerifyPartials,
  combinePartials,
  PartialBatch,
  dealerKeygen,
  defaultThreshold,
  hashToG1,
  partialSign,
  publicShareFromCommitments,
  publicShareOf,
  verifyGroupSignature,
  verifyPartial,
  verifyShareAgainstCommitments,
  type BatchResult,
  type CommitteePublic,
  type DealerOutput,
  type KeyShare,
  type PartialSignature,
} from './threshold.ts';

/** A 48-byte compressed signature in the 96-byte x ‖ y form `transmit` takes. */
export function signatureToEvm(signature: Uint8Array): Uint8Array {
  // mcl decodes (square root, subgroup check) 5× faster than noble; noble writes the affine form.
  return g1ToUncompressed(toNobleG1(decodeMclG1(signature, 'signature')));
}

/** A 48-byte compressed (or 96-byte uncompressed) G1 point in the 128-byte EIP-2537 layout. */
export function g1ToEip2537(signature: Uint8Array): Uint8Array {
  return pointG1ToEip2537(decodeG1(signature, 'signature'));
}

/** A 96-byte compressed G2 key in the 256-byte EIP-2537 layout (what the hub stores). */
export function g2ToEip2537(publicKey: Uint8Array): Uint8Array {
  return pointG2ToEip2537(decodeG2(publicKey, 'public key'));
}
