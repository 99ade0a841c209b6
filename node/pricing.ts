/**
 * The node's own view of every feed, from the latest snapshot: quotes converted into the feed's
 * currency, filtered by `node/observe` (stale, outliers, minimum agreeing sources), and turned
 * into the fixed-point answer with the feed's decimals, or "no observation" with the reason.
 *
 * Pure over its inputs (snapshot, config, clock, price history): the observe handler and the
 * signer's sanity band both read it, and it never touches the network.
 *
 * Conversion feeds (`USDT/USD`) are priced first, from their own sources; a quote in USDT of a
 * USD feed is converted with that filtered rate, or excluded with `no_conversion` when the rate
 * has no observation. A stablecoin is never assumed to be worth one dollar.
 */
import { convertQuote, type SourceQuote as VenueQuote } from './sources/index.ts';
import { observeFeed, realizedVolatilityBps, toFixedPoint, type PricePoint, type SourceQuote } from './observe/index.ts';
import type { FeedConfig } from './config.ts';

/** What `observeFeed` returns (named by type, not by export, so a rename upstream does not break this file). */
type ObservationResult = ReturnType<typeof observeFeed>;
import type { Snapshot } from './poller.ts';

export type WithheldReason = 'no_snapshot' | 'not_configured' | 'too_few_sources' | 'sources_disagree' | 'out_of_range';

export type FeedView =
  | { ok: true; feed: string; price: number; answer: bigint; result: ObservationResult; excluded: ExcludedQuote[] }
  | { ok: false; feed: string; reason: WithheldReason; detail: string; result?: ObservationResult; excluded: ExcludedQuote[] };

/** A quote that never reached the filter (conversion impossible) or a source with no quote at all. */
export interface ExcludedQuote {
  source: string;
  reason: string;
  detail: string;
}

/** Realized-volatility window: the band widens with the last hour's moves, scaled to one minute. */
const VOL_WINDOW_MS = 3_600_000;
const VOL_HORIZON_MS = 60_000;
const HISTORY_MAX = 720;

/** Bounded per-feed history of own prices, to estimate realized volatility. */
export class PriceHistory {
  readonly #points = new Map<string, PricePoint[]>();

  add(feed: string, point: PricePoint): void {
    const list = this.#points.get(feed) ?? [];
    const last = list[list.length - 1];
    if (last && last.timestampMs >= point.timestampMs) return;
    list.push(point);
    if (list.length > HISTORY_MAX) list.splice(0, list.length - HISTORY_MAX);
    this.#points.set(feed, list);
  }

  volatilityBps(feed: string, nowMs: number): number {
    const list = this.#points.get(feed);
    if (!list || list.length < 2) return 0;
    return realizedVolatilityBps(list, { nowMs, windowMs: VOL_WINDOW_MS, horizonMs: VOL_HORIZON_MS });
  }
}

export interface PricingInput {
  feeds: readonly FeedConfig[];
  snapshot: Snapshot | undefined;
  nowMs: number;
  history?: PriceHistory;
}

/** The view of every configured feed, by feed name. */
export function priceFeeds({ feeds, snapshot, nowMs, history }: PricingInput): Map<string, FeedView> {
  const views = new Map<string, FeedView>();
  const rates: Record<string, number> = {};
  // Conversion-free feeds first (conversion feeds are among them: config forbids chains).
  const ordered = [...feeds.filter((f) => f.conversionFeeds.length === 0), ...feeds.filter((f) => f.conversionFeeds.length > 0)];
  for (const feed of ordered) {
    const view = priceOne(feed, snapshot, nowMs, rates, history);
    views.set(feed.name, view);
    if (view.ok) rates[feed.name] = view.price;
  }
  return views;
}

function priceOne(feed: FeedConfig, snapshot: Snapshot | undefined, nowMs: number, rates: Record<string, number>, history?: PriceHistory): FeedView {
  if (!snapshot) {
    return { ok: false, feed: feed.name, reason: 'no_snapshot', detail: `${feed.name}: no observation, the first poll of the sources has not completed yet`, excluded: [] };
  }
  const quotes: SourceQuote[] = [];
  const excluded: ExcludedQuote[] = [];
  for (const entry of snapshot.feeds.get(feed.name) ?? []) {
    if (!entry.quote) {
      excluded.push({ source: entry.source, reason: entry.error?.kind ?? 'no_quote', detail: entry.error?.message ?? `source ${entry.source}: no quote yet` });
      continue;
    }
    let q: VenueQuote;
    try {
      q = convertQuote(entry.quote, rates);
    } catch (err) {
      excluded.push({ source: entry.source, reason: 'no_conversion', detail: (err as Error).message });
      continue;
    }
    quotes.push({
      source: q.source,
      price: q.price,
      ...(q.volume !== undefined ? { volume: q.volume } : {}),
      timestampMs: q.venueTimestampMs ?? q.receivedAtMs,
    });
  }
  const volatilityBps = history?.volatilityBps(feed.name, nowMs) ?? 0;
  const policy = volatilityBps > 0 ? { ...feed.policy, volatilityBps } : feed.policy;
  const result = observeFeed({ feed: feed.name, quotes, nowMs, policy });
  if (!result.ok) {
    const why = excluded.length ? `; not priced: ${excluded.map((e) => `${e.source} (${e.reason})`).join(', ')}` : '';
    return { ok: false, feed: feed.name, reason: result.reason, detail: `${result.detail}${why}`, result, excluded };
  }
  let answer: bigint;
  try {
    answer = toFixedPoint(result.price, feed.decimals);
  } catch (err) {
    return { ok: false, feed: feed.name, reason: 'out_of_range', detail: `${feed.name}: no observation, ${(err as Error).message}`, result, excluded };
  }
  return { ok: true, feed: feed.name, price: result.price, answer, result, excluded };
}
