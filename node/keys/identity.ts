/**
 * The node's Ed25519 identity key, which signs observations and authenticates HTTP requests
 * (docs/design.md §Cryptography: off-chain messages use identity keys, only reports are BLS-signed).
 *
 * Stored in the same EIP-2335 keystore format as the BLS share (scrypt + AES-128-CTR from
 * `@chainsafe/bls-keystore`), so operators handle one kind of file and one password flow. The
 * secret is the 32-byte Ed25519 seed (RFC 8032), `pubkey` the 32-byte public key.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { KeystoreError } from './errors.ts';
import { decryptKeystore, readKeystoreFile, writeKeystoreFile, type KdfChoice, type KeystoreFile } from './keystore-file.ts';
import { parseSecretHex } from './secret-hex.ts';

export interface IdentityPublic {
  file: string;
  /** 0x-prefixed 32-byte Ed25519 public key. */
  publicKey: string;
}

export interface LoadedIdentity extends IdentityPublic {
  /** The 32-byte Ed25519 seed. */
  secretKey: Uint8Array;
}

export interface WriteOptions {
  password: string;
  kdf?: KdfChoice;
}

/** Generate a new identity key and store it encrypted. */
export function createIdentity(file: string, options: WriteOptions): Promise<IdentityPublic> {
  return writeIdentity(file, ed25519.utils.randomSecretKey(), options);
}

/** Store an existing 32-byte Ed25519 seed given as hex. */
export function importIdentity(file: string, secretHex: string, options: WriteOptions): Promise<IdentityPublic> {
  return writeIdentity(file, parseSecretHex(secretHex, 'Ed25519 identity secret'), options);
}

/** Decrypt the identity key; wrong password, damaged file or a mismatching public key are errors. */
export async function loadIdentity(file: string, password: string): Promise<LoadedIdentity> {
  const parsed = readKeystoreFile(file, 'ed25519-identity/v1');
  const secretKey = await decryptKeystore(parsed, password);
  if (toHex(ed25519.getPublicKey(secretKey)) !== `0x${parsed.keystore.pubkey.toLowerCase()}`) {
    throw new KeystoreError('damaged_keystore', `keystore ${file} is damaged: pubkey does not match the decrypted secret; restore it from your backup`);
  }
  return { ...identityPublicOf(parsed), secretKey };
}

/** Public facts of an identity keystore, without the password. */
export function inspectIdentity(file: string): IdentityPublic {
  return identityPublicOf(readKeystoreFile(file, 'ed25519-identity/v1'));
}

/** The public part of a parsed identity keystore. */
export function identityPublicOf({ file, keystore }: KeystoreFile): IdentityPublic {
  return { file, publicKey: `0x${keystore.pubkey.toLowerCase()}` };
}

async function writeIdentity(file: string, seed: Uint8Array, { password, kdf }: WriteOptions): Promise<IdentityPublic> {
  const written = await writeKeystoreFile(file, {
    password,
    secret: seed,
    publicKey: ed25519.getPublicKey(seed),
    meta: { aegis: 'ed25519-identity/v1' },
    ...(kdf ? { kdf } : {}),
  });
  return identityPublicOf(written);
}

function toHex(bytes: Uint8Array): string {
  return `0x${Buffer.from(bytes).toString('hex')}`;
}
