/**
 * The scenario's attackers in a run (sim/attack has their models): venue pushes and wash
 * trading stepped by the step loop, Byzantine and unreachable nodes behind the node clients,
 * and the attacks on the hub after a round: a compromised aggregator (forged, altered,
 * replayed, held-back and equivocated reports) and stolen key shares below t
 * (docs/design.md §Trust model, docs/threat-model.md).
 *
 * `attackPlans` and `nodeFaultsOf` are pure; `ChainAttacker` sends to the hub.
 */
import { hexlify, type Contract } from 'ethers';
import { reportMessage, type DealerOutput, type NodeHandlers, type Report } from '../../protocol/index.ts';
import type { VenueId } from '../../node/sources/index.ts';
import type { RoundResult, SignedReport } from '../../aggregator/round/index.ts';
import { equivocationRequest, forgeSignature, moveBps, stolenShareSignature, tryTransmit, type ByzantineSpec, type NodeFaults, type PushPlan, type WashPlan } from '../attack/index.ts';
import type { Attack, Scenario } from '../scenario/schema.ts';
import type { BlockClock } from './clock.ts';
import type { RunLog } from './events.ts';
import { attackedVenues } from './market.ts';

type AggregatorAttack = Extract<Attack, { kind: 'aggregator' }>;
type StolenSharesAttack = Extract<Attack, { kind: 'stolen-shares' }>;

/** One shot of an attack with `atSec` times: attack `i` of the scenario, at `at`, done once fired. */
export interface Shot<A> {
  i: number;
  a: A;
  at: number;
  done: boolean;
}

export interface AttackPlans {
  pushes: PushPlan[];
  washes: WashPlan[];
  /** Byzantine nodes by committee index: nodes 1..k of each `byzantine` attack. */
  byzantine: Map<number, ByzantineSpec>;
  /** Unreachable nodes: the last k of each `dos-nodes` attack. */
  downs: { nodes: Set<number>; fromSec: number; toSec: number }[];
  aggregator: Shot<AggregatorAttack>[];
  stolen: Shot<StolenSharesAttack>[];
}

/**
 * What each attack of the scenario does, in scenario order; labels are `<index>:<kind>`. An
 * expiry push is held from `beforeSec` before the option's expiry to `afterSec` after it.
 * `dos-sources` attacks are venue faults (market.ts, `venueFaults`).
 */
export function attackPlans(s: Pick<Scenario, 'attacks' | 'market' | 'oracle' | 'settlement'>): AttackPlans {
  const venueIds: VenueId[] = s.market.venues.map((v) => v.id);
  const n = s.oracle.nodes;
  const plans: AttackPlans = { pushes: [], washes: [], byzantine: new Map(), downs: [], aggregator: [], stolen: [] };
  s.attacks.forEach((a, i) => {
    const label = `${i}:${a.kind}`;
    if (a.kind === 'pump' || a.kind === 'crash') {
      plans.pushes.push({ label, venues: attackedVenues(a.venues, venueIds), targetBps: moveBps(a.movePct, a.kind === 'pump' ? 'up' : 'down'), fromSec: a.fromSec, toSec: a.toSec, rampSec: a.rampSec, ...(a.budgetUsd !== undefined ? { budgetUsd: a.budgetUsd } : {}) });
    } else if (a.kind === 'liquidation-hunt') {
      plans.pushes.push({ label, venues: attackedVenues(a.venues, venueIds), targetBps: moveBps(a.movePct, a.direction), fromSec: a.fromSec, toSec: a.toSec, rampSec: a.rampSec, ...(a.budgetUsd !== undefined ? { budgetUsd: a.budgetUsd } : {}) });
    } else if (a.kind === 'expiry-push') {
      const e = s.settlement.option!.expirySec;
      plans.pushes.push({ label, venues: attackedVenues(a.venues, venueIds), targetBps: moveBps(a.movePct, a.direction), fromSec: Math.max(0, e - a.beforeSec), toSec: e + a.afterSec, rampSec: Math.min(60, a.beforeSec), ...(a.budgetUsd !== undefined ? { budgetUsd: a.budgetUsd } : {}) });
    } else if (a.kind === 'wash') {
      plans.washes.push({ label, venues: attackedVenues(a.venues, venueIds), usdPerDay: a.usdPerDay, fromSec: a.fromSec, toSec: a.toSec });
    } else if (a.kind === 'byzantine') {
      for (let k = 1; k <= a.nodes; k++) {
        plans.byzantine.set(k, { strategy: a.strategy, factor: a.factor ?? 10, biasBps: a.biasBps ?? Math.floor(s.oracle.sanityBandBps * 0.95), fromSec: a.fromSec, toSec: a.toSec });
      }
    } else if (a.kind === 'dos-nodes') {
      plans.downs.push({ nodes: new Set(Array.from({ length: a.nodes }, (_, k) => n - k)), fromSec: a.fromSec, toSec: a.toSec });
    }
  });
  plans.aggregator = s.attacks.flatMap((a, i) => (a.kind === 'aggregator' ? a.atSec.map((at) => ({ i, a, at, done: false })) : []));
  plans.stolen = s.attacks.flatMap((a, i) => (a.kind === 'stolen-shares' ? a.atSec.map((at) => ({ i, a, at, done: false })) : []));
  return plans;
}

/**
 * The node faults at chain time `absSec` (the node clients' clock): a Byzantine strategy or
 * unreachability is active in [fromSec, toSec) of the run, which starts at `t0Sec`.
 */
export function nodeFaultsOf(plans: Pick<AttackPlans, 'byzantine' | 'downs'>, t0Sec: number, note: (tSec: number, what: string) => void): NodeFaults {
  const rel = (absSec: number) => absSec - t0Sec;
  return {
    byzantine: (index, absSec) => {
      const b = plans.byzantine.get(index);
      const r = rel(absSec);
      return b && r >= b.fromSec && r < b.toSec ? b : undefined;
    },
    down: (index, absSec) => plans.downs.some((d) => d.nodes.has(index) && rel(absSec) >= d.fromSec && rel(absSec) < d.toSec),
    note: (absSec, index, what) => note(rel(absSec), `node ${index} ${what}`),
  };
}

export interface ChainAttackerDeps {
  hub: Contract;
  /** The hub connected to the attacker's account. */
  hubA: Contract;
  feedId: string;
  digest: string;
  n: number;
  t: number;
  dealt: DealerOutput;
  /** The run's start on the chain (t = 0). */
  t0Sec: number;
  clock: BlockClock;
  nowSec: () => number;
  log: RunLog;
  /** Records the hub's events of a mined transaction. */
  record: (txHash: string, tSec: number) => Promise<void>;
  truth: (tSec: number) => number;
  toAnswer: (price: number) => bigint;
  handlers: readonly { index: number; handlers: NodeHandlers }[];
  faults: NodeFaults;
}

/**
 * The attacks on the hub, acting after each round (`afterRound`). A held-back report makes the
 * aggregator post nothing until its release (`suppressing`), then goes to the hub in place of
 * that round's report (`releaseHeld`).
 */
export class ChainAttacker {
  #held: { report: SignedReport; releaseSec: number } | undefined;

  constructor(
    private readonly plans: Pick<AttackPlans, 'aggregator' | 'stolen'>,
    private readonly x: ChainAttackerDeps,
  ) {}

  /** Whether a held-back report keeps the aggregator from posting at `tSec`. */
  suppressing(tSec: number): boolean {
    return this.#held !== undefined && tSec < this.#held.releaseSec;
  }

  /** Fires the aggregator and stolen-share attacks due at `tSec`; `signedHistory` is the aggregator's before this round. */
  async afterRound(tSec: number, result: RoundResult, signedHistory: readonly SignedReport[]): Promise<void> {
    const { hub, feedId, digest, n, t, log, nowSec, truth, toAnswer } = this.x;
    for (const x of this.plans.aggregator) {
      if (x.done || tSec < x.at) continue;
      x.done = true;
      const a = x.a;
      const truthAnswer = toAnswer(truth(tSec) * (1 + a.movePct / 100));
      const latest = BigInt(await hub.getFunction('latestEpoch')());
      if (a.mode === 'forged') {
        const report: Report = { configDigest: digest, epoch: latest + 1n, observedAt: BigInt(nowSec()), observationsRoot: hexlify(new Uint8Array(32)), observers: (1n << BigInt(n)) - 1n, feedIds: [feedId], answers: [truthAnswer], spreadBps: [0] };
        await this.#try(tSec, `aggregator forged a report at ${a.movePct}% (own key)`, report, forgeSignature(reportMessage(report)));
      } else if (a.mode === 'altered' && result.signed) {
        const report = { ...result.signed.report, answers: [truthAnswer] };
        await this.#try(tSec, `aggregator altered a signed report to ${a.movePct}%`, report, result.signed.signatureEvm);
      } else if (a.mode === 'replayed' && signedHistory.length > 0) {
        const old = signedHistory[0]!;
        await this.#try(tSec, `aggregator replayed the report of epoch ${old.report.epoch}`, old.report, old.signatureEvm);
      } else if (a.mode === 'stale' && result.signed) {
        this.#held = { report: result.signed, releaseSec: tSec + a.delaySec };
        log.noteAttack(tSec, `aggregator holds the report of epoch ${result.signed.report.epoch} and posts nothing for ${a.delaySec}s`);
      } else if (a.mode === 'equivocate' && result.signed) {
        const honestNodes = this.x.handlers.filter((h) => !this.x.faults.byzantine(h.index, nowSec()));
        const r = await equivocationRequest(honestNodes, result.signed.report, result.signed.observations);
        log.noteAttack(tSec, `aggregator asked ${honestNodes.length} nodes to sign a second report for epoch ${result.signed.report.epoch}`);
        for (const [code, count] of Object.entries(r.refusals)) log.fired(tSec, 'node refused to sign', `${code} ×${count}`);
        if (r.signed >= t) {
          log.forgedAccepted++;
          log.noteAttack(tSec, `equivocation: ${r.signed} nodes signed a second report (≥ t)`);
        }
      }
    }
    for (const x of this.plans.stolen) {
      if (x.done || tSec < x.at) continue;
      x.done = true;
      const latest = BigInt(await hub.getFunction('latestEpoch')());
      const report: Report = { configDigest: digest, epoch: latest + 1n, observedAt: BigInt(nowSec()), observationsRoot: hexlify(new Uint8Array(32)), observers: (1n << BigInt(n)) - 1n, feedIds: [feedId], answers: [toAnswer(truth(tSec) * (1 + x.a.movePct / 100))], spreadBps: [0] };
      const sig = stolenShareSignature(this.x.dealt.shares.slice(0, x.a.shares), t, n, reportMessage(report));
      await this.#try(tSec, `${x.a.shares} stolen shares (t=${t}) signed a report at ${x.a.movePct}%`, report, sig);
    }
  }

  /** Posts a held-back report whose release is due; true if it did (the round posts nothing else). */
  async releaseHeld(tSec: number): Promise<boolean> {
    if (!this.#held || tSec < this.#held.releaseSec) return false;
    const { clock, log } = this.x;
    const held = this.#held.report;
    this.#held = undefined;
    log.noteAttack(tSec, `aggregator posts the held report of epoch ${held.report.epoch} (observed ${tSec - (Number(held.report.observedAt) - this.x.t0Sec)}s ago)`);
    await clock.nextTx();
    const r = await tryTransmit(this.x.hubA, held.report, held.signatureEvm);
    if (r.accepted) await this.x.record(r.txHash!, tSec);
    else {
      clock.unmined();
      log.fired(tSec, 'hub rejected report', `stale report: ${r.error?.split('(')[0]}`);
    }
    return true;
  }

  /** A report the attacker made or tampered with: sent if the hub would take it, counted as forged if it did. */
  async #try(tSec: number, what: string, report: Report, signature: Uint8Array | string): Promise<void> {
    const { clock, log } = this.x;
    log.noteAttack(tSec, what);
    await clock.nextTx();
    const r = await tryTransmit(this.x.hubA, report, signature);
    if (r.accepted) {
      log.forgedAccepted++;
      await this.x.record(r.txHash!, tSec);
      log.noteAttack(tSec, `${what}: ACCEPTED by the hub`);
    } else {
      clock.unmined();
      log.fired(tSec, 'hub rejected report', `${what}: ${r.error?.split('(')[0] ?? 'reverted'}`);
    }
  }
}
