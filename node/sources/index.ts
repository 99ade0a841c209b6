/**
 * Price sources: the registry of supported exchanges, the Uniswap v3 pool source
 * (`dex/uniswap-v3.ts`), and the public API of `node/sources`.
 *
 * `createSource('binance', { baseUrl })` gives a `PriceSource` with the shared HTTP policy; the
 * venue simulator (`sim/venues`) serves the same formats, so production code is what the tests
 * and the simulator exercise.
 */
import { SourceError } from './errors.ts';
import { createVenueSource, type SourceOptions } from './source.ts';
import { VENUE_IDS, type PriceSource, type VenueId, type VenueSpec } from './types.ts';
import { binance } from './venues/binance.ts';
import { bitfinex } from './venues/bitfinex.ts';
import { bitstamp } from './venues/bitstamp.ts';
import { bybit } from './venues/bybit.ts';
import { coinbase } from './venues/coinbase.ts';
import { gemini } from './venues/gemini.ts';
import { kraken } from './venues/kraken.ts';
import { kucoin } from './venues/kucoin.ts';
import { okx } from './venues/okx.ts';

export const VENUE_SPECS: Readonly<Record<VenueId, VenueSpec>> = {
  binance,
  coinbase,
  kraken,
  okx,
  bybit,
  bitstamp,
  gemini,
  kucoin,
  bitfinex,
};

/** Supported venue ids, in a stable order. */
export const SUPPORTED_VENUES: readonly VenueId[] = VENUE_IDS;

export function isVenueId(value: string): value is VenueId {
  return (VENUE_IDS as readonly string[]).includes(value);
}

/** A source for a supported venue; throws a `TypeError` naming the supported venues otherwise. */
export function createSource(venue: string, options: SourceOptions = {}): PriceSource {
  if (!isVenueId(venue)) {
    throw new TypeError(`unknown venue "${venue}": supported venues are ${VENUE_IDS.join(', ')}`);
  }
  return createVenueSource(VENUE_SPECS[venue], options);
}

export { SourceError, BadBody, WrongSymbol } from './errors.ts';
export type { SourceErrorKind } from './errors.ts';
export { convertQuote } from './convert.ts';
export { createVenueSource, marketFor, splitFeed, SOURCE_DEFAULTS, type SourceOptions } from './source.ts';
export { DEFAULT_RETRY_POLICY, type RetryPolicy } from './http.ts';
export type { PriceSource, SourceQuote, SourceHealth, CircuitState, MarketRef, VenueId, VenueSpec, ParsedTicker, VenueErrorPayload, DexId, SourceVenue } from './types.ts';
export { VENUE_IDS, DEX_IDS } from './types.ts';
export { createUniswapV3Source, UNISWAP_V3, type UniswapV3SourceOptions, type DexQuoteDetail } from './dex/uniswap-v3.ts';
