/**
 * Typed errors of the node's key handling. Every message names the file (or variable), what is
 * wrong and what to do; `code` is stable for programs and tests.
 */
import { CodedError } from '../../runtime/coded-error.ts';

export type KeystoreErrorCode =
  | 'wrong_password'
  | 'damaged_keystore'
  | 'wrong_kind'
  | 'not_found'
  | 'unreadable'
  | 'already_exists'
  | 'password_unavailable'
  | 'invalid_secret'
  | 'invalid_share_info'
  | 'write_failed';

export class KeystoreError extends CodedError<KeystoreErrorCode> {
  override readonly name = 'KeystoreError';
}
