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
import { atClock, observeFeed, quoteClock, realizedVolatilityBps, toFixedPoint, type ObservationPolicy, type PricePoint, type SourceQuote } from './observe/index.ts';
import type { FeedConfig } from './config.ts';

/** What `observeFeed` returns (named by type, not by export, so a rename upstream does not break this file). */
type ObservationResult = ReturnType<typeof observeFeed>;
import type { Snapshot } from './poller.ts';

export type WithheldReason = 'no_snapshot' | 'not_configured' | 'too_few_sources' | 'sources_disagree' | 'out_of_range';

export type FeedView =
  | { ok: true; feed: string; price: number; answer: bigint; result: ObservationResult; excluded: ExcludedQuote[] }
  | { ok: false; feed: string; reason: WithheldReason; detail: string; result?: ObservationResult; excluded: ExcludedQuote[] };

/** The part of a `FeedView` that does not depend on the clock while its pricing holds. */
export type FeedAnswer =
  | { ok: true; feed: string; price: number; answer: bigint }
  | { ok: false; feed: string; reason: WithheldReason; detail: string };

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

/**
 * Bounded per-feed history of own prices, to estimate realized volatility. Each feed's points
 * are in strictly increasing time, so the points inside the volatility window at any clock
 * reading are one run of consecutive points (`windowOf`).
 */
export class PriceHistory {
  readonly #points = new Map<string, PricePoint[]>();
  #version = 0;

  /** Increases with every point added. */
  get version(): number {
    return this.#version;
  }

  add(feed: string, point: PricePoint): void {
    if (!Number.isFinite(point.timestampMs)) {
      throw new RangeError(`price history of ${feed}: timestamp ${point.timestampMs} is not a finite number; record points at the snapshot's takenAtMs`);
    }
    const list = this.#points.get(feed) ?? [];
    const last = list[list.length - 1];
    if (last && last.timestampMs >= point.timestampMs) return;
    list.push(point);
    if (list.length > HISTORY_MAX) list.splice(0, list.length - HISTORY_MAX);
    this.#points.set(feed, list);
    this.#version++;
  }

  volatilityBps(feed: string, nowMs: number): number {
    const list = this.#points.get(feed);
    if (!list || list.length < 2) return 0;
    return realizedVolatilityBps(list, { nowMs, windowMs: VOL_WINDOW_MS, horizonMs: VOL_HORIZON_MS });
  }

  /**
   * Which of `feed`'s points `volatilityBps(feed, nowMs)` counts, as `[first, end)` indices: the
   * same set at two clock readings gives the same volatility. The comparisons are the ones of
   * `realizedVolatilityBps`' window filter, so the two agree to the last bit.
   */
  windowOf(feed: string, nowMs: number): [number, number] {
    const list = this.#points.get(feed) ?? [];
    const start = nowMs - VOL_WINDOW_MS;
    return [countWhile(list, (p) => !(p.timestampMs >= start)), countWhile(list, (p) => p.timestampMs <= nowMs)];
  }
}

/** How many leading points satisfy `test`, which holds for a prefix of the (time-ordered) list. */
function countWhile(list: readonly PricePoint[], test: (p: PricePoint) => boolean): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (test(list[mid] as PricePoint)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
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

/**
 * `priceFeeds` over one feed config and price history, computed once per snapshot and served at
 * every clock reading after (the node prices every feed on each observe and sign request; the
 * filter, median, MAD and volatility band depend on the clock only through which quotes are too
 * far in the future or stale and which history points are inside the volatility window).
 *
 * `at` returns exactly what `priceFeeds` returns for the same snapshot, history and `nowMs`:
 * it reuses the last result only while the snapshot is the same object, the history has no new
 * point, and every quote's clock verdict and every feed's volatility window are the same at
 * `nowMs` as when it was computed (all checked at each call, with the real clock); then it
 * restates the ages as of `nowMs`. Otherwise it computes afresh.
 */
export class FeedViewCache {
  readonly #feeds: readonly FeedConfig[];
  readonly #history: PriceHistory | undefined;
  #last: Priced | undefined;
  #computations = 0;

  constructor(feeds: readonly FeedConfig[], history?: PriceHistory) {
    this.#feeds = feeds;
    this.#history = history;
  }

  /** How many times `at` priced the feeds afresh (the rest restated the last result). */
  get computations(): number {
    return this.#computations;
  }

  at(snapshot: Snapshot | undefined, nowMs: number): Map<string, FeedView> {
    const { priced, reused } = this.#current(snapshot, nowMs);
    if (!reused) return priced.views;
    const views = new Map<string, FeedView>();
    for (const feed of this.#feeds) {
      const view = priced.views.get(feed.name) as FeedView;
      views.set(feed.name, view.result ? { ...view, result: atClock(view.result, nowMs, feed.policy) } : view);
    }
    return views;
  }

  /**
   * What the observe and sign paths read of `at(snapshot, nowMs)` (priced or not, the answer,
   * the reason withheld), without restating every source's age: the same values, at a fraction
   * of the cost on a cache hit.
   */
  answersAt(snapshot: Snapshot | undefined, nowMs: number): ReadonlyMap<string, FeedAnswer> {
    return this.#current(snapshot, nowMs).priced.views;
  }

  /** The last pricing if it still holds at `nowMs` (`reused`), else a fresh one. */
  #current(snapshot: Snapshot | undefined, nowMs: number): { priced: Priced; reused: boolean } {
    const last = this.#last;
    if (last && last.snapshot === snapshot && last.historyVersion === (this.#history?.version ?? 0) && this.#sameClock(last, nowMs)) {
      return { priced: last, reused: true };
    }
    const views = priceFeeds({ feeds: this.#feeds, snapshot, nowMs, ...(this.#history ? { history: this.#history } : {}) });
    this.#last = this.#priced(snapshot, nowMs, views);
    this.#computations++;
    return { priced: this.#last, reused: false };
  }

  /** The result with what its clock readings depend on, read out of the snapshot once. */
  #priced(snapshot: Snapshot | undefined, nowMs: number, views: Map<string, FeedView>): Priced {
    const stampsMs: number[] = [];
    const policies: ObservationPolicy[] = [];
    for (const feed of this.#feeds) {
      // Every quote, converted or not: a conversion keeps the venue's timestamps.
      for (const entry of snapshot?.feeds.get(feed.name) ?? []) {
        if (!entry.quote) continue;
        stampsMs.push(entry.quote.venueTimestampMs ?? entry.quote.receivedAtMs);
        policies.push(feed.policy);
      }
    }
    const quoteClocks = new Uint8Array(stampsMs.length);
    stampsMs.forEach((t, i) => (quoteClocks[i] = quoteClock(t, nowMs, policies[i] as ObservationPolicy)));
    const windows = this.#history ? this.#feeds.map((feed) => (this.#history as PriceHistory).windowOf(feed.name, nowMs)) : [];
    return { snapshot, historyVersion: this.#history?.version ?? 0, stampsMs: Float64Array.from(stampsMs), policies, quoteClocks, windows, views };
  }

  /** Whether every quote's clock verdict and every volatility window read at `nowMs` as they did for `last`. */
  #sameClock(last: Priced, nowMs: number): boolean {
    for (let i = 0; i < last.stampsMs.length; i++) {
      if (quoteClock(last.stampsMs[i] as number, nowMs, last.policies[i] as ObservationPolicy) !== last.quoteClocks[i]) return false;
    }
    for (let k = 0; k < last.windows.length; k++) {
      const [first, end] = (this.#history as PriceHistory).windowOf((this.#feeds[k] as FeedConfig).name, nowMs);
      const was = last.windows[k] as [number, number];
      if (first !== was[0] || end !== was[1]) return false;
    }
    return true;
  }
}

interface Priced {
  snapshot: Snapshot | undefined;
  historyVersion: number;
  /** Each quote's timestamp (as `observeFeed` sees it) and its feed's policy, in one flat list. */
  stampsMs: Float64Array;
  policies: ObservationPolicy[];
  /** `quoteClock` of each quote when priced. */
  quoteClocks: Uint8Array;
  /** `PriceHistory.windowOf` of each feed when priced, in config order. */
  windows: [number, number][];
  views: Map<string, FeedView>;
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
