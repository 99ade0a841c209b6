/**
 * A simulated exchange HTTP server: every supported venue, in its real format, at its real path,
 * under a per-venue prefix (`http://127.0.0.1:PORT/binance/api/v3/ticker/24hr?symbol=BTCUSDT`).
 *
 * Prices come from a callback so the demo and the simulator can drive moving price paths or pump
 * one venue; `setBehaviour` makes a venue fail the way real ones do (outage, slow answers, an
 * HTML page, rate limiting, a frozen clock). The production adapters read it unchanged with
 * `baseUrl = url(venue)`, so what the simulator attacks is the code that runs live.
 * Bound to 127.0.0.1 only.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Request, type Response } from 'express';
import { SUPPORTED_VENUES, VENUE_SPECS, marketFor, type MarketRef, type SourceOptions, type VenueId } from '../../node/sources/index.ts';
import { VENUE_FORMATS, type SimResponse, type SimTick } from './formats.ts';

/** Price of `feed`'s market on `venue` at `nowMs`, in the market's quote currency; undefined: the venue does not list it. */
export type PriceFn = (venue: VenueId, feed: string, nowMs: number, market: MarketRef) => SimTick | undefined;

export type VenueBehaviour =
  | { kind: 'normal' }
  /** HTTP 503 with an HTML page, like a load balancer with no backend. */
  | { kind: 'outage' }
  /** Answers normally after `delayMs`. */
  | { kind: 'slow'; delayMs: number }
  /** HTTP 200 with an HTML page where JSON belongs. */
  | { kind: 'garbage' }
  /** The venue's own rate-limit answer, with `Retry-After` when given. */
  | { kind: 'rate_limited'; retryAfterS?: number }
  /** Prices and timestamps frozen `ageMs` in the past. */
  | { kind: 'stale'; ageMs: number };

export interface VenueServerOptions {
  price: PriceFn;
  /** Feeds every venue lists (`BTC/USD`, `ETH/USD`, `USDT/USD`). */
  feeds: readonly string[];
  /** Venues to serve; default all supported. */
  venues?: readonly VenueId[];
  /** Symbol overrides per venue, the same shape the adapters take. */
  symbols?: Partial<Record<VenueId, SourceOptions['symbols']>>;
  /** Initial behaviours; default normal. */
  behaviours?: Partial<Record<VenueId, VenueBehaviour>>;
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  now?: () => number;
}

export interface VenueServer {
  /** Base URL of a venue, to pass as the adapter's `baseUrl`. */
  url(venue: VenueId): string;
  setBehaviour(venue: VenueId, behaviour: VenueBehaviour): void;
  /** Ticker requests a venue has received, for tests and attack accounting. */
  requests(venue: VenueId): number;
  close(): Promise<void>;
}

const HTML_PAGE = '<!DOCTYPE html><html><head><title>503 Service Temporarily Unavailable</title></head><body><center><h1>503 Service Temporarily Unavailable</h1></center><hr><center>nginx</center></body></html>';
const CHALLENGE_PAGE = '<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>Checking your browser before accessing the API.</body></html>';

export async function startVenueServer(opts: VenueServerOptions): Promise<VenueServer> {
  const now = opts.now ?? Date.now;
  const venues = opts.venues ?? SUPPORTED_VENUES;
  const behaviours = new Map<VenueId, VenueBehaviour>();
  const counts = new Map<VenueId, number>();
  const timers = new Set<NodeJS.Timeout>();
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  for (const venue of venues) {
    const format = VENUE_FORMATS[venue];
    behaviours.set(venue, opts.behaviours?.[venue] ?? { kind: 'normal' });
    counts.set(venue, 0);
    const bySymbol = new Map<string, { feed: string; market: MarketRef }>();
    for (const feed of opts.feeds) {
      const market = marketFor(VENUE_SPECS[venue], feed, opts.symbols?.[venue]);
      if (!market) throw new TypeError(`venue server: feed "${feed}" is not of the form BASE/QUOTE`);
      bySymbol.set(market.symbol.toLowerCase(), { feed, market });
    }

    const answer = (req: Request): SimResponse => {
      const behaviour = behaviours.get(venue) ?? { kind: 'normal' };
      const tsMs = behaviour.kind === 'stale' ? now() - behaviour.ageMs : now();
      if (behaviour.kind === 'outage') return { status: 503, body: HTML_PAGE };
      if (behaviour.kind === 'garbage') return { status: 200, body: CHALLENGE_PAGE };
      if (behaviour.kind === 'rate_limited') {
        const res = format.rateLimited(tsMs);
        if (behaviour.retryAfterS === undefined) return res;
        return { ...res, headers: { ...res.headers, 'Retry-After': String(behaviour.retryAfterS) } };
      }
      const symbol = format.symbolOf(req) ?? '';
      const listed = bySymbol.get(symbol.toLowerCase());
      const tick = listed && opts.price(venue, listed.feed, tsMs, listed.market);
      return tick ? format.ok(listed.market.symbol, tick, tsMs) : format.unknownSymbol(symbol, tsMs);
    };

    app.get(`/${venue}${format.route}`, (req: Request, res: Response) => {
      counts.set(venue, (counts.get(venue) ?? 0) + 1);
      const behaviour = behaviours.get(venue);
      const send = () => {
        const out = answer(req);
        res.status(out.status).set(out.headers ?? {});
        if (typeof out.body === 'string') res.type('html').send(out.body);
        else res.json(out.body);
      };
      if (behaviour?.kind === 'slow') {
        const timer = setTimeout(() => {
          timers.delete(timer);
          if (!res.writableEnded && !res.destroyed) send();
        }, behaviour.delayMs);
        timers.add(timer);
      } else {
        send();
      }
    });
  }
  app.use((req: Request, res: Response) => {
    res.status(404).type('html').send(`<!DOCTYPE html><html><body><pre>Cannot GET ${req.path}</pre></body></html>`);
  });

  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(opts.port ?? 0, '127.0.0.1', (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: (venue) => {
      if (!behaviours.has(venue)) throw new TypeError(`venue server: ${venue} is not served; served venues are ${venues.join(', ')}`);
      return `http://127.0.0.1:${port}/${venue}`;
    },
    setBehaviour(venue, behaviour) {
      if (!behaviours.has(venue)) throw new TypeError(`venue server: ${venue} is not served; served venues are ${venues.join(', ')}`);
      behaviours.set(venue, behaviour);
    },
    requests: (venue) => counts.get(venue) ?? 0,
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
