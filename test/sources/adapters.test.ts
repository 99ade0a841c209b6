/**
 * Every venue adapter against its recorded responses, served over a real loopback socket:
 * success bodies parse to the expected quote, error and rate-limit bodies reject with the right
 * kind, and garbage derived from each success body (HTML, NaN, negative, zero, absurd, missing
 * field, wrong symbol) is rejected with a reason, never returned as a price. Venues whose ticker
 * has no quote time are dated by their newest trade (a second recorded answer). A rate limit
 * reports the wait the venue asked for, and no request reaches the venue inside it.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SUPPORTED_VENUES, SourceError, createSource, type VenueId } from '../../node/sources/index.ts';
import { loadFixtures, startFixtureServer, type FixtureServer } from './fixture-server.ts';

/** Fixture clock: 1 s after the recorded venue times (2026-11-02T12:00:00Z). */
const NOW = 1793620800000 + 1000;

type Path = (string | number)[];
/** Where each venue puts the last price in its body, and how to make it answer another market. */
const SHAPES: Record<VenueId, { price: Path; wrongSymbol?: (body: any) => void }> = {
  binance: { price: ['lastPrice'], wrongSymbol: (b) => (b.symbol = 'ETHUSDT') },
  coinbase: { price: ['price'] },
  kraken: {
    price: ['result', 'XXBTZUSD', 'c', 0],
    wrongSymbol: (b) => {
      b.result = { XETHZUSD: b.result.XXBTZUSD };
    },
  },
  okx: { price: ['data', 0, 'last'], wrongSymbol: (b) => (b.data[0].instId = 'ETH-USDT') },
  bybit: { price: ['result', 'list', 0, 'lastPrice'], wrongSymbol: (b) => (b.result.list[0].symbol = 'ETHUSDT') },
  bitstamp: { price: ['last'], wrongSymbol: (b) => (b.pair = 'ETH/USD') },
  gemini: { price: ['last'], wrongSymbol: (b) => (b.volume = { ETH: '1.0', USD: '3481.0', timestamp: b.volume.timestamp }) },
  kucoin: { price: ['data', 'last'], wrongSymbol: (b) => (b.data.symbol = 'ETH-USDT') },
  bitfinex: { price: [6] },
};

function setIn(obj: any, path: Path, value: unknown): void {
  const parent = path.slice(0, -1).reduce((o, k) => o[k], obj);
  const last = path[path.length - 1]!;
  if (value === undefined) {
    if (Array.isArray(parent)) parent.length = Number(last);
    else delete parent[last];
  } else parent[last] = value;
}

const clone = <T>(v: T): T => structuredClone(v);

async function rejection(p: Promise<unknown>): Promise<SourceError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SourceError);
  return err as SourceError;
}

let server: FixtureServer;
beforeAll(async () => {
  server = await startFixtureServer();
});
afterEach(() => {
  expect(server.violations, 'requests inside a wait the venue asked for').toEqual([]);
  server.reset();
});
afterAll(async () => {
  await server.close();
});

describe.each(SUPPORTED_VENUES.map((v) => [v]))('%s adapter', (venue) => {
  const fixtures = loadFixtures(venue);
  const source = () => createSource(venue, { baseUrl: server.url, now: () => NOW, retries: 0 });

  for (const [name, fx] of Object.entries(fixtures)) {
    it(`${name}: asks ${fx.request} and ${fx.expect.kind ? `rejects as ${fx.expect.kind}` : 'reads the quote'}`, async () => {
      const at = fx.recordedAtMs ?? NOW;
      server.setClock(() => at);
      server.serve(fx, ...(fx.followUp ? [fx.followUp] : []));
      const fetching = createSource(venue, { baseUrl: server.url, now: () => at, retries: 0 }).fetch(fx.expect.feed);
      if (fx.expect.kind) {
        const err = await rejection(fetching);
        expect(err.kind).toBe(fx.expect.kind);
        if (fx.expect.retryAfterMs !== undefined) expect(err.retryAfterMs).toBe(fx.expect.retryAfterMs);
        expect(err.message).toMatch(new RegExp(`^source ${venue}: .*\\(${fx.expect.feed.replace('/', '\\/')}\\); excluded`));
      } else {
        const { kind: _none, ...want } = fx.expect;
        expect(await fetching).toEqual({ source: venue, receivedAtMs: at, ...want });
      }
      expect(server.requests).toEqual(fx.followUp && !fx.expect.kind ? [fx.request, fx.followUp.request] : [fx.request]);
    });
  }

  const ok = fixtures['btc-usd']!;
  const garbage: [string, (body: any) => unknown, RegExp][] = [
    ['an HTML page', () => '<!DOCTYPE html><html><body>Attention Required! | Cloudflare</body></html>', /HTML body/],
    ['a NaN price', (b) => setIn(b, SHAPES[venue].price, 'NaN'), /price is not a (decimal|finite) number/],
    ['a negative price', (b) => setIn(b, SHAPES[venue].price, typeof ok.body === 'object' && Array.isArray(ok.body) ? -97410 : '-97410.5'), /price -97410(\.5)? is not positive/],
    ['a zero price', (b) => setIn(b, SHAPES[venue].price, Array.isArray(ok.body) ? 0 : '0.00000000'), /price 0 is not positive/],
    ['an absurd price', (b) => setIn(b, SHAPES[venue].price, Array.isArray(ok.body) ? 9.7e13 : '97410000000000'), /outside the accepted range/],
    ['a missing price field', (b) => setIn(b, SHAPES[venue].price, undefined), /missing field|fields, expected|price is not/],
    ['a truncated body', () => JSON.stringify(ok.body).slice(0, 25), /not JSON/],
  ];
  for (const [what, mutate, reason] of garbage) {
    it(`rejects ${what} as bad_response`, async () => {
      const body = clone(ok.body);
      const replaced = mutate(body);
      const sent = typeof replaced === 'string' ? replaced : body;
      server.serve({ status: 200, body: sent, ...(typeof replaced === 'string' && !replaced.startsWith('<') ? { headers: { 'content-type': 'application/json' } } : {}) });
      const err = await rejection(source().fetch('BTC/USD'));
      expect(err.kind).toBe('bad_response');
      expect(err.message).toMatch(reason);
    });
  }

  const wrong = SHAPES[venue].wrongSymbol;
  if (wrong) {
    it('rejects a body for another market as wrong_symbol', async () => {
      const body = clone(ok.body);
      wrong(body);
      server.serve({ status: 200, body });
      const err = await rejection(source().fetch('BTC/USD'));
      expect(err.kind).toBe('wrong_symbol');
      expect(err.message).toMatch(/asked for/);
    });
  }
});
