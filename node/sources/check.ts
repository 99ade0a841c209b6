/**
 * `aegis node check --live` and `--record DIR`: every configured (feed, source) pair fetched
 * once through the production adapters, with what "fresh" means for each venue, and, on
 * request, every raw answer written as a fixture in the format the adapter tests replay
 * (`test/fixtures/exchanges/README.md`).
 *
 * `live` ignores every base URL override in the config (mirrors, the venue simulator), so an
 * operator on a machine with internet sees the real venues answer; without it the configured
 * URLs are used, which is how the recorder is tested against the venue simulator here.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SourceError } from './errors.ts';
import { createSource, VENUE_SPECS } from './index.ts';
import type { FeedSourceConfig } from '../config.ts';
import { createUniswapV3Source } from './dex/uniswap-v3.ts';
import type { RecordedAnswer } from './source.ts';
import type { PriceSource, SourceQuote, SourceVenue, VenueId } from './types.ts';

/** The part of a resolved node config the check reads. */
export interface CheckInput {
  feeds: readonly { name: string; sources: readonly FeedSourceConfig[] }[];
  venues: Partial<Record<VenueId, { timeoutMs?: number | undefined; retries?: number | undefined; maxStalenessMs?: number | undefined }>>;
}

export interface CheckOptions {
  /** Use each venue's public URL whatever the config says. */
  live?: boolean;
  /** Write each answer as a fixture under `DIR/<venue>/<feed>.json`. */
  recordDir?: string;
  now?: () => number;
}

export interface CheckRow {
  feed: string;
  source: string;
  venue: SourceVenue;
  market: string;
  /** The venue's base URL, or a DEX source's RPC URLs. */
  baseUrl: string;
  quote?: SourceQuote;
  error?: { kind: string; message: string };
  /** What dates this venue's quotes (config reference, "Venues"). */
  freshness: string;
  /** Fixture files written for this pair. */
  recorded?: string;
}

/** The base URL the check asks for a source: the venue's public URL when `live`, else the configured one. */
export function checkUrl(venue: VenueId, configured: string | undefined, live: boolean): string {
  return live ? VENUE_SPECS[venue].defaultBaseUrl : (configured ?? VENUE_SPECS[venue].defaultBaseUrl);
}

/** Fetch every configured pair once; never throws for a failing venue (that is a row). */
export async function checkSources(input: CheckInput, opts: CheckOptions = {}): Promise<CheckRow[]> {
  const now = opts.now ?? Date.now;
  const rows: CheckRow[] = [];
  for (const feed of input.feeds) {
    for (const s of feed.sources) {
      if (s.kind === 'dex') {
        // On-chain: the RPC URLs are the operator's own; `live` changes nothing, nothing is recorded.
        const { kind: _k, venue: _v, id, market, ...pools } = s;
        const dex: PriceSource = createUniswapV3Source({ ...pools, id, feed: feed.name, quote: market.quote, now });
        const row: CheckRow = { feed: feed.name, source: id, venue: s.venue, market: market.symbol, baseUrl: s.rpcUrls.join(' '), freshness: `TWAP over ${s.windowS} s at the latest block; an RPC whose latest block is older than ${s.maxBlockAgeMs / 1000} s is skipped` };
        try {
          row.quote = await dex.fetch(feed.name);
        } catch (err) {
          row.error = err instanceof SourceError ? { kind: err.kind, message: err.message } : { kind: 'internal', message: String(err) };
        }
        rows.push(row);
        continue;
      }
      const spec = VENUE_SPECS[s.venue];
      const baseUrl = checkUrl(s.venue, s.baseUrl, opts.live === true);
      const defaults = input.venues[s.venue] ?? {};
      const answers: RecordedAnswer[] = [];
      const source = createSource(s.venue, {
        baseUrl,
        symbols: { [feed.name]: s.market },
        // One pass, no retries: the operator sees what the venue answers first.
        retries: 0,
        ...(defaults.timeoutMs !== undefined ? { timeoutMs: defaults.timeoutMs } : {}),
        ...(defaults.maxStalenessMs !== undefined ? { maxStalenessMs: defaults.maxStalenessMs } : {}),
        now,
        onAnswer: (a) => answers.push(a),
      });
      const row: CheckRow = { feed: feed.name, source: source.id, venue: s.venue, market: s.market.symbol, baseUrl, freshness: spec.freshnessBasis };
      try {
        row.quote = await source.fetch(feed.name);
      } catch (err) {
        row.error = err instanceof SourceError ? { kind: err.kind, message: err.message } : { kind: 'internal', message: String(err) };
      }
      if (opts.recordDir && answers.length > 0) row.recorded = writeFixture(opts.recordDir, row, answers);
      rows.push(row);
    }
  }
  return rows;
}

/** Query string as axios writes it for the adapters' params (so a replay asks the same path). */
export function queryString(params: Record<string, string> | undefined): string {
  if (!params || Object.keys(params).length === 0) return '';
  const enc = (v: string) => encodeURIComponent(v).replace(/%3A/gi, ':').replace(/%24/g, '$').replace(/%2C/gi, ',').replace(/%20/g, '+').replace(/%5B/gi, '[').replace(/%5D/gi, ']');
  return '?' + Object.entries(params).map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&');
}

/** Headers worth keeping in a fixture: content type and every rate-limit signal. */
const KEPT_HEADERS = /^(content-type|retry-after|x-bapi-limit.*|gw-ratelimit-.*|x-mbx-used-weight.*|x-ratelimit-.*|ratelimit-.*)$/i;

function recorded(a: RecordedAnswer): { request: string; status: number; headers?: Record<string, string>; body: unknown } {
  const headers = Object.fromEntries(Object.entries(a.headers).filter(([k]) => KEPT_HEADERS.test(k) && k !== 'content-type'));
  let body: unknown = a.text;
  try {
    body = JSON.parse(a.text);
  } catch {
    // Not JSON (an HTML error page): kept as the string the venue sent.
  }
  return { request: `${a.path}${queryString(a.params)}`, status: a.status, ...(Object.keys(headers).length ? { headers } : {}), body };
}

function writeFixture(dir: string, row: CheckRow, answers: RecordedAnswer[]): string {
  const [first, second] = answers;
  const at = new Date(first!.receivedAtMs).toISOString();
  const expect = row.quote
    ? {
        feed: row.feed,
        price: row.quote.price,
        ...(row.quote.volume !== undefined ? { volume: row.quote.volume } : {}),
        ...(row.quote.venueTimestampMs !== undefined ? { venueTimestampMs: row.quote.venueTimestampMs } : {}),
        market: row.quote.market,
        quote: row.quote.quote,
      }
    : { feed: row.feed, kind: row.error!.kind };
  const fixture = {
    ...recorded(first!),
    source: `recorded from ${row.baseUrl} at ${at} by aegis node check --record`,
    recordedAtMs: first!.receivedAtMs,
    ...(second ? { followUp: recorded(second) } : {}),
    expect,
  };
  const folder = join(dir, row.venue);
  mkdirSync(folder, { recursive: true });
  const file = join(folder, `${row.feed.toLowerCase().replace('/', '-')}${row.quote ? '' : `-${row.error!.kind.replace('_', '-')}`}.json`);
  writeFileSync(file, JSON.stringify(fixture, null, 2) + '\n');
  return file;
}
