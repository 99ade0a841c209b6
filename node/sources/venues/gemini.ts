/**
 * Gemini, `GET /v1/pubticker/{symbol}` (symbol `btcusd`).
 * Body: `{"bid":"…","ask":"…","volume":{"BTC":"…","USD":"…","timestamp":<ms>},"last":"…"}`.
 * The symbol is not echoed, but the volume object is keyed by the pair's two currencies, which
 * is checked against the symbol asked. Errors: `{"result":"error","reason":"InvalidSymbol","message":"…"}`
 * (HTTP 400); rate limits are HTTP 429 with reason `RateLimit`.
 */
import { BadBody, WrongSymbol } from '../errors.ts';
import { epoch, field, isRecord, record } from '../parse.ts';
import { documented } from '../ratelimit.ts';
import type { VenueSpec } from '../types.ts';

export const gemini: VenueSpec = {
  id: 'gemini',
  name: 'Gemini',
  defaultBaseUrl: 'https://api.gemini.com',
  endpoint: '/v1/pubticker/{symbol}',
  defaultMarket: (base, quote) => ({ symbol: `${base}${quote}`.toLowerCase(), quote }),
  request: (symbol) => ({ path: `/v1/pubticker/${encodeURIComponent(symbol)}` }),
  venueError(body) {
    if (!isRecord(body) || body.result !== 'error') return undefined;
    const reason = String(body.reason);
    return { message: `${reason}: ${String(body.message)}`, rateLimited: /^RateLimit/.test(reason) };
  },
  // Gemini public API: 120 requests per minute per IP (Gemini REST docs, "Rate Limits"); its 429
  // names no time, so wait the minute out.
  rateLimit: (_a, limited) => (limited ? documented(60_000, 'Gemini docs: public limit 120 per minute') : undefined),
  freshnessBasis: '`volume.timestamp` (ms) of the ticker',
  parse(body, symbol) {
    const t = record(body, 'ticker');
    const volume = record(field(t, 'volume', 'ticker'), 'volume');
    const currencies = Object.keys(volume).filter((k) => k !== 'timestamp');
    const wanted = symbol.toUpperCase();
    const base = currencies.find((b) => currencies.some((q) => q !== b && b + q === wanted));
    if (base === undefined) {
      if (currencies.length === 0) throw new BadBody('volume has no currency keys');
      throw new WrongSymbol(`venue answered volume in ${currencies.join('/')}, asked for ${symbol}`);
    }
    return {
      price: field(t, 'last', 'ticker'),
      volume: volume[base],
      venueTimestampMs: epoch(field(volume, 'timestamp', 'volume'), 'volume.timestamp'),
    };
  },
};
