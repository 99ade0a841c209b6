/**
 * Polling: refreshes every configured (source, feed) pair on a node-cron schedule (seconds
 * resolution) with bounded concurrency, into an immutable snapshot. Observation requests read
 * the latest snapshot and never wait on an exchange (docs/design.md §Round protocol, step 2: an
 * answer must not stall on a slow venue).
 *
 * A pass that is still running when the next tick fires is not doubled up (own guard): a
 * slow venue delays its own refresh, never piles up requests. A failed fetch keeps the
 * source's last good quote in the snapshot together with the error; the observation filter
 * drops that quote once it is older than the feed's `maxAgeMs`, so a short outage does not
 * cost an answer and a long one never yields a stale one.
 */
import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import { SourceError, createSource, createUniswapV3Source, type PriceSource, type SourceQuote, type SourceVenue, type VenueId } from './sources/index.ts';
import type { NodeConfig } from './config.ts';
import type { NodeMetrics } from './metrics.ts';

/** The state of one (feed, source) pair in a snapshot. */
export interface SourceEntry {
  feed: string;
  source: string;
  venue: SourceVenue;
  market: string;
  /** Last good quote (possibly from an earlier pass). */
  quote?: SourceQuote;
  /** The error of the latest attempt, when it failed. */
  error?: { kind: string; message: string };
  /** When the latest attempt finished (ms). */
  attemptedAtMs?: number;
  latencyMs?: number;
}

export interface Snapshot {
  /** Increases by one per completed pass. */
  version: number;
  /** When the pass completed (ms since epoch). */
  takenAtMs: number;
  /** Entries per feed name, in config order of the sources. */
  feeds: ReadonlyMap<string, readonly SourceEntry[]>;
}

interface Task {
  feed: string;
  source: PriceSource;
  key: string;
}

export interface PollerOptions {
  config: Pick<NodeConfig, 'feeds' | 'venues' | 'poll'>;
  metrics?: NodeMetrics;
  logger?: Logger;
  now?: () => number;
  /** Called after each completed pass (the service records its own prices for volatility). */
  onSnapshot?: (snapshot: Snapshot) => void;
}

export class SourcePoller {
  readonly #tasks: Task[] = [];
  readonly #entries = new Map<string, SourceEntry>();
  readonly #config: PollerOptions['config'];
  readonly #metrics: NodeMetrics | undefined;
  readonly #logger: Logger | undefined;
  readonly #now: () => number;
  readonly #onSnapshot: ((snapshot: Snapshot) => void) | undefined;
  #snapshot: Snapshot | undefined;
  #cron: ScheduledTask | undefined;
  #running: Promise<Snapshot> | undefined;
  #abort = new AbortController();

  constructor(opts: PollerOptions) {
    this.#config = opts.config;
    this.#metrics = opts.metrics;
    this.#logger = opts.logger;
    this.#now = opts.now ?? Date.now;
    this.#onSnapshot = opts.onSnapshot;
    // One PriceSource per venue and base URL, so the circuit breaker covers the venue, not one market.
    const sources = new Map<string, { venue: VenueId; baseUrl: string | undefined; symbols: Record<string, { symbol: string; quote: string }> }>();
    // A DEX source reads pools of one feed: one PriceSource per (feed, source id).
    const dex = new Map<string, PriceSource>();
    for (const feed of opts.config.feeds) {
      for (const s of feed.sources) {
        if (s.kind === 'dex') {
          const { kind: _k, venue: _v, id, market, maxBlockAgeMs, ...pools } = s;
          dex.set(`${feed.name}|${id}`, createUniswapV3Source({ ...pools, id, feed: feed.name, quote: market.quote, maxBlockAgeMs, now: this.#now }));
          continue;
        }
        const key = `${s.venue}|${s.baseUrl ?? ''}`;
        const entry = sources.get(key) ?? { venue: s.venue, baseUrl: s.baseUrl, symbols: {} };
        entry.symbols[feed.name] = s.market;
        sources.set(key, entry);
      }
    }
    const built = new Map<string, PriceSource>();
    for (const [key, s] of sources) {
      const defaults = opts.config.venues[s.venue] ?? {};
      built.set(
        key,
        createSource(s.venue, {
          ...(s.baseUrl !== undefined ? { baseUrl: s.baseUrl } : {}),
          symbols: s.symbols,
          ...(defaults.timeoutMs !== undefined ? { timeoutMs: defaults.timeoutMs } : {}),
          ...(defaults.retries !== undefined ? { retries: defaults.retries } : {}),
          ...(defaults.maxStalenessMs !== undefined ? { maxStalenessMs: defaults.maxStalenessMs } : {}),
          now: this.#now,
        }),
      );
    }
    for (const feed of opts.config.feeds) {
      for (const s of feed.sources) {
        const source = s.kind === 'dex' ? dex.get(`${feed.name}|${s.id}`)! : built.get(`${s.venue}|${s.baseUrl ?? ''}`)!;
        const key = `${feed.name}|${source.id}`;
        this.#tasks.push({ feed: feed.name, source, key });
        this.#entries.set(key, { feed: feed.name, source: source.id, venue: s.venue, market: s.market.symbol });
      }
    }
  }

  /** The latest completed snapshot, or undefined before the first pass completes. */
  get snapshot(): Snapshot | undefined {
    return this.#snapshot;
  }

  /** Distinct sources (venue + base URL) with their circuit state. */
  sourcesHealth(): { source: string; state: string; consecutiveFailures: number }[] {
    const seen = new Map<PriceSource, true>();
    const out: { source: string; state: string; consecutiveFailures: number }[] = [];
    for (const t of this.#tasks) {
      if (seen.has(t.source)) continue;
      seen.set(t.source, true);
      const h = t.source.health();
      out.push({ source: t.source.id, state: h.state, consecutiveFailures: h.consecutiveFailures });
    }
    return out;
  }

  /** Run one pass now (or join the one in flight) and return the new snapshot. */
  refresh(): Promise<Snapshot> {
    if (this.#running) return this.#running;
    this.#running = this.#pass().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /** Start the schedule, with one pass right away. */
  start(): void {
    if (this.#cron) return;
    this.#abort = new AbortController();
    this.#cron = cron.schedule(
      this.#config.poll.schedule,
      () => {
        // Our own overlap guard, counted in metrics; node-cron's `noOverlap` would print an
        // unstructured warning to stdout on every skipped tick.
        if (this.#running) {
          this.#metrics?.polls.inc({ outcome: 'skipped_overlap' });
          return;
        }
        void this.refresh().catch((err: unknown) => this.#logger?.error({ action: 'poll', err: String(err) }, 'poll pass failed'));
      },
      { name: 'aegis-node-poll' },
    );
    void this.refresh().catch((err: unknown) => this.#logger?.error({ action: 'poll', err: String(err) }, 'poll pass failed'));
  }

  /** Stop the schedule and abort requests in flight. */
  async stop(): Promise<void> {
    const task = this.#cron;
    this.#cron = undefined;
    if (task) await task.destroy();
    this.#abort.abort();
    await this.#running?.catch(() => undefined);
  }

  async #pass(): Promise<Snapshot> {
    const signal = this.#abort.signal;
    const queue = [...this.#tasks];
    const worker = async () => {
      for (let task = queue.shift(); task; task = queue.shift()) {
        if (signal.aborted) return;
        await this.#fetchOne(task, signal);
      }
    };
    const workers = Array.from({ length: Math.min(this.#config.poll.concurrency, queue.length) }, worker);
    await Promise.all(workers);
    const feeds = new Map<string, SourceEntry[]>();
    for (const t of this.#tasks) {
      const list = feeds.get(t.feed) ?? [];
      list.push({ ...this.#entries.get(t.key)! });
      feeds.set(t.feed, list);
    }
    const snapshot: Snapshot = { version: (this.#snapshot?.version ?? 0) + 1, takenAtMs: this.#now(), feeds };
    this.#snapshot = snapshot;
    this.#metrics?.polls.inc({ outcome: 'ok' });
    try {
      this.#onSnapshot?.(snapshot);
    } catch (err) {
      this.#logger?.error({ action: 'poll', err: String(err) }, 'snapshot callback failed');
    }
    const failed = [...this.#entries.values()].filter((e) => e.error && e.attemptedAtMs !== undefined);
    this.#logger?.debug({ action: 'poll', version: snapshot.version, pairs: this.#tasks.length, failed: failed.length }, 'snapshot refreshed');
    return snapshot;
  }

  async #fetchOne(task: Task, signal: AbortSignal): Promise<void> {
    const entry = this.#entries.get(task.key)!;
    const started = performance.now();
    try {
      const quote = await task.source.fetch(task.feed, signal);
      const latencyMs = performance.now() - started;
      const { error: _previous, ...rest } = entry;
      this.#entries.set(task.key, { ...rest, quote, attemptedAtMs: this.#now(), latencyMs });
      this.#metrics?.sourceLatency.observe({ source: task.source.id, feed: task.feed, outcome: 'ok' }, latencyMs / 1000);
    } catch (err) {
      const latencyMs = performance.now() - started;
      const kind = err instanceof SourceError ? err.kind : 'internal';
      const message = err instanceof Error ? err.message : String(err);
      this.#entries.set(task.key, { ...entry, error: { kind, message }, attemptedAtMs: this.#now(), latencyMs });
      if (kind === 'aborted') return;
      this.#metrics?.sourceLatency.observe({ source: task.source.id, feed: task.feed, outcome: kind }, latencyMs / 1000);
      this.#metrics?.sourceErrors.inc({ source: task.source.id, feed: task.feed, kind });
      this.#logger?.warn({ action: 'fetch', source: task.source.id, feed: task.feed, kind, reason: message }, 'source fetch failed');
    }
  }
}
