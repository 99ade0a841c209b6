/**
 * `aegis keys inspect`: what a keystore file holds, for either key kind, without the password.
 */
import { inspectBlsShare, type BlsSharePublic } from './bls-share.ts';
import { inspectIdentity, type IdentityPublic } from './identity.ts';
import { readKeystoreFile } from './keystore-file.ts';

export type KeystoreSummary =
  | ({ kind: 'bls-share'; uuid: string; kdf: string } & BlsSharePublic)
  | ({ kind: 'ed25519-identity'; uuid: string; kdf: string } & IdentityPublic);

export function inspectKeystore(file: string): KeystoreSummary {
  const { keystore, meta } = readKeystoreFile(file);
  const common = { uuid: keystore.uuid, kdf: keystore.crypto.kdf.function };
  return meta.aegis === 'bls-share/v1'
    ? { kind: 'bls-share', ...common, ...inspectBlsShare(file) }
    : { kind: 'ed25519-identity', ...common, ...inspectIdentity(file) };
}
