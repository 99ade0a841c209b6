/**
 * The wire formats of the simulated venues: where each venue's ticker lives and what its
 * success, unknown-symbol and rate-limit answers look like.
 *
 * One table, one entry per venue, mirroring the public formats the adapters in
 * `node/sources/venues` read (recorded copies are in `test/fixtures/exchanges`). Reading stays
 * in the adapters; this module only writes, so the two meet only at the wire, as with a real venue.
 */
import type { Request } from 'express';
import type { VenueId } from '../../node/sources/index.ts';

/** What the price callback supplies for one market at one instant. */
export interface SimTick {
  /** In the market's quote currency (USDT for `BTCUSDT`). */
  price: number;
  /** 24 h volume in the base asset. */
  volume: number;
}

export interface SimResponse {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface VenueFormat {
  /** Express route of the ticker endpoint, relative to the venue prefix. */
  route: string;
  /** The symbol a request asks for, or undefined when the request names none. */
  symbolOf(req: Request): string | undefined;
  ok(symbol: string, tick: SimTick, tsMs: number): SimResponse;
  unknownSymbol(symbol: string, tsMs: number): SimResponse;
  rateLimited(tsMs: number): SimResponse;
  /**
   * The venue's recent-trades endpoint, for venues whose ticker has no quote time (the adapters
   * date those quotes by the newest trade): route and the answer with one trade at `tsMs`.
   */
  trades?: { route: string; ok(symbol: string, tick: SimTick, tsMs: number): SimResponse };
}

/**
 * Decimal string the way venues print prices: no exponent; two decimals from 1,000 up, else eight
 * significant digits (venues quote stablecoins and small caps to 4–8 decimals; a cent step on a
 * $1 stablecoin would hide a 30 bps move from the simulator).
 */
const px = (n: number) => (n >= 1000 ? n.toFixed(2) : n >= 1e-6 ? n.toPrecision(8) : n.toFixed(12));
const qty = (n: number) => n.toFixed(8);
const query = (req: Request, key: string) => (typeof req.query[key] === 'string' ? (req.query[key] as string) : undefined);
const param = (req: Request, key: string) => {
  const v: unknown = req.params[key];
  return typeof v === 'string' ? v : undefined;
};
/** A one-basis-point spread around the price. */
const bid = (p: number) => p * 0.99995;
const ask = (p: number) => p * 1.00005;

export const VENUE_FORMATS: Record<VenueId, VenueFormat> = {
  binance: {
    route: '/api/v3/ticker/24hr',
    symbolOf: (req) => query(req, 'symbol'),
    ok: (symbol, t, ts) => ({
      status: 200,
      body: {
        symbol, priceChange: '0.00', priceChangePercent: '0.000', weightedAvgPrice: px(t.price),
        prevClosePrice: px(t.price), lastPrice: px(t.price), lastQty: '0.00100000',
        bidPrice: px(bid(t.price)), bidQty: '1.00000000', askPrice: px(ask(t.price)), askQty: '1.00000000',
        openPrice: px(t.price), highPrice: px(t.price), lowPrice: px(t.price),
        volume: qty(t.volume), quoteVolume: qty(t.volume * t.price),
        openTime: ts - 86_400_000, closeTime: ts, firstId: 1, lastId: 2, count: 2,
      },
    }),
    unknownSymbol: () => ({ status: 400, body: { code: -1121, msg: 'Invalid symbol.' } }),
    rateLimited: () => ({
      status: 429,
      body: { code: -1003, msg: 'Too many requests; current limit of IP(127.0.0.1) is 6000 requests per minute. Please use the websocket for live updates to avoid polling the API.' },
    }),
  },
  coinbase: {
    route: '/products/:product/ticker',
    symbolOf: (req) => param(req, 'product'),
    ok: (_symbol, t, ts) => ({
      status: 200,
      body: {
        ask: px(ask(t.price)), bid: px(bid(t.price)), volume: qty(t.volume), trade_id: Math.floor(ts / 1000),
        price: px(t.price), size: '0.00100000', time: new Date(ts).toISOString(), rfq_volume: '0.000000',
      },
    }),
    unknownSymbol: () => ({ status: 404, body: { message: 'NotFound' } }),
    rateLimited: () => ({ status: 429, body: { message: 'Public rate limit exceeded' } }),
  },
  kraken: {
    route: '/0/public/Ticker',
    symbolOf: (req) => query(req, 'pair'),
    ok: (symbol, t) => ({
      status: 200,
      body: {
        error: [],
        result: {
          [symbol]: {
            a: [px(ask(t.price)), '1', '1.000'], b: [px(bid(t.price)), '1', '1.000'], c: [px(t.price), '0.00100000'],
            v: [qty(t.volume / 2), qty(t.volume)], p: [px(t.price), px(t.price)], t: [100, 200],
            l: [px(t.price), px(t.price)], h: [px(t.price), px(t.price)], o: px(t.price),
          },
        },
      },
    }),
    unknownSymbol: () => ({ status: 200, body: { error: ['EQuery:Unknown asset pair'] } }),
    rateLimited: () => ({ status: 200, body: { error: ['EAPI:Rate limit exceeded'] } }),
    trades: {
      route: '/0/public/Trades',
      ok: (symbol, t, ts) => ({
        status: 200,
        body: { error: [], result: { [symbol]: [[px(t.price), '0.00100000', ts / 1000, 'b', 'l', '', Math.floor(ts / 1000)]], last: `${ts}000000` } },
      }),
    },
  },
  okx: {
    route: '/api/v5/market/ticker',
    symbolOf: (req) => query(req, 'instId'),
    ok: (symbol, t, ts) => ({
      status: 200,
      body: {
        code: '0', msg: '',
        data: [{
          instType: 'SPOT', instId: symbol, last: px(t.price), lastSz: '0.001', askPx: px(ask(t.price)), askSz: '1',
          bidPx: px(bid(t.price)), bidSz: '1', open24h: px(t.price), high24h: px(t.price), low24h: px(t.price),
          volCcy24h: qty(t.volume * t.price), vol24h: qty(t.volume), ts: String(ts), sodUtc0: px(t.price), sodUtc8: px(t.price),
        }],
      },
    }),
    unknownSymbol: () => ({ status: 200, body: { code: '51001', data: [], msg: 'Instrument ID does not exist' } }),
    rateLimited: () => ({ status: 429, body: { msg: 'Too Many Requests', code: '50011' } }),
  },
  bybit: {
    route: '/v5/market/tickers',
    symbolOf: (req) => query(req, 'symbol'),
    ok: (symbol, t, ts) => ({
      status: 200,
      body: {
        retCode: 0, retMsg: 'OK',
        result: {
          category: 'spot',
          list: [{
            symbol, bid1Price: px(bid(t.price)), bid1Size: '1', ask1Price: px(ask(t.price)), ask1Size: '1',
            lastPrice: px(t.price), prevPrice24h: px(t.price), price24hPcnt: '0', highPrice24h: px(t.price),
            lowPrice24h: px(t.price), turnover24h: qty(t.volume * t.price), volume24h: qty(t.volume), usdIndexPrice: px(t.price),
          }],
        },
        retExtInfo: {}, time: ts,
      },
    }),
    unknownSymbol: (_s, ts) => ({ status: 200, body: { retCode: 10001, retMsg: 'Not supported symbols', result: {}, retExtInfo: {}, time: ts } }),
    rateLimited: (ts) => ({
      status: 200,
      headers: { 'X-Bapi-Limit': '600', 'X-Bapi-Limit-Status': '0', 'X-Bapi-Limit-Reset-Timestamp': String(ts + 1_000) },
      body: { retCode: 10006, retMsg: 'Too many visits!', result: {}, retExtInfo: {}, time: ts },
    }),
    trades: {
      route: '/v5/market/recent-trade',
      ok: (symbol, t, ts) => ({
        status: 200,
        body: {
          retCode: 0, retMsg: 'OK',
          result: { category: 'spot', list: [{ execId: String(ts), symbol, price: px(t.price), size: '0.001', side: 'Buy', time: String(ts), isBlockTrade: false }] },
          retExtInfo: {}, time: ts,
        },
      }),
    },
  },
  bitstamp: {
    route: '/api/v2/ticker/:pair/',
    symbolOf: (req) => param(req, 'pair'),
    ok: (_symbol, t, ts) => ({
      status: 200,
      body: {
        timestamp: String(Math.floor(ts / 1000)), open: px(t.price), high: px(t.price), low: px(t.price), last: px(t.price),
        volume: qty(t.volume), vwap: px(t.price), bid: px(bid(t.price)), ask: px(ask(t.price)), side: '0',
        open_24: px(t.price), percent_change_24: '0.00',
      },
    }),
    unknownSymbol: () => ({ status: 404, body: '<!DOCTYPE html><html><head><title>Not Found</title></head><body><h1>Not Found</h1></body></html>' }),
    rateLimited: () => ({ status: 429, body: { status: 'error', reason: 'Rate limit exceeded' } }),
  },
  gemini: {
    route: '/v1/pubticker/:symbol',
    symbolOf: (req) => param(req, 'symbol'),
    ok: (symbol, t, ts) => {
      const upper = symbol.toUpperCase();
      const base = upper.slice(0, -3);
      const quote = upper.slice(-3);
      return {
        status: 200,
        body: { bid: px(bid(t.price)), ask: px(ask(t.price)), volume: { [base]: qty(t.volume), [quote]: px(t.volume * t.price), timestamp: ts }, last: px(t.price) },
      };
    },
    unknownSymbol: (symbol) => ({ status: 400, body: { result: 'error', reason: 'InvalidSymbol', message: `Received unsupported symbol '${symbol}'` } }),
    rateLimited: () => ({ status: 429, body: { result: 'error', reason: 'RateLimit', message: 'Requests were made too frequently' } }),
  },
  kucoin: {
    route: '/api/v1/market/stats',
    symbolOf: (req) => query(req, 'symbol'),
    ok: (symbol, t, ts) => ({
      status: 200,
      body: {
        code: '200000',
        data: {
          time: ts, symbol, buy: px(bid(t.price)), sell: px(ask(t.price)), changeRate: '0', changePrice: '0',
          high: px(t.price), low: px(t.price), vol: qty(t.volume), volValue: qty(t.volume * t.price), last: px(t.price),
          averagePrice: px(t.price), takerFeeRate: '0.001', makerFeeRate: '0.001', takerCoefficient: '1', makerCoefficient: '1',
        },
      },
    }),
    unknownSymbol: (symbol, ts) => ({
      status: 200,
      body: { code: '200000', data: { time: ts, symbol, buy: null, sell: null, changeRate: null, changePrice: null, high: null, low: null, vol: null, volValue: null, last: null, averagePrice: null } },
    }),
    rateLimited: () => ({ status: 429, headers: { 'gw-ratelimit-limit': '2000', 'gw-ratelimit-remaining': '0', 'gw-ratelimit-reset': '30000' }, body: { code: '429000', msg: 'Too Many Requests' } }),
  },
  bitfinex: {
    route: '/v2/ticker/:symbol',
    symbolOf: (req) => param(req, 'symbol'),
    ok: (_symbol, t) => ({
      status: 200,
      body: [bid(t.price), 1.5, ask(t.price), 1.2, 0, 0, t.price, t.volume, t.price, t.price],
    }),
    unknownSymbol: () => ({ status: 500, body: ['error', 10020, 'symbol: invalid'] }),
    rateLimited: () => ({ status: 429, body: { error: 'ERR_RATE_LIMIT' } }),
    trades: {
      route: '/v2/trades/:symbol/hist',
      ok: (_symbol, t, ts) => ({ status: 200, body: [[ts, ts, 0.001, t.price]] }),
    },
  },
};
