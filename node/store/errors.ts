/**
 * Typed errors of the node's SQLite store. A refusal to sign is not an error (it is a normal
 * `{ ok: false }` answer); these are for a store that cannot be opened or is misused.
 */

export type StoreErrorCode = 'open_failed' | 'unsupported_schema' | 'not_durable' | 'invalid_argument' | 'store_locked';

export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
