/**
 * KuCoin, `GET /api/v1/market/stats?symbol=BTC-USDT` (24 h stats: last, volume, echoed symbol;
 * `orderbook/level1` has neither volume nor symbol).
 * Body: `{"code":"200000","data":{"time":<ms>,"symbol":"BTC-USDT","last":"…","vol":"…",…}}`.
 * Errors: `code != "200000"`; rate limits are HTTP 429 with code 429000 (sometimes inside an
 * HTTP 200) and the header `gw-ratelimit-reset`, the ms until the 30 s resource pool resets
 * (KuCoin API docs, "Rate Limit"). USD feeds read the USDT market by default.
 */
import { epoch, expectSymbol, field, isRecord, record } from '../parse.ts';
import { documented, resetInMs } from '../ratelimit.ts';
import type { VenueSpec } from '../types.ts';

export const kucoin: VenueSpec = {
  id: 'kucoin',
  name: 'KuCoin',
  defaultBaseUrl: 'https://api.kucoin.com',
  endpoint: '/api/v1/market/stats',
  defaultMarket: (base, quote) =>
    quote === 'USD' ? { symbol: `${base}-USDT`, quote: 'USDT' } : { symbol: `${base}-${quote}`, quote },
  request: (symbol) => ({ path: '/api/v1/market/stats', params: { symbol } }),
  venueError(body) {
    if (!isRecord(body) || body.code === undefined || body.code === '200000') return undefined;
    const code = String(body.code);
    return { message: `${String(body.msg)} (code ${code})`, rateLimited: code === '429000' || code === '200002' };
  },
  rateLimit: (answer, limited) => (limited ? (resetInMs(answer, 'gw-ratelimit-reset') ?? documented(30_000, 'KuCoin docs: resource pools reset every 30 s')) : undefined),
  freshnessBasis: '`data.time` (ms) of the 24 h stats',
  parse(body, symbol) {
    const t = record(field(record(body, 'body'), 'data', 'body'), 'data');
    expectSymbol(field(t, 'symbol', 'data'), symbol, 'symbol');
    return {
      price: field(t, 'last', 'data'),
      volume: field(t, 'vol', 'data'),
      venueTimestampMs: epoch(field(t, 'time', 'data'), 'data.time'),
    };
  },
};
