/**
 * Fast check of an observation's Ed25519 signature with node:crypto (OpenSSL), about 15×
 * faster than the pure-JS verifier, which matters at n = 100 where a round checks n
 * signatures. OpenSSL verifies RFC 8032 cofactorless and rejects non-canonical encodings,
 * so whatever it accepts, `verifyObservation` (ZIP-215, what nodes run) accepts too: a
 * signature accepted here is never refused by a node. Falls back to `verifyObservation` if
 * the key cannot be imported.
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { getBytes } from 'ethers';
import { observationHash, verifyObservation, type SignedObservation } from '../../protocol/index.ts';

const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const keys = new Map<string, KeyObject | null>();

function keyObject(publicKeyHex: string): KeyObject | null {
  const k = publicKeyHex.toLowerCase();
  let v = keys.get(k);
  if (v === undefined) {
    try {
      v = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, Buffer.from(getBytes(k))]), format: 'der', type: 'spki' });
    } catch {
      v = null;
    }
    if (keys.size > 10_000) keys.clear();
    keys.set(k, v);
  }
  return v;
}

export function verifyObservationFast(s: SignedObservation, identityKeyHex: string): boolean {
  const key = keyObject(identityKeyHex);
  if (!key) return verifyObservation(s, getBytes(identityKeyHex));
  try {
    const sig = getBytes(s.signature);
    if (sig.length !== 64) return false;
    return verify(null, getBytes(observationHash(s.observation)), key, sig);
  } catch {
    return false;
  }
}
