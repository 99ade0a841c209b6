/**
 * Ed25519 identity signatures (observations, requests) on libsodium through `sodium-native`
 * (prebuilt N-API binaries, no compiler needed). A round verifies every forwarded observation
 * on every node — n² checks, 961 at n = 31 — so verification speed sits on the round's
 * latency path: libsodium verifies in about 57 µs here against 125 µs for node:crypto
 * (OpenSSL 3.0) and about 1 ms for pure JS.
 *
 * libsodium's verification is RFC 8032 with the stricter checks (canonical S and R, no
 * small-order public keys or R), which only ever refuses what no honest signer produces.
 * Keys stay the raw 32-byte forms of RFC 8032 (the keystores and committee files hold
 * those). Interoperable with @noble/curves' ed25519 both ways (tested).
 */
import sodium from 'sodium-native';

/** Expanded secret keys (seed ‖ public key, libsodium's 64-byte form) by seed, bounded. */
const expandedCache = new Map<string, Buffer>();
const CACHE_MAX = 1024;

const view = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

function expandedOf(secret: Uint8Array): Buffer {
  if (secret.length !== 32) throw new RangeError(`ed25519 secret key: expected 32 bytes, got ${secret.length}`);
  const id = view(secret).toString('hex');
  const hit = expandedCache.get(id);
  if (hit) return hit;
  const pk = Buffer.alloc(sodium.crypto_sign_PUBLICKEYBYTES);
  const sk = Buffer.alloc(sodium.crypto_sign_SECRETKEYBYTES);
  sodium.crypto_sign_seed_keypair(pk, sk, view(secret));
  if (expandedCache.size >= CACHE_MAX) expandedCache.delete(expandedCache.keys().next().value!);
  expandedCache.set(id, sk);
  return sk;
}

export function edPublicKey(secret: Uint8Array): Uint8Array {
  return new Uint8Array(expandedOf(secret).subarray(32));
}

export function edSign(message: Uint8Array, secret: Uint8Array): Uint8Array {
  const signature = new Uint8Array(sodium.crypto_sign_BYTES);
  sodium.crypto_sign_detached(view(signature), view(message), expandedOf(secret));
  return signature;
}

/** False for any malformed key or signature, never a throw. */
export function edVerify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== sodium.crypto_sign_BYTES || publicKey.length !== sodium.crypto_sign_PUBLICKEYBYTES) return false;
  return sodium.crypto_sign_verify_detached(view(signature), view(message), view(publicKey));
}
