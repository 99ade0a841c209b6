/**
 * Typed errors of the aggregator. Every error carries a stable `code` (counted in metrics,
 * stored with failed rounds) and a message that names the thing, the value and the fix; the base
 * `CodedError` (`runtime/coded-error.ts`) is shared with the other processes.
 */
import { CodedError } from '../runtime/coded-error.ts';

export type AggregatorErrorCode =
  | 'bad_config'
  | 'config_digest_mismatch'
  | 'too_few_observations'
  | 'no_feed_quorum'
  | 'too_few_partials'
  | 'group_signature_invalid'
  | 'epoch_exhausted'
  | 'simulation_reverted'
  | 'transmit_failed'
  | 'rpc_failed'
  | 'fee_cap_exceeded'
  | 'store_failed';

export class AggregatorError extends CodedError<AggregatorErrorCode> {
  override readonly name = 'AggregatorError';
}

/** One-line description of any thrown value, for logs and stored reasons. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
