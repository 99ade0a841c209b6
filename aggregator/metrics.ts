/**
 * Prometheus metrics of one aggregator, on a private registry (several aggregators or tests
 * in one process never collide), prefix `aegis_aggregator_`, counters ending in `_total`.
 * `close()` clears the registry.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export const METRICS_PREFIX = 'aegis_aggregator_';

/** Feed statuses the hub reports (IAegisFeeds.FeedStatus); one series each, 1 for the current one. */
export const FEED_STATUSES = ['unknown', 'active', 'tripped', 'paused', 'stale', 'suspended'] as const;

/**
 * What the state gauges read at scrape time (the alert rules in monitoring/ need them: a feed
 * stale or tripped on the hub, a standby that posts, a transmitter running dry).
 */
export interface AggregatorStateSource {
  /** The hub's state of each configured feed as of the last round (null before the first read). */
  feeds(): { feed: string; onchain: { status: string; observedAt: number } | null }[];
  /** Schedule position: 0 is the active aggregator, k > 0 the k-th standby. */
  position: number;
  /** The transmitter's balance in wei (absent in pull-only mode). */
  balanceWei?: () => Promise<bigint>;
}

export class AggregatorMetrics {
  readonly registry = new Registry();
  readonly roundDuration: Histogram<'phase'>;
  readonly rounds: Counter<'status'>;
  readonly failedRounds: Counter<'reason'>;
  readonly participants: Gauge<'phase'>;
  readonly exclusions: Counter<'node' | 'code'>;
  readonly posts: Counter<'reason'>;
  readonly transmissions: Counter<'outcome'>;
  readonly gasUsed: Counter;
  readonly feeWei: Counter;
  readonly latestEpoch: Gauge;
  readonly lastAcceptedTimestamp: Gauge;
  readonly standbySkips: Counter;
  readonly feedStatus: Gauge<'feed' | 'status'>;
  readonly feedObservedAt: Gauge<'feed'>;
  readonly schedulePosition: Gauge;
  readonly transmitterBalance: Gauge;
  #state: AggregatorStateSource | undefined;

  constructor(labels: Record<string, string> = {}) {
    this.registry.setDefaultLabels(labels);
    const p = METRICS_PREFIX;
    const registers = [this.registry];
    this.roundDuration = new Histogram({
      name: `${p}round_duration_seconds`,
      help: 'Round latency by phase; phase="total" is observations requested → verified group signature',
      labelNames: ['phase'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5, 10],
      registers,
    });
    this.rounds = new Counter({ name: `${p}rounds_total`, help: 'Rounds run, by status (signed, nothing_to_post, failed)', labelNames: ['status'], registers });
    this.failedRounds = new Counter({
      name: `${p}failed_rounds_total`,
      help: 'Rounds without a signed report, by reason (too_few_observations, no_feed_quorum, too_few_partials, group_signature_invalid, error)',
      labelNames: ['reason'],
      registers,
    });
    this.participants = new Gauge({ name: `${p}round_participants`, help: 'Nodes with a valid observation (phase="observe") or partial (phase="sign") in the last round', labelNames: ['phase'], registers });
    this.exclusions = new Counter({ name: `${p}node_exclusions_total`, help: 'Nodes excluded from a round, by node index and reason code', labelNames: ['node', 'code'], registers });
    this.posts = new Counter({ name: `${p}feed_posts_total`, help: 'Feeds put in a transmitted report, by posting reason (initial, tripped, deviation, heartbeat)', labelNames: ['reason'], registers });
    this.transmissions = new Counter({
      name: `${p}transmissions_total`,
      help: 'Transmissions by outcome (accepted, superseded, reverted, failed)',
      labelNames: ['outcome'],
      registers,
    });
    this.gasUsed = new Counter({ name: `${p}gas_used_total`, help: 'Gas used by this aggregator’s transactions', registers });
    this.feeWei = new Counter({ name: `${p}fees_wei_total`, help: 'Fees paid by this aggregator’s transactions, wei', registers });
    this.latestEpoch = new Gauge({ name: `${p}latest_epoch`, help: 'Latest epoch this aggregator ran', registers });
    this.lastAcceptedTimestamp = new Gauge({ name: `${p}last_accepted_timestamp_seconds`, help: 'Unix time of the last report this aggregator got accepted', registers });
    this.standbySkips = new Counter({ name: `${p}standby_skips_total`, help: 'Ticks a standby skipped because the hub moved (the active aggregator is alive)', registers });
    const state = () => this.#state;
    this.feedStatus = new Gauge({
      name: `${p}feed_status`,
      help: `The hub's status of each feed as of the last round: 1 on the current status (${FEED_STATUSES.join(', ')}), 0 on the others`,
      labelNames: ['feed', 'status'],
      registers,
      collect() {
        for (const f of state()?.feeds() ?? []) for (const st of FEED_STATUSES) this.set({ feed: f.feed, status: st }, f.onchain?.status === st ? 1 : 0);
      },
    });
    this.feedObservedAt = new Gauge({
      name: `${p}feed_observed_at_seconds`,
      help: "Unix time of the observation behind each feed's served answer on the hub, as of the last round",
      labelNames: ['feed'],
      registers,
      collect() {
        for (const f of state()?.feeds() ?? []) if (f.onchain) this.set({ feed: f.feed }, f.onchain.observedAt);
      },
    });
    this.schedulePosition = new Gauge({
      name: `${p}schedule_position`,
      help: 'Schedule position of this aggregator: 0 active, k > 0 the k-th standby',
      registers,
      collect() {
        const s = state();
        if (s) this.set(s.position);
      },
    });
    this.transmitterBalance = new Gauge({
      name: `${p}transmitter_balance_wei`,
      help: "The transmitter account's balance in wei, read from the chain at scrape time",
      registers,
      async collect() {
        const read = state()?.balanceWei;
        if (!read) return;
        try {
          this.set(Number(await read()));
        } catch {
          // RPC unreachable at scrape time: keep the last value; the RPC's own alerts say why.
        }
      },
    });
  }

  /**
   * Add prom-client's process metrics with this registry's prefix (`aegis_aggregator_process_resident_memory_bytes`,
   * `aegis_aggregator_nodejs_heap_size_used_bytes`, `aegis_aggregator_nodejs_eventloop_lag_p99_seconds`, …).
   * Once per process: the event-loop monitor it starts is per process and outlives `close()`.
   */
  collectProcessMetrics(): void {
    if (this.#processMetrics) return;
    this.#processMetrics = true;
    collectDefaultMetrics({ register: this.registry, prefix: METRICS_PREFIX });
  }
  #processMetrics = false;

  /** Feeds the state gauges (`feed_status`, `feed_observed_at_seconds`, `schedule_position`, `transmitter_balance_wei`), read at each scrape. */
  bindState(source: AggregatorStateSource): void {
    this.#state = source;
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  close(): void {
    this.registry.clear();
  }
}
