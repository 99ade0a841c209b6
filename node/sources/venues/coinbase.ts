/**
 * Coinbase Exchange, `GET /products/{product_id}/ticker` (product id `BTC-USD`).
 * Body: `{"ask":"…","bid":"…","volume":"…","trade_id":…,"price":"…","size":"…","time":"<ISO 8601>"}`;
 * the product is not echoed back. Errors: `{"message":"NotFound"}` (HTTP 404); rate limits are
 * HTTP 429 with `{"message":"Public rate limit exceeded"}`.
 */
import { field, isoTime, isRecord, record } from '../parse.ts';
import { documented } from '../ratelimit.ts';
import type { VenueSpec } from '../types.ts';

export const coinbase: VenueSpec = {
  id: 'coinbase',
  name: 'Coinbase Exchange',
  defaultBaseUrl: 'https://api.exchange.coinbase.com',
  endpoint: '/products/{product_id}/ticker',
  defaultMarket: (base, quote) => ({ symbol: `${base}-${quote}`, quote }),
  request: (symbol) => ({ path: `/products/${encodeURIComponent(symbol)}/ticker` }),
  venueError(body) {
    if (!isRecord(body) || typeof body.message !== 'string' || body.price !== undefined) return undefined;
    return { message: body.message, rateLimited: /rate limit/i.test(body.message) };
  },
  // Coinbase Exchange public endpoints: 10 requests per second per IP, bursts to 15 (Coinbase
  // Exchange REST docs, "Rate limits"); the 429 carries no Retry-After, so wait one window.
  rateLimit: (_a, limited) => (limited ? documented(1_000, 'Coinbase docs: public limit per second') : undefined),
  freshnessBasis: '`time` of the last trade (ISO 8601)',
  parse(body) {
    const t = record(body, 'ticker');
    return {
      price: field(t, 'price', 'ticker'),
      volume: field(t, 'volume', 'ticker'),
      venueTimestampMs: isoTime(field(t, 'time', 'ticker'), 'time'),
    };
  },
};
