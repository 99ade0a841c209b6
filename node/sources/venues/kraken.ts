/**
 * Kraken, `GET /0/public/Ticker?pair=XXBTZUSD`.
 * Body: `{"error":[],"result":{"XXBTZUSD":{"a":[…],"b":[…],"c":["<last>","<lot>"],"v":["<today>","<24h>"],…}}}`.
 * Errors come with HTTP 200 in `error`: `["EQuery:Unknown asset pair"]`, `["EAPI:Rate limit exceeded"]`.
 * The ticker carries no time, so staleness cannot be checked for Kraken.
 * Legacy assets keep their X/Z-prefixed names (`XXBTZUSD`); requesting that name makes Kraken
 * answer under the same key, so the echoed key can be checked.
 */
import { BadBody, WrongSymbol } from '../errors.ts';
import { isRecord, record } from '../parse.ts';
import type { VenueSpec } from '../types.ts';

const LEGACY_ASSETS: Record<string, string> = { BTC: 'XXBT', ETH: 'XETH', LTC: 'XLTC', XRP: 'XXRP', XLM: 'XXLM', XMR: 'XXMR', ETC: 'XETC', ZEC: 'XZEC' };
const LEGACY_FIATS = new Set(['USD', 'EUR', 'GBP', 'JPY', 'CAD']);
const PAIRS: Record<string, string> = { 'USDT/USD': 'USDTZUSD' };

export const kraken: VenueSpec = {
  id: 'kraken',
  name: 'Kraken',
  defaultBaseUrl: 'https://api.kraken.com',
  endpoint: '/0/public/Ticker',
  defaultMarket(base, quote) {
    const legacy = LEGACY_ASSETS[base];
    if (legacy && LEGACY_FIATS.has(quote)) return { symbol: `${legacy}Z${quote}`, quote };
    return { symbol: PAIRS[`${base}/${quote}`] ?? `${base}${quote}`, quote };
  },
  request: (symbol) => ({ path: '/0/public/Ticker', params: { pair: symbol } }),
  venueError(body) {
    if (!isRecord(body) || !Array.isArray(body.error) || body.error.length === 0) return undefined;
    const message = body.error.map(String).join('; ');
    return { message, rateLimited: /EAPI:Rate limit|Too many requests/i.test(message) };
  },
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
