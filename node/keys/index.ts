/**
 * Public surface of the node's key handling: the threshold-BLS share and the Ed25519 identity
 * key, both in EIP-2335 keystores, with passwords from a file or an environment variable.
 */
export { KeystoreError, type KeystoreErrorCode } from './errors.ts';
export { readPassword, type PasswordSource } from './password.ts';
export { DEFAULT_KDF, type KdfChoice } from './keystore-file.ts';
export {
  createSoloBlsKey,
  importBlsShare,
  inspectBlsShare,
  loadBlsShare,
  type BlsSharePublic,
  type LoadedBlsShare,
  type ShareInfo,
} from './bls-share.ts';
export { createIdentity, importIdentity, inspectIdentity, loadIdentity, type IdentityPublic, type LoadedIdentity } from './identity.ts';
export { inspectKeystore, type KeystoreSummary } from './inspect.ts';
