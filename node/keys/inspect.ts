/**
 * `aegis keys inspect`: what a keystore file holds, for either key kind, without the password.
 */
import { sharePublicOf, type BlsSharePublic } from './bls-share.ts';
import { identityPublicOf, type IdentityPublic } from './identity.ts';
import { readKeystoreFile } from './keystore-file.ts';

export type KeystoreSummary =
  | ({ kind: 'bls-share'; uuid: string; kdf: string } & BlsSharePublic)
  | ({ kind: 'ed25519-identity'; uuid: string; kdf: string } & IdentityPublic);

export function inspectKeystore(file: string): KeystoreSummary {
  const parsed = readKeystoreFile(file);
  const common = { uuid: parsed.keystore.uuid, kdf: parsed.keystore.crypto.kdf.function };
  return parsed.meta.aegis === 'bls-share/v1'
    ? { kind: 'bls-share', ...common, ...sharePublicOf(parsed) }
    : { kind: 'ed25519-identity', ...common, ...identityPublicOf(parsed) };
}
