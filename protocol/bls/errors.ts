/**
 * Typed errors of the threshold-BLS layer. Every error carries a stable `code` so callers
 * (node signer, aggregator, contracts tooling) branch on it, and a message that names the
 * input, the value and what to do, in noble's style: "bad point: not in prime-order subgroup".
 */
export type BlsErrorCode =
  | 'bad_length'
  | 'bad_encoding'
  | 'not_on_curve'
  | 'not_in_subgroup'
  | 'infinity'
  | 'bad_index'
  | 'duplicate_index'
  | 'bad_threshold'
  | 'too_few_partials'
  | 'bad_scalar';

export class BlsError extends Error {
  override readonly name = 'BlsError';
  constructor(
    readonly code: BlsErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function assertBytes(what: string, value: unknown, ...lengths: number[]): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new TypeError(`${what}: expected Uint8Array, got ${value === null ? 'null' : typeof value}`);
  }
  if (lengths.length > 0 && !lengths.includes(value.length)) {
    throw new BlsError('bad_length', `${what}: expected ${lengths.join(' or ')} bytes, got ${value.length}`);
  }
}
