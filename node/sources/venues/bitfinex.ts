/**
 * Bitfinex v2, `GET /v2/ticker/{symbol}` (trading pair `tBTCUSD`; `tDOGE:USD` for bases longer
 * than three letters; Bitfinex calls USDT `UST`).
 * Body: `[BID, BID_SIZE, ASK, ASK_SIZE, DAILY_CHANGE, DAILY_CHANGE_RELATIVE, LAST_PRICE, VOLUME, HIGH, LOW]`,
 * positional, with no symbol and no time, so staleness cannot be checked for Bitfinex.
 * Errors: `["error",10020,"symbol: invalid"]` (HTTP 500); rate limits `{"error":"ERR_RATE_LIMIT"}`
 * (the IP is blocked for 60 s, no `Retry-After`).
 */
import { BadBody } from '../errors.ts';
import { isRecord } from '../parse.ts';
import type { VenueSpec } from '../types.ts';

const ASSET_NAMES: Record<string, string> = { USDT: 'UST' };
const TICKER_FIELDS = 10;
const LAST_PRICE = 6;
const VOLUME = 7;

export const bitfinex: VenueSpec = {
  id: 'bitfinex',
  name: 'Bitfinex',
  defaultBaseUrl: 'https://api-pub.bitfinex.com',
  endpoint: '/v2/ticker/{symbol}',
  defaultMarket(base, quote) {
    const b = ASSET_NAMES[base] ?? base;
    const q = ASSET_NAMES[quote] ?? quote;
    return { symbol: b.length > 3 || q.length > 3 ? `t${b}:${q}` : `t${b}${q}`, quote };
  },
  request: (symbol) => ({ path: `/v2/ticker/${encodeURIComponent(symbol)}` }),
  venueError(body) {
    if (Array.isArray(body) && body[0] === 'error') {
      return { message: `${String(body[2])} (code ${String(body[1])})`, rateLimited: false };
    }
    if (isRecord(body) && typeof body.error === 'string') {
      return { message: body.error, rateLimited: body.error === 'ERR_RATE_LIMIT' };
    }
    return undefined;
  },
  parse(body) {
    if (!Array.isArray(body)) throw new BadBody('ticker is not an array');
    if (body.length === 0) throw new BadBody('ticker is an empty array (unknown symbol?)');
    if (body.length < TICKER_FIELDS) throw new BadBody(`ticker has ${body.length} fields, expected ${TICKER_FIELDS}`);
    return { price: body[LAST_PRICE], volume: body[VOLUME] };
  },
};
