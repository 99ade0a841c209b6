/**
 * One venue behind the shared policy: symbol mapping, HTTP with retries, circuit breaker,
 * venue-error detection, sanity checks and staleness.
 *
 * A fetch either resolves with a quote that passed every check or rejects with a `SourceError`;
 * there is no "best effort" value. The checks are the same for every venue so that a venue
 * module only says where its ticker lives and how to read it.
 */
import { CircuitBreaker } from './breaker.ts';
import { BadBody, SourceError, WrongSymbol, excerpt, type SourceErrorKind } from './errors.ts';
import { DEFAULT_RETRY_POLICY, backoffMs, createHttpClient, httpGet, parseRetryAfter, sleep, type RetryPolicy } from './http.ts';
import { decimal } from './parse.ts';
import type { MarketRef, PriceSource, SourceQuote, VenueSpec } from './types.ts';

export interface SourceOptions extends Partial<RetryPolicy> {
  /** Source id in quotes and messages; defaults to the venue id. */
  id?: string;
  /** Base URL; defaults to the live venue. Point it at the venue simulator in tests and demos. */
  baseUrl?: string;
  /** Per-feed market overrides; a string keeps the feed's quote currency. */
  symbols?: Record<string, string | MarketRef>;
  /** Consecutive failed fetches that open the circuit. Default 3. */
  failureThreshold?: number;
  /** How long an open circuit refuses requests before a trial. Default 30 s. */
  coolDownMs?: number;
  /** The same after failures where the venue never answered (refused, unreachable, timeout). Default 3 s. */
  transportCoolDownMs?: number;
  /** A venue timestamp older than this is stale. Default 60 s. */
  maxStalenessMs?: number;
  /** A venue timestamp further in the future than this is rejected as garbage. Default 5 s. */
  maxClockSkewMs?: number;
  /** Accepted price range, per feed, in the market's quote currency. Default [1e-8, 1e8]. */
  priceBounds?: Record<string, readonly [min: number, max: number]>;
  /** Clock, injectable for tests and the simulator. */
  now?: () => number;
  /** Jitter source in [0, 1). */
  random?: () => number;
  /** Every HTTP answer, as received (`aegis node check --record` writes them as fixtures). */
  onAnswer?: (answer: RecordedAnswer) => void;
}

/** One raw venue answer: what was asked and what came back. */
export interface RecordedAnswer {
  path: string;
  params?: Record<string, string>;
  status: number;
  headers: Record<string, string>;
  text: string;
  receivedAtMs: number;
}

/** Wait after a rate limit that names no time and whose venue documents none. */
export const RATE_LIMIT_DEFAULT_WAIT_MS = 60_000;

export const SOURCE_DEFAULTS = {
  failureThreshold: 3,
  coolDownMs: 30_000,
  transportCoolDownMs: 3_000,
  maxStalenessMs: 60_000,
  maxClockSkewMs: 5_000,
  priceBounds: [1e-8, 1e8] as const,
};

const FEED = /^([A-Z0-9]+)\/([A-Z0-9]+)$/;

/** Split `BTC/USD` into base and quote, or undefined when it is not of that form. */
export function splitFeed(feed: string): { base: string; quote: string } | undefined {
  const m = FEED.exec(feed);
  return m && m[1] && m[2] ? { base: m[1], quote: m[2] } : undefined;
}

/** The market a source with these overrides reads for `feed`, or undefined for a malformed feed. */
export function marketFor(spec: VenueSpec, feed: string, symbols?: SourceOptions['symbols']): MarketRef | undefined {
  const parts = splitFeed(feed);
  if (!parts) return undefined;
  const override = symbols?.[feed];
  if (typeof override === 'string') return { symbol: override, quote: parts.quote };
  return override ?? spec.defaultMarket(parts.base, parts.quote);
}

/** A failed attempt: what to say, whether another attempt may help, how long the venue asked us to wait. */
interface Failure {
  kind: SourceErrorKind;
  what: string;
  retryable: boolean;
  status?: number;
  retryAfterMs?: number;
  /** Set when the venue asked for a pause longer than we wait: hold the circuit open that long. */
  holdMs?: number;
  /** No answer from the venue at all (refused, unreachable, timeout). */
  transport?: boolean;
}

type Attempt = { quote: SourceQuote } | { failure: Failure };

export function createVenueSource(spec: VenueSpec, options: SourceOptions = {}): PriceSource {
  const id = options.id ?? spec.id;
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...definedOnly(options) };
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const maxStalenessMs = options.maxStalenessMs ?? SOURCE_DEFAULTS.maxStalenessMs;
  const maxClockSkewMs = options.maxClockSkewMs ?? SOURCE_DEFAULTS.maxClockSkewMs;
  const client = createHttpClient(options.baseUrl ?? spec.defaultBaseUrl, policy.timeoutMs);
  const breaker = new CircuitBreaker({
    failureThreshold: options.failureThreshold ?? SOURCE_DEFAULTS.failureThreshold,
    coolDownMs: options.coolDownMs ?? SOURCE_DEFAULTS.coolDownMs,
    transportCoolDownMs: options.transportCoolDownMs ?? SOURCE_DEFAULTS.transportCoolDownMs,
    now,
  });

  /**
   * One request and the checks every answer goes through: transport, rate limits (whatever the
   * venue's way of saying so), HTTP status, JSON, venue error payloads. Resolves with the parsed
   * body of a good answer or a failure saying whether another attempt may help.
   */
  async function call(req: { path: string; params?: Record<string, string> }, signal?: AbortSignal): Promise<{ body: unknown; status: number; receivedAtMs: number } | { failure: Failure } | 'aborted'> {
    const res = await httpGet(client, req.path, req.params, signal);
    if (!res.ok) {
      if (res.reason === 'aborted') return 'aborted';
      if (res.reason === 'timeout') return { failure: { kind: 'timeout', what: `no answer within ${policy.timeoutMs} ms`, retryable: true, transport: true } };
      return { failure: { kind: 'http', what: `request failed (${res.message})`, retryable: true, transport: true } };
    }
    const receivedAtMs = now();
    const { status, text } = res;
    const body = readJson(text);
    const venueErr = body.ok ? spec.venueError(body.value) : undefined;
    const shown = venueErr ? `"${venueErr.message}"` : excerpt(text);
    options.onAnswer?.({ path: req.path, ...(req.params ? { params: req.params } : {}), status, headers: res.headers, text, receivedAtMs });

    const limited = status === 429 || status === 418 || venueErr?.rateLimited === true;
    const answer = { status, headers: res.headers, text, receivedAtMs, ...(body.ok ? { body: body.value } : {}), ...(venueErr ? { venueError: venueErr } : {}) };
    const signalled = spec.rateLimit(answer, limited);
    if (limited || signalled) {
      // The wait: the venue's Retry-After when it sent one, else what its headers or its
      // documentation say (a rate limit without a time must still keep us away, not invite
      // an immediate retry), else the generic default.
      const header = parseRetryAfter(res.headers['retry-after'], receivedAtMs);
      const waitMs = header ?? signalled?.waitMs ?? RATE_LIMIT_DEFAULT_WAIT_MS;
      const basis = header !== undefined ? 'Retry-After' : (signalled?.basis ?? 'no time given; default wait');
      const tooLong = waitMs > policy.maxRetryAfterMs;
      return {
        failure: {
          kind: 'rate_limited',
          what: `rate limited, HTTP ${status} ${shown}, wait ${waitMs} ms (${basis})`,
          retryable: !tooLong,
          status,
          retryAfterMs: waitMs,
          holdMs: waitMs,
        },
      };
    }
    // A 5xx is retried unless it carries the venue's own error payload (Bitfinex answers an
    // unknown symbol with HTTP 500): that is a considered answer, and asking again repeats it.
    // Payloads the venue documents as transient (OKX 50001 "try again later") are retried.
    if (venueErr?.retryable) return { failure: { kind: 'http', what: `HTTP ${status} ${shown} (transient, the venue says try again)`, retryable: true, status } };
    if (status >= 500) return { failure: { kind: 'http', what: `HTTP ${status} ${shown}`, retryable: !venueErr, status } };
    if (status < 200 || status >= 300) return { failure: { kind: 'http', what: `HTTP ${status} ${shown}`, retryable: false, status } };
    if (!body.ok) return { failure: { kind: 'bad_response', what: body.why, retryable: false, status } };
    if (venueErr) return { failure: { kind: 'bad_response', what: `venue error ${shown}`, retryable: false, status } };
    return { body: body.value, status, receivedAtMs };
  }

  async function attempt(feed: string, market: MarketRef, signal?: AbortSignal): Promise<Attempt | 'aborted'> {
    const answer = await call(spec.request(market.symbol), signal);
    if (answer === 'aborted' || 'failure' in answer) return answer;
    const { status, receivedAtMs } = answer;
    try {
      const parsed = spec.parse(answer.body, market.symbol);
      const price = decimal(parsed.price, 'price');
      const [min, max] = options.priceBounds?.[feed] ?? SOURCE_DEFAULTS.priceBounds;
      if (price <= 0) throw new BadBody(`price ${price} is not positive`);
      if (price < min || price > max) throw new BadBody(`price ${price} outside the accepted range [${min}, ${max}]`);
      const volume = parsed.volume === undefined ? undefined : decimal(parsed.volume, 'volume');
      if (volume !== undefined && volume < 0) throw new BadBody(`volume ${volume} is negative`);
      let ts = parsed.venueTimestampMs;
      let dated = 'venue time';
      if (ts === undefined && spec.freshness) {
        // The ticker carries no quote time: date it by the venue's newest trade.
        const trades = await call(spec.freshness.request(market.symbol), signal);
        if (trades === 'aborted' || 'failure' in trades) return trades;
        ts = spec.freshness.lastTradeMs(trades.body, market.symbol);
        dated = 'last trade';
      }
      if (ts !== undefined) {
        const age = receivedAtMs - ts;
        if (age > maxStalenessMs) {
          return { failure: { kind: 'stale', what: `${dated} ${new Date(ts).toISOString()} is ${age} ms old, limit ${maxStalenessMs} ms`, retryable: false, status } };
        }
        if (-age > maxClockSkewMs) throw new BadBody(`${dated} ${new Date(ts).toISOString()} is ${-age} ms in the future`);
      }
      const quote: SourceQuote = { source: id, feed, price, receivedAtMs, market: market.symbol, quote: market.quote };
      if (volume !== undefined) quote.volume = volume;
      if (ts !== undefined) quote.venueTimestampMs = ts;
      return { quote };
    } catch (err) {
      if (err instanceof WrongSymbol) return { failure: { kind: 'wrong_symbol', what: err.message, retryable: false, status } };
      if (err instanceof BadBody) return { failure: { kind: 'bad_response', what: `rejected body: ${err.message}`, retryable: false, status } };
      throw err;
    }
  }

  async function fetchQuote(feed: string, signal?: AbortSignal): Promise<SourceQuote> {
    const market = marketFor(spec, feed, options.symbols);
    if (!market) throw new SourceError('unknown_feed', `feed "${feed}" is not of the form BASE/QUOTE`, { source: id, feed });
    const admission = breaker.admit();
    if (!admission.allowed) {
      throw new SourceError(
        'cooling_down',
        `cooling down after ${breaker.consecutiveFailures} consecutive failures, next try in ${admission.retryAfterMs} ms`,
        { source: id, feed, retryAfterMs: admission.retryAfterMs },
      );
    }
    let last: Failure | undefined;
    for (let retry = 0; retry <= policy.retries; retry++) {
      if (retry > 0 && last) {
        const wait = Math.max(backoffMs(policy, retry - 1, random), last.retryAfterMs ?? 0);
        if (!(await sleep(wait, signal))) break;
      }
      const result = await attempt(feed, market, signal);
      if (result === 'aborted') break;
      if ('quote' in result) {
        breaker.recordSuccess();
        return result.quote;
      }
      last = result.failure;
      if (!last.retryable) {
        breaker.recordFailure(last.holdMs, last.transport);
        throw toError(last, feed, retry);
      }
    }
    if (!last || signal?.aborted) {
      breaker.recordNeutral();
      throw new SourceError('aborted', 'fetch aborted by caller', { source: id, feed });
    }
    breaker.recordFailure(last.holdMs, last.transport);
    throw toError(last, feed, policy.retries);
  }

  function toError(f: Failure, feed: string, retries: number): SourceError {
    const after = retries > 0 ? ` after ${retries} ${retries === 1 ? 'retry' : 'retries'}` : '';
    const hold = f.holdMs !== undefined ? `; not asked again for ${f.holdMs} ms, as the venue asked` : '';
    return new SourceError(f.kind, `${f.what}${after}${hold}`, {
      source: id,
      feed,
      attempts: retries + 1,
      ...(f.status !== undefined ? { status: f.status } : {}),
      ...(f.retryAfterMs !== undefined ? { retryAfterMs: f.retryAfterMs } : {}),
    });
  }

  return {
    id,
    venue: spec.id,
    fetch: fetchQuote,
    market: (feed) => marketFor(spec, feed, options.symbols),
    health: () => breaker.health(),
  };
}

function readJson(text: string): { ok: true; value: unknown } | { ok: false; why: string } {
  const trimmed = text.trim();
  if (trimmed === '') return { ok: false, why: 'empty body' };
  if (trimmed.startsWith('<')) return { ok: false, why: `HTML body instead of JSON: ${excerpt(trimmed, 60)}` };
  try {
    return { ok: true, value: JSON.parse(trimmed) };
  } catch {
    return { ok: false, why: `body is not JSON: ${excerpt(trimmed, 60)}` };
  }
}

function definedOnly(o: Partial<RetryPolicy>): Partial<RetryPolicy> {
  const out: Partial<RetryPolicy> = {};
  for (const k of ['timeoutMs', 'retries', 'backoffBaseMs', 'backoffMaxMs', 'maxRetryAfterMs'] as const) {
    const v = o[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}
