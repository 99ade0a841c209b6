/**
 * Prometheus metrics of one aggregator, on a private registry (several aggregators or tests
 * in one process never collide), prefix `aegis_aggregator_`, counters ending in `_total`.
 * `close()` clears the registry.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export const METRICS_PREFIX = 'aegis_aggregator_';

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

  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  close(): void {
    this.registry.clear();
  }
}
