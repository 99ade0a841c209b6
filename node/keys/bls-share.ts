/**
 * The node's threshold-BLS key share s_i (docs/design.md §Cryptography) in an EIP-2335 keystore.
 *
 * The secret is the 32-byte big-endian scalar of BLS12-381 Fr in [1, r−1]; the keystore's
 * `pubkey` is PK_i = s_i·G2 and its description carries the share index and the committee's
 * public info (n, t, group key), checked on import. Loading re-derives PK_i from the decrypted
 * secret and refuses a file whose public key does not match.
 */
import { BlsError, assertThreshold, decodeG2, publicShareOf, randomScalar, scalarFromBytes, scalarToBytes, type KeyShare } from '../../protocol/index.ts';
import { KeystoreError } from './errors.ts';
import { decryptKeystore, readKeystoreFile, writeKeystoreFile, type BlsShareMeta, type KdfChoice, type KeystoreFile } from './keystore-file.ts';
import { parseSecretHex } from './secret-hex.ts';

/** The public facts about a share: its index and the committee it belongs to. */
export interface ShareInfo {
  index: number;
  n: number;
  t: number;
  /** Group public key, 0x-prefixed 96-byte compressed G2. */
  groupPublicKey: string;
}

/** What `inspect` shows and `create`/`import` return: no secret. */
export interface BlsSharePublic extends ShareInfo {
  file: string;
  /** PK_i = s_i·G2, 0x-prefixed 96-byte compressed G2. */
  publicShare: string;
}

export interface LoadedBlsShare extends BlsSharePublic {
  share: KeyShare;
}

export interface WriteOptions {
  password: string;
  kdf?: KdfChoice;
}

/** Encrypt an existing share (from the dealer or the DKG) given as 32-byte hex. */
export async function importBlsShare(file: string, secretHex: string, info: ShareInfo, options: WriteOptions): Promise<BlsSharePublic> {
  const secret = parseSecretHex(secretHex, 'BLS share secret');
  let scalar: bigint;
  try {
    scalar = scalarFromBytes(secret, 'BLS share secret');
  } catch (err) {
    throw new KeystoreError('invalid_secret', `${(err as Error).message}; pass the share's 32-byte big-endian scalar in [1, r−1]`, { cause: err });
  }
  return writeShare(file, scalar, info, options);
}

/**
 * Create a fresh random key as a one-member committee (index 1, n = t = 1, group key = its own
 * public key): a solo signer for development. Committee shares come from the dealer or the DKG
 * and enter through `importBlsShare`.
 */
export async function createSoloBlsKey(file: string, options: WriteOptions): Promise<BlsSharePublic> {
  const scalar = randomScalar();
  const publicKey = `0x${Buffer.from(publicShareOf({ index: 1, secret: scalar })).toString('hex')}`;
  return writeShare(file, scalar, { index: 1, n: 1, t: 1, groupPublicKey: publicKey }, options);
}

/** Decrypt the share; wrong password, damaged file or a mismatching public key are errors. */
export async function loadBlsShare(file: string, password: string): Promise<LoadedBlsShare> {
  const parsed = readKeystoreFile(file, 'bls-share/v1');
  const secret = await decryptKeystore(parsed, password);
  const meta = parsed.meta as BlsShareMeta;
  let scalar: bigint;
  try {
    scalar = scalarFromBytes(secret, `keystore ${file} secret`);
  } catch (err) {
    throw new KeystoreError('damaged_keystore', `keystore ${file} is damaged: ${(err as Error).message}; restore it from your backup`, { cause: err });
  }
  const share = { index: meta.index, secret: scalar };
  if (Buffer.from(publicShareOf(share)).toString('hex') !== parsed.keystore.pubkey.toLowerCase()) {
    throw new KeystoreError('damaged_keystore', `keystore ${file} is damaged: pubkey does not match the decrypted secret; restore it from your backup`);
  }
  return { ...sharePublicOf(parsed), share };
}

/** Public facts of a share keystore, without the password. */
export function inspectBlsShare(file: string): BlsSharePublic {
  return sharePublicOf(readKeystoreFile(file, 'bls-share/v1'));
}

/** The public part of a parsed share keystore. */
export function sharePublicOf({ file, keystore, meta }: KeystoreFile): BlsSharePublic {
  const { index, n, t, groupPublicKey } = meta as BlsShareMeta;
  return { file, index, n, t, groupPublicKey, publicShare: `0x${keystore.pubkey.toLowerCase()}` };
}

async function writeShare(file: string, scalar: bigint, info: ShareInfo, { password, kdf }: WriteOptions): Promise<BlsSharePublic> {
  checkShareInfo(info);
  const meta: BlsShareMeta = { aegis: 'bls-share/v1', index: info.index, n: info.n, t: info.t, groupPublicKey: info.groupPublicKey.toLowerCase() };
  const publicKey = publicShareOf({ index: info.index, secret: scalar });
  return sharePublicOf(await writeKeystoreFile(file, { password, secret: scalarToBytes(scalar), publicKey, meta, ...(kdf ? { kdf } : {}) }));
}

function checkShareInfo({ index, n, t, groupPublicKey }: ShareInfo): void {
  try {
    assertThreshold(t, n);
    if (!Number.isInteger(index) || index < 1 || index > n) throw new RangeError(`share index ${index}: must be an integer from 1 to n=${n}`);
    if (typeof groupPublicKey !== 'string' || !/^0x[0-9a-fA-F]{192}$/.test(groupPublicKey)) {
      throw new RangeError(`group public key ${String(groupPublicKey).slice(0, 20)}…: expected 0x-prefixed 96-byte compressed G2 hex`);
    }
    decodeG2(Buffer.from(groupPublicKey.slice(2), 'hex'), 'group public key');
  } catch (err) {
    if (err instanceof RangeError || err instanceof BlsError) {
      throw new KeystoreError('invalid_share_info', `${err.message}; copy the values from the committee file`, { cause: err });
    }
    throw err;
  }
}
