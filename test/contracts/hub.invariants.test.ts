/**
 * Stateful invariant tests of the AegisHub (the `@custom:invariant` tags of IAegisHub), in the
 * style of Scribe's `invariant_<var>_<Property>` tests: fast-check command sequences against
 * the real hub on anvil, with real threshold-BLS reports (t = 3 partials of a random signer
 * subset of an n = 4 dealer committee, combined).
 *
 * Commands: transmit and pull-mode `updateAndRead` of reports over random feed subsets
 * (duplicates and an unknown feed included) with small, limit-edge, breaker-tripping,
 * candidate-confirming and out-of-bounds answers; next, skipped, equal, stale, replayed and
 * ahead-of-clock epochs; observedAt now, older (within and beyond maxReportAge), equal to the
 * feed's last, future within and beyond the drift;
 * forged reports (another committee); time jumps (`increaseTime`, `setNextTimestamp`); the
 * guardian pausing feeds and the hub, resolving breakers (accept / reject) and configuring
 * feeds (valid and invalid); and an outsider calling every guardian function.
 *
 * Every block's timestamp is pinned, so a small TypeScript model predicts each transaction
 * exactly: its custom error, its events in order, the return of `updateAndRead`, and the
 * whole observable state after it. After every command the invariants are checked on the
 * chain's state (before/after views and the transaction's events), independently of the
 * model's breaker bookkeeping:
 *   - invariant_served_BoundedMove: a newly served answer is within the feed's deviation limit
 *     of the previously served one, unless the guardian accepted it (BreakerResolved) or it
 *     confirmed the candidate: ≥ K later accepted reports, each within the limit of the
 *     candidate, with increasing observedAt, the served one last, spanning ≥ T from the trip;
 *   - invariant_breaker_NoOrderingBypass: the same for report-driven steps, a tripped feed never
 *     reads as its candidate, and (own property) every ordering of a pool of signed reports;
 *   - invariant_state_MovesForward: latest epoch, each feed's observedAt and round id never
 *     decrease; at most one round per feed per step, with a strictly newer observedAt; every
 *     round still in the history equals the round served under that id (roundId − 1 is the
 *     previous served round);
 *   - invariant_bounds_NeverServed: every newly served answer is inside [minAnswer, maxAnswer]
 *     of the configuration in force;
 *   - invariant_guardian_OnlyGuardianConfigures: every guardian function called by another
 *     address reverts NotGuardian(caller, guardian) and changes nothing; guardian events come
 *     only from the guardian's own transactions.
 *
 * Bounded: AEGIS_PROPERTY_RUNS runs (default 8) of up to 40 commands; AEGIS_PROPERTY_SEED
 * replays a run; AEGIS_PROPERTY_VERBOSE=1 prints the sequences and outcome counts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Contract, type ErrorDescription, type JsonRpcSigner, type LogDescription, hexlify } from 'ethers';
import { startAnvil, type Anvil } from '../../contracts/anvil.ts';
import { compileContracts } from '../../contracts/compile.ts';
import { deployHub, feedConfig, secretSign, signReport, testCommittee, type FeedConfig, type TestCommittee } from '../../contracts/hub.ts';
import { feedId, reportMessage, type Report } from '../../protocol/report.ts';

const RUNS = Number(process.env.AEGIS_PROPERTY_RUNS ?? 8);
const SEED = process.env.AEGIS_PROPERTY_SEED === undefined ? undefined : Number(process.env.AEGIS_PROPERTY_SEED);
const VERBOSE = Boolean(process.env.AEGIS_PROPERTY_VERBOSE);
const DRIFT = 60n;
/** The hub's maxReportAge in this suite. */
const AGE = 300n;
const GAS = { gasLimit: 3_000_000n };

/** The feeds under test: a wide one, a narrow-bounds one, a signed index (negative answers). */
const FEEDS: { name: string; cfg: FeedConfig; base: bigint }[] = [
  { name: 'AAA/USD', base: 2_000_00000000n, cfg: feedConfig({ description: 'AAA / USD', minAnswer: 1n, maxAnswer: 10n ** 14n, deviationBps: 1000, confirmations: 2, confirmationTime: 60, historyCapacity: 4 }) },
  { name: 'BBB/USD', base: 100_00000000n, cfg: feedConfig({ description: 'BBB / USD', minAnswer: 50_00000000n, maxAnswer: 200_00000000n, deviationBps: 500, confirmations: 1, confirmationTime: 0, historyCapacity: 3, maxStaleness: 900 }) },
  { name: 'NEG/IDX', base: -5_000n, cfg: feedConfig({ description: 'NEG / IDX', minAnswer: -1_000_000n, maxAnswer: 1_000_000n, deviationBps: 2000, confirmations: 3, confirmationTime: 120, historyCapacity: 0 }) },
];
const IDS = FEEDS.map((f) => feedId(f.name));
const UNKNOWN = feedId('NOPE/USD');
/** Feed slots in commands: 0..2 the feeds, 3 the unknown id. */
const idOf = (slot: number): string => IDS[slot] ?? UNKNOWN;

const INVARIANTS = [
  'invariant_served_BoundedMove',
  'invariant_breaker_NoOrderingBypass',
  'invariant_state_MovesForward',
  'invariant_bounds_NeverServed',
  'invariant_guardian_OnlyGuardianConfigures',
] as const;
type InvariantName = (typeof INVARIANTS)[number];

class InvariantViolation extends Error {
  constructor(
    readonly names: InvariantName[],
    message: string,
  ) {
    super(`${names.join(' + ')}: ${message}`);
  }
}
function violated(cond: boolean, names: InvariantName | InvariantName[], message: () => string): void {
  if (!cond) throw new InvariantViolation(Array.isArray(names) ? names : [names], message());
}

const abs = (x: bigint): bigint => (x < 0n ? -x : x);
/** The hub's breaker test: |a − ref|·10⁴ > bps·|ref| (false when the breaker is off). */
const deviates = (a: bigint, ref: bigint, bps: number): boolean => bps !== 0 && abs(a - ref) * 10_000n > BigInt(bps) * abs(ref);
const json = (x: unknown): string => JSON.stringify(x, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));

// -- Chain --------------------------------------------------------------------------------------

let anvil: Anvil;
let c: TestCommittee;
let forger: TestCommittee;
let hub: Contract;
let guardian: JsonRpcSigner;
let outsider: JsonRpcSigner;
let guardianAddr: string;
let outsiderAddr: string;
let base: string;
let baseClock: bigint;
let baseEpoch: bigint;

interface Outcome {
  ok: boolean;
  error?: ErrorDescription;
  logs: LogDescription[];
  ret?: readonly unknown[];
  from: string;
  ts: bigint;
  /** The feed updateAndRead read. */
  feed?: string;
}

/** Sends `fn` from `from` in a block pinned at `ts` (explicit gas, so reverts are mined). */
async function sendAt(ts: bigint, from: JsonRpcSigner, fn: string, args: unknown[]): Promise<Outcome> {
  await anvil.setNextTimestamp(ts);
  const contract = hub.connect(from) as Contract;
  let rc: { status: number | null; hash: string; logs: readonly { topics: readonly string[]; data: string }[] };
  try {
    rc = (await (await contract[fn]!(...args, GAS)).wait())!;
  } catch (err) {
    const mined = (err as { receipt?: typeof rc }).receipt;
    if (!mined) throw err;
    rc = mined;
  }
  const block = await anvil.provider.getTransactionReceipt(rc.hash).then((r) => anvil.provider.getBlock(r!.blockNumber));
  expect(BigInt(block!.timestamp), 'pinned block time').toBe(ts);
  const out: Outcome = { ok: rc.status === 1, logs: [], from: await from.getAddress(), ts };
  if (out.ok) {
    out.logs = rc.logs.map((l) => hub.interface.parseLog({ topics: [...l.topics], data: l.data })).filter((e): e is LogDescription => e !== null);
  }
  if (!out.ok || fn === 'updateAndRead') {
    const trace = (await anvil.provider.send('debug_traceTransaction', [rc.hash, { tracer: 'callTracer' }])) as { output?: string; error?: string };
    if (out.ok) out.ret = [...hub.interface.decodeFunctionResult(fn, trace.output!)];
    else {
      const parsed = trace.output && trace.output !== '0x' ? hub.interface.parseError(trace.output) : null;
      if (!parsed) throw new Error(`${fn}: undecodable revert (${trace.error ?? 'no output'})`);
      out.error = parsed;
    }
  }
  return out;
}

interface FeedView {
  answer: bigint;
  observedAt: bigint;
  spread: bigint;
  roundId: bigint;
  status: bigint;
  tripped: boolean;
  candidate: bigint;
  since: bigint;
  lastAt: bigint;
  seen: bigint;
  cfg: FeedConfig;
  /** Rounds readable by getRound: roundId → [answer, observedAt, spread]. */
  history: [string, [bigint, bigint, bigint]][];
}
interface View {
  epoch: bigint;
  paused: boolean;
  guardian: string;
  feedIds: string[];
  feeds: FeedView[];
}

function toCfg(r: FeedConfig): FeedConfig {
  return {
    minAnswer: BigInt(r.minAnswer),
    maxAnswer: BigInt(r.maxAnswer),
    maxStaleness: Number(r.maxStaleness),
    heartbeat: Number(r.heartbeat),
    deviationBps: Number(r.deviationBps),
    confirmations: Number(r.confirmations),
    confirmationTime: Number(r.confirmationTime),
    historyCapacity: Number(r.historyCapacity),
    decimals: Number(r.decimals),
    description: String(r.description),
  };
}

/** The view without what `tryRead` derives from the clock: the hub's stored state. */
function withoutStatus(v: View): Omit<View, 'feeds'> & { feeds: Omit<FeedView, 'status'>[] } {
  return { ...v, feeds: v.feeds.map(({ status: _status, ...rest }) => rest) };
}

async function readView(): Promise<View> {
  const feeds: FeedView[] = [];
  for (const id of IDS) {
    const [answer, observedAt, spread, roundId, status] = (await hub.tryRead!(id)) as [bigint, bigint, bigint, bigint, bigint];
    const [tripped, candidate, since, lastAt, seen] = (await hub.breakerState!(id)) as [boolean, bigint, bigint, bigint, bigint];
    const cfg = toCfg((await hub.feedConfig!(id)) as FeedConfig);
    const history: FeedView['history'] = [];
    const from = roundId - BigInt(Math.max(cfg.historyCapacity, 1)) + 1n;
    for (let r = from > 1n ? from : 1n; r <= roundId; r++) {
      const [a, o, s] = (await hub.getRound!(id, r)) as bigint[];
      history.push([String(r), [a!, o!, s!]]);
    }
    feeds.push({ answer, observedAt, spread, roundId, status, tripped, candidate, since, lastAt, seen, cfg, history });
  }
  return {
    epoch: (await hub.latestEpoch!()) as bigint,
    paused: (await hub.paused!()) as boolean,
    guardian: (await hub.guardian!()) as string,
    feedIds: [...((await hub.feedIds!()) as string[])],
    feeds,
  };
}

// -- Model --------------------------------------------------------------------------------------

interface Round {
  answer: bigint;
  observedAt: bigint;
  spread: bigint;
}
interface FeedModel {
  cfg: FeedConfig;
  paused: boolean;
  rounds: Round[]; // rounds[i] has round id i + 1
  tripped: boolean;
  candidate: bigint;
  since: bigint;
  lastAt: bigint;
  candSpread: bigint;
  seen: number;
}
interface Model {
  epoch: bigint;
  paused: boolean;
  clock: bigint; // timestamp of the latest block
  feeds: FeedModel[];
  /** Accepted (report, signature) pairs, for replays. */
  accepted: { report: Report; signature: Uint8Array }[];
}
type Ev = [string, ...unknown[]];

const served = (f: FeedModel): Round | undefined => f.rounds[f.rounds.length - 1];
function inBounds(f: FeedModel, a: bigint): boolean {
  return a >= f.cfg.minAnswer && a <= f.cfg.maxAnswer;
}
function serve(f: FeedModel, r: Round): bigint {
  f.rounds.push(r);
  f.tripped = false;
  return BigInt(f.rounds.length);
}

/** IAegisHub's per-feed rules (spec order: unknown/paused, bounds, ordering, breaker). */
function applyFeed(m: Model, slot: number, answer: bigint, spread: bigint, observedAt: bigint, events: Ev[]): void {
  const id = idOf(slot);
  const f = m.feeds[slot];
  if (!f) return void events.push(['FeedSkipped', id, 0n]);
  if (f.paused) return void events.push(['FeedSkipped', id, 1n]);
  if (!inBounds(f, answer)) return void events.push(['FeedSkipped', id, 3n]);
  const dev = f.cfg.deviationBps;
  const s = served(f);
  const r: Round = { answer, observedAt, spread };
  if (!f.tripped) {
    if (observedAt <= (s?.observedAt ?? 0n)) return void events.push(['FeedSkipped', id, 2n]);
    if (s && deviates(answer, s.answer, dev)) {
      Object.assign(f, { tripped: true, candidate: answer, since: observedAt, lastAt: observedAt, candSpread: spread, seen: 0 });
      return void events.push(['BreakerTripped', id, s.answer, answer, observedAt]);
    }
    serve(f, r);
    return void events.push(['FeedUpdated', id, answer]);
  }
  if (observedAt <= f.lastAt) return void events.push(['FeedSkipped', id, 2n]);
  if (!deviates(answer, s!.answer, dev)) return void events.push(['BreakerCleared', id, serve(f, r), answer]);
  if (deviates(answer, f.candidate, dev)) {
    Object.assign(f, { candidate: answer, since: observedAt, lastAt: observedAt, candSpread: spread, seen: 0 });
    return void events.push(['BreakerTripped', id, s!.answer, answer, observedAt]);
  }
  const seen = f.seen + 1;
  if (seen >= f.cfg.confirmations && observedAt - f.since >= BigInt(f.cfg.confirmationTime)) {
    return void events.push(['BreakerConfirmed', id, serve(f, r), answer]);
  }
  f.lastAt = observedAt;
  f.seen = Math.min(seen, 255);
}

interface Expect {
  error?: [string, ...unknown[]];
  events: Ev[];
  ret?: unknown[];
  next: Model;
}

function clone(m: Model): Model {
  return { ...m, feeds: m.feeds.map((f) => ({ ...f, cfg: { ...f.cfg }, rounds: [...f.rounds] })), accepted: [...m.accepted] };
}

/** What transmit / updateAndRead does at block time `ts`. */
function expectReport(m0: Model, report: Report, valid: boolean, ts: bigint, from: string, pull?: { slot: number; maxAge: bigint }): Expect {
  const m = clone(m0);
  m.clock = ts;
  const events: Ev[] = [];
  const fail = (...e: [string, ...unknown[]]): Expect => ({ error: e, events: [], next: { ...m0, clock: ts } });
  if (m.paused) return fail('HubIsPaused');
  if (report.epoch <= m.epoch) {
    if (!pull) return fail('EpochNotAboveLast', report.epoch, m.epoch);
  } else {
    if (report.epoch > (ts + DRIFT) * 1000n) return fail('EpochAheadOfClock', report.epoch, (ts + DRIFT) * 1000n);
    if (report.observedAt > ts + DRIFT) return fail('ObservedAtInFuture', report.observedAt, ts + DRIFT);
    if (report.observedAt + AGE < ts) return fail('ReportTooOld', report.observedAt, ts - AGE);
    if (!valid) return fail('SignatureInvalid', hexlify(reportMessage(report)));
    m.epoch = report.epoch;
    events.push(['ReportAccepted', from, report.epoch, report.observedAt]);
    report.feedIds.forEach((id, i) => applyFeed(m, IDS.indexOf(id) === -1 ? 3 : IDS.indexOf(id), report.answers[i]!, BigInt(report.spreadBps[i]!), report.observedAt, events));
  }
  if (!pull) return { events, next: m };
  // updateAndRead: the read reverts the whole call.
  const id = idOf(pull.slot);
  const f = m.feeds[pull.slot];
  if (!f) return fail('FeedUnknown', id);
  if (f.paused || m.paused) return fail('FeedPaused', id);
  if (f.tripped) return fail('FeedTripped', id);
  const s = served(f);
  let limit = BigInt(f.cfg.maxStaleness);
  if (pull.maxAge !== 0n && pull.maxAge < limit) limit = pull.maxAge;
  // Before its first round a feed's observedAt is 0, so the hub reports the block time as its age.
  const age = s ? (ts > s.observedAt ? ts - s.observedAt : 0n) : ts;
  if (!s || age > limit) return fail('FeedStale', id, age, limit);
  // Never a price older than the report the caller brought.
  if (s.observedAt < report.observedAt) return fail('FeedNotUpdated', id, s.observedAt, report.observedAt);
  return { events, ret: [s.answer, s.observedAt, s.spread, BigInt(f.rounds.length)], next: m };
}

function statusOf(m: Model, f: FeedModel, ts: bigint): bigint {
  if (f.paused || m.paused) return 3n;
  if (f.tripped) return 2n;
  const s = served(f);
  if (!s || (ts > s.observedAt ? ts - s.observedAt : 0n) > BigInt(f.cfg.maxStaleness)) return 4n;
  return 1n;
}

/** The chain agrees with the model: state, status, breaker and readable history. */
function expectAgrees(m: Model, v: View, what: string): void {
  expect(v.epoch, `${what}: latestEpoch`).toBe(m.epoch);
  expect(v.paused, `${what}: paused`).toBe(m.paused);
  m.feeds.forEach((f, i) => {
    const fv = v.feeds[i]!;
    const s = served(f);
    const label = `${what}: ${FEEDS[i]!.name}`;
    expect(json([fv.answer, fv.observedAt, fv.spread, fv.roundId]), `${label} served`).toBe(json([s?.answer ?? 0n, s?.observedAt ?? 0n, s?.spread ?? 0n, BigInt(f.rounds.length)]));
    expect(fv.status, `${label} status`).toBe(statusOf(m, f, m.clock));
    expect(json([fv.tripped, fv.candidate, fv.since, fv.lastAt, fv.seen]), `${label} breaker`).toBe(json(f.tripped ? [true, f.candidate, f.since, f.lastAt, BigInt(f.seen)] : [false, 0n, 0n, 0n, 0n]));
    expect(json(fv.cfg), `${label} config`).toBe(json(f.cfg));
    for (const [r, [a, o, sp]] of fv.history) {
      const want = f.rounds[Number(r) - 1]!;
      expect(json([a, o, sp]), `${label} round ${r}`).toBe(json([want.answer, want.observedAt, want.spread]));
    }
  });
}

function expectOutcome(out: Outcome, want: Expect, what: string): void {
  if (want.error) {
    expect(out.ok ? 'success' : out.error!.name, `${what}: outcome`).toBe(want.error[0]);
    expect(json([...out.error!.args]), `${what}: ${want.error[0]} args`).toBe(json(want.error.slice(1)));
    return;
  }
  expect(out.ok ? 'success' : `${out.error!.name}${json([...out.error!.args])}`, `${what}: outcome`).toBe('success');
  expect(json(out.logs.map((l) => [l.name, ...l.args])), `${what}: events`).toBe(json(want.events));
  if (want.ret) expect(json(out.ret), `${what}: return`).toBe(json(want.ret));
}

// -- Invariants (chain views and events, independent of the model's breaker state) --------------

interface Witness {
  candidate: bigint;
  since: bigint;
  /** Accepted reports after the trip: answer, observedAt, within the limit of the candidate then. */
  entries: { answer: bigint; observedAt: bigint; within: boolean }[];
}

class Observer {
  /** Every round ever served, as first seen on chain: feed → round id → [answer, observedAt, spread]. */
  served: Map<string, [bigint, bigint, bigint]>[] = IDS.map(() => new Map());
  witness: (Witness | null)[] = IDS.map(() => null);
  count = Object.fromEntries(INVARIANTS.map((n) => [n, 0])) as Record<InvariantName, number>;
  authorized = { confirmed: 0, resolved: 0 };

  constructor(v: View) {
    v.feeds.forEach((f, i) => {
      for (const [r, h] of f.history) this.served[i]!.set(r, h);
    });
  }

  /**
   * Checks one step. `report` is the report the step submitted (if it was accepted),
   * `kind` what the step was.
   */
  check(prev: View, next: View, out: Outcome | null, kind: 'report' | 'guardian' | 'outsider' | 'time', report?: Report): void {
    const accepted = out?.ok === true && out.logs.some((l) => l.name === 'ReportAccepted');
    // -- guardian-only configuration --
    if (kind === 'outsider') {
      violated(out !== null && !out.ok && out.error?.name === 'NotGuardian', 'invariant_guardian_OnlyGuardianConfigures', () => `outsider call did not revert NotGuardian: ${out?.ok ? 'success' : out?.error?.name}`);
      violated(json([...out!.error!.args]) === json([outsiderAddr, guardianAddr]), 'invariant_guardian_OnlyGuardianConfigures', () => `NotGuardian args ${json([...out!.error!.args])}`);
      // `status` is derived from block.timestamp (Stale past maxStaleness), and the reverted
      // outsider transaction mines a block, possibly after a time jump: compare the state only.
      violated(json(withoutStatus(prev)) === json(withoutStatus(next)), 'invariant_guardian_OnlyGuardianConfigures', () => 'an outsider call changed the hub state');
      this.count.invariant_guardian_OnlyGuardianConfigures++;
    }
    const guardianEvents = ['FeedConfigured', 'FeedPauseChanged', 'HubPauseChanged', 'BreakerResolved', 'BreakerRejected', 'GuardianChanged', 'FeedAdded'];
    for (const l of out?.logs ?? []) {
      if (guardianEvents.includes(l.name)) {
        violated(out!.from === guardianAddr && kind === 'guardian', 'invariant_guardian_OnlyGuardianConfigures', () => `${l.name} emitted by a ${kind} transaction from ${out!.from}`);
      }
    }
    if (kind !== 'guardian') {
      violated(next.guardian === prev.guardian && json(next.feeds.map((f) => f.cfg)) === json(prev.feeds.map((f) => f.cfg)) && next.paused === prev.paused && json(next.feedIds) === json(prev.feedIds), 'invariant_guardian_OnlyGuardianConfigures', () => `a ${kind} step changed configuration, pause or guardian`);
    }
    // -- state moves forward --
    violated(next.epoch >= prev.epoch, 'invariant_state_MovesForward', () => `latestEpoch ${prev.epoch} → ${next.epoch}`);
    this.count.invariant_state_MovesForward++;

    IDS.forEach((id, i) => {
      const p = prev.feeds[i]!;
      const n = next.feeds[i]!;
      const name = FEEDS[i]!.name;
      violated(n.roundId >= p.roundId && n.observedAt >= p.observedAt, 'invariant_state_MovesForward', () => `${name}: round ${p.roundId} → ${n.roundId}, observedAt ${p.observedAt} → ${n.observedAt}`);
      violated(n.roundId - p.roundId <= 1n, 'invariant_state_MovesForward', () => `${name}: ${n.roundId - p.roundId} rounds in one step`);
      const witness = this.witness[i];
      // Witness bookkeeping from the submitted report: the first occurrence of the feed that is
      // in bounds and newer than the last counted one (a later duplicate is never newer).
      if (accepted && report && witness && p.tripped && p.status !== 3n) {
        const o = report.observedAt;
        const last = witness.entries[witness.entries.length - 1]?.observedAt ?? witness.since;
        const k = report.feedIds.findIndex((x, j) => x === id && report.answers[j]! >= p.cfg.minAnswer && report.answers[j]! <= p.cfg.maxAnswer);
        if (k !== -1 && o > last) {
          const a = report.answers[k]!;
          witness.entries.push({ answer: a, observedAt: o, within: !deviates(a, witness.candidate, p.cfg.deviationBps) });
        }
      }
      if (n.roundId > p.roundId) {
        const r = String(n.roundId);
        const now: [bigint, bigint, bigint] = [n.answer, n.observedAt, n.spread];
        violated(n.observedAt > p.observedAt, 'invariant_state_MovesForward', () => `${name}: round ${r} not newer (${p.observedAt} → ${n.observedAt})`);
        this.served[i]!.set(r, now);
        // -- bounds --
        violated(n.answer >= n.cfg.minAnswer && n.answer <= n.cfg.maxAnswer, 'invariant_bounds_NeverServed', () => `${name}: round ${r} serves ${n.answer} outside [${n.cfg.minAnswer}, ${n.cfg.maxAnswer}]`);
        this.count.invariant_bounds_NeverServed++;
        // -- bounded move --
        if (p.roundId > 0n) {
          const before = this.served[i]!.get(String(p.roundId))!;
          if (deviates(n.answer, before[0], n.cfg.deviationBps)) {
            const resolved = out?.logs.some((l) => l.name === 'BreakerResolved' && l.args[0] === id && l.args[1] === guardianAddr) && kind === 'guardian' && out.from === guardianAddr;
            const confirmed = out?.logs.some((l) => l.name === 'BreakerConfirmed' && l.args[0] === id) && kind === 'report';
            const names: InvariantName[] = kind === 'report' ? ['invariant_served_BoundedMove', 'invariant_breaker_NoOrderingBypass'] : ['invariant_served_BoundedMove'];
            if (resolved) {
              this.authorized.resolved++;
            } else {
              violated(Boolean(confirmed) && witness !== null, names, () => `${name}: round ${r} moved ${before[0]} → ${n.answer} (limit ${n.cfg.deviationBps} bps) without confirmation or guardian (${kind})`);
              const e = witness!.entries;
              const ok = e.length >= n.cfg.confirmations && e.every((x) => x.within) && e[e.length - 1]!.answer === n.answer && e[e.length - 1]!.observedAt === n.observedAt && n.observedAt - witness!.since >= BigInt(n.cfg.confirmationTime);
              violated(ok, names, () => `${name}: round ${r} confirmed ${n.answer} with ${json(e)} since ${witness!.since} (K ${n.cfg.confirmations}, T ${n.cfg.confirmationTime})`);
              this.authorized.confirmed++;
            }
          }
          this.count.invariant_served_BoundedMove++;
        }
      }
      // -- continuity: every readable round is the round served under that id --
      for (const [r, h] of n.history) {
        const seen = this.served[i]!.get(r);
        violated(seen !== undefined && json(seen) === json(h), 'invariant_state_MovesForward', () => `${name}: getRound(${r}) = ${json(h)}, served as ${json(seen)}`);
      }
      // -- a tripped feed never reads as its candidate; the held answer stays the served one --
      if (n.tripped) {
        violated(n.status === 2n || n.status === 3n, 'invariant_breaker_NoOrderingBypass', () => `${name}: tripped but status ${n.status}`);
        violated(n.roundId === 0n || json(this.served[i]!.get(String(n.roundId))?.[0]) === json(n.answer), 'invariant_breaker_NoOrderingBypass', () => `${name}: tripped feed reads ${n.answer}`);
        this.count.invariant_breaker_NoOrderingBypass++;
      }
      // Trips (re)start the witness; leaving the tripped state ends it.
      const trip = out?.logs.filter((l) => l.name === 'BreakerTripped' && l.args[0] === id).pop();
      if (trip) this.witness[i] = { candidate: trip.args[2] as bigint, since: trip.args[3] as bigint, entries: [] };
      else if (!n.tripped) this.witness[i] = null;
    });
    // updateAndRead never returns a tripped candidate or an out-of-bounds answer.
    if (out?.ret) {
      const slot = IDS.indexOf(out.feed ?? '');
      if (slot !== -1) {
        const n = next.feeds[slot]!;
        violated(!n.tripped && out.ret[0] === n.answer, 'invariant_breaker_NoOrderingBypass', () => `updateAndRead returned ${String(out.ret![0])} on ${FEEDS[slot]!.name}`);
      }
    }
  }
}

// -- Commands -----------------------------------------------------------------------------------

interface Real {
  obs: Observer;
  view: View;
  outcomes: Map<string, number>;
}
type Cmd = fc.AsyncCommand<Model, Real>;

function tally(r: Real, key: string): void {
  r.outcomes.set(key, (r.outcomes.get(key) ?? 0) + 1);
}

/** Runs a state-changing step, checks the model's prediction and then every invariant. */
async function step(m: Model, r: Real, kind: 'report' | 'guardian' | 'outsider', what: string, send: (ts: bigint) => Promise<Outcome>, predict: (ts: bigint) => Expect, report?: Report, feed?: string): Promise<void> {
  const ts = m.clock + 1n;
  const want = predict(ts);
  const out = await send(ts);
  out.feed = feed;
  const view = await readView();
  r.obs.check(r.view, view, out, kind, out.ok ? report : undefined);
  r.view = view;
  tally(r, `${what.split('(')[0]}: ${out.ok ? 'ok' : out.error!.name}`);
  for (const l of out.logs) if (l.name !== 'ReportAccepted') tally(r, `event ${l.name}${l.name === 'FeedSkipped' ? `(${['UnknownFeed', 'FeedPaused', 'NotNewer', 'OutOfBounds'][Number(l.args[1])]})` : ''}`);
  expectOutcome(out, want, what);
  Object.assign(m, want.next);
  expectAgrees(m, view, what);
}

type Move = 'small' | 'edge' | 'edge+1' | 'trip' | 'nearCandidate' | 'below' | 'above' | 'atMin' | 'atMax';
type EpochKind = 'next' | 'skip' | 'equal' | 'stale' | 'ahead';
type ObsKind = 'now' | 'older' | 'equalLast' | 'afterLast' | 'future' | 'beyond';

interface ReportSpec {
  entries: { slot: number; move: Move; frac: number; down: boolean }[];
  epoch: EpochKind;
  epochDelta: number;
  obs: ObsKind;
  obsDelta: number;
  spread: number;
  signers: number[];
}

function answerFor(m: Model, slot: number, move: Move, frac: number, down: boolean): bigint {
  const f = m.feeds[slot];
  const spec = FEEDS[slot] ?? FEEDS[0]!;
  const cfg = f?.cfg ?? spec.cfg;
  const ref = move === 'nearCandidate' && f?.tripped ? f.candidate : f ? (served(f)?.answer ?? spec.base) : spec.base;
  const bps = BigInt(cfg.deviationBps || 1000);
  const sign = down ? -1n : 1n;
  const mag = abs(ref);
  switch (move) {
    case 'small':
    case 'nearCandidate':
      return ref + (sign * mag * bps * BigInt(frac % 900)) / 10_000_000n;
    case 'edge':
      return ref + (sign * mag * bps) / 10_000n;
    case 'edge+1':
      return ref + sign * ((mag * bps) / 10_000n + 1n);
    case 'trip':
      return ref + sign * ((mag * bps * BigInt(1050 + (frac % 2000))) / 10_000_000n + 1n);
    case 'below':
      return cfg.minAnswer - 1n - BigInt(frac);
    case 'above':
      return cfg.maxAnswer + 1n + BigInt(frac);
    case 'atMin':
      return cfg.minAnswer;
    case 'atMax':
      return cfg.maxAnswer;
  }
}

function lastOf(m: Model, slots: number[]): bigint {
  let last = 0n;
  for (const s of slots) {
    const f = m.feeds[s];
    if (!f) continue;
    const o = f.tripped ? f.lastAt : (served(f)?.observedAt ?? 0n);
    if (o > last) last = o;
  }
  return last;
}

async function buildReport(m: Model, spec: ReportSpec, ts: bigint): Promise<Report> {
  // protocol/report refuses to encode a feed twice, so honest committees never sign that.
  const entries = spec.entries.filter((e, i) => spec.entries.findIndex((x) => x.slot === e.slot) === i);
  const slots = entries.map((e) => e.slot);
  const epoch =
    spec.epoch === 'next' ? m.epoch + 1n
    : spec.epoch === 'skip' ? m.epoch + BigInt(spec.epochDelta)
    : spec.epoch === 'equal' ? m.epoch
    : spec.epoch === 'ahead' ? (ts + DRIFT + 1n) * 1000n + BigInt(spec.epochDelta) // beyond the hub's clock bound
    : m.epoch - BigInt(spec.epochDelta);
  const last = lastOf(m, slots) || ts;
  const d = BigInt(spec.obsDelta);
  const obs = { now: ts, older: ts - d, equalLast: last, afterLast: last + (d % 90n), future: ts + (d % DRIFT) + 1n, beyond: ts + DRIFT + 1n + d }[spec.obs];
  return {
    configDigest: (await hub.configDigest!()) as string,
    epoch: epoch < 1n ? 1n : epoch,
    observedAt: obs < 1n ? 1n : obs,
    observationsRoot: hexlify(new Uint8Array(32).fill(0xab)),
    observers: 0b1111n,
    feedIds: slots.map(idOf),
    answers: entries.map((e) => answerFor(m, e.slot, e.move, e.frac, e.down)),
    spreadBps: slots.map(() => spec.spread),
  };
}

function describeSpec(s: ReportSpec): string {
  return `${s.entries.map((e) => `${e.slot === 3 ? '?' : FEEDS[e.slot]!.name.slice(0, 3)}:${e.move}${e.down ? '↓' : '↑'}${e.frac}`).join(',')} epoch ${s.epoch}${s.epoch === 'skip' || s.epoch === 'stale' || s.epoch === 'ahead' ? s.epochDelta : ''} obs ${s.obs}${s.obsDelta} signers ${s.signers.join('')}`;
}

class Transmit implements Cmd {
  constructor(
    readonly spec: ReportSpec,
    readonly pull?: { slot: number; maxAge: number },
  ) {}
  check = (): boolean => true;
  async run(m: Model, r: Real): Promise<void> {
    const report = await buildReport(m, this.spec, m.clock + 1n);
    const signature = signReport(c, report, this.spec.signers.map((i) => c.shares[i]!));
    const pull = this.pull ? { slot: this.pull.slot, maxAge: BigInt(this.pull.maxAge) } : undefined;
    await step(
      m,
      r,
      'report',
      `${this.pull ? 'updateAndRead' : 'transmit'}(${describeSpec(this.spec)})`,
      (ts) => (pull ? sendAt(ts, outsider, 'updateAndRead', [report, signature, idOf(pull.slot), pull.maxAge]) : sendAt(ts, outsider, 'transmit', [report, signature])),
      (ts) => expectReport(m, report, true, ts, outsiderAddr, pull),
      report,
      pull ? idOf(pull.slot) : undefined,
    );
    if (m.epoch === report.epoch && report.epoch > (m.accepted[m.accepted.length - 1]?.report.epoch ?? 0n)) m.accepted.push({ report, signature });
  }
  toString = (): string => `${this.pull ? `updateAndRead[${this.pull.slot},maxAge ${this.pull.maxAge}]` : 'transmit'}(${describeSpec(this.spec)})`;
}

/** Resends an accepted report exactly (same epoch and signature). */
class Replay implements Cmd {
  constructor(
    readonly k: number,
    readonly pull: boolean,
  ) {}
  check = (m: Readonly<Model>): boolean => m.accepted.length > 0;
  async run(m: Model, r: Real): Promise<void> {
    const { report, signature } = m.accepted[this.k % m.accepted.length]!;
    const slot = IDS.indexOf(report.feedIds[0]!);
    const pull = this.pull ? { slot: slot === -1 ? 3 : slot, maxAge: 0n } : undefined;
    await step(
      m,
      r,
      'report',
      `replay${this.pull ? 'Pull' : ''}(epoch ${report.epoch})`,
      (ts) => (pull ? sendAt(ts, outsider, 'updateAndRead', [report, signature, idOf(pull.slot), 0n]) : sendAt(ts, outsider, 'transmit', [report, signature])),
      (ts) => expectReport(m, report, true, ts, outsiderAddr, pull),
      report,
      pull ? idOf(pull.slot) : undefined,
    );
  }
  toString = (): string => `replay${this.pull ? 'Pull' : ''}(#${this.k})`;
}

/** A report signed by another committee (valid G1 point, wrong key). */
class Forged implements Cmd {
  constructor(readonly spec: ReportSpec) {}
  check = (): boolean => true;
  async run(m: Model, r: Real): Promise<void> {
    const report = await buildReport(m, this.spec, m.clock + 1n);
    const signature = secretSign(forger.secret, reportMessage(report));
    await step(
      m,
      r,
      'report',
      `forged(${describeSpec(this.spec)})`,
      (ts) => sendAt(ts, outsider, 'transmit', [report, signature]),
      (ts) => expectReport(m, report, false, ts, outsiderAddr),
      report,
    );
  }
  toString = (): string => `forged(${describeSpec(this.spec)})`;
}

class Warp implements Cmd {
  constructor(
    readonly seconds: number,
    readonly pin: boolean,
  ) {}
  check = (): boolean => true;
  async run(m: Model, r: Real): Promise<void> {
    if (this.pin) {
      await anvil.setNextTimestamp(m.clock + BigInt(this.seconds));
      await anvil.provider.send('evm_mine', []);
    } else {
      await anvil.increaseTime(this.seconds);
    }
    const before = m.clock;
    m.clock = await anvil.now();
    if (this.pin) expect(m.clock).toBe(before + BigInt(this.seconds));
    const view = await readView();
    r.obs.check(r.view, view, null, 'time');
    r.view = view;
    expectAgrees(m, view, String(this));
  }
  toString = (): string => `${this.pin ? 'setNextTimestamp' : 'increaseTime'}(+${this.seconds}s)`;
}

/**
 * A run at one feed: optionally trip it, then `steps` reports near the candidate `gap` seconds
 * apart (around K and T), then optionally the guardian's accept or reject.
 */
class ConfirmBurst implements Cmd {
  constructor(
    readonly slot: number,
    readonly trip: boolean,
    readonly steps: { frac: number; down: boolean; gap: number }[],
    readonly then: 'none' | 'accept' | 'reject',
  ) {}
  check = (): boolean => true;
  async run(m: Model, r: Real): Promise<void> {
    const one = (move: Move, frac: number, down: boolean): ReportSpec => ({ entries: [{ slot: this.slot, move, frac, down }], epoch: 'next', epochDelta: 1, obs: 'now', obsDelta: 1, spread: 7, signers: [3, 1, 0] });
    if (this.trip) await new Transmit(one('trip', 500, false)).run(m, r);
    for (const s of this.steps) {
      if (s.gap > 1) await new Warp(s.gap - 1, true).run(m, r);
      await new Transmit(one('nearCandidate', s.frac, s.down)).run(m, r);
    }
    const none: CfgChange = { dev: 'keep', conf: 'keep', time: 'keep', bounds: 'keep', staleness: 'keep', capacity: false };
    if (this.then !== 'none') await new GuardianCall('resolveBreaker', this.slot, this.then === 'accept', none).run(m, r);
  }
  toString = (): string => `burst(${this.slot}${this.trip ? ', trip' : ''}, ${this.steps.map((s) => `+${s.gap}s:${s.down ? '-' : '+'}${s.frac}`).join(' ')}, ${this.then})`;
}

type GuardianFn = 'setFeedPaused' | 'resolveBreaker' | 'configureFeed' | 'pause' | 'unpause' | 'addFeed' | 'setGuardian';

interface CfgChange {
  dev: 'keep' | number;
  conf: 'keep' | number;
  time: 'keep' | number;
  bounds: 'keep' | 'original' | 'tight' | 'invalid';
  staleness: 'keep' | 0 | 600 | 3600;
  capacity: boolean;
}

function changedConfig(m: Model, slot: number, ch: CfgChange): FeedConfig {
  const f = m.feeds[slot];
  const spec = FEEDS[slot] ?? FEEDS[0]!;
  const cfg = { ...(f?.cfg ?? spec.cfg) };
  if (ch.dev !== 'keep') cfg.deviationBps = ch.dev;
  if (ch.conf !== 'keep') cfg.confirmations = ch.conf;
  if (ch.time !== 'keep') cfg.confirmationTime = ch.time;
  if (ch.staleness !== 'keep') cfg.maxStaleness = ch.staleness;
  if (ch.capacity) cfg.historyCapacity += 1;
  if (ch.bounds === 'original') [cfg.minAnswer, cfg.maxAnswer] = [spec.cfg.minAnswer, spec.cfg.maxAnswer];
  if (ch.bounds === 'invalid') cfg.minAnswer = cfg.maxAnswer;
  if (ch.bounds === 'tight') {
    // ±5 % around the served answer: a held candidate usually falls outside.
    const ref = (f && served(f)?.answer) ?? spec.base;
    const w = abs(ref) / 20n + 1n;
    [cfg.minAnswer, cfg.maxAnswer] = [ref - w, ref + w];
  }
  return cfg;
}

/** The guardian's rules (errors in the hub's check order) and effects. */
function expectGuardian(m0: Model, fn: GuardianFn, slot: number, arg: boolean, cfg: FeedConfig, ts: bigint): Expect {
  const m = clone(m0);
  m.clock = ts;
  const id = idOf(slot);
  const f = m.feeds[slot];
  const fail = (...e: [string, ...unknown[]]): Expect => ({ error: e, events: [], next: { ...m0, clock: ts } });
  const events: Ev[] = [];
  switch (fn) {
    case 'pause':
    case 'unpause':
      m.paused = fn === 'pause';
      events.push(['HubPauseChanged', guardianAddr, m.paused]);
      break;
    case 'setFeedPaused':
      if (!f) return fail('FeedUnknown', id);
      f.paused = arg;
      events.push(['FeedPauseChanged', id, guardianAddr, arg]);
      break;
    case 'resolveBreaker':
      if (!f) return fail('FeedUnknown', id);
      if (!f.tripped) return fail('BreakerNotTripped', id);
      if (arg) {
        if (!inBounds(f, f.candidate)) return fail('CandidateOutOfBounds', id, f.candidate, f.cfg.minAnswer, f.cfg.maxAnswer);
        events.push(['BreakerResolved', id, guardianAddr, serve(f, { answer: f.candidate, observedAt: f.since, spread: f.candSpread }), f.candidate]);
      } else {
        f.tripped = false;
        events.push(['BreakerRejected', id, guardianAddr, f.candidate]);
      }
      break;
    case 'configureFeed':
      if (!f) return fail('FeedUnknown', id);
      if (cfg.historyCapacity !== f.cfg.historyCapacity) return fail('HistoryCapacityFixed', BigInt(cfg.historyCapacity), BigInt(f.cfg.historyCapacity));
      if (cfg.minAnswer >= cfg.maxAnswer) return fail('InvalidBounds', cfg.minAnswer, cfg.maxAnswer);
      if (cfg.maxStaleness === 0) return fail('InvalidMaxStaleness', 0n);
      if (cfg.deviationBps !== 0 && cfg.confirmations === 0) return fail('InvalidBreaker', BigInt(cfg.deviationBps), BigInt(cfg.confirmations));
      f.cfg = cfg;
      events.push(['FeedConfigured', id, guardianAddr]);
      break;
    default:
      throw new Error(`no guardian model for ${fn}`);
  }
  return { events, next: m };
}

class GuardianCall implements Cmd {
  constructor(
    readonly fn: GuardianFn,
    readonly slot: number,
    readonly arg: boolean,
    readonly change: CfgChange,
  ) {}
  check = (): boolean => true;
  args(m: Model): unknown[] {
    const id = idOf(this.slot);
    switch (this.fn) {
      case 'pause':
      case 'unpause':
        return [];
      case 'setFeedPaused':
      case 'resolveBreaker':
        return [id, this.arg];
      case 'configureFeed':
        return [id, changedConfig(m, this.slot, this.change)];
      case 'addFeed':
        return [UNKNOWN, FEEDS[0]!.cfg];
      case 'setGuardian':
        return [outsiderAddr];
    }
  }
  async run(m: Model, r: Real): Promise<void> {
    const args = this.args(m);
    const cfg = changedConfig(m, this.slot, this.change);
    await step(
      m,
      r,
      'guardian',
      `guardian.${this}`,
      (ts) => sendAt(ts, guardian, this.fn, args),
      (ts) => expectGuardian(m, this.fn, this.slot, this.arg, cfg, ts),
    );
  }
  toString = (): string => `${this.fn}(${this.slot}${this.fn === 'configureFeed' ? `, ${json(this.change)}` : `, ${this.arg}`})`;
}

/** Any guardian function, from an address that is not the guardian. */
class OutsiderCall extends GuardianCall {
  override async run(m: Model, r: Real): Promise<void> {
    const args = this.args(m);
    await step(
      m,
      r,
      'outsider',
      String(this),
      (ts) => sendAt(ts, outsider, this.fn, args),
      (ts) => ({ error: ['NotGuardian', outsiderAddr, guardianAddr], events: [], next: { ...m, clock: ts } }),
    );
  }
  override toString = (): string => `outsider.${this.fn}(${this.slot})`;
}

// -- Arbitraries --------------------------------------------------------------------------------

const slotArb = fc.integer({ min: 0, max: 12 }).map((x) => (x === 12 ? 3 : x % 3));
const moveArb: fc.Arbitrary<Move> = fc.oneof(
  { weight: 6, arbitrary: fc.constant<Move>('small') },
  { weight: 4, arbitrary: fc.constant<Move>('trip') },
  { weight: 4, arbitrary: fc.constant<Move>('nearCandidate') },
  { weight: 1, arbitrary: fc.constantFrom<Move>('edge', 'edge+1', 'below', 'above', 'atMin', 'atMax') },
);
const specArb: fc.Arbitrary<ReportSpec> = fc.record({
  entries: fc.array(fc.record({ slot: slotArb, move: moveArb, frac: fc.nat(3000), down: fc.boolean() }), { minLength: 1, maxLength: 4 }),
  epoch: fc.oneof({ weight: 8, arbitrary: fc.constant<EpochKind>('next') }, { weight: 1, arbitrary: fc.constantFrom<EpochKind>('skip', 'equal', 'stale', 'ahead') }),
  epochDelta: fc.integer({ min: 1, max: 1000 }),
  obs: fc.oneof({ weight: 4, arbitrary: fc.constant<ObsKind>('now') }, { weight: 3, arbitrary: fc.constant<ObsKind>('afterLast') }, { weight: 2, arbitrary: fc.constantFrom<ObsKind>('older', 'equalLast', 'future', 'beyond') }),
  obsDelta: fc.integer({ min: 1, max: 700 }),
  spread: fc.constantFrom(0, 5, 40, 300),
  signers: fc.shuffledSubarray([0, 1, 2, 3], { minLength: 3, maxLength: 3 }),
});
const changeArb: fc.Arbitrary<CfgChange> = fc.record({
  dev: fc.constantFrom<CfgChange['dev']>('keep', 'keep', 0, 300, 1000, 2500),
  conf: fc.constantFrom<CfgChange['conf']>('keep', 'keep', 0, 1, 2, 3),
  time: fc.constantFrom<CfgChange['time']>('keep', 0, 30, 120),
  bounds: fc.constantFrom<CfgChange['bounds']>('keep', 'keep', 'original', 'tight', 'invalid'),
  staleness: fc.constantFrom<CfgChange['staleness']>('keep', 'keep', 'keep', 0, 600, 3600),
  capacity: fc.nat(5).map((x) => x === 0),
});
// Hub pauses are rare and short (a paused hub rejects every report); unpause also when not paused.
const guardianFnArb = fc.oneof(
  { weight: 3, arbitrary: fc.constant<GuardianFn>('setFeedPaused') },
  { weight: 5, arbitrary: fc.constant<GuardianFn>('resolveBreaker') },
  { weight: 5, arbitrary: fc.constant<GuardianFn>('configureFeed') },
  { weight: 1, arbitrary: fc.constant<GuardianFn>('pause') },
  { weight: 3, arbitrary: fc.constant<GuardianFn>('unpause') },
);
const outsiderFnArb = fc.constantFrom<GuardianFn>('setFeedPaused', 'resolveBreaker', 'configureFeed', 'pause', 'unpause', 'addFeed', 'setGuardian');
const w = <T,>(weight: number, arbitrary: fc.Arbitrary<T>): { weight: number; arbitrary: fc.Arbitrary<T> } => ({ weight, arbitrary });

const commands: fc.Arbitrary<Cmd>[] = [
  fc.oneof(
    w(10, specArb.map((s) => new Transmit(s) as Cmd)),
    w(3, fc.tuple(specArb, slotArb, fc.constantFrom(0, 0, 30, 300, 5000)).map(([s, slot, maxAge]) => new Transmit(s, { slot, maxAge }) as Cmd)),
    w(1, fc.tuple(fc.nat(100), fc.boolean()).map(([k, p]) => new Replay(k, p) as Cmd)),
    w(1, specArb.map((s) => new Forged(s) as Cmd)),
    w(
      3,
      fc
        .tuple(fc.nat(2), fc.boolean(), fc.array(fc.record({ frac: fc.nat(899), down: fc.boolean(), gap: fc.constantFrom(1, 10, 25, 40, 70) }), { minLength: 1, maxLength: 4 }), fc.constantFrom<ConfirmBurst['then']>('none', 'none', 'accept', 'reject'))
        .map(([slot, trip, steps, then]) => new ConfirmBurst(slot, trip, steps, then) as Cmd),
    ),
    w(3, fc.tuple(fc.oneof(fc.integer({ min: 1, max: 90 }), fc.integer({ min: 100, max: 700 }), fc.integer({ min: 850, max: 4000 })), fc.boolean()).map(([s, pin]) => new Warp(s, pin) as Cmd)),
    w(5, fc.tuple(guardianFnArb, slotArb, fc.boolean(), changeArb).map(([fn, slot, arg, ch]) => new GuardianCall(fn, slot, arg, ch) as Cmd)),
    w(2, fc.tuple(outsiderFnArb, slotArb, fc.boolean(), changeArb).map(([fn, slot, arg, ch]) => new OutsiderCall(fn, slot, arg, ch) as Cmd)),
  ),
];

// -- Setup --------------------------------------------------------------------------------------

function freshModel(clock: bigint, epoch: bigint, rounds: Round[][]): Model {
  return {
    epoch,
    paused: false,
    clock,
    accepted: [],
    feeds: FEEDS.map((f, i) => ({ cfg: { ...f.cfg }, paused: false, rounds: [...rounds[i]!], tripped: false, candidate: 0n, since: 0n, lastAt: 0n, candSpread: 0n, seen: 0 })),
  };
}
let baseRounds: Round[][];

beforeAll(async () => {
  const compiled = compileContracts();
  anvil = await startAnvil();
  try {
    c = testCommittee(4);
    forger = testCommittee(4);
    guardian = await anvil.signer(0);
    outsider = await anvil.signer(1);
    guardianAddr = await guardian.getAddress();
    outsiderAddr = await outsider.getAddress();
    hub = await deployHub(guardian, c, { compiled, maxFutureDrift: Number(DRIFT), maxReportAge: Number(AGE) });
    for (let i = 0; i < FEEDS.length; i++) await (await hub.addFeed!(IDS[i]!, FEEDS[i]!.cfg)).wait();
    // The first two feeds start served (breakers armed); the index starts empty (first round).
    const now = await anvil.now();
    const first: Report = {
      configDigest: (await hub.configDigest!()) as string,
      epoch: 1n,
      observedAt: now,
      observationsRoot: hexlify(new Uint8Array(32).fill(0xab)),
      observers: 0b1111n,
      feedIds: [IDS[0]!, IDS[1]!],
      answers: [FEEDS[0]!.base, FEEDS[1]!.base],
      spreadBps: [5, 5],
    };
    await (await hub.transmit!(first, signReport(c, first))).wait();
    baseClock = await anvil.now();
    baseEpoch = 1n;
    baseRounds = [[{ answer: FEEDS[0]!.base, observedAt: now, spread: 5n }], [{ answer: FEEDS[1]!.base, observedAt: now, spread: 5n }], []];
    base = (await anvil.provider.send('evm_snapshot', [])) as string;
  } catch (err) {
    await anvil.stop();
    throw err;
  }
}, 120_000);
afterAll(async () => {
  await anvil?.stop();
});

async function restore(): Promise<{ m: Model; r: Real }> {
  await anvil.provider.send('evm_revert', [base]);
  base = (await anvil.provider.send('evm_snapshot', [])) as string;
  expect(await anvil.now()).toBe(baseClock);
  const m = freshModel(baseClock, baseEpoch, baseRounds);
  const view = await readView();
  expectAgrees(m, view, 'initial state');
  return { m, r: { obs: new Observer(view), view, outcomes: new Map() } };
}

// -- Tests --------------------------------------------------------------------------------------

interface Campaign {
  failure: unknown;
  counterexample: string;
  counts: Record<InvariantName, number>;
  authorized: { confirmed: number; resolved: number };
  outcomes: Map<string, number>;
}
let campaign: Campaign | undefined;

function campaignFailure(name?: InvariantName): string | null {
  const f = campaign?.failure;
  if (!f) return null;
  const mine = f instanceof InvariantViolation ? (name ? f.names.includes(name) : false) : name === undefined;
  return mine ? `${(f as Error).message}\ncounterexample: ${campaign!.counterexample}` : null;
}

describe('AegisHub invariants under random command sequences (anvil, threshold-BLS reports)', () => {
  it('runs the command sequences; the model predicts every revert, event, return and state', async () => {
    const counts = Object.fromEntries(INVARIANTS.map((n) => [n, 0])) as Record<InvariantName, number>;
    const authorized = { confirmed: 0, resolved: 0 };
    const outcomes = new Map<string, number>();
    const result = await fc.check(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 40, size: 'max' }), async (cmds) => {
        const { m, r } = await restore();
        try {
          await fc.asyncModelRun(() => ({ model: m, real: r }), cmds);
        } finally {
          for (const n of INVARIANTS) counts[n] += r.obs.count[n];
          authorized.confirmed += r.obs.authorized.confirmed;
          authorized.resolved += r.obs.authorized.resolved;
          for (const [k, v] of r.outcomes) outcomes.set(k, (outcomes.get(k) ?? 0) + v);
        }
        if (VERBOSE) console.log(String(cmds));
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
    campaign = {
      failure: result.failed ? (result.errorInstance ?? new Error('property failed without an error')) : null,
      counterexample: result.failed ? `${String(result.counterexample?.[0])} (seed ${result.seed}, path ${result.counterexample ? result.counterexamplePath : ''})` : '',
      counts,
      authorized,
      outcomes,
    };
    console.log(`hub invariants: ${RUNS} runs; checks ${json(counts)}; tripping moves served by confirmation ${authorized.confirmed}, by guardian ${authorized.resolved}`);
    console.log([...outcomes].sort().map(([k, v]) => `${k} ×${v}`).join('; '));
    const own = campaignFailure();
    if (own) throw new Error(own);
  }, 600_000);

  it.each(INVARIANTS.filter((n) => n !== 'invariant_breaker_NoOrderingBypass'))('%s', (name) => {
    expect(campaign, 'the command-sequence campaign ran').toBeDefined();
    const failure = campaignFailure(name);
    if (failure) throw new Error(failure);
    expect(campaign!.counts[name], `${name} was exercised`).toBeGreaterThan(0);
    // The sequences must reach the exceptions the bounded move allows.
    if (name === 'invariant_served_BoundedMove' && !campaign!.failure) expect(campaign!.authorized.confirmed + campaign!.authorized.resolved).toBeGreaterThan(0);
  });

  it('invariant_breaker_NoOrderingBypass', async () => {
    expect(campaign, 'the command-sequence campaign ran').toBeDefined();
    const failure = campaignFailure('invariant_breaker_NoOrderingBypass');
    if (failure) throw new Error(failure);
    // Every ordering of one pool of signed reports around a trip: level holds, candidate
    // confirmations, returns, other candidates, duplicates and equal observedAt, with fresh
    // epochs or exact replays. The observer accepts a served tripping move only with K later
    // reports within the limit of the candidate spanning T (or the guardian, not used here).
    const S = FEEDS[0]!.base;
    const item = fc.record({
      answer: fc.constantFrom(S, S + S / 50n, S - S / 20n, (S * 13n) / 10n, (S * 13n) / 10n + S / 100n, (S * 13n) / 10n - S / 40n, (S * 16n) / 10n, (S * 7n) / 10n),
      at: fc.constantFrom(10n, 20n, 30n, 30n, 60n, 61n, 90n, 130n),
      replay: fc.nat(3).map((x) => x === 0),
    });
    let moved = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(item, { minLength: 2, maxLength: 9 }), async (seq) => {
        const { m, r } = await restore();
        await new Warp(100, true).run(m, r); // observedAt up to base + 160 within the drift
        const sent: { report: Report; signature: Uint8Array }[] = [];
        for (const it of seq) {
          const prior = sent[sent.length - 1];
          const ts = m.clock + 1n;
          let report: Report;
          let signature: Uint8Array;
          if (it.replay && prior) ({ report, signature } = prior);
          else {
            report = { ...(await buildReport(m, { entries: [], epoch: 'next', epochDelta: 1, obs: 'now', obsDelta: 1, spread: 5, signers: [0, 1, 2] }, ts)), feedIds: [IDS[0]!], answers: [it.answer], spreadBps: [5], observedAt: baseClock + it.at };
            signature = signReport(c, report, c.shares.slice(1));
            sent.push({ report, signature });
          }
          await step(m, r, 'report', `ordering(${it.answer}@+${it.at}${it.replay ? ' replay' : ''})`, (t) => sendAt(t, outsider, 'transmit', [report, signature]), (t) => expectReport(m, report, true, t, outsiderAddr), report);
          if (r.view.feeds[0]!.roundId > 1n) moved++;
        }
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
    expect(campaign!.counts.invariant_breaker_NoOrderingBypass + moved).toBeGreaterThan(0);
  }, 300_000);

  it('regression: the guardian cannot accept a held candidate outside the bounds configured since the trip', async () => {
    const { m, r } = await restore();
    // Trip AAA/USD to +30 %, then narrow its bounds to ±5 % of the served answer.
    await new Transmit({ entries: [{ slot: 0, move: 'trip', frac: 1950, down: false }], epoch: 'next', epochDelta: 1, obs: 'now', obsDelta: 1, spread: 5, signers: [0, 1, 2] }).run(m, r);
    expect(m.feeds[0]!.tripped).toBe(true);
    await new GuardianCall('configureFeed', 0, false, { dev: 'keep', conf: 'keep', time: 'keep', bounds: 'tight', staleness: 'keep', capacity: false }).run(m, r);
    expect(m.feeds[0]!.candidate > m.feeds[0]!.cfg.maxAnswer).toBe(true);
    // Accepting would serve an answer outside [minAnswer, maxAnswer]: refused, nothing served.
    await new GuardianCall('resolveBreaker', 0, true, { dev: 'keep', conf: 'keep', time: 'keep', bounds: 'keep', staleness: 'keep', capacity: false }).run(m, r);
    expect(r.view.feeds[0]!.roundId).toBe(1n);
    expect(r.view.feeds[0]!.tripped).toBe(true);
    // Rejecting still works, and so does accepting once the bounds admit the candidate.
    await new GuardianCall('configureFeed', 0, false, { dev: 'keep', conf: 'keep', time: 'keep', bounds: 'original', staleness: 'keep', capacity: false }).run(m, r);
    await new GuardianCall('resolveBreaker', 0, true, { dev: 'keep', conf: 'keep', time: 'keep', bounds: 'keep', staleness: 'keep', capacity: false }).run(m, r);
    expect(r.view.feeds[0]!.roundId).toBe(2n);
  }, 60_000);
});
