/**
 * Bitfinex v2, `GET /v2/ticker/{symbol}` (trading pair `tBTCUSD`; `tDOGE:USD` for bases longer
 * than three letters; Bitfinex calls USDT `UST`).
 * Body: `[BID, BID_SIZE, ASK, ASK_SIZE, DAILY_CHANGE, DAILY_CHANGE_RELATIVE, LAST_PRICE, VOLUME, HIGH, LOW]`,
 * positional, with no symbol and no time.
 * Errors: `["error",10020,"symbol: invalid"]` (HTTP 500). Rate limits: `{"error":"ERR_RATE_LIMIT"}`
 * (Bitfinex docs: the IP is blocked for 10–60 s on that endpoint, no `Retry-After`) and
 * `["error",11010,"ratelimit: error"]`, which can come inside an HTTP 200.
 * The quote is dated by the newest trade from `GET /v2/trades/{symbol}/hist?limit=1`
 * (`[[ID, MTS, AMOUNT, PRICE]]`, MTS in ms).
 */
import { BadBody } from '../errors.ts';
import { epoch, isRecord } from '../parse.ts';
import { documented } from '../ratelimit.ts';
import type { VenueSpec } from '../types.ts';

const ASSET_NAMES: Record<string, string> = { USDT: 'UST' };
const TICKER_FIELDS = 10;
const LAST_PRICE = 6;
const VOLUME = 7;
/** Bitfinex's error code for a rate limit in the array error envelope. */
const RATE_LIMIT_CODE = 11010;

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
      return { message: `${String(body[2])} (code ${String(body[1])})`, rateLimited: Number(body[1]) === RATE_LIMIT_CODE };
    }
    if (isRecord(body) && typeof body.error === 'string') {
      return { message: body.error, rateLimited: body.error === 'ERR_RATE_LIMIT' };
    }
    return undefined;
  },
  // The longest block the docs name, since the refusal does not say which one applies.
  rateLimit: (_a, limited) => (limited ? documented(60_000, 'Bitfinex docs: IP blocked 10-60 s after ERR_RATE_LIMIT') : undefined),
  freshness: {
    endpoint: '/v2/trades/{symbol}/hist',
    request: (symbol) => ({ path: `/v2/trades/${encodeURIComponent(symbol)}/hist`, params: { limit: '1' } }),
    lastTradeMs(body) {
      if (!Array.isArray(body) || body.length === 0) throw new BadBody('trades answer is not a non-empty array');
      let newest = 0;
      for (const [i, t] of body.entries()) {
        if (!Array.isArray(t) || t.length < 4) throw new BadBody(`trade ${i} is not [ID, MTS, AMOUNT, PRICE]`);
        newest = Math.max(newest, epoch(t[1], `trade ${i} MTS`));
      }
      return newest;
    },
  },
  freshnessBasis: 'time of the newest trade (`/v2/trades/{symbol}/hist`, one extra request); the ticker has no time',
  parse(body) {
    if (!Array.isArray(body)) throw new BadBody('ticker is not an array');
    if (body.length === 0) throw new BadBody('ticker is an empty array (unknown symbol?)');
    if (body.length < TICKER_FIELDS) throw new BadBody(`ticker has ${body.length} fields, expected ${TICKER_FIELDS}`);
    return { price: body[LAST_PRICE], volume: body[VOLUME] };
  },
};
