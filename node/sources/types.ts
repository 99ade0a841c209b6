/**
 * Shared types of the exchange sources.
 *
 * A node prices a feed (`BTC/USD`) from several venues. Each venue lists the feed under its own
 * symbol and often in a different quote currency (`BTCUSDT`), so every quote carries the market it
 * came from and that market's quote currency; `convertQuote` prices it into the feed's currency.
 * Venue formats differ only in how a ticker is requested and read; everything else (HTTP,
 * retries, cool-down, staleness, sanity checks) is shared, so a venue is a small `VenueSpec`.
 */

/** One price read from one venue for one feed. `price` is in the market's quote currency `quote`. */
export interface SourceQuote {
  /** Source id, by default the venue id (`binance`). */
  source: string;
  /** Feed this quote answers, `BASE/QUOTE` (`BTC/USD`). */
  feed: string;
  price: number;
  /** 24 h volume in the base asset, when the venue gives it. */
  volume?: number;
  /** The venue's own time for the ticker (ms since epoch), when the venue gives one. */
  venueTimestampMs?: number;
  /** Local time the response arrived (ms since epoch). */
  receivedAtMs: number;
  /** Venue symbol the price was read from (`BTCUSDT`, `XXBTZUSD`, `tBTCUSD`). */
  market: string;
  /** Quote currency of `market` (`USD`, `USDT`, `USDC`); differs from the feed's when conversion is needed. */
  quote: string;
  /** Set by `convertQuote` when the price was converted from another quote currency. */
  conversion?: { feed: string; rate: number; fromQuote: string; originalPrice: number };
}

/** A price source: one venue behind the shared HTTP policy. */
export interface PriceSource {
  id: string;
  venue: SourceVenue;
  /** Fetch one feed. Rejects with a `SourceError` whose `kind` says why; never resolves with garbage. */
  fetch(feed: string, signal?: AbortSignal): Promise<SourceQuote>;
  /** The market this source reads for a feed, or undefined when the feed is not `BASE/QUOTE`. */
  market(feed: string): MarketRef | undefined;
  /** Circuit state, for status pages and metrics. */
  health(): SourceHealth;
}

export type CircuitState = 'closed' | 'open' | 'half_open';

export interface SourceHealth {
  state: CircuitState;
  consecutiveFailures: number;
  /** While open: when the next trial request is allowed (ms since epoch). */
  openUntilMs?: number;
}

/** The venue symbol of a feed and the quote currency that symbol is priced in. */
export interface MarketRef {
  symbol: string;
  quote: string;
}

export const VENUE_IDS = [
  'binance',
  'coinbase',
  'kraken',
  'okx',
  'bybit',
  'bitstamp',
  'gemini',
  'kucoin',
  'bitfinex',
] as const;
export type VenueId = (typeof VENUE_IDS)[number];

/** On-chain sources (`node/sources/dex`). */
export const DEX_IDS = ['uniswap-v3'] as const;
export type DexId = (typeof DEX_IDS)[number];
/** Where a source reads: an exchange's REST API or a DEX on a chain. */
export type SourceVenue = VenueId | DexId;

/** What a venue parser extracts from a ticker body before the shared sanity checks. */
export interface ParsedTicker {
  /** Price exactly as the venue wrote it (string or number); checked by `parsePrice`. */
  price: unknown;
  volume?: unknown;
  /** Already converted to ms since epoch, or undefined when the venue gives no time. */
  venueTimestampMs?: number;
}

/** A venue error payload recognised in a body (`{"error":["EQuery:Unknown asset pair"]}`). */
export interface VenueErrorPayload {
  message: string;
  rateLimited: boolean;
  /** The venue documents this error as transient ("try again later", OKX 50001): retried like a 5xx. */
  retryable?: boolean;
}

/** One HTTP answer as a venue hook sees it. */
export interface VenueAnswer {
  status: number;
  /** Header names in lower case. */
  headers: Record<string, string>;
  text: string;
  /** The parsed JSON body, when the body was JSON. */
  body?: unknown;
  /** The venue error payload found in the body, if any. */
  venueError?: VenueErrorPayload;
  /** Local time the answer arrived (ms since epoch). */
  receivedAtMs: number;
}

/**
 * A rate limit as the venue signals it, with the wait the venue documents or announces. The
 * source never asks again before `waitMs` has passed (docs/design.md §Round protocol, step 2: a node
 * must not lose its venues by hammering them).
 */
export interface RateLimitSignal {
  /** How long the venue asks us to stay away, from its headers or its documentation. */
  waitMs: number;
  /** Where the wait comes from, for messages: `gw-ratelimit-reset header`, `Bybit docs: 403 ban ≥ 10 min`. */
  basis: string;
}

/**
 * A second endpoint that dates the quote when the ticker carries no quote time (Kraken,
 * Bitfinex) or only the server's clock (Bybit): the venue's most recent trade, whose time moves
 * only when the market trades.
 */
export interface FreshnessSpec {
  /** Path of the endpoint, for docs and the venue simulator (`/0/public/Trades`). */
  endpoint: string;
  request(symbol: string): { path: string; params?: Record<string, string> };
  /** Time (ms since epoch) of the newest trade in the body; throws `BadBody`/`WrongSymbol` otherwise. */
  lastTradeMs(body: unknown, symbol: string): number;
}

/**
 * Everything that differs between venues. Parsers throw `BadBody` for a malformed body; the
 * shared source turns it into a `SourceError` of kind `bad_response`.
 */
export interface VenueSpec {
  id: VenueId;
  /** Human name for messages and docs. */
  name: string;
  /** Public REST base URL of the live venue. */
  defaultBaseUrl: string;
  /** Path of the ticker endpoint, for docs and the venue simulator (`/api/v3/ticker/24hr`). */
  endpoint: string;
  /** Default market for a feed `BASE/QUOTE`. */
  defaultMarket(base: string, quote: string): MarketRef;
  /** Path (relative to the base URL) and query of the ticker request for a symbol. */
  request(symbol: string): { path: string; params?: Record<string, string> };
  /** A venue error payload in the body, whatever the HTTP status, or undefined. */
  venueError(body: unknown): VenueErrorPayload | undefined;
  /**
   * The venue's own rate-limit signals beyond HTTP 429/418 and `rateLimited` payloads (Bybit's
   * HTTP 403 "access too frequent"), and the wait each asks for when no `Retry-After` came
   * (KuCoin `gw-ratelimit-reset`, Bybit `X-Bapi-Limit-Reset-Timestamp`, documented windows).
   * Called for every answer; undefined when the answer is not a rate limit.
   */
  rateLimit(answer: VenueAnswer, limited: boolean): RateLimitSignal | undefined;
  /** Where the quote's time comes from when the ticker has none of its own; see `FreshnessSpec`. */
  freshness?: FreshnessSpec;
  /** What "fresh" means for this venue, one line for the config reference and `node check --live`. */
  freshnessBasis: string;
  /** Read a ticker out of a successful body; checks the echoed symbol when the venue echoes one. */
  parse(body: unknown, symbol: string): ParsedTicker;
}
