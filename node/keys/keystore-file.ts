/**
 * EIP-2335 keystore files for both node keys: read, validate, decrypt, and write atomically.
 *
 * Encryption is `@chainsafe/bls-keystore` (EIP-2335: scrypt or PBKDF2, AES-128-CTR, SHA-256
 * checksum). Two Aegis-specific choices, both still inside the EIP-2335 JSON layout:
 *  - `pubkey` holds the key's own public key: the 96-byte G2 public share for a BLS share
 *    (Aegis uses min-signature BLS, keys in G2) or the 32-byte Ed25519 key for the identity.
 *    The library's schema insists on 48-byte eth2 keys, so this module validates with its own
 *    schema; eth2 tools could not use these keys anyway.
 *  - `description` holds a small JSON document naming the key kind and, for a BLS share, the
 *    share index and the committee's public info (n, t, group key). One file carries everything,
 *    so there is no sidecar that could drift from the key. `path` is "" (not HD-derived).
 *
 * Writes go to a temp file (mode 0600, fsync) that is then hard-linked into place (atomic, and
 * it never overwrites an existing key) and the directory is fsynced.
 */
import { create, decrypt, verifyPassword, type IKeystore } from '@chainsafe/bls-keystore';
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { KeystoreError } from './errors.ts';

export type KdfChoice = { function: 'scrypt'; n: number } | { function: 'pbkdf2'; c: number };
/** EIP-2335's recommended scrypt cost (≈1 s per unlock here); lower costs are for tests only. */
export const DEFAULT_KDF: KdfChoice = { function: 'scrypt', n: 262_144 };

const hex = (bytes?: number) => z.string().regex(bytes === undefined ? /^([0-9a-fA-F]{2})*$/ : new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`), bytes === undefined ? 'expected hex' : `expected ${bytes}-byte hex`);

const blsShareMeta = z.strictObject({
  aegis: z.literal('bls-share/v1'),
  index: z.number().int().min(1).max(256),
  n: z.number().int().min(1).max(256),
  t: z.number().int().min(1).max(256),
  groupPublicKey: z.string().regex(/^0x[0-9a-fA-F]{192}$/, 'expected 0x-prefixed 96-byte G2 hex'),
});
const identityMeta = z.strictObject({ aegis: z.literal('ed25519-identity/v1') });
const metaSchema = z.discriminatedUnion('aegis', [blsShareMeta, identityMeta]);
export type BlsShareMeta = z.infer<typeof blsShareMeta>;
export type KeyMeta = z.infer<typeof metaSchema>;
export type KeyKind = KeyMeta['aegis'];

const PUBKEY_BYTES: Record<KeyKind, number> = { 'bls-share/v1': 96, 'ed25519-identity/v1': 32 };

const keystoreSchema = z.object({
  version: z.literal(4),
  uuid: z.string().min(1),
  description: z.string(),
  path: z.string(),
  pubkey: hex(),
  crypto: z.object({
    kdf: z.discriminatedUnion('function', [
      z.object({
        function: z.literal('scrypt'),
        params: z.object({ dklen: z.literal(32), n: z.number().int().positive(), r: z.number().int().positive(), p: z.number().int().positive(), salt: hex(32) }),
        message: z.literal(''),
      }),
      z.object({
        function: z.literal('pbkdf2'),
        params: z.object({ dklen: z.literal(32), c: z.number().int().positive(), prf: z.literal('hmac-sha256'), salt: hex(32) }),
        message: z.literal(''),
      }),
    ]),
    checksum: z.object({ function: z.literal('sha256'), params: z.object({}), message: hex(32) }),
    cipher: z.object({ function: z.literal('aes-128-ctr'), params: z.object({ iv: hex(16) }), message: hex(32) }),
  }),
});

/** A keystore file that parsed and validated, not yet decrypted. */
export interface KeystoreFile {
  file: string;
  keystore: IKeystore;
  meta: KeyMeta;
}

/** Read and validate a keystore file (no password needed). */
export function readKeystoreFile(file: string, expected?: KeyKind): KeystoreFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new KeystoreError('not_found', `keystore ${file} does not exist; create or import a key first (aegis keys)`, { cause: err });
    throw new KeystoreError('unreadable', `keystore ${file}: cannot read it (${code ?? (err as Error).message}); check its owner and permissions`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw damaged(file, `not valid JSON (${(err as Error).message}; ${text.length} bytes, truncated?)`);
  }
  const parsed = keystoreSchema.safeParse(json);
  if (!parsed.success) {
    throw damaged(file, parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '));
  }
  let meta: KeyMeta;
  try {
    meta = metaSchema.parse(JSON.parse(parsed.data.description));
  } catch {
    throw damaged(file, `description is not an Aegis key description (${parsed.data.description.slice(0, 80)})`);
  }
  if (parsed.data.pubkey.length !== PUBKEY_BYTES[meta.aegis] * 2) {
    throw damaged(file, `pubkey has ${parsed.data.pubkey.length / 2} bytes, a ${meta.aegis} key has ${PUBKEY_BYTES[meta.aegis]}`);
  }
  if (expected !== undefined && meta.aegis !== expected) {
    throw new KeystoreError('wrong_kind', `keystore ${file} holds a key of kind ${meta.aegis}, not ${expected}; point the config at the right file`);
  }
  return { file, keystore: parsed.data as IKeystore, meta };
}

/** Decrypt a validated keystore; throws `wrong_password` naming the file. */
export async function decryptKeystore({ file, keystore }: KeystoreFile, password: string): Promise<Uint8Array> {
  if (!(await verifyPassword(keystore, password))) {
    throw new KeystoreError(
      'wrong_password',
      `keystore ${file}: wrong password (the checksum does not match); check the password file or environment variable`,
    );
  }
  return decrypt(keystore, password);
}

export interface WriteKeystoreOptions {
  password: string;
  secret: Uint8Array;
  publicKey: Uint8Array;
  meta: KeyMeta;
  kdf?: KdfChoice;
}

/** Encrypt and write a new keystore atomically with mode 0600; never overwrites. */
export async function writeKeystoreFile(file: string, { password, secret, publicKey, meta, kdf = DEFAULT_KDF }: WriteKeystoreOptions): Promise<KeystoreFile> {
  const salt = randomBytes(32).toString('hex');
  const kdfModule =
    kdf.function === 'scrypt'
      ? { function: 'scrypt' as const, params: { dklen: 32, n: kdf.n, r: 8, p: 1, salt } }
      : { function: 'pbkdf2' as const, params: { dklen: 32, c: kdf.c, prf: 'hmac-sha256' as const, salt } };
  const keystore = await create(password, secret, publicKey, '', JSON.stringify(meta), kdfModule);
  publishAtomically(file, `${JSON.stringify(keystore, null, 2)}\n`);
  return { file, keystore, meta };
}

function publishAtomically(file: string, contents: string): void {
  const dir = dirname(file);
  const temp = join(dir, `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const fd = openSync(temp, 'wx', 0o600);
    try {
      writeSync(fd, contents);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    linkSync(temp, file); // atomic publish that fails with EEXIST instead of replacing a key
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new KeystoreError('already_exists', `keystore ${file} already exists; refusing to overwrite a key, move it away first`, { cause: err });
    throw new KeystoreError('write_failed', `keystore ${file}: cannot write it (${code ?? (err as Error).message}); check that ${dir} exists and is writable`, { cause: err });
  } finally {
    try {
      unlinkSync(temp);
    } catch {
      // the temp file was never created
    }
  }
  const dirFd = openSync(dir, 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}

function damaged(file: string, what: string): KeystoreError {
  return new KeystoreError('damaged_keystore', `keystore ${file} is damaged: ${what}; restore it from your backup`);
}
