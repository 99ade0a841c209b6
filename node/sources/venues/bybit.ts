/**
 * Bybit v5 spot, `GET /v5/market/tickers?category=spot&symbol=BTCUSDT`.
 * Body: `{"retCode":0,"retMsg":"OK","result":{"category":"spot","list":[{"symbol":"BTCUSDT","lastPrice":"…","volume24h":"…",…}]},"time":<ms>}`.
 * Errors: `retCode != 0`, e.g. `{"retCode":10001,"retMsg":"Not supported symbols",…}`.
 * Rate limits (Bybit v5 docs, "Rate Limit Rules"): `retCode` 10006 "Too many visits!" with
 * `X-Bapi-Limit-Reset-Timestamp` (epoch ms when the window resets), and HTTP 403 "access too
 * frequent" for the IP limit, after which Bybit asks to wait at least 10 minutes.
 * The top-level `time` is the server's clock when it answered, not the quote's, so the quote is
 * dated by the newest trade from `GET /v5/market/recent-trade?category=spot&symbol=…&limit=1`.
 */
import { BadBody } from '../errors.ts';
import { epoch, expectSymbol, field, isRecord, record } from '../parse.ts';
import { documented, resetAtMs } from '../ratelimit.ts';
import type { VenueSpec } from '../types.ts';

/** Bybit v5 docs: after "403, access too frequent", stop and wait at least 10 minutes. */
const IP_BAN_WAIT_MS = 600_000;

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
    return { message: `${String(body.retMsg)} (retCode ${String(body.retCode)})`, rateLimited: code === 10006 || code === 10018, retryable: code === 10016 };
  },
  rateLimit(answer, limited) {
    if (answer.status === 403 && /too frequent|access denied/i.test(answer.text)) {
      return documented(IP_BAN_WAIT_MS, 'Bybit docs: HTTP 403 "access too frequent", wait at least 10 min');
    }
    if (!limited) return undefined;
    return resetAtMs(answer, 'x-bapi-limit-reset-timestamp') ?? documented(1_000, 'Bybit docs: API limit per second');
  },
  freshness: {
    endpoint: '/v5/market/recent-trade',
    request: (symbol) => ({ path: '/v5/market/recent-trade', params: { category: 'spot', symbol, limit: '1' } }),
    lastTradeMs(body, symbol) {
      const list = record(field(record(body, 'body'), 'result', 'body'), 'result').list;
      if (!Array.isArray(list) || list.length === 0) throw new BadBody('recent-trade result.list is empty or not an array');
      let newest = 0;
      for (const [i, t] of list.entries()) {
        const trade = record(t, `result.list[${i}]`);
        expectSymbol(field(trade, 'symbol', `result.list[${i}]`), symbol, 'trade symbol');
        newest = Math.max(newest, epoch(field(trade, 'time', `result.list[${i}]`), `result.list[${i}].time`));
      }
      return newest;
    },
  },
  freshnessBasis: 'time of the newest trade (`/v5/market/recent-trade`, one extra request); the ticker\'s top-level `time` is the server clock',
  parse(body, symbol) {
    const b = record(body, 'body');
    const list = record(field(b, 'result', 'body'), 'result').list;
    if (!Array.isArray(list) || list.length === 0) throw new BadBody('result.list is empty or not an array');
    const t = record(list[0], 'result.list[0]');
    expectSymbol(field(t, 'symbol', 'result.list[0]'), symbol, 'symbol');
    return {
      price: field(t, 'lastPrice', 'result.list[0]'),
      volume: field(t, 'volume24h', 'result.list[0]'),
    };
  },
};
