/**
 * Bybit v5 spot, `GET /v5/market/tickers?category=spot&symbol=BTCUSDT`.
 * Body: `{"retCode":0,"retMsg":"OK","result":{"category":"spot","list":[{"symbol":"BTCUSDT","lastPrice":"…","volume24h":"…",…}]},"time":<ms>}`.
 * Errors: `retCode != 0`, e.g. `{"retCode":10001,"retMsg":"Not supported symbols",…}`; rate limits
 * are retCode 10006 ("Too many visits!"). The ticker's time is the response's top-level `time`.
 */
import { BadBody } from '../errors.ts';
import { epoch, expectSymbol, field, isRecord, record } from '../parse.ts';
import type { VenueSpec } from '../types.ts';

export const bybit: VenueSpec = {
  id: 'bybit',
  name: 'Bybit',
  defaultBaseUrl: 'https://api.bybit.com',
  endpoint: '/v5/market/tickers',
  defaultMarket: (base, quote) =>
    quote === 'USD' ? { symbol: `${base}USDT`, quote: 'USDT' } : { symbol: `${base}${quote}`, quote },
  request: (symbol) => ({ path: '/v5/market/tickers', params: { category: 'spot', symbol } }),
  venueError(body) {
    if (!isRecord(body) || body.retCode === undefined || body.retCode === 0) return undefined;
    const code = Number(body.retCode);
    return { message: `${String(body.retMsg)} (retCode ${String(body.retCode)})`, rateLimited: code === 10006 || code === 10018 };
  },
  parse(body, symbol) {
    const b = record(body, 'body');
    const list = record(field(b, 'result', 'body'), 'result').list;
    if (!Array.isArray(list) || list.length === 0) throw new BadBody('result.list is empty or not an array');
    const t = record(list[0], 'result.list[0]');
    expectSymbol(field(t, 'symbol', 'result.list[0]'), symbol, 'symbol');
    return {
      price: field(t, 'lastPrice', 'result.list[0]'),
      volume: field(t, 'volume24h', 'result.list[0]'),
      venueTimestampMs: epoch(field(b, 'time', 'body'), 'time'),
    };
  },
};
