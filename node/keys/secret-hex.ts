/** Parse a 32-byte secret given as hex (with or without 0x), as `aegis keys import` takes it. */
import { KeystoreError } from './errors.ts';

export function parseSecretHex(secretHex: string, what: string): Uint8Array {
  const digits = typeof secretHex === 'string' ? secretHex.trim().replace(/^0x/i, '') : '';
  if (!/^[0-9a-fA-F]{64}$/.test(digits)) {
    // Never echo the value: it is a secret.
    throw new KeystoreError('invalid_secret', `${what}: expected 32 bytes as 64 hex digits (optionally 0x-prefixed), got ${digits.length} characters`);
  }
  return Uint8Array.from(Buffer.from(digits, 'hex'));
}
