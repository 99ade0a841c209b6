/**
 * The cryptographic pieces of a ceremony, as pure functions:
 *
 * - Share encryption: ephemeral-static X25519 (one ephemeral key per deal bundle), key =
 *   HKDF-SHA256(ikm = ECDH secret, salt = ceremonyDigest, info = "AEGIS_DKG_SHARE_V1" ‖
 *   dealer ‖ recipient ‖ ephemeral key ‖ recipient key), then XChaCha20-Poly1305 with a random
 *   24-byte nonce and the commitments' hash as associated data, so a ciphertext opens only for
 *   its recipient, in this ceremony, from this dealer, for this polynomial.
 * - Proof of possession of a dealer's constant term: a BLS (min-signature) signature by a_0
 *   over "AEGIS_DKG_POP_V1" ‖ ceremonyDigest ‖ dealer, under the standard PoP DST (never the
 *   report DST, so a PoP can never pass as a report signature). Checked against C_0.
 * - Ed25519 signatures of the sender's identity key over every message (see messages.ts).
 * - `buildDeal`: a signed deal bundle from a polynomial. Used by `DkgParticipant`; exported so
 *   tests and tools can also build deliberately bad bundles.
 */
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, randomBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { G1, G2, R, type G1Point, type G2Point, decodeG1, decodeG2, evalPolynomial, hashToG1, scalarToBytes } from '../bls/index.ts';
import { type Ceremony, type DealMessage, type MessageKind, ceremonyDigest, fromHex, signingBytes, toHex } from './messages.ts';

/** Proof-of-possession DST of the min-signature ciphersuite (RFC draft-irtf-cfrg-bls-signature). */
export const POP_DST = 'BLS_POP_BLS12381G1_XMD:SHA-256_SSWU_RO_POP_';
const bls = bls12_381.shortSignatures;

function u16(i: number): Uint8Array {
  return new Uint8Array([(i >> 8) & 0xff, i & 0xff]);
}

// -- Point cache --

/**
 * Decoding a G2 point (with its subgroup check) costs ~4 ms; a ceremony decodes n·t
 * commitments per participant and again to verify the transcript. Decoded points are
 * immutable and keyed by their exact bytes, so a small process-wide memo is safe; it also
 * keeps in-process simulations of many nodes fast.
 */
const g2Cache = new Map<string, G2Point>();
const G2_CACHE_MAX = 8192;
/** Valid proofs of possession, keyed by everything the check depends on (same reasoning). */
const popCache = new Map<string, true>();

function remember<V>(cache: Map<string, V>, key: string, value: V): void {
  if (cache.size >= G2_CACHE_MAX) cache.delete(cache.keys().next().value!);
  cache.set(key, value);
}

export function decodeG2Hex(h: string, what: string): G2Point {
  const hit = g2Cache.get(h);
  if (hit) return hit;
  const p = decodeG2(fromHex(h), what);
  remember(g2Cache, h, p);
  return p;
}

/** Empties the decoded-point and proof-of-possession memos (benchmarks measure a cold participant with it). */
export function clearDkgCaches(): void {
  g2Cache.clear();
  popCache.clear();
}

// -- Identity signatures --

export function signMessage<T extends { signature: string }>(kind: MessageKind, ceremony: Ceremony, body: Omit<T, 'signature'>, identitySecret: Uint8Array): T {
  const sig = ed25519.sign(signingBytes(kind, ceremonyDigest(ceremony), body), identitySecret);
  return { ...body, signature: toHex(sig) } as T;
}

export function verifyMessageSignature(kind: MessageKind, digest: Uint8Array, message: { signature: string }, identityKey: string): boolean {
  try {
    return ed25519.verify(fromHex(message.signature), signingBytes(kind, digest, message), fromHex(identityKey));
  } catch {
    return false;
  }
}

// -- Proof of possession --

export function popMessage(digest: Uint8Array, dealer: number): Uint8Array {
  return concatBytes(utf8ToBytes('AEGIS_DKG_POP_V1'), new Uint8Array([0]), digest, u16(dealer));
}

export function popSign(a0: bigint, digest: Uint8Array, dealer: number): Uint8Array {
  return hashToG1(popMessage(digest, dealer), POP_DST).multiply(a0).toBytes();
}

function randomWeight(): bigint {
  let v = 0n;
  for (const x of randomBytes(16)) v = (v << 8n) | BigInt(x);
  return v | 1n;
}

/**
 * Checks many PoPs at once: e(Σ r_d·σ_d, G2) = Π e(r_d·H(m_d), C_{d,0}) with random 128-bit
 * r_d (one multi-pairing); when that fails, each one alone. Returns the dealers whose PoP
 * does not verify (malformed signatures included).
 */
export function verifyPops(digest: Uint8Array, items: readonly { dealer: number; pop: string; c0: G2Point; c0Hex: string }[]): Set<number> {
  const bad = new Set<number>();
  const decoded: { dealer: number; sig: G1Point; h: G1Point; c0: G2Point; memo: string }[] = [];
  const prefix = toHex(digest);
  for (const it of items) {
    const memo = `${prefix}:${it.dealer}:${it.pop}:${it.c0Hex}`;
    if (popCache.has(memo)) continue;
    try {
      decoded.push({ dealer: it.dealer, sig: decodeG1(fromHex(it.pop), `proof of possession of dealer ${it.dealer}`), h: hashToG1(popMessage(digest, it.dealer), POP_DST), c0: it.c0, memo });
    } catch {
      bad.add(it.dealer);
    }
  }
  if (decoded.length === 0) return bad;
  let sigAcc = G1.ZERO;
  const pairs: { message: G1Point; publicKey: G2Point }[] = [];
  for (const d of decoded) {
    const r = randomWeight();
    sigAcc = sigAcc.add(d.sig.multiplyUnsafe(r));
    pairs.push({ message: d.h.multiplyUnsafe(r), publicKey: d.c0 });
  }
  const batchOk = !sigAcc.is0() && bls.verifyBatch(sigAcc, pairs);
  for (const d of decoded) {
    if (batchOk || bls.verify(d.sig, d.h, d.c0)) remember(popCache, d.memo, true);
    else bad.add(d.dealer);
  }
  return bad;
}

// -- Share encryption --

export interface ShareContext {
  digest: Uint8Array;
  dealer: number;
  recipient: number;
  /** The dealer's ephemeral X25519 public key (32 bytes). */
  ephemeralKey: Uint8Array;
  /** The recipient's X25519 public key (32 bytes). */
  recipientKey: Uint8Array;
  /** SHA-256 of the dealer's commitments (associated data). */
  commitmentsHash: Uint8Array;
}

function shareKey(shared: Uint8Array, ctx: ShareContext): Uint8Array {
  const info = concatBytes(utf8ToBytes('AEGIS_DKG_SHARE_V1'), u16(ctx.dealer), u16(ctx.recipient), ctx.ephemeralKey, ctx.recipientKey);
  return hkdf(sha256, shared, ctx.digest, info, 32);
}

export function commitmentsHash(commitments: readonly string[]): Uint8Array {
  return sha256(concatBytes(...commitments.map(fromHex)));
}

/** Encrypts a share to the recipient: 24-byte nonce ‖ ciphertext ‖ tag (72 bytes). */
export function encryptShare(share: bigint, ephemeralSecret: Uint8Array, ctx: ShareContext): Uint8Array {
  const key = shareKey(x25519.getSharedSecret(ephemeralSecret, ctx.recipientKey), ctx);
  const nonce = randomBytes(24);
  return concatBytes(nonce, xchacha20poly1305(key, nonce, ctx.commitmentsHash).encrypt(scalarToBytes(share)));
}

/** Opens a share; null when it does not decrypt or is not a non-zero scalar below r. */
export function decryptShare(ciphertext: Uint8Array, recipientSecret: Uint8Array, ctx: ShareContext): bigint | null {
  try {
    const key = shareKey(x25519.getSharedSecret(recipientSecret, ctx.ephemeralKey), ctx);
    const plain = xchacha20poly1305(key, ciphertext.subarray(0, 24), ctx.commitmentsHash).decrypt(ciphertext.subarray(24));
    if (plain.length !== 32) return null;
    let v = 0n;
    for (const b of plain) v = (v << 8n) | BigInt(b);
    return v > 0n && v < R ? v : null;
  } catch {
    return null;
  }
}

// -- Dealing --

export interface BuildDealInput {
  ceremony: Ceremony;
  dealer: number;
  identitySecret: Uint8Array;
  /** a_0..a_{t−1}; a_0 is random in a DKG and the current share in a resharing. */
  coefficients: readonly bigint[];
  /** Fresh per bundle; random when absent. */
  ephemeralSecret?: Uint8Array;
}

/** A signed deal bundle: commitments, PoP, one encrypted share per participant. */
export function buildDeal(input: BuildDealInput): DealMessage {
  const { ceremony, dealer, coefficients } = input;
  const digest = ceremonyDigest(ceremony);
  const ephemeralSecret = input.ephemeralSecret ?? x25519.utils.randomSecretKey();
  const ephemeralKey = x25519.getPublicKey(ephemeralSecret);
  const commitments = coefficients.map((a) => toHex(G2.BASE.multiply(a).toBytes()));
  const cHash = commitmentsHash(commitments);
  const shares = ceremony.participants.map((p) => {
    const s = evalPolynomial(coefficients, BigInt(p.index));
    const ctx: ShareContext = { digest, dealer, recipient: p.index, ephemeralKey, recipientKey: fromHex(p.encryptionKey), commitmentsHash: cHash };
    return { recipient: p.index, ciphertext: toHex(encryptShare(s, ephemeralSecret, ctx)) };
  });
  return signMessage<DealMessage>(
    'DEAL',
    ceremony,
    { ceremonyId: ceremony.ceremonyId, dealer, commitments, pop: toHex(popSign(coefficients[0]!, digest, dealer)), ephemeralKey: toHex(ephemeralKey), shares },
    input.identitySecret,
  );
}
