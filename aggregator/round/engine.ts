/**
 * The round engine: one epoch of the round protocol (docs/design.md §Round protocol, steps 1–5),
 * independent of HTTP, chain and storage. It depends only on `NodeClient` from `protocol/`,
 * so tests and the simulator drive it with in-memory nodes and production with HTTP ones.
 *
 *   observe (all feeds, all nodes) → medians (`buildReport`, the rule nodes recompute)
 *   → `select` (the posting policy picks the feeds that need a post; none → no sign phase)
 *   → report on those feeds → partials → batch verify → combine → verify group signature.
 *
 * Epoch allocation is the caller's (see `aggregator/service.ts`): the engine signs exactly
 * the epoch it is given.
 */
import { getBytes, hexlify } from 'ethers';
import {
  aggregateFeeds,
  buildReport,
  contributorsOf,
  medianOf,
  committeeConfigDigest,
  encodeReport,
  publicSharesOf,
  reportMessage,
  type AggregateResult,
  type Committee,
  type NodeClient,
} from '../../protocol/index.ts';
import { AggregatorError } from '../errors.ts';
import { observePhase } from './observe.ts';
import { signPhase } from './sign.ts';
import type { RoundResult } from './types.ts';

export interface RoundEngineOptions {
  committee: Committee;
  /** One client per committee node (any order; matched by `index`). */
  clients: readonly NodeClient[];
  /** Expected config digest; checked against the committee file at construction. */
  configDigest?: string;
  observeTimeoutMs?: number;
  signTimeoutMs?: number;
  /** Extra wait for stragglers once t answers are in. */
  graceMs?: number;
  /** Largest allowed |now − observedAt| for an observation, seconds (default 60). */
  maxObservationAgeSec?: number;
  nowSec?: () => number;
}

/**
 * Chooses, from the candidate medians, the feeds that go into the report. Returns the ids
 * (a subset of `aggregate.feeds`) and, for the others, why they are left out.
 */
export type FeedSelector = (
  aggregate: AggregateResult,
  observedAt: bigint,
) => { feedIds: string[]; skipped: { feedId: string; reason: string }[] } | Promise<{ feedIds: string[]; skipped: { feedId: string; reason: string }[] }>;

export class RoundEngine {
  readonly configDigest: string;
  readonly t: number;
  readonly n: number;
  private readonly publicShares: Uint8Array[];
  private readonly groupPublicKey: Uint8Array;
  private readonly opts: Required<Omit<RoundEngineOptions, 'configDigest'>>;

  constructor(options: RoundEngineOptions) {
    const digest = committeeConfigDigest(options.committee);
    if (options.configDigest && options.configDigest.toLowerCase() !== digest.toLowerCase()) {
      throw new AggregatorError('config_digest_mismatch', `config digest mismatch: expected ${options.configDigest}, got ${digest} from the committee file; use the committee file the hub was deployed with`);
    }
    const indices = new Set(options.committee.nodes.map((n) => n.index));
    for (const c of options.clients) {
      if (!indices.has(c.index)) throw new AggregatorError('bad_config', `node client ${c.index}: no such node in the committee file (nodes 1..${indices.size})`);
    }
    this.configDigest = digest;
    this.t = options.committee.t;
    this.n = options.committee.nodes.length;
    this.publicShares = publicSharesOf(options.committee);
    this.groupPublicKey = getBytes(options.committee.groupPublicKey);
    this.opts = {
      committee: options.committee,
      clients: options.clients,
      observeTimeoutMs: options.observeTimeoutMs ?? 2000,
      signTimeoutMs: options.signTimeoutMs ?? 2000,
      graceMs: options.graceMs ?? 250,
      maxObservationAgeSec: options.maxObservationAgeSec ?? 60,
      nowSec: options.nowSec ?? (() => Math.floor(Date.now() / 1000)),
    };
  }

  /** Runs one round for `epoch` over `feedIds`. Never throws for node faults: they are in the result. */
  async run(epoch: bigint, feedIds: readonly string[], select?: FeedSelector): Promise<RoundResult> {
    const startedAt = Date.now();
    const t0 = performance.now();
    const ids = feedIds.map((f) => f.toLowerCase());
    const result: RoundResult = {
      epoch,
      configDigest: this.configDigest,
      status: 'failed',
      feedIds: ids,
      candidates: [],
      skipped: [],
      participants: { observed: [], signed: [] },
      excluded: [],
      timings: { observeMs: 0, buildMs: 0, signMs: 0, verifyMs: 0, combineMs: 0, totalMs: 0 },
      startedAt,
    };
    const finish = (): RoundResult => {
      result.timings.totalMs = performance.now() - t0;
      return result;
    };

    const observed = await observePhase({
      clients: this.opts.clients,
      committee: this.opts.committee,
      configDigest: this.configDigest,
      epoch,
      feedIds: ids,
      maxObservationAgeSec: this.opts.maxObservationAgeSec,
      nowSec: this.opts.nowSec,
      gather: { timeoutMs: this.opts.observeTimeoutMs, graceMs: this.opts.graceMs, quorum: this.t },
    });
    const t1 = performance.now();
    result.timings.observeMs = t1 - t0;
    result.excluded.push(...observed.excluded);
    result.participants.observed = observed.valid.map((s) => s.observation.nodeIndex);
    if (observed.valid.length < this.t) {
      result.failure = {
        code: 'too_few_observations',
        message: `epoch ${epoch}: ${observed.valid.length} valid observation(s) of ${this.n} nodes, need t=${this.t}; excluded: ${describeExcluded(observed.excluded)}`,
      };
      return finish();
    }

    const observations = observed.valid.map((s) => s.observation);
    // Medians of every feed first (no hashing), so the policy can choose; the report (with its
    // observations root) is built once, over the chosen feeds, by the shared rule.
    const aggregate = aggregateFeeds(observations, ids, this.t);
    result.candidates = aggregate.feeds;
    result.skipped.push(...aggregate.skipped);
    if (aggregate.feeds.length === 0) {
      result.failure = { code: 'no_feed_quorum', message: `epoch ${epoch}: no feed reached t=${this.t} observations: ${aggregate.skipped.map((s) => s.reason).join('; ')}` };
      result.timings.buildMs = performance.now() - t1;
      return finish();
    }
    let chosen = aggregate.feeds.map((f) => f.feedId);
    if (select) {
      const contributors = contributorsOf(aggregate.feeds);
      const observedAt = medianOf(observations.filter((o) => contributors.has(o.nodeIndex)).map((o) => o.observedAt));
      const decision = await select(aggregate, observedAt);
      const allowed = new Set(chosen);
      chosen = decision.feedIds.map((f) => f.toLowerCase()).filter((f) => allowed.has(f));
      result.skipped.push(...decision.skipped);
    }
    if (chosen.length === 0) {
      result.status = 'nothing_to_post';
      result.timings.buildMs = performance.now() - t1;
      return finish();
    }
    const built = buildReport(this.configDigest, epoch, observations, chosen, this.t);
    const report = built.report!;
    const used = contributorsOf(built.aggregate.feeds);
    const usedObservations = observed.valid.filter((s) => used.has(s.observation.nodeIndex));
    const message = reportMessage(report);
    const encoded = encodeReport(report);
    const t2 = performance.now();
    result.timings.buildMs = t2 - t1;

    const signed = await signPhase({
      clients: this.opts.clients,
      report,
      message,
      observations: usedObservations,
      t: this.t,
      publicShares: this.publicShares,
      groupPublicKey: this.groupPublicKey,
      gather: { timeoutMs: this.opts.signTimeoutMs, graceMs: this.opts.graceMs, quorum: this.t },
    });
    result.timings.signMs = signed.signMs;
    result.timings.verifyMs = signed.verifyMs;
    result.timings.combineMs = signed.combineMs;
    result.excluded.push(...signed.excluded);
    result.participants.signed = signed.signers;
    if (signed.ok && signed.rest) {
      result.rest = signed.rest.then((p) => {
        result.participants.signed = p.signers;
        result.excluded.push(...p.excluded);
        result.timings.verifyMs = p.verifyMs;
        return p.excluded;
      });
      // Handled here so a caller that never awaits it (a tick that failed at transmit) cannot
      // crash the process with an unhandled rejection; whoever awaits it still sees the error.
      result.rest.catch(() => undefined);
    }
    if (!signed.ok) {
      result.failure = { code: signed.code, message: signed.message };
      return finish();
    }
    result.status = 'signed';
    result.signed = {
      report,
      encoded,
      message: hexlify(message),
      signature: hexlify(signed.signature),
      signatureEvm: signed.signatureEvm,
      observations: usedObservations,
    };
    return finish();
  }
}

function describeExcluded(list: readonly { index: number; code: string }[]): string {
  return list.length ? list.map((e) => `node ${e.index} (${e.code})`).join(', ') : 'none';
}
