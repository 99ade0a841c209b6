/**
 * The node's Prometheus metrics, on a private registry (never the global one, so several nodes
 * can live in one process: tests, the simulator), prefixed `aegis_node_`, counters ending in
 * `_total` (libocr `metrics.go` style). `GET /metrics` serves `registry.metrics()`.
 *
 * Label values are bounded: source ids and feed names come from the config, reasons from the
 * typed codes (`RefusalCode`, `SourceErrorKind`, observation reasons), never from requests;
 * `deployment` from the committee file's hubs (`deploymentMetricLabel`).
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CommitteeDeployment } from '../protocol/committee.ts';

export const METRIC_PREFIX = 'aegis_node_';

type DeploymentKey = Pick<CommitteeDeployment, 'chainId' | 'hub' | 'name'>;

/**
 * The `deployment` label of a hub the node signs for (docs/design.md §Committee file): its
 * name in the committee file, else its chain id, the two ways an operator names a hub
 * (`chain.deployment`, `--deployment`); `<chainId>:<hub>` for an unnamed hub on a chain that
 * holds another hub of the committee. One value per hub listed, so the committee file bounds it.
 */
export function deploymentMetricLabel(d: DeploymentKey, all: readonly DeploymentKey[]): string {
  if (d.name !== undefined) return d.name;
  const shared = all.some((o) => o.chainId === d.chainId && o.hub.toLowerCase() !== d.hub.toLowerCase());
  return shared ? `${d.chainId}:${d.hub.toLowerCase()}` : String(d.chainId);
}

export class NodeMetrics {
  readonly registry = new Registry();
  readonly sourceLatency: Histogram<'source' | 'feed' | 'outcome'>;
  readonly sourceErrors: Counter<'source' | 'feed' | 'kind'>;
  readonly polls: Counter<'outcome'>;
  readonly snapshotAge: Gauge;
  readonly observationsServed: Counter<'feed'>;
  readonly observationsWithheld: Counter<'feed' | 'reason'>;
  readonly observeRequests: Counter<'outcome'>;
  readonly signaturesIssued: Counter<'repeat'>;
  readonly signaturesRefused: Counter<'reason'>;
  readonly requestsRejected: Counter<'endpoint' | 'reason'>;
  /** Per hub: `deployment` is `deploymentMetricLabel` of it. */
  readonly lastSignedEpoch: Gauge<'deployment'>;
  /**
   * Answers served per feed since `observationsServed` was last read. An observe request answers
   * every feed, and one labelled `inc` per feed (prom-client hashes and validates the labels each
   * time) cost about as much as pricing the feeds from the cache; a Map increment here and one
   * `inc` per feed when the counter is read give the same totals.
   */
  readonly #served = new Map<string, number>();

  constructor(private readonly snapshotAgeSeconds: () => number | undefined = () => undefined) {
    const registers = [this.registry];
    const p = METRIC_PREFIX;
    this.sourceLatency = new Histogram({
      name: `${p}source_request_duration_seconds`,
      help: 'Time to fetch one feed from one source, retries included, by outcome (ok or the error kind)',
      labelNames: ['source', 'feed', 'outcome'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.sourceErrors = new Counter({
      name: `${p}source_errors_total`,
      help: 'Failed source fetches by kind: timeout, http, rate_limited, cooling_down, bad_response, stale, wrong_symbol, unknown_feed, no_conversion, aborted',
      labelNames: ['source', 'feed', 'kind'],
      registers,
    });
    this.polls = new Counter({ name: `${p}polls_total`, help: 'Completed poll passes over every source (outcome: ok, skipped_overlap)', labelNames: ['outcome'], registers });
    const ageOf = this.snapshotAgeSeconds;
    this.snapshotAge = new Gauge({
      name: `${p}snapshot_age_seconds`,
      help: 'Age of the latest completed price snapshot (-1 before the first poll completes)',
      registers,
      collect() {
        this.set(ageOf() ?? -1);
      },
    });
    const served = this.#served;
    this.observationsServed = new Counter({
      name: `${p}observations_served_total`,
      help: 'Feed answers served in signed observations',
      labelNames: ['feed'],
      registers,
      collect() {
        for (const [feed, count] of served) this.inc({ feed }, count);
        served.clear();
      },
    });
    this.observationsWithheld = new Counter({
      name: `${p}observations_withheld_total`,
      help: 'Feeds answered with "no observation", by reason: too_few_sources, sources_disagree, no_snapshot, not_configured, out_of_range',
      labelNames: ['feed', 'reason'],
      registers,
    });
    this.observeRequests = new Counter({ name: `${p}observe_requests_total`, help: 'Observe calls by outcome (ok or the refusal code)', labelNames: ['outcome'], registers });
    this.signaturesIssued = new Counter({ name: `${p}signatures_issued_total`, help: 'Partial signatures released (repeat="true": the same report asked again)', labelNames: ['repeat'], registers });
    this.signaturesRefused = new Counter({
      name: `${p}signatures_refused_total`,
      help: 'Sign requests refused, by reason: config_digest_mismatch, epoch_regression, conflicting_report, bad_observation_signature, observation_mismatch, median_mismatch, stale_report, outside_sanity_band, not_ready, bad_request',
      labelNames: ['reason'],
      registers,
    });
    this.requestsRejected = new Counter({
      name: `${p}http_requests_rejected_total`,
      help: 'HTTP requests rejected before the handler, by reason: missing_headers, unknown_key, bad_timestamp, clock_skew, replayed_nonce, bad_signature, bad_json, bad_request, body_too_large, not_found',
      labelNames: ['endpoint', 'reason'],
      registers,
    });
    this.lastSignedEpoch = new Gauge({
      name: `${p}last_signed_epoch`,
      help: 'Highest epoch this node has signed, per hub of its committee file (deployment: the hub\'s name there, else its chain id; 0 before the first signature)',
      labelNames: ['deployment'],
      registers,
    });
  }

  /**
   * Add prom-client's process metrics with this registry's prefix (`aegis_node_process_resident_memory_bytes`,
   * `aegis_node_nodejs_heap_size_used_bytes`, `aegis_node_nodejs_eventloop_lag_p99_seconds`,
   * `aegis_node_process_open_fds`, …). Once per process: the event-loop monitor it starts is
   * per process and is not stopped by `close()`.
   */
  collectProcessMetrics(): void {
    if (this.#processMetrics) return;
    this.#processMetrics = true;
    collectDefaultMetrics({ register: this.registry, prefix: METRIC_PREFIX });
  }
  #processMetrics = false;

  /** Count one answer served for `feed` (in `observationsServed` from its next read on). */
  countServed(feed: string): void {
    this.#served.set(feed, (this.#served.get(feed) ?? 0) + 1);
  }

  /** Remove every metric (call on close, so a registry never outlives its node). */
  close(): void {
    this.registry.clear();
  }
}
