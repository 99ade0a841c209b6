/**
 * Binance spot, `GET /api/v3/ticker/24hr?symbol=BTCUSDT`.
 * Body: `{"symbol":"BTCUSDT","lastPrice":"…","volume":"…","closeTime":<ms>,…}`.
 * Errors: `{"code":-1121,"msg":"Invalid symbol."}` (HTTP 400); rate limits are HTTP 429, or 418 once
 * the IP is banned, with `Retry-After`, and code -1003 in the body.
 * Binance has no USD book worth the name, so USD feeds read the USDT market by default.
 */
import { epoch, expectSymbol, field, isRecord, record } from '../parse.ts';
import { documented } from '../ratelimit.ts';
import type { VenueSpec } from '../types.ts';

export const binance: VenueSpec = {
  id: 'binance',
  name: 'Binance',
  defaultBaseUrl: 'https://api.binance.com',
  endpoint: '/api/v3/ticker/24hr',
  defaultMarket: (base, quote) =>
    quote === 'USD' ? { symbol: `${base}USDT`, quote: 'USDT' } : { symbol: `${base}${quote}`, quote },
  request: (symbol) => ({ path: '/api/v3/ticker/24hr', params: { symbol } }),
  venueError(body) {
    if (!isRecord(body) || typeof body.code !== 'number' || body.lastPrice !== undefined) return undefined;
    return { message: `${String(body.msg)} (code ${body.code})`, rateLimited: body.code === -1003 };
  },
  // Binance sends Retry-After with every 429/418; should one come without it, wait a minute
  // (Binance docs "LIMITS": request weight is counted per minute).
  rateLimit: (_a, limited) => (limited ? documented(60_000, 'Binance docs: weight limits are per minute') : undefined),
  freshnessBasis: '`closeTime` of the 24 h rolling window, stamped by Binance when it computed the ticker',
  parse(body, symbol) {
    const t = record(body, 'ticker');
    expectSymbol(field(t, 'symbol', 'ticker'), symbol, 'symbol');
    return {
      price: field(t, 'lastPrice', 'ticker'),
      volume: field(t, 'volume', 'ticker'),
      venueTimestampMs: epoch(field(t, 'closeTime', 'ticker'), 'closeTime'),
    };
  },
};
