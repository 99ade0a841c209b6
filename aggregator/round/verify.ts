/**
 * The aggregator's check of an observation's Ed25519 signature against an identity key given
 * as hex (committee file form). The same code path nodes run (`verifyObservation` in
 * `protocol/`, OpenSSL through node:crypto with cached key objects), so whatever the
 * aggregator accepts, every node accepts too. False for a malformed key or signature.
 */
import { verifyObservation, type SignedObservation } from '../../protocol/index.ts';
import { hexToBytesStrict } from '../../protocol/abi-words.ts';

const keys = new Map<string, Uint8Array | null>();

export function verifyObservationFast(s: SignedObservation, identityKeyHex: string): boolean {
  let key = keys.get(identityKeyHex);
  if (key === undefined) {
    key = hexToBytesStrict(identityKeyHex) ?? null;
    if (keys.size > 10_000) keys.clear();
    keys.set(identityKeyHex, key);
  }
  return key !== null && verifyObservation(s, key);
}
