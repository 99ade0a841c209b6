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
  /**
   * Requests that reached a venue inside the wait it asked for after a rate limit (its
   * `Retry-After`, or what its headers and documentation give: `VenueSpec.rateLimit`), while it
   * stayed rate-limited. Tests assert none.
   */
  violations(): string[];
  close(): Promise<void>;
}

const HTML_PAGE = '<!DOCTYPE html><html><head><title>503 Service Temporarily Unavailable</title></head><body><center><h1>503 Service Temporarily Unavailable</h1></center><hr><center>nginx</center></body></html>';
const CHALLENGE_PAGE = '<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>Checking your browser before accessing the API.</body></html>';

/**
 * One request as the responder sees it: the matched route's params and the query string. A
 * request for the venue's trades endpoint carries `params[TRADES_ENDPOINT] = '1'` (set by
 * `match`), so transports that only pass params along need not know the endpoints.
 */
export const TRADES_ENDPOINT = '__trades';
export interface VenueRequest {
  params: Record<string, string>;
  query: Record<string, string>;
}

/** An answer, and how long the venue waits before giving it (`slow`). */
export interface VenueAnswer extends SimResponse {
  delayMs: number;
}

/**
 * The venues without the socket: what each venue answers to a ticker request. The HTTP server
 * wraps it, and the simulator's in-process transport (`sim/market/inproc.ts`) calls it directly,
 * so both modes produce the same bytes for the same state.
 */
export interface VenueResponder {
  readonly venues: readonly VenueId[];
  /** Answer a request for `venue`; counts it. */
  answer(venue: VenueId, req: VenueRequest): VenueAnswer;
  /** Match a path below the venue prefix (`/api/v3/ticker/24hr`) to the venue's route params, or undefined. */
  match(venue: VenueId, path: string): Record<string, string> | undefined;
  setBehaviour(venue: VenueId, behaviour: VenueBehaviour): void;
  behaviour(venue: VenueId): VenueBehaviour;
  requests(venue: VenueId): number;
  violations(): string[];
}

function routeRegex(route: string): { re: RegExp; names: string[] } {
  const names: string[] = [];
  const body = route
    .replace(/\/+$/, '')
    .split('/')
    .map((seg) => {
      if (seg.startsWith(':')) {
        names.push(seg.slice(1));
        return '([^/]+)';
      }
      return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return { re: new RegExp(`^${body}/?$`), names };
}

export function createVenueResponder(opts: Omit<VenueServerOptions, 'port'>): VenueResponder {
  const now = opts.now ?? Date.now;
  const venues = opts.venues ?? SUPPORTED_VENUES;
  const behaviours = new Map<VenueId, VenueBehaviour>();
  const counts = new Map<VenueId, number>();
  const blockedUntil = new Map<VenueId, number>();
  const violations: string[] = [];
  const tables = new Map<VenueId, Map<string, { feed: string; market: MarketRef }>>();
  const routes = new Map<VenueId, { re: RegExp; names: string[] }>();
  const tradeRoutes = new Map<VenueId, { re: RegExp; names: string[] }>();
  for (const venue of venues) {
    behaviours.set(venue, opts.behaviours?.[venue] ?? { kind: 'normal' });
    counts.set(venue, 0);
    routes.set(venue, routeRegex(VENUE_FORMATS[venue].route));
    const trades = VENUE_FORMATS[venue].trades;
    if (trades) tradeRoutes.set(venue, routeRegex(trades.route));
    const bySymbol = new Map<string, { feed: string; market: MarketRef }>();
    for (const feed of opts.feeds) {
      const market = marketFor(VENUE_SPECS[venue], feed, opts.symbols?.[venue]);
      if (!market) throw new TypeError(`venue server: feed "${feed}" is not of the form BASE/QUOTE`);
      bySymbol.set(market.symbol.toLowerCase(), { feed, market });
    }
    tables.set(venue, bySymbol);
  }
  const served = (venue: VenueId): void => {
    if (!behaviours.has(venue)) throw new TypeError(`venue server: ${venue} is not served; served venues are ${venues.join(', ')}`);
  };
  return {
    venues,
    answer(venue, req) {
      served(venue);
      counts.set(venue, (counts.get(venue) ?? 0) + 1);
      const at = now();
      const until = blockedUntil.get(venue);
      if (until !== undefined && at < until) violations.push(`${venue}: asked ${until - at} ms inside the wait it asked for`);
      const format = VENUE_FORMATS[venue];
      const behaviour = behaviours.get(venue) ?? { kind: 'normal' };
      const delayMs = behaviour.kind === 'slow' ? behaviour.delayMs : 0;
      const tsMs = behaviour.kind === 'stale' ? now() - behaviour.ageMs : now();
      if (behaviour.kind === 'outage') return { status: 503, body: HTML_PAGE, delayMs };
      if (behaviour.kind === 'garbage') return { status: 200, body: CHALLENGE_PAGE, delayMs };
      if (behaviour.kind === 'rate_limited') {
        const res = format.rateLimited(tsMs);
        const out = behaviour.retryAfterS === undefined ? { ...res, delayMs } : { ...res, headers: { ...res.headers, 'Retry-After': String(behaviour.retryAfterS) }, delayMs };
        // The wait this answer asks for, read the way the venue's documentation says (the adapter's reading).
        const headers = Object.fromEntries(Object.entries(out.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
        const text = typeof out.body === 'string' ? out.body : JSON.stringify(out.body);
        const asked = behaviour.retryAfterS !== undefined ? behaviour.retryAfterS * 1000 : VENUE_SPECS[venue].rateLimit({ status: out.status, headers, text, body: out.body, receivedAtMs: at }, true)?.waitMs;
        if (asked !== undefined) blockedUntil.set(venue, at + asked);
        return out;
      }
      blockedUntil.delete(venue);
      const symbol = format.symbolOf({ query: req.query, params: req.params } as unknown as Request) ?? '';
      const listed = tables.get(venue)!.get(symbol.toLowerCase());
      const tick = listed && opts.price(venue, listed.feed, tsMs, listed.market);
      const trades = req.params[TRADES_ENDPOINT] === '1' ? format.trades : undefined;
      const out = tick ? (trades ?? format).ok(listed.market.symbol, tick, tsMs) : format.unknownSymbol(symbol, tsMs);
      return { ...out, delayMs };
    },
    match(venue, path) {
      for (const [table, trades] of [[routes, false], [tradeRoutes, true]] as const) {
        const r = table.get(venue);
        const m = r?.re.exec(path);
        if (!r || !m) continue;
        const params: Record<string, string> = {};
        r.names.forEach((n, i) => (params[n] = decodeURIComponent(m[i + 1] ?? '')));
        if (trades) params[TRADES_ENDPOINT] = '1';
        return params;
      }
      return undefined;
    },
    setBehaviour(venue, behaviour) {
      served(venue);
      // A venue that stops rate limiting has lifted its wait.
      if (behaviour.kind !== 'rate_limited') blockedUntil.delete(venue);
      behaviours.set(venue, behaviour);
    },
    behaviour: (venue) => behaviours.get(venue) ?? { kind: 'normal' },
    requests: (venue) => counts.get(venue) ?? 0,
    violations: () => [...violations],
  };
}

export async function startVenueServer(opts: VenueServerOptions): Promise<VenueServer> {
  const responder = createVenueResponder(opts);
  const venues = responder.venues;
  const timers = new Set<NodeJS.Timeout>();
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  for (const venue of venues) {
    const format = VENUE_FORMATS[venue];
    const handler = (trades: boolean) => (req: Request, res: Response) => {
      const query: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.query)) if (typeof v === 'string') query[k] = v;
      const params: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.params as Record<string, unknown>)) if (typeof v === 'string') params[k] = v;
      if (trades) params[TRADES_ENDPOINT] = '1';
      const delayMs = responder.behaviour(venue).kind === 'slow' ? (responder.behaviour(venue) as { delayMs: number }).delayMs : 0;
      const send = () => {
        // Answered when sent, so a slow venue's price is the price at answer time.
        const out = responder.answer(venue, { query, params });
        res.status(out.status).set(out.headers ?? {});
        if (typeof out.body === 'string') res.type('html').send(out.body);
        else res.json(out.body);
      };
      if (delayMs > 0) {
        const timer = setTimeout(() => {
          timers.delete(timer);
          if (!res.writableEnded && !res.destroyed) send();
        }, delayMs);
        timers.add(timer);
      } else {
        send();
      }
    };
    app.get(`/${venue}${format.route}`, handler(false));
    if (format.trades) app.get(`/${venue}${format.trades.route}`, handler(true));
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
      if (!venues.includes(venue)) throw new TypeError(`venue server: ${venue} is not served; served venues are ${venues.join(', ')}`);
      return `http://127.0.0.1:${port}/${venue}`;
    },
    setBehaviour: (venue, behaviour) => responder.setBehaviour(venue, behaviour),
    requests: (venue) => responder.requests(venue),
    violations: () => responder.violations(),
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
