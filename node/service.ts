/**
 * The node service: implements the protocol's `NodeHandlers` (observe, sign) over the poller's
 * latest snapshot, the identity key, the BLS share and the anti-equivocation store. The HTTP
 * API (`node/http/`) and any in-memory transport wrap this one object.
 *
 * Start-up checks (fail fast, before serving):
 *  - the config digest of every hub the committee file lists (the primary and `deployments`,
 *    docs/design.md §Committee file) is recomputed; when the config pins digests, they must be
 *    exactly those ("config digest mismatch: expected X, got Y");
 *  - the identity key is one of the committee's nodes, which gives this node's index;
 *  - the BLS share's public key is the committee's public share for that index.
 *
 * `observe` answers from the snapshot only (never waits on an exchange) and signs with the
 * identity key; `sign` runs the step-4 checks of `ReportSigner`. Each round action logs one
 * JSON line with its outcome and reason.
 *
 * One share, several hubs: a request names its config digest, which picks the deployment; each
 * digest has its own `ReportSigner` and its own scope in the signing store (epoch floor and
 * anti-equivocation), so a report signed for one chain at epoch e never blocks another chain's
 * epoch e, while a second, different report for the same digest and epoch is still refused.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import pino, { type Logger } from 'pino';
import {
  NodeRefusal,
  ReportError,
  committeeDeployments,
  committeeForDeployment,
  deploymentLabel,
  epochAheadOfClock,
  feedName,
  publicShareOf,
  signObservation,
  SuspendReason,
  suspendReasonCode,
  type Committee,
  type CommitteeDeployment,
  type FeedObservation,
  type KeyShare,
  type NodeHandlers,
  type ObserveCall,
  type PartialSignature,
  type SignCall,
  type SignedObservation,
} from '../protocol/index.ts';
import type { SigningStore } from './store/index.ts';
import { configDigestPinMismatch, type FeedConfig, type NodeConfig } from './config.ts';
import { NodeError } from './errors.ts';
import { deploymentMetricLabel, NodeMetrics } from './metrics.ts';
import { SourcePoller, type Snapshot } from './poller.ts';
import { FeedViewCache, PriceHistory, priceFeeds, type FeedAnswer, type FeedView } from './pricing.ts';
import { ReportSigner } from './signer.ts';
import { NODE_VERSION } from './version.ts';

export interface NodeServiceOptions {
  config: NodeConfig;
  committee: Committee;
  /** Ed25519 identity secret (32 bytes). */
  identitySecret: Uint8Array;
  share: KeyShare;
  store: SigningStore;
  logger?: Logger;
  metrics?: NodeMetrics;
  now?: () => number;
}

export interface FeedStatus {
  feed: string;
  feedId: string;
  decimals: number;
  ok: boolean;
  price?: number;
  answer?: string;
  reason?: string;
  detail?: string;
  sources: { source: string; price?: number; ageMs?: number; used: boolean; status: string; detail?: string }[];
}

/** One hub this node signs for: the deployment and its own signer (its own store scope). */
interface Scope {
  deployment: CommitteeDeployment;
  signer: ReportSigner;
}

export class NodeService implements NodeHandlers {
  readonly index: number;
  /** The primary deployment's config digest (lower-case). */
  readonly configDigest: string;
  /** Every hub the committee file lists, the primary first. */
  readonly deployments: readonly CommitteeDeployment[];
  readonly identityPublicKey: string;
  readonly metrics: NodeMetrics;
  readonly logger: Logger;
  readonly config: NodeConfig;
  readonly committee: Committee;
  readonly poller: SourcePoller;
  readonly #identitySecret: Uint8Array;
  readonly #store: SigningStore;
  /** By config digest (lower-case). */
  readonly #scopes = new Map<string, Scope>();
  readonly #history = new PriceHistory();
  readonly #views: FeedViewCache;
  readonly #feedsById: Map<string, FeedConfig>;
  readonly #now: () => number;
  readonly #startedAtMs: number;

  constructor(opts: NodeServiceOptions) {
    this.config = opts.config;
    this.committee = opts.committee;
    this.#now = opts.now ?? Date.now;
    this.#startedAtMs = this.#now();
    this.logger = opts.logger ?? pino({ level: 'silent' });
    this.#store = opts.store;
    this.#identitySecret = opts.identitySecret;

    this.deployments = committeeDeployments(opts.committee);
    this.configDigest = this.deployments[0]!.configDigest;
    const pinMismatch = configDigestPinMismatch(opts.config, this.deployments.map((d) => d.configDigest));
    if (pinMismatch) throw new NodeError('config_digest_mismatch', pinMismatch);
    this.identityPublicKey = `0x${bytesToHex(ed25519.getPublicKey(opts.identitySecret))}`;
    const member = opts.committee.nodes.find((n) => n.identityKey.toLowerCase() === this.identityPublicKey);
    if (!member) {
      throw new NodeError('key_mismatch', `identity key ${this.identityPublicKey} is not a node of committee file ${opts.config.committee}; use this node's identity keystore or add its key to the committee`);
    }
    this.index = member.index;
    if (opts.share.index !== member.index) {
      throw new NodeError('key_mismatch', `BLS share is for node ${opts.share.index}, but the identity key is node ${member.index}'s in the committee; load the matching share keystore`);
    }
    const sharePub = `0x${bytesToHex(publicShareOf(opts.share))}`;
    if (sharePub !== member.publicShare.toLowerCase()) {
      throw new NodeError('key_mismatch', `BLS share of node ${member.index}: its public key ${sharePub.slice(0, 18)}… is not the committee's public share ${member.publicShare.slice(0, 18)}…; load the share from the same key generation as the committee file`);
    }

    this.metrics = opts.metrics ?? new NodeMetrics(() => this.#snapshotAgeS());
    this.#feedsById = new Map(opts.config.feeds.map((f) => [f.id.toLowerCase(), f]));
    this.#views = new FeedViewCache(opts.config.feeds, this.#history);
    this.poller = new SourcePoller({
      config: opts.config,
      metrics: this.metrics,
      logger: this.logger,
      now: this.#now,
      onSnapshot: (s) => this.#record(s),
    });
    const ownViews = () => {
      const views = this.#answers();
      return (id: string) => {
        const feed = this.#feedsById.get(id);
        const view = feed && views.get(feed.name);
        return feed && view && { view, sanityBandBps: feed.sanityBandBps };
      };
    };
    for (const deployment of this.deployments) {
      const signer = new ReportSigner({
        configDigest: deployment.configDigest,
        // The committee as this hub sees it; the signer reads only nodes and t from it.
        committee: committeeForDeployment(opts.committee, deployment),
        share: opts.share,
        store: opts.store,
        maxReportAgeS: opts.config.signer.maxReportAgeS,
        maxFutureS: opts.config.signer.maxFutureS,
        maxEpochLeadMs: opts.config.signer.maxEpochLeadMs,
        now: this.#now,
        ownViews,
      });
      this.#scopes.set(deployment.configDigest, { deployment, signer });
    }
    for (const d of this.deployments) this.metrics.lastSignedEpoch.set({ deployment: deploymentMetricLabel(d, this.deployments) }, Number(opts.store.highestSigned(d.configDigest)?.epoch ?? 0n));
  }

  /** Start polling (first pass right away). */
  start(): void {
    this.poller.start();
    this.logger.info(
      {
        action: 'start',
        node: this.index,
        configDigest: this.configDigest,
        ...(this.deployments.length > 1 ? { deployments: this.deployments.map((d) => ({ chainId: String(d.chainId), hub: d.hub, configDigest: d.configDigest, ...(d.name !== undefined ? { name: d.name } : {}) })) } : {}),
        feeds: this.config.feeds.length,
        schedule: this.config.poll.schedule,
      },
      'node service started',
    );
  }

  async stop(): Promise<void> {
    await this.poller.stop();
    this.logger.info({ action: 'stop', node: this.index }, 'node service stopped');
  }

  /** True once the first snapshot is taken. */
  ready(): boolean {
    return this.poller.snapshot !== undefined;
  }

  /**
   * The current view of every configured feed, from the latest snapshot, as of now: what
   * `priceFeeds` returns, computed once per snapshot while no quote turns stale (`FeedViewCache`).
   */
  views(): Map<string, FeedView> {
    return this.#views.at(this.poller.snapshot, this.#now());
  }

  /** `views()` as far as observe and sign read them (no per-source ages). */
  #answers(): ReadonlyMap<string, FeedAnswer> {
    return this.#views.answersAt(this.poller.snapshot, this.#now());
  }

  async observe(call: ObserveCall): Promise<SignedObservation> {
    try {
      const o = this.#observe(call);
      this.metrics.observeRequests.inc({ outcome: 'ok' });
      return o;
    } catch (err) {
      if (err instanceof NodeRefusal) {
        this.metrics.observeRequests.inc({ outcome: String(err.code) });
        this.logger.info({ action: 'observe', epoch: String(call.epoch), outcome: 'refused', code: err.code, reason: err.message }, 'observation refused');
      }
      throw err;
    }
  }

  #observe(call: ObserveCall): SignedObservation {
    const refuse = (code: string, message: string): never => {
      throw new NodeRefusal(this.index, code, message);
    };
    const digest = this.#scopeOf(call.configDigest, refuse).deployment.configDigest;
    if (call.epoch < 0n || call.epoch >= 1n << 64n) {
      refuse('bad_request', `epoch ${call.epoch}: must be a uint64 (the epoch of the report the observation is for)`);
    }
    const ahead = epochAheadOfClock(call.epoch, this.#now(), this.config.signer.maxEpochLeadMs);
    if (ahead) refuse('epoch_ahead_of_clock', ahead);
    const highest = this.#store.highestSigned(digest);
    if (highest && call.epoch < highest.epoch) {
      refuse('epoch_regression', `epoch ${call.epoch} is below epoch ${highest.epoch} already signed; observe a newer epoch`);
    }
    const ids = call.feedIds.map((x) => x.toLowerCase());
    const seen = new Set<string>();
    for (const id of ids) {
      if (seen.has(id)) refuse('bad_request', `feedIds: ${nameOf(id)} appears twice`);
      seen.add(id);
    }

    const snapshot = this.poller.snapshot;
    const views = this.#answers();
    const feeds: FeedObservation[] = [];
    const withheld: { feed: string; reason: string }[] = [];
    for (const id of ids) {
      const feed = this.#feedsById.get(id);
      const view = feed && views.get(feed.name);
      if (!feed || !view) {
        feeds.push({ feedId: id, answer: null, reason: `${nameOf(id)}: not configured on node ${this.index}`, reasonCode: SuspendReason.not_configured });
        withheld.push({ feed: nameOf(id), reason: 'not_configured' });
        this.metrics.observationsWithheld.inc({ feed: 'unconfigured', reason: 'not_configured' });
        continue;
      }
      if (view.ok) {
        feeds.push({ feedId: id, answer: view.answer });
        this.metrics.countServed(feed.name);
      } else {
        // The code is signed: t nodes' signed "cannot price" suspend the feed (docs/suspension.md).
        feeds.push({ feedId: id, answer: null, reason: view.detail.slice(0, 500), reasonCode: suspendReasonCode(view.reason) });
        withheld.push({ feed: feed.name, reason: view.reason });
        this.metrics.observationsWithheld.inc({ feed: feed.name, reason: view.reason });
      }
    }
    const observedAt = BigInt(Math.floor((snapshot?.takenAtMs ?? this.#now()) / 1000));
    const signed = signObservation({ configDigest: digest, epoch: call.epoch, nodeIndex: this.index, observedAt, feeds }, this.#identitySecret);
    this.logger.info(
      { action: 'observe', epoch: String(call.epoch), feeds: ids.length, answered: ids.length - withheld.length, withheld, snapshot: snapshot?.version ?? null },
      'observation served',
    );
    return signed;
  }

  async sign(call: SignCall): Promise<PartialSignature> {
    const epoch = String(call.report.epoch);
    try {
      const scope = this.#scopeOf(call.report.configDigest, (code, message) => {
        throw new NodeRefusal(this.index, code, message);
      });
      const out = scope.signer.sign(call);
      this.metrics.signaturesIssued.inc({ repeat: String(out.repeat) });
      this.metrics.lastSignedEpoch.set({ deployment: deploymentMetricLabel(scope.deployment, this.deployments) }, Number(call.report.epoch));
      this.logger.info({ action: 'sign', epoch, ...this.#scopeField(scope), reportHash: out.reportHash, outcome: out.repeat ? 'signed_again' : 'signed', feeds: call.report.feedIds.length }, 'report signed');
      return out.partial;
    } catch (err) {
      const refusal =
        err instanceof NodeRefusal ? err : err instanceof ReportError ? new NodeRefusal(this.index, 'bad_request', `report: ${err.message}`) : undefined;
      if (!refusal) {
        this.logger.error({ action: 'sign', epoch, outcome: 'error', err: String(err) }, 'signing failed');
        throw err;
      }
      this.metrics.signaturesRefused.inc({ reason: String(refusal.code) });
      this.logger.warn({ action: 'sign', epoch, outcome: 'refused', code: refusal.code, reason: refusal.message }, 'report refused');
      throw refusal;
    }
  }

  /**
   * The scope of a request's config digest, or the `config_digest_mismatch` refusal naming the
   * digests this node signs for.
   */
  #scopeOf(configDigest: string, refuse: (code: string, message: string) => never): Scope {
    const scope = typeof configDigest === 'string' ? this.#scopes.get(configDigest.toLowerCase()) : undefined;
    if (scope) return scope;
    const known = this.deployments.length === 1
      ? `expected ${this.configDigest}`
      : `expected one of ${this.deployments.map((d) => `${d.configDigest} ${deploymentLabel(d)}`).join(', ')}`;
    return refuse('config_digest_mismatch', `config digest mismatch: ${known}, got ${String(configDigest)}; the aggregator serves another committee or chain (check its committee file and chain)`);
  }

  /** The log field naming the hub of a request, when the node serves several. */
  #scopeField(scope: Scope): Record<string, string> {
    if (this.deployments.length === 1) return {};
    const d = scope.deployment;
    return { chainId: String(d.chainId), ...(d.name !== undefined ? { deployment: d.name } : {}) };
  }

  /**
   * For `/v1/status`: identity, store, snapshot, per-feed view with per-source breakdown, and per
   * hub the committee serves its config digest and highest signed epoch (`lastSigned` and
   * `configDigest` at the top are the primary's, as before there were several).
   */
  status(): Record<string, unknown> {
    const snapshot = this.poller.snapshot;
    const views = this.views();
    const signed = (digest: string) => {
      const h = this.#store.highestSigned(digest);
      return h ? { epoch: h.epoch.toString(), reportHash: h.reportHash, at: new Date(h.signedAtMs).toISOString() } : null;
    };
    return {
      node: this.index,
      version: NODE_VERSION,
      identityKey: this.identityPublicKey,
      configDigest: this.configDigest,
      committee: { n: this.committee.nodes.length, t: this.committee.t, chainId: this.committee.chainId.toString(), hub: this.committee.hub },
      uptimeS: Math.floor((this.#now() - this.#startedAtMs) / 1000),
      lastSigned: signed(this.configDigest),
      deployments: this.deployments.map((d) => ({
        ...(d.name !== undefined ? { name: d.name } : {}),
        primary: d.primary,
        chainId: d.chainId.toString(),
        hub: d.hub,
        configVersion: d.configVersion.toString(),
        configDigest: d.configDigest,
        lastSigned: signed(d.configDigest),
      })),
      snapshot: snapshot ? { version: snapshot.version, takenAt: new Date(snapshot.takenAtMs).toISOString(), ageMs: this.#now() - snapshot.takenAtMs } : null,
      sources: this.poller.sourcesHealth(),
      feeds: this.config.feeds.map((f) => this.feedStatus(f, views.get(f.name), snapshot)),
    };
  }

  feedStatus(feed: FeedConfig, view: FeedView | undefined, snapshot: Snapshot | undefined): FeedStatus {
    const now = this.#now();
    const verdicts = new Map((view?.result?.sources ?? []).map((v) => [v.source, v]));
    const excluded = new Map((view?.excluded ?? []).map((e) => [e.source, e]));
    const sources = (snapshot?.feeds.get(feed.name) ?? []).map((e) => {
      const v = verdicts.get(e.source);
      const x = excluded.get(e.source);
      const ts = e.quote ? (e.quote.venueTimestampMs ?? e.quote.receivedAtMs) : undefined;
      return {
        source: e.source,
        ...(e.quote ? { price: v?.price ?? e.quote.price } : {}),
        ...(ts !== undefined ? { ageMs: now - ts } : {}),
        used: v?.used ?? false,
        status: v?.used ? 'used' : (v?.reason ?? x?.reason ?? e.error?.kind ?? 'unused'),
        ...((v?.detail ?? x?.detail ?? e.error?.message) ? { detail: v?.detail ?? x?.detail ?? e.error?.message } : {}),
      };
    });
    return {
      feed: feed.name,
      feedId: feed.id,
      decimals: feed.decimals,
      ok: view?.ok ?? false,
      ...(view?.ok ? { price: view.price, answer: view.answer.toString() } : view ? { reason: view.reason, detail: view.detail } : {}),
      sources,
    };
  }

  #record(snapshot: Snapshot): void {
    for (const [feed, view] of priceFeeds({ feeds: this.config.feeds, snapshot, nowMs: snapshot.takenAtMs, history: this.#history })) {
      if (view.ok) this.#history.add(feed, { timestampMs: snapshot.takenAtMs, price: view.price });
    }
    // Price the new snapshot here, between polls, rather than in the next round's first request.
    this.#views.at(snapshot, this.#now());
  }

  #snapshotAgeS(): number | undefined {
    const s = this.poller.snapshot;
    return s && (this.#now() - s.takenAtMs) / 1000;
  }
}

function nameOf(id: string): string {
  try {
    return feedName(id);
  } catch {
    return id;
  }
}
