/**
 * Typed errors of the node's SQLite store. A refusal to sign is not an error (it is a normal
 * `{ ok: false }` answer); these are for a store that cannot be opened or is misused.
 */
import { CodedError } from '../../runtime/coded-error.ts';

export type StoreErrorCode = 'open_failed' | 'unsupported_schema' | 'not_durable' | 'invalid_argument' | 'store_locked';

export class StoreError extends CodedError<StoreErrorCode> {
  override readonly name = 'StoreError';
}
