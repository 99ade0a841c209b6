/**
 * OKX, `GET /api/v5/market/ticker?instId=BTC-USDT`.
 * Body: `{"code":"0","msg":"","data":[{"instId":"BTC-USDT","last":"…","vol24h":"…","ts":"<ms>",…}]}`.
 * Errors: `code != "0"`, e.g. `{"code":"51001","msg":"Instrument ID does not exist","data":[]}`;
 * rate limits are HTTP 429 with code 50011 (OKX limits public market data per 2 s window, no
 * `Retry-After`); `50001` (HTTP 503, "Service temporarily unavailable, please try again later")
 * and `50013` ("System is busy") are transient and retried. USD feeds read the USDT market by default.
 */
import { BadBody } from '../errors.ts';
import { epoch, expectSymbol, field, isRecord, record } from '../parse.ts';
import { documented } from '../ratelimit.ts';
import type { VenueSpec } from '../types.ts';

/** OKX error codes that say "try again later" (OKX API docs, "Error Code": 50001 HTTP 503, 50013, 50026 HTTP 500). */
const TRANSIENT = new Set(['50001', '50013', '50026']);

export const okx: VenueSpec = {
  id: 'okx',
  name: 'OKX',
  defaultBaseUrl: 'https://www.okx.com',
  endpoint: '/api/v5/market/ticker',
  defaultMarket: (base, quote) =>
    quote === 'USD' ? { symbol: `${base}-USDT`, quote: 'USDT' } : { symbol: `${base}-${quote}`, quote },
  request: (symbol) => ({ path: '/api/v5/market/ticker', params: { instId: symbol } }),
  venueError(body) {
    if (!isRecord(body) || body.code === undefined || body.code === '0') return undefined;
    const code = String(body.code);
    return { message: `${String(body.msg)} (code ${code})`, rateLimited: code === '50011' || code === '50061', retryable: TRANSIENT.has(code) };
  },
  rateLimit: (_a, limited) => (limited ? documented(2_000, 'OKX docs: market data limits per 2 s') : undefined),
  freshnessBasis: '`ts` (ms) of the ticker data',
  parse(body, symbol) {
    const data = record(body, 'body').data;
    if (!Array.isArray(data) || data.length === 0) throw new BadBody('data is empty or not an array');
    const t = record(data[0], 'data[0]');
    expectSymbol(field(t, 'instId', 'data[0]'), symbol, 'instId');
    return {
      price: field(t, 'last', 'data[0]'),
      volume: field(t, 'vol24h', 'data[0]'),
      venueTimestampMs: epoch(field(t, 'ts', 'data[0]'), 'ts'),
    };
  },
};
