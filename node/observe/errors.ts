/**
 * Typed errors of the observation layer.
 *
 * Only programming or configuration mistakes throw (a malformed policy, a price that cannot be
 * encoded on-chain). Bad market data never throws: it becomes a per-source exclusion reason or
 * a "no observation" answer, so one broken venue cannot crash a node.
 */
import { CodedError } from '../../runtime/coded-error.ts';

export type ObserveErrorCode = 'invalid_policy' | 'invalid_number' | 'out_of_range';

export class ObserveError extends CodedError<ObserveErrorCode> {
  override readonly name = 'ObserveError';
}
