/**
 * OKX, `GET /api/v5/market/ticker?instId=BTC-USDT`.
 * Body: `{"code":"0","msg":"","data":[{"instId":"BTC-USDT","last":"…","vol24h":"…","ts":"<ms>",…}]}`.
 * Errors: `code != "0"`, e.g. `{"code":"51001","msg":"Instrument ID does not exist","data":[]}`;
 * rate limits are HTTP 429 with code 50011. USD feeds read the USDT market by default.
 */
import { BadBody } from '../errors.ts';
import { epoch, expectSymbol, field, isRecord, record } from '../parse.ts';
import type { VenueSpec } from '../types.ts';

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
    return { message: `${String(body.msg)} (code ${code})`, rateLimited: code === '50011' || code === '50061' };
  },
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
