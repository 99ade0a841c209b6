/**
 * Typed source errors.
 *
 * The observation step excludes a source for a round based on `kind`, and operators read the
 * message, so every message names the source, the feed, the value seen and the consequence:
 * `source binance: HTTP 503 after 2 retries (BTC/USD); excluded from this round`.
 */
import { CodedError } from '../../runtime/coded-error.ts';

export type SourceErrorKind =
  | 'timeout'
  | 'http'
  | 'rate_limited'
  | 'cooling_down'
  | 'bad_response'
  | 'stale'
  | 'wrong_symbol'
  | 'unknown_feed'
  | 'no_conversion'
  | 'aborted';

export interface SourceErrorDetails {
  source: string;
  feed: string;
  /** HTTP status, when an HTTP answer came back. */
  status?: number;
  /** Requests made for this fetch (1 + retries). */
  attempts?: number;
  /** For `rate_limited` and `cooling_down`: how long until the source may be asked again. */
  retryAfterMs?: number;
}

const CONSEQUENCE: Record<SourceErrorKind, string> = {
  timeout: 'excluded from this round',
  http: 'excluded from this round',
  rate_limited: 'excluded from this round',
  cooling_down: 'excluded from this round',
  bad_response: 'excluded from this round',
  stale: 'excluded from this round',
  wrong_symbol: 'excluded from this round; check the symbol mapping of this source',
  unknown_feed: 'excluded; add the feed to this source\'s `symbols` config',
  no_conversion: 'excluded from this round; configure and price the conversion feed',
  aborted: 'excluded from this round',
};

/** `code` is stable for logs and metrics: `source_<kind>`. */
export class SourceError extends CodedError<`source_${SourceErrorKind}`> {
  override readonly name = 'SourceError';
  readonly kind: SourceErrorKind;
  readonly source: string;
  readonly feed: string;
  readonly status?: number;
  readonly attempts?: number;
  readonly retryAfterMs?: number;

  constructor(kind: SourceErrorKind, what: string, details: SourceErrorDetails) {
    super(`source_${kind}`, `source ${details.source}: ${what} (${details.feed}); ${CONSEQUENCE[kind]}`);
    this.kind = kind;
    this.source = details.source;
    this.feed = details.feed;
    if (details.status !== undefined) this.status = details.status;
    if (details.attempts !== undefined) this.attempts = details.attempts;
    if (details.retryAfterMs !== undefined) this.retryAfterMs = details.retryAfterMs;
  }
}

/** Thrown by venue parsers for a malformed body; becomes a `bad_response` SourceError. */
export class BadBody extends Error {
  override readonly name = 'BadBody';
}

/** Thrown by venue parsers when the body answers a different market than the one asked. */
export class WrongSymbol extends Error {
  override readonly name = 'WrongSymbol';
}

/** A short, single-line excerpt of a body for error messages. */
export function excerpt(body: unknown, max = 80): string {
  const text = typeof body === 'string' ? body : JSON.stringify(body) ?? String(body);
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}
