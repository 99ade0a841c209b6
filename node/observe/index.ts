/**
 * Public surface of the observation layer: pure functions that turn venue quotes into one
 * feed price (or a reasoned "no observation"), a realized-volatility estimator, and the exact
 * conversion of a price to its on-chain fixed-point answer.
 */
export { ObserveError, type ObserveErrorCode } from './errors.ts';
export { toFixedPoint } from './fixed-point.ts';
export {
  atClock,
  observeFeed,
  quoteClock,
  type ExclusionReason,
  type NoPriceObservation,
  type NoObservationReason,
  type PriceObservation,
  type PriceObservationResult,
  type ObserveInput,
  type SourceQuote,
  type SourceVerdict,
} from './observe.ts';
export { observationPolicySchema, parsePolicy, type ObservationPolicy, type ObservationPolicyInput } from './policy.ts';
export { realizedVolatilityBps, type PricePoint, type VolatilityWindow } from './volatility.ts';
