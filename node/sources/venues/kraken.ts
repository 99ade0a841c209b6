/**
 * Kraken, `GET /0/public/Ticker?pair=XXBTZUSD`.
 * Body: `{"error":[],"result":{"XXBTZUSD":{"a":[…],"b":[…],"c":["<last>","<lot>"],"v":["<today>","<24h>"],…}}}`.
 * Errors come with HTTP 200 in `error`, each entry `<severity><category>:<message>` where the
 * severity is `E` (error) or `W` (warning, beside a good result; Kraken REST docs, "General
 * usage"): `["EQuery:Unknown asset pair"]`, `["EAPI:Rate limit exceeded"]`.
 * Kraken calls Bitcoin `XBT` in every pair. Legacy fiat pairs keep X/Z-prefixed names
 * (`XXBTZUSD`); requesting that name makes Kraken answer under the same key, so the echoed key
 * can be checked. Pairs with a crypto quote are plain (`XBTUSDT`, `XBTUSDC`, `ETHUSDT`).
 * The ticker carries no time, so the quote is dated by the newest trade from
 * `GET /0/public/Trades?pair=…&count=1` (`[price, volume, time (s, fractional), side, type, misc, id]`).
 */
import { BadBody, WrongSymbol } from '../errors.ts';
import { decimal, isRecord, record } from '../parse.ts';
import { documented } from '../ratelimit.ts';
import type { VenueSpec } from '../types.ts';

/** Kraken's names for assets whose ticker differs from the usual one. */
const ASSET_NAMES: Record<string, string> = { BTC: 'XBT', DOGE: 'XDG' };
/** Assets listed before 2018 keep an X prefix in fiat pairs, whose fiat takes a Z prefix. */
const LEGACY_ASSETS: Record<string, string> = { BTC: 'XXBT', ETH: 'XETH', LTC: 'XLTC', XRP: 'XXRP', XLM: 'XXLM', XMR: 'XXMR', ETC: 'XETC', ZEC: 'XZEC' };
const LEGACY_FIATS = new Set(['USD', 'EUR', 'GBP', 'JPY', 'CAD']);
const PAIRS: Record<string, string> = { 'USDT/USD': 'USDTZUSD' };

/** The `E…` entries of Kraken's `error` array; `W…` warnings accompany a good result. */
function errorsOf(body: unknown): string[] {
  if (!isRecord(body) || !Array.isArray(body.error)) return [];
  return body.error.map(String).filter((e) => !e.startsWith('W'));
}

export const kraken: VenueSpec = {
  id: 'kraken',
  name: 'Kraken',
  defaultBaseUrl: 'https://api.kraken.com',
  endpoint: '/0/public/Ticker',
  defaultMarket(base, quote) {
    const legacy = LEGACY_ASSETS[base];
    if (legacy && LEGACY_FIATS.has(quote)) return { symbol: `${legacy}Z${quote}`, quote };
    const pair = PAIRS[`${base}/${quote}`];
    if (pair) return { symbol: pair, quote };
    return { symbol: `${ASSET_NAMES[base] ?? base}${ASSET_NAMES[quote] ?? quote}`, quote };
  },
  request: (symbol) => ({ path: '/0/public/Ticker', params: { pair: symbol } }),
  venueError(body) {
    const errors = errorsOf(body);
    if (errors.length === 0) return undefined;
    const message = errors.join('; ');
    return { message, rateLimited: /EAPI:Rate limit|Too many requests/i.test(message), retryable: /EService:(Unavailable|Busy)/.test(message) };
  },
  // Kraken's public limit is about one call per second, and a client that keeps calling while
  // limited stays limited longer (Kraken REST docs, "Rate limits"): stay away 10 s.
  rateLimit: (_a, limited) => (limited ? documented(10_000, 'Kraken docs: public calls about 1 per second; limited longer if calls continue') : undefined),
  freshness: {
    endpoint: '/0/public/Trades',
    request: (symbol) => ({ path: '/0/public/Trades', params: { pair: symbol, count: '1' } }),
    lastTradeMs(body, symbol) {
      const result = record(record(body, 'body').result, 'result');
      const trades = result[symbol];
      if (trades === undefined) {
        const keys = Object.keys(result).filter((k) => k !== 'last');
        if (keys.length === 0) throw new BadBody('trades result is empty');
        throw new WrongSymbol(`venue answered trades of ${keys.join(', ')}, asked for ${symbol}`);
      }
      if (!Array.isArray(trades) || trades.length === 0) throw new BadBody(`no trades in result.${symbol}`);
      let newest = 0;
      for (const t of trades) {
        if (!Array.isArray(t) || t.length < 3) throw new BadBody(`trade in result.${symbol} is not [price, volume, time, …]`);
        newest = Math.max(newest, Math.round(decimal(t[2], `result.${symbol}[].time`) * 1000));
      }
      return newest;
    },
  },
  freshnessBasis: 'time of the newest trade (`/0/public/Trades`, one extra request); the ticker has no time',
  parse(body, symbol) {
    const result = record(record(body, 'body').result, 'result');
    const keys = Object.keys(result);
    const t = result[symbol];
    if (t === undefined) {
      if (keys.length === 0) throw new BadBody('result is empty');
      throw new WrongSymbol(`venue answered pair ${keys.join(', ')}, asked for ${symbol}`);
    }
    const ticker = record(t, `result.${symbol}`);
    const c = ticker.c;
    const v = ticker.v;
    if (!Array.isArray(c) || c.length < 1) throw new BadBody(`missing field result.${symbol}.c (last trade)`);
    if (!Array.isArray(v) || v.length < 2) throw new BadBody(`missing field result.${symbol}.v (volume)`);
    return { price: c[0], volume: v[1] };
  },
};
