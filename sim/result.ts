/**
 * The result of one run and the verdict. Plain data (JSON-safe), in the order a reader asks:
 * did the attack work, what did it cost, how far did the served price move, which defence
 * fired when, and who got paid what.
 *
 * Verdict:
 *  - `breached`  the served (usable) on-chain price left the truth by more than the
 *                scenario's tolerance, or a report not signed by the committee was accepted,
 *                or a position was liquidated that the true price did not justify even
 *                allowing for the oracle's stated resolution (posting threshold, the round's
 *                spread, venue noise), or an attack paid (gain from the settlement contracts
 *                above spend; a run without an attacker has no attack to pay);
 *  - `degraded`  none of that, but the feed was unusable (tripped, suspended, stale or
 *                silent) for part of the run: the defences held by refusing to serve;
 *
 * A liquidation the true price misses by less than the oracle's resolution is reported as
 * "early within the oracle's resolution", never as a breach: no oracle resolves finer than
 * its posting threshold. One the true price misses by more is "on a manipulated price" when
 * the scenario has an attacker, "on an oracle error" when it has none.
 *  - `defended`  none of that, and the feed stayed usable.
 */
import type { Scenario } from './scenario/schema.ts';
import type { Ledger } from './attack/index.ts';

export interface Sample {
  tSec: number;
  truth: number;
  venues: Record<string, number | null>;
  /** Last answer stored on the hub (null before the first round). */
  served: number | null;
  status: string;
  /** Whether a consumer with the scenario's maximum age could read it. */
  usable: boolean;
  spendUsd: number;
  age: number | null;
}

export interface DefenceEvent {
  defence: string;
  detail: string;
  firstSec: number;
  lastSec: number;
  count: number;
}

export interface PartyPayout {
  party: string;
  address: string;
  depositedUsd: number;
  finalUsd: number;
  netUsd: number;
}

export interface LiquidationRecord {
  tSec: number;
  trader: string;
  price: number;
  truePrice: number;
  /** The true price alone made the position liquidatable. */
  justified: boolean;
  /** The oracle's resolution at that moment, percent, and what it is made of. */
  resolution: { pct: number; postingThresholdPct: number; spreadBps: number; venueNoiseBps: number };
  /** The true price moved by at most the resolution made it liquidatable. */
  withinResolution: boolean;
  /** `justified`, `early within resolution`, `manipulated price` (an attacker ran) or `oracle error` (none did). */
  judgement: 'justified' | 'early within resolution' | 'manipulated price' | 'oracle error';
}

export interface OptionRecord {
  tSec: number;
  outcome: string;
  roundPrice?: number;
  truePriceAtExpiry?: number;
  holderPayoutUsd: number;
  honestPayoutUsd: number;
}

export type Verdict = 'defended' | 'degraded' | 'breached';

export interface RunResult {
  scenario: string;
  description: string;
  incident?: Scenario['incident'];
  seed: number;
  transport: string;
  committee: { n: number; t: number };
  verdict: Verdict;
  reasons: string[];
  expectations: { field: string; expected: unknown; actual: unknown; ok: boolean }[];
  attacker: { spendUsd: number; notionalUsd: number; byAttack: Ledger['byAttack']; gainUsd: number; profitUsd: number; pays: boolean; actions: DefenceEvent[] };
  served: {
    maxDeviationPct: number;
    maxDeviationAtSec: number | null;
    unusableSec: number;
    /** Longest continuous time a usable served price was more than `tolerancePct` from the truth, seconds. */
    maxUsableOffSec: number;
    /** The scenario's tolerance, percent, that `maxUsableOffSec` and the verdict use. */
    tolerancePct: number;
    /** Time the hub served the feed as suspended by the committee, seconds. */
    suspendedSec: number;
    reportsAccepted: number;
    forgedAccepted: number;
    rounds: number;
  };
  defences: DefenceEvent[];
  breakerEvents: { tSec: number; event: string; answer?: number }[];
  settlement: { payouts: PartyPayout[]; liquidations: LiquidationRecord[]; wrongfulLiquidations: number; option?: OptionRecord };
  timeline: Sample[];
  timing: { wallMs: number; steps: number };
}

export interface JudgeInput {
  scenario: Scenario;
  seed: number;
  transport: string;
  n: number;
  t: number;
  samples: Sample[];
  ledger: Ledger;
  defences: DefenceEvent[];
  attackNotes: DefenceEvent[];
  breakerEvents: RunResult['breakerEvents'];
  liquidations: LiquidationRecord[];
  option?: OptionRecord;
  attackerHoldsOption: boolean;
  bountyBps: number;
  positions: { notionalUsd: number }[];
  /** Whether the scenario runs an attacker at all ("the attack paid" needs an attack). */
  attacked: boolean;
  payouts: PartyPayout[];
  forgedAccepted: number;
  reportsAccepted: number;
  rounds: number;
  wallMs: number;
  /** First time (s) the honest nodes had no observation of the feed; null if never. */
  quorumLostSec: number | null;
}

const round = (x: number, d = 6) => Number(x.toFixed(d));

export function judge(x: JudgeInput): RunResult {
  const s = x.scenario;
  let maxDev = 0;
  let maxAt: number | null = null;
  let unusable = 0;
  let suspended = 0;
  let seenFirst = false;
  // A sample stands for the step that follows it: a run of k off samples is k steps off.
  let offRun = 0;
  let maxOff = 0;
  for (const p of x.samples) {
    if (p.served !== null) seenFirst = true;
    if (p.status === 'suspended') suspended += s.stepSec;
    let off = false;
    if (p.usable && p.served !== null) {
      const dev = (Math.abs(p.served - p.truth) / p.truth) * 100;
      off = dev > s.tolerancePct;
      if (dev > maxDev) {
        maxDev = dev;
        maxAt = p.tSec;
      }
    } else if (seenFirst) unusable += s.stepSec;
    offRun = off ? offRun + s.stepSec : 0;
    if (offRun > maxOff) maxOff = offRun;
  }
  const startPrice = x.samples[0]?.truth ?? 1;
  const wrongful = x.liquidations.filter((l) => l.judgement === 'manipulated price' || l.judgement === 'oracle error');
  const early = x.liquidations.filter((l) => l.judgement === 'early within resolution');
  let gain = 0;
  for (const l of wrongful) {
    const k = Number(l.trader.split(' ')[1]) - 1;
    const notional = ((x.positions[k]?.notionalUsd ?? 0) / startPrice) * l.price;
    gain += (notional * x.bountyBps) / 1e4;
  }
  if (x.attackerHoldsOption && x.option) gain += x.option.holderPayoutUsd - x.option.honestPayoutUsd;
  const spend = x.ledger.spendUsd;
  const pays = x.attacked && gain > spend && gain > 0;
  const reasons: string[] = [];
  if (maxDev > s.tolerancePct) reasons.push(`served price ${maxDev.toFixed(3)} % from the truth at t=${maxAt}s, above the ${s.tolerancePct} % tolerance (usable and off for ${maxOff}s in a row at most)`);
  if (x.forgedAccepted > 0) reasons.push(`${x.forgedAccepted} report(s) not signed by the committee were accepted`);
  for (const l of wrongful) {
    const how = l.judgement === 'manipulated price' ? 'on a manipulated price' : 'on an oracle error (no attacker in this scenario)';
    reasons.push(`${l.trader} liquidated ${how} at t=${l.tSec}s: served ${l.price.toPrecision(6)}, true ${l.truePrice.toPrecision(6)}, beyond the oracle's resolution of ${l.resolution.pct.toFixed(3)} %`);
  }
  if (pays) reasons.push(`the attack paid: gain ${gain.toFixed(0)} USD > spend ${spend.toFixed(0)} USD`);
  let verdict: Verdict = 'defended';
  if (reasons.length > 0) verdict = 'breached';
  else if (unusable > 0) {
    verdict = 'degraded';
    reasons.push(`the feed was unusable (tripped, suspended, stale or silent) for ${unusable}s of ${s.durationSec}s${suspended > 0 ? `, suspended by the committee for ${suspended}s` : ''}; no wrong price was served`);
  } else reasons.push(`served price within ${maxDev.toFixed(3)} % of the truth and usable throughout`);
  for (const l of early) {
    reasons.push(`${l.trader} liquidated early by less than the oracle's resolution at t=${l.tSec}s: served ${l.price.toPrecision(6)}, true ${l.truePrice.toPrecision(6)}, resolution ${l.resolution.pct.toFixed(3)} % (posting threshold ${l.resolution.postingThresholdPct} %, spread ${l.resolution.spreadBps} bps, venue noise ${l.resolution.venueNoiseBps} bps); not a breach`);
  }

  const result: RunResult = {
    scenario: s.name,
    description: s.description,
    ...(s.incident ? { incident: s.incident } : {}),
    seed: x.seed,
    transport: x.transport,
    committee: { n: x.n, t: x.t },
    verdict,
    reasons,
    expectations: [],
    attacker: {
      spendUsd: round(spend, 2),
      notionalUsd: round(x.ledger.notionalUsd, 2),
      byAttack: x.ledger.byAttack,
      gainUsd: round(gain, 2),
      profitUsd: round(gain - spend, 2),
      pays,
      actions: x.attackNotes,
    },
    served: { maxDeviationPct: round(maxDev, 4), maxDeviationAtSec: maxAt, unusableSec: unusable, maxUsableOffSec: maxOff, tolerancePct: s.tolerancePct, suspendedSec: suspended, reportsAccepted: x.reportsAccepted, forgedAccepted: x.forgedAccepted, rounds: x.rounds },
    defences: [...x.defences].sort((a, b) => a.firstSec - b.firstSec || a.defence.localeCompare(b.defence)),
    breakerEvents: x.breakerEvents,
    settlement: { payouts: x.payouts, liquidations: x.liquidations, wrongfulLiquidations: wrongful.length, ...(x.option ? { option: x.option } : {}) },
    timeline: x.samples,
    timing: { wallMs: Math.round(x.wallMs), steps: x.samples.length },
  };
  const e = s.expect;
  if (e.verdict !== undefined) result.expectations.push({ field: 'verdict', expected: e.verdict, actual: verdict, ok: verdict === e.verdict });
  if (e.maxServedDeviationPct !== undefined) result.expectations.push({ field: 'maxServedDeviationPct', expected: `< ${e.maxServedDeviationPct}`, actual: result.served.maxDeviationPct, ok: result.served.maxDeviationPct < e.maxServedDeviationPct });
  if (e.liquidations !== undefined) result.expectations.push({ field: 'liquidations', expected: e.liquidations, actual: x.liquidations.length, ok: x.liquidations.length === e.liquidations });
  if (e.attackPays !== undefined) result.expectations.push({ field: 'attackPays', expected: e.attackPays, actual: pays, ok: pays === e.attackPays });
  if (e.maxUsableOffSec !== undefined) result.expectations.push({ field: 'maxUsableOffSec', expected: `≤ ${e.maxUsableOffSec}`, actual: maxOff, ok: maxOff <= e.maxUsableOffSec });
  if (e.justifiedLiquidations !== undefined) {
    const n = x.liquidations.filter((l) => l.judgement === 'justified').length;
    result.expectations.push({ field: 'justifiedLiquidations', expected: e.justifiedLiquidations, actual: n, ok: n === e.justifiedLiquidations });
  }
  if (e.suspended !== undefined) result.expectations.push({ field: 'suspended', expected: e.suspended, actual: suspended > 0, ok: (suspended > 0) === e.suspended });
  if (e.suspendedWithinSec !== undefined) {
    const lag = suspensionLag(x.samples, x.quorumLostSec);
    result.expectations.push({ field: 'suspendedWithinSec', expected: `≤ ${e.suspendedWithinSec}`, actual: lag ?? 'never', ok: lag !== null && lag <= e.suspendedWithinSec });
  }
  if (e.resumed !== undefined) {
    const firstSuspended = x.samples.findIndex((p) => p.status === 'suspended');
    const resumed = firstSuspended >= 0 && x.samples.slice(firstSuspended).some((p) => p.status === 'active' && p.usable);
    result.expectations.push({ field: 'resumed', expected: e.resumed, actual: resumed, ok: resumed === e.resumed });
  }
  return result;
}

/**
 * Seconds from the first sample at which the nodes had no observation (quorum lost) to the
 * first sample the hub served the feed as suspended; null when either never happened.
 */
export function suspensionLag(samples: readonly Sample[], quorumLostSec: number | null): number | null {
  if (quorumLostSec === null) return null;
  const at = samples.find((p) => p.tSec >= quorumLostSec && p.status === 'suspended');
  return at ? at.tSec - quorumLostSec : null;
}

/** The result without wall-clock fields, for reproducibility checks. */
export function comparable(r: RunResult): Omit<RunResult, 'timing'> & { timing: { steps: number } } {
  return { ...r, timing: { steps: r.timing.steps } };
}
