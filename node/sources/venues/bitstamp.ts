/**
 * Bitstamp, `GET /api/v2/ticker/{currency_pair}/` (pair `btcusd`, trailing slash included).
 * Body: `{"timestamp":"<s>","open":"…","high":"…","low":"…","last":"…","volume":"…","vwap":"…","bid":"…","ask":"…","side":"0","open_24":"…","percent_change_24":"…"}`;
 * newer answers add `"pair":"BTC/USD"`, which is checked when present. The time is in seconds.
 * Errors: `{"status":"error","reason":"…"}`; an unknown pair is an HTTP 404.
 */
import { epoch, field, isRecord, record } from '../parse.ts';
import { WrongSymbol } from '../errors.ts';
import { documented } from '../ratelimit.ts';
import type { VenueSpec } from '../types.ts';

export const bitstamp: VenueSpec = {
  id: 'bitstamp',
  name: 'Bitstamp',
  defaultBaseUrl: 'https://www.bitstamp.net',
  endpoint: '/api/v2/ticker/{currency_pair}/',
  defaultMarket: (base, quote) => ({ symbol: `${base}${quote}`.toLowerCase(), quote }),
  request: (symbol) => ({ path: `/api/v2/ticker/${encodeURIComponent(symbol)}/` }),
  venueError(body) {
    if (!isRecord(body) || body.status !== 'error') return undefined;
    const message = typeof body.reason === 'string' ? body.reason : JSON.stringify(body.reason ?? body);
    return { message, rateLimited: /rate limit/i.test(message) };
  },
  // Bitstamp counts requests per 10 minutes (Bitstamp API docs, "Request limits").
  rateLimit: (_a, limited) => (limited ? documented(60_000, 'Bitstamp docs: limits counted over 10 min; wait a minute') : undefined),
  freshnessBasis: '`timestamp` (seconds) of the ticker',
  parse(body, symbol) {
    const t = record(body, 'ticker');
    if (typeof t.pair === 'string' && t.pair.replace('/', '').toLowerCase() !== symbol.toLowerCase()) {
      throw new WrongSymbol(`venue answered pair ${t.pair}, asked for ${symbol}`);
    }
    return {
      price: field(t, 'last', 'ticker'),
      volume: field(t, 'volume', 'ticker'),
      venueTimestampMs: epoch(field(t, 'timestamp', 'ticker'), 'timestamp', 1000),
    };
  },
};
