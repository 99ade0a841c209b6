/**
 * The follower side of a round (docs/design.md §Round protocol, step 4): before BLS-signing a report
 * the node re-checks everything it can, and refuses with a typed `NodeRefusal` otherwise.
 *
 * Checks, in order, each with its own refusal code:
 *  1. `config_digest_mismatch`  the report's digest is this signer's (recomputed from the committee file;
 *     a node serving several hubs has one signer per hub, docs/design.md §Committee file);
 *  2. `epoch_ahead_of_clock`  the epoch (unix ms at most) does not lead this node's clock by more
 *     than `maxEpochLeadMs` (one far-ahead epoch would halt the hub, which only accepts higher);
 *     `epoch_regression` / `conflicting_report`  against the anti-equivocation store, early, so
 *     the cheap refusal comes before the expensive checks (the store decides again, atomically, in 7);
 *  3. `bad_observation_signature`  every observation is from a committee node, once, and its
 *     Ed25519 signature verifies against that node's identity key;
 *     `observation_mismatch`  every observation is for this digest and epoch;
 *  4. `median_mismatch` / `observation_mismatch`  the report recomputed with the shared rule
 *     (`buildReport`) equals the one asked field by field: feeds, answers, spreads (median) and
 *     observedAt, observers, observations root (provenance);
 *  5. `stale_report`  observedAt is recent and not in the future;
 *  6. `outside_sanity_band`  for each feed this node can price itself, its own answer is within
 *     the sanity band of the report's (a compromised majority of observations cannot get this
 *     node's signature on a price it sees as wrong);
 *     `suspension_disputed`  for a suspension entry (docs/suspension.md), this node cannot price
 *     the feed either: a node never signs "the committee cannot price X" while it prices X
 *     itself (the entry already needs t signed absences, step 4);
 *  7. the `SigningStore` records (configDigest, epoch, reportHash) durably, and only then is the
 *     partial signature computed and released. A crash after the record loses one signature,
 *     never allows a conflicting one.
 */
import { getBytes, hexlify } from 'ethers';
import {
  NodeRefusal,
  buildReport,
  epochAheadOfClock,
  feedName,
  isSuspension,
  partialSign,
  suspendReasonName,
  reportMessage,
  verifyObservation,
  type Committee,
  type KeyShare,
  type PartialSignature,
  type Report,
  type SignCall,
} from '../protocol/index.ts';
import type { SigningStore } from './store/index.ts';
import type { FeedAnswer } from './pricing.ts';

export interface SignerOptions {
  configDigest: string;
  committee: Committee;
  share: KeyShare;
  store: SigningStore;
  /**
   * A snapshot of this node's current views (computed once per sign call): the answer of a feed
   * by bytes32 id (lower-case), or undefined if this node does not price it.
   */
  ownViews: () => (feedIdLower: string) => { view: FeedAnswer; sanityBandBps: number } | undefined;
  maxReportAgeS: number;
  maxFutureS: number;
  /** Largest lead of an epoch over this node's clock, in ms. */
  maxEpochLeadMs: number;
  now?: () => number;
}

export interface SignOutcome {
  partial: PartialSignature;
  reportHash: string;
  /** True when this exact report had been signed before (idempotent repeat). */
  repeat: boolean;
}

export class ReportSigner {
  readonly #o: SignerOptions;
  readonly #identityKeys: Map<number, Uint8Array>;
  readonly #now: () => number;

  constructor(opts: SignerOptions) {
    this.#o = { ...opts, configDigest: opts.configDigest.toLowerCase() };
    this.#now = opts.now ?? Date.now;
    this.#identityKeys = new Map(opts.committee.nodes.map((n) => [n.index, getBytes(n.identityKey)]));
  }

  /** Run every check; on success record the report and return the partial signature. */
  sign(call: SignCall): SignOutcome {
    const { report, observations } = call;
    const me = this.#o.share.index;
    const refuse = (code: string, message: string): never => {
      throw new NodeRefusal(me, code, message);
    };
    const digest = this.#o.configDigest;
    const epoch = report.epoch;
    // The message once: its hex is the anti-equivocation key, its bytes are what gets signed.
    const message = reportMessage(report);
    const hash = hexlify(message);

    // 1. Domain.
    if (report.configDigest.toLowerCase() !== digest) {
      refuse('config_digest_mismatch', `report config digest ${report.configDigest} is not this node's ${digest}; the aggregator serves another committee or chain (check its committee file)`);
    }

    // 2. The epoch against the clock, then anti-equivocation, early answer.
    const ahead = epochAheadOfClock(epoch, this.#now(), this.#o.maxEpochLeadMs);
    if (ahead) refuse('epoch_ahead_of_clock', ahead);
    const highest = this.#o.store.highestSigned(digest);
    if (highest) {
      if (epoch < highest.epoch) {
        refuse('epoch_regression', `epoch ${epoch} is below epoch ${highest.epoch} already signed; only newer epochs can be signed`);
      }
      if (epoch === highest.epoch && highest.reportHash.toLowerCase() !== hash.toLowerCase()) {
        refuse('conflicting_report', `epoch ${epoch}: already signed report ${highest.reportHash}; refusing the different report ${hash} (never two reports per epoch)`);
      }
    }

    // 3. Observations: signer, signature, digest, epoch.
    const seen = new Set<number>();
    for (const [k, s] of observations.entries()) {
      const o = s.observation;
      const key = this.#identityKeys.get(o.nodeIndex);
      if (!key) refuse('bad_observation_signature', `observations[${k}]: node ${o.nodeIndex} is not in the committee (n=${this.#o.committee.nodes.length})`);
      if (seen.has(o.nodeIndex)) refuse('observation_mismatch', `observations[${k}]: node ${o.nodeIndex} appears twice; one observation per node`);
      seen.add(o.nodeIndex);
      if (!verifyObservation(s, key!)) {
        refuse('bad_observation_signature', `observations[${k}]: signature of node ${o.nodeIndex} does not verify against its identity key in the committee file`);
      }
      if (o.configDigest.toLowerCase() !== digest) {
        refuse('observation_mismatch', `observations[${k}] (node ${o.nodeIndex}): config digest ${o.configDigest}, report's is ${digest}`);
      }
      if (o.epoch !== epoch) refuse('observation_mismatch', `observations[${k}] (node ${o.nodeIndex}): epoch ${o.epoch}, report's is ${epoch}`);
    }

    // 4. The report recomputed with the shared rule, field by field.
    const rebuilt = buildReport(digest, epoch, observations.map((s) => s.observation), report.feedIds, this.#o.committee.t).report;
    if (!rebuilt) {
      refuse('median_mismatch', `no feed of the report has t=${this.#o.committee.t} answers among the ${observations.length} observations sent`);
    }
    compareReports(report, rebuilt!, refuse);

    // 5. Freshness.
    const nowS = BigInt(Math.floor(this.#now() / 1000));
    const age = nowS - report.observedAt;
    if (age > BigInt(this.#o.maxReportAgeS)) {
      refuse('stale_report', `observedAt ${report.observedAt} is ${age} s old, more than maxReportAgeS ${this.#o.maxReportAgeS}`);
    }
    if (-age > BigInt(this.#o.maxFutureS)) {
      refuse('stale_report', `observedAt ${report.observedAt} is ${-age} s in the future, more than maxFutureS ${this.#o.maxFutureS}; check the clocks`);
    }

    // 6. Own view within the sanity band.
    const ownView = this.#o.ownViews();
    report.feedIds.forEach((id, k) => {
      const own = ownView(id.toLowerCase());
      if (!own || !own.view.ok) return;
      const answer = report.answers[k]!;
      if (isSuspension(answer)) {
        refuse('suspension_disputed', `${nameOf(id)}: the report suspends it (${suspendReasonName(report.spreadBps[k]!)}), but this node prices it at ${own.view.answer}; a feed is suspended only by nodes that cannot price it`);
      }
      const mine = own.view.answer;
      const base = mine < 0n ? -mine : mine;
      if (base === 0n) return;
      const diff = answer > mine ? answer - mine : mine - answer;
      // diff / base > band / 10_000, in integers (band may be fractional bps: scale by 100).
      const bandScaled = BigInt(Math.round(own.sanityBandBps * 100));
      if (diff * 1_000_000n > base * bandScaled) {
        const bps = Number((diff * 1_000_000n) / base) / 100;
        refuse('outside_sanity_band', `${nameOf(id)}: report answer ${answer} is ${bps.toFixed(1)} bps from this node's own ${mine}, band ±${own.sanityBandBps} bps`);
      }
    });

    // 7. Durable record, then the signature.
    const decision = this.#o.store.checkAndRecord(digest, epoch, hash);
    if (!decision.ok) refuse(decision.reason, decision.detail);
    const partial = partialSign(this.#o.share, message);
    return { partial, reportHash: hash, repeat: decision.ok && decision.repeat };
  }
}

function compareReports(got: Report, want: Report, refuse: (code: string, message: string) => never): void {
  const gotIds = got.feedIds.map((x) => x.toLowerCase());
  const wantIds = want.feedIds.map((x) => x.toLowerCase());
  for (const [k, id] of gotIds.entries()) {
    if (!wantIds.includes(id)) refuse('median_mismatch', `feedIds[${k}] ${nameOf(id)}: fewer than t observations carry it`);
  }
  for (const [k, id] of gotIds.entries()) {
    const j = wantIds.indexOf(id);
    if (got.answers[k] !== want.answers[j]) {
      refuse('median_mismatch', `answers[${k}] ${nameOf(id)}: report says ${got.answers[k]}, the median of the observations is ${want.answers[j]}`);
    }
    if (got.spreadBps[k] !== want.spreadBps[j]) {
      refuse('median_mismatch', `spreadBps[${k}] ${nameOf(id)}: report says ${got.spreadBps[k]}, the observations give ${want.spreadBps[j]}`);
    }
  }
  if (got.observedAt !== want.observedAt) refuse('observation_mismatch', `observedAt: report says ${got.observedAt}, the median observation time is ${want.observedAt}`);
  if (got.observers !== want.observers) refuse('observation_mismatch', `observers: report bitmap 0x${got.observers.toString(16)}, the observations give 0x${want.observers.toString(16)}`);
  if (got.observationsRoot.toLowerCase() !== want.observationsRoot.toLowerCase()) {
    refuse('observation_mismatch', `observationsRoot: report says ${got.observationsRoot}, the observations give ${want.observationsRoot}`);
  }
}

function nameOf(id: string): string {
  try {
    return feedName(id);
  } catch {
    return id;
  }
}
