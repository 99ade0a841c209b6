/**
 * The aggregator process's main loop: on each tick of the schedule, allocate an epoch,
 * read the hub's feed states, run a round whose posting policy keeps only the feeds that need
 * a post, record the round, and transmit. Transport, chain and storage are injected, so tests
 * drive it with in-memory nodes and a fake hub as well as with real processes.
 *
 * Epochs: before a round, epoch = `epochFor(tick, floor)` with floor = max(reserved epoch in
 * the store, the hub's latest epoch), durably reserved before any node is asked, so epochs
 * strictly increase across restarts and never collide with another aggregator's.
 */
import type { Logger } from 'pino';
import { feedName, type Committee, type NodeClient } from '../protocol/index.ts';
import type { HubReader } from './chain/hub.ts';
import type { TransmitOutcome } from './chain/transmitter.ts';
import { describeError } from './errors.ts';
import type { AggregatorMetrics } from './metrics.ts';
import { batchReason, decideBatch, type FeedPolicy, type OnchainFeedState } from './policy.ts';
import { RoundEngine, type FeedSelector } from './round/engine.ts';
import type { RoundResult } from './round/types.ts';
import { actAt, epochFor, tickOf, type ScheduleConfig } from './schedule.ts';
import type { RoundStore } from './store.ts';

export interface FeedSetting {
  id: string;
  name: string;
  policy: FeedPolicy;
}

export interface AggregatorServiceOptions {
  name: string;
  committee: Committee;
  clients: readonly NodeClient[];
  hub: HubReader;
  /** Absent: sign and serve reports (pull mode) without posting. */
  transmitter?: { transmit(signed: NonNullable<RoundResult['signed']>): Promise<TransmitOutcome>; address?: string };
  store: RoundStore;
  metrics: AggregatorMetrics;
  logger: Logger;
  feeds: FeedSetting[];
  schedule: ScheduleConfig;
  round?: { observeTimeoutMs?: number; signTimeoutMs?: number; graceMs?: number; maxObservationAgeSec?: number };
  /** Sign a report over every feed even when none needs a post, for pull consumers (config `pull.signEveryRound`). */
  pullEveryRound?: boolean;
  now?: () => number;
}

export type TickOutcome =
  | { kind: 'standby_skip'; tick: number; latestEpoch: bigint }
  | { kind: 'round'; tick: number; round: RoundResult; postingReason: string | null; transmission?: TransmitOutcome }
  | { kind: 'error'; tick: number; message: string };

export class AggregatorService {
  readonly engine: RoundEngine;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private inFlight: Promise<unknown> = Promise.resolve();
  /** Standby: the hub's latest epoch at the previous check (null before the first). */
  private lastSeenEpoch: bigint | null = null;
  private lastOutcome: TickOutcome | undefined;
  private lastRoundAt = 0;
  /** Rounds failed in a row (no quorum of observations or partials), and the last reason. */
  private failedInARow = 0;
  private lastFailure = '';
  private lastChain = new Map<string, OnchainFeedState>();
  private readonly now: () => number;

  constructor(private readonly o: AggregatorServiceOptions) {
    this.engine = new RoundEngine({ committee: o.committee, clients: o.clients, ...(o.round ?? {}) });
    this.now = o.now ?? Date.now;
  }

  get configDigest(): string {
    return this.engine.configDigest;
  }

  /** Checks the hub serves this committee, then runs the schedule until `stop()`. */
  async start(): Promise<void> {
    await this.checkHub();
    this.running = true;
    this.scheduleNext();
  }

  /** Fails with "config digest mismatch" unless the hub serves this committee. */
  async checkHub(): Promise<void> {
    const digest = await this.o.hub.configDigest();
    if (digest.toLowerCase() !== this.configDigest.toLowerCase()) {
      throw new Error(`config digest mismatch: expected ${this.configDigest} (committee file), got ${digest} from the hub; use the committee file the hub was deployed or rotated with`);
    }
    const floor = await this.epochFloor();
    this.o.logger.info({ configDigest: this.configDigest, floor: floor.toString(), position: this.o.schedule.position, of: this.o.schedule.of }, 'hub serves this committee');
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    await this.inFlight.catch(() => undefined);
  }

  private scheduleNext(): void {
    if (!this.running) return;
    const now = this.now();
    let tick = tickOf(now, this.o.schedule);
    if (actAt(tick, this.o.schedule) <= now) tick++;
    this.timer = setTimeout(() => {
      const p = this.tick(tick).finally(() => this.scheduleNext());
      this.inFlight = p;
    }, actAt(tick, this.o.schedule) - now);
  }

  private async epochFloor(latest?: bigint): Promise<bigint> {
    const chain = latest ?? (await this.o.hub.latestEpoch());
    const stored = this.o.store.reservedEpoch();
    return chain > stored ? chain : stored;
  }

  /** One tick of the schedule (public for tests and the simulator). */
  async tick(tick = tickOf(this.now(), this.o.schedule)): Promise<TickOutcome> {
    const log = this.o.logger.child({ tick });
    let outcome: TickOutcome;
    try {
      const latest = await this.o.hub.latestEpoch();
      if (this.o.schedule.position > 0) {
        const previous = this.lastSeenEpoch;
        this.lastSeenEpoch = latest;
        if (previous === null || latest > previous) {
          this.o.metrics.standbySkips.inc();
          log.info({ latestEpoch: latest.toString() }, previous === null ? 'standby: first check, watching the hub' : `standby: hub moved to epoch ${latest} since the last check; the active aggregator is alive, skipping`);
          outcome = { kind: 'standby_skip', tick, latestEpoch: latest };
          this.lastOutcome = outcome;
          return outcome;
        }
        log.warn({ latestEpoch: latest.toString() }, 'standby: hub did not move since the last check; taking over this tick');
      }
      const epoch = epochFor(tick, await this.epochFloor(latest), this.o.schedule);
      this.o.store.reserveEpoch(epoch);
      outcome = await this.round(tick, epoch, latest, log);
      // After the transaction went out: the stragglers of a sign phase that ended on its first t.
      if (outcome.kind === 'round' && outcome.round.rest) await this.settleRest(outcome.round, log);
    } catch (err) {
      const message = describeError(err);
      log.error({ err: message }, 'tick failed');
      this.o.metrics.rounds.inc({ status: 'failed' });
      this.o.metrics.failedRounds.inc({ reason: 'error' });
      outcome = { kind: 'error', tick, message };
    }
    this.lastOutcome = outcome;
    return outcome;
  }

  private async round(tick: number, epoch: bigint, latestAtStart: bigint, log: Logger): Promise<TickOutcome> {
    const states = await this.o.hub.feedStates(this.o.feeds.map((f) => f.id));
    this.lastChain = states;
    const policies = new Map(this.o.feeds.map((f) => [f.id, f.policy]));
    // Heartbeats are judged at the tick's start, the clock every aggregator of the schedule shares.
    const tickStartSec = BigInt(Math.floor((tick * this.o.schedule.intervalMs) / 1000));
    const decisions: string[] = [];
    let postingReason: string | null = null;
    const postReasons = new Map<string, string>();
    let pullOnly = false;
    const select: FeedSelector = (aggregate, observedAt) => {
      const d = decideBatch(
        aggregate.feeds.map((f) => ({ feedId: f.feedId, feed: safeName(f.feedId), answer: f.answer, observedAt, ...(f.suspendReason !== undefined ? { suspendReason: f.suspendReason } : {}) })),
        states,
        policies,
        tickStartSec,
      );
      for (const x of [...d.post, ...d.hold]) {
        decisions.push(x.decision.log);
        log.debug({ epoch: epoch.toString() }, x.decision.log);
      }
      postingReason = d.post.length ? batchReason(d.post) : null;
      for (const p of d.post) postReasons.set(p.feedId, p.decision.reason);
      if (d.post.length === 0 && this.o.pullEveryRound) {
        // Nothing to post, but pull consumers get a fresh report: every feed with quorum, served only.
        pullOnly = true;
        return { feedIds: aggregate.feeds.map((f) => f.feedId), skipped: [] };
      }
      return { feedIds: d.post.map((p) => p.feedId), skipped: d.hold.map((h) => ({ feedId: h.feedId, reason: h.decision.log })) };
    };
    const r = await this.engine.run(epoch, this.o.feeds.map((f) => f.id), select);
    this.lastRoundAt = this.now();
    if (r.status === 'failed') {
      this.failedInARow++;
      this.lastFailure = `${r.failure?.code ?? 'failed'}: ${r.failure?.message ?? 'no reason given'}`;
    } else {
      this.failedInARow = 0;
    }
    this.observeMetrics(r);
    this.o.store.recordRound(r, { reason: pullOnly ? 'pull' : postingReason, decisions });
    const summary = {
      epoch: epoch.toString(),
      status: r.status,
      observed: r.participants.observed,
      signed: r.participants.signed,
      excluded: r.excluded.map((e) => `${e.index}/${e.phase}/${e.code}`),
      ms: Math.round(r.timings.totalMs),
    };
    if (r.status === 'failed') {
      log.warn({ ...summary, reason: r.failure?.message }, `round failed: ${r.failure?.code}`);
      return { kind: 'round', tick, round: r, postingReason };
    }
    for (const e of r.excluded) log.warn({ epoch: epoch.toString(), node: e.index, phase: e.phase, code: e.code }, e.reason);
    if (r.status === 'nothing_to_post') {
      log.info({ ...summary, decisions }, 'round: no feed needs a post');
      return { kind: 'round', tick, round: r, postingReason };
    }
    if (pullOnly) {
      log.info({ ...summary, decisions }, 'round signed for pull mode only: no feed needs a post');
      return { kind: 'round', tick, round: r, postingReason };
    }
    log.info({ ...summary, reason: postingReason, feeds: r.signed!.report.feedIds.map(safeName) }, 'round signed');
    if (!this.o.transmitter) return { kind: 'round', tick, round: r, postingReason };
    if (this.o.schedule.position > 0 && this.lastSeenEpoch !== null) {
      const now = await this.o.hub.latestEpoch();
      if (now > this.lastSeenEpoch) {
        // The active aggregator was only slow: it posted while this round ran. Yield to it.
        this.lastSeenEpoch = now;
        this.o.metrics.standbySkips.inc();
        this.o.store.recordTransmission(epoch, { status: 'yielded', detail: `standby: the hub moved to epoch ${now} while this round ran; the active aggregator is alive, not posting` });
        log.info({ epoch: epoch.toString(), latestEpoch: now.toString() }, 'standby: the active aggregator posted while this round ran; not posting');
        return { kind: 'round', tick, round: r, postingReason };
      }
    }
    // A standby has yielded above whenever the hub moved; the active one of several checks here.
    if (this.o.schedule.position === 0 && this.o.schedule.of > 1 && (await this.alreadyPostedByAnother(r.signed!.report, latestAtStart))) {
      // Another aggregator's report landed while this round ran and carries observations at least
      // as new for every feed here: the hub would skip them all (a transaction that changes nothing).
      this.o.store.recordTransmission(epoch, { status: 'yielded', detail: 'another aggregator posted these feeds, as new or newer, while this round ran; not posting' });
      log.info({ epoch: epoch.toString() }, 'another aggregator posted these feeds while this round ran; not posting');
      return { kind: 'round', tick, round: r, postingReason };
    }
    const t = await this.o.transmitter.transmit(r.signed!);
    this.recordTransmission(r, t, postReasons);
    return { kind: 'round', tick, round: r, postingReason, transmission: t };
  }

  /** Names the sign phase's late faults and stores who signed, once the stragglers are in. */
  private async settleRest(r: RoundResult, log: Logger): Promise<void> {
    try {
      const late = await r.rest!;
      for (const e of late) {
        this.o.metrics.exclusions.inc({ node: String(e.index), code: e.code });
        log.warn({ epoch: r.epoch.toString(), node: e.index, phase: e.phase, code: e.code }, e.reason);
      }
      this.o.metrics.participants.set({ phase: 'sign' }, r.participants.signed.length);
      this.o.store.recordParticipation(r.epoch, r.participants, r.excluded);
    } catch (err) {
      log.error({ epoch: r.epoch.toString(), err: describeError(err) }, 'sign phase: the partials that came after the signature could not be checked');
    }
  }

  /** True when the hub moved past `latestAtStart` and every feed of `report` is on-chain at an observation at least as new. */
  private async alreadyPostedByAnother(report: { observedAt: bigint; feedIds: readonly string[] }, latestAtStart: bigint): Promise<boolean> {
    if ((await this.o.hub.latestEpoch()) <= latestAtStart) return false;
    const states = await this.o.hub.feedStates(report.feedIds);
    this.lastChain = new Map([...this.lastChain, ...states]);
    return report.feedIds.every((id) => {
      const s = states.get(id.toLowerCase());
      return s !== undefined && s.roundId !== 0n && s.observedAt >= report.observedAt;
    });
  }

  private observeMetrics(r: RoundResult): void {
    const m = this.o.metrics;
    m.rounds.inc({ status: r.status });
    m.latestEpoch.set(Number(r.epoch));
    if (r.failure) m.failedRounds.inc({ reason: r.failure.code });
    m.participants.set({ phase: 'observe' }, r.participants.observed.length);
    if (r.status !== 'nothing_to_post') m.participants.set({ phase: 'sign' }, r.participants.signed.length);
    for (const e of r.excluded) m.exclusions.inc({ node: String(e.index), code: e.code });
    const s = (ms: number) => ms / 1000;
    m.roundDuration.observe({ phase: 'observe' }, s(r.timings.observeMs));
    if (r.status !== 'failed' || r.timings.signMs > 0) {
      m.roundDuration.observe({ phase: 'sign' }, s(r.timings.signMs));
      m.roundDuration.observe({ phase: 'verify' }, s(r.timings.verifyMs + r.timings.combineMs));
    }
    if (r.status === 'signed') m.roundDuration.observe({ phase: 'total' }, s(r.timings.totalMs));
  }

  private recordTransmission(r: RoundResult, t: TransmitOutcome, postReasons: ReadonlyMap<string, string>): void {
    const m = this.o.metrics;
    m.transmissions.inc({ outcome: t.status });
    const gas = 'gasUsed' in t && t.gasUsed !== undefined ? t.gasUsed : undefined;
    const fee = 'feeWei' in t && t.feeWei !== undefined ? t.feeWei : undefined;
    if (gas !== undefined) m.gasUsed.inc(Number(gas));
    if (fee !== undefined) m.feeWei.inc(Number(fee));
    if (t.status === 'accepted') {
      m.lastAcceptedTimestamp.set(Math.floor(this.now() / 1000));
      for (const id of r.signed!.report.feedIds) m.posts.inc({ reason: postReasons.get(id.toLowerCase()) ?? 'unknown' });
      // A standby's own post must not read as "the active one is alive".
      if (this.lastSeenEpoch !== null && r.epoch > this.lastSeenEpoch) this.lastSeenEpoch = r.epoch;
    }
    const detail = t.status === 'accepted' ? `accepted in block ${t.blockNumber}${t.replacements ? ` after ${t.replacements} fee bump(s)` : ''}` : t.message;
    this.o.store.recordTransmission(r.epoch, {
      status: t.status,
      detail,
      ...(t.txHash ? { txHash: t.txHash } : {}),
      ...(gas !== undefined ? { gasUsed: gas } : {}),
      ...(fee !== undefined ? { feeWei: fee } : {}),
    });
    const log = this.o.logger.child({ epoch: r.epoch.toString() });
    if (t.status === 'accepted') log.info({ tx: t.txHash, gasUsed: t.gasUsed.toString() }, 'report posted');
    else if (t.status === 'superseded') log.info({ tx: t.txHash }, `not posted: ${t.message} (expected with several aggregators)`);
    else log.error({ tx: t.txHash }, `not posted: ${t.message}`);
  }

  status(): Record<string, unknown> {
    const recent = this.o.store.recent(1)[0];
    return {
      name: this.o.name,
      configDigest: this.configDigest,
      committee: { n: this.engine.n, t: this.engine.t },
      schedule: this.o.schedule,
      role: this.o.schedule.position === 0 ? 'active' : `standby ${this.o.schedule.position}`,
      transmitter: this.o.transmitter?.address ?? null,
      running: this.running,
      reservedEpoch: this.o.store.reservedEpoch().toString(),
      lastTick: this.lastOutcome ? describeOutcome(this.lastOutcome) : null,
      lastRound: recent
        ? {
            epoch: recent.epoch.toString(),
            status: recent.status,
            failure: recent.failureMessage,
            participants: recent.participants,
            excluded: recent.excluded,
            postingReason: recent.postingReason,
            txHash: recent.txHash,
            txStatus: recent.txStatus,
            gasUsed: recent.gasUsed?.toString() ?? null,
          }
        : null,
      feeds: this.o.feeds.map((f) => {
        const s = this.lastChain.get(f.id);
        return {
          feed: f.name,
          feedId: f.id,
          deviationPct: f.policy.deviationPct,
          heartbeatSec: f.policy.heartbeatSec,
          onchain: s ? { answer: s.answer.toString(), observedAt: Number(s.observedAt), roundId: s.roundId.toString(), status: s.status } : null,
        };
      }),
      roundsRecorded: this.o.store.count(),
    };
  }

  /** Healthy when a round ran (or a standby check happened) within three intervals. */
  health(): { ok: boolean; message: string } {
    return healthOf({
      running: this.running,
      standby: this.lastOutcome?.kind === 'standby_skip',
      nowMs: this.now(),
      lastRoundAt: this.lastRoundAt,
      intervalMs: this.o.schedule.intervalMs,
      failedInARow: this.failedInARow,
      lastFailure: this.lastFailure,
    });
  }
}

/** Failed rounds in a row after which /health reports the aggregator unhealthy. */
export const FAILED_ROUNDS_UNHEALTHY = 2;

export interface HealthInput {
  running: boolean;
  /** The last tick was a standby's skip (the active aggregator is posting). */
  standby: boolean;
  nowMs: number;
  /** When the last round ended (0: none yet). */
  lastRoundAt: number;
  intervalMs: number;
  failedInARow: number;
  lastFailure: string;
}

/** What /health answers, from the service's state (pure, so each branch is tested alone). */
export function healthOf(h: HealthInput): { ok: boolean; message: string } {
  if (!h.running) return { ok: false, message: 'not running' };
  if (h.standby) return { ok: true, message: 'standby: the active aggregator is posting' };
  if (h.lastRoundAt === 0) return { ok: true, message: 'starting: no round yet' };
  const age = h.nowMs - h.lastRoundAt;
  if (age > 3 * h.intervalMs) return { ok: false, message: `no round for ${Math.round(age / 1000)} s (more than 3 intervals)` };
  // A round that runs but cannot reach quorum is no better than no round: say so, with why.
  if (h.failedInARow >= FAILED_ROUNDS_UNHEALTHY) return { ok: false, message: `no quorum: the last ${h.failedInARow} rounds failed; last: ${h.lastFailure}` };
  return { ok: true, message: 'ok' };
}

function describeOutcome(o: TickOutcome): Record<string, unknown> {
  if (o.kind === 'standby_skip') return { kind: o.kind, tick: o.tick, latestEpoch: o.latestEpoch.toString() };
  if (o.kind === 'error') return { kind: o.kind, tick: o.tick, message: o.message };
  return { kind: o.kind, tick: o.tick, epoch: o.round.epoch.toString(), status: o.round.status, failure: o.round.failure?.message ?? null, transmission: o.transmission?.status ?? null };
}

function safeName(id: string): string {
  try {
    return feedName(id);
  } catch {
    return id;
  }
}
