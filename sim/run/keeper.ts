/**
 * The keeper acting on the settlement contracts after each round (docs/design.md §Settlement):
 * it opens the traders' positions and writes the option once the feed has a first round,
 * liquidates whatever the hub's price makes liquidatable (the attacker is the liquidation
 * keeper, sim/README.md), and settles the option after expiry as an honest keeper would.
 *
 * Each liquidation is judged against the true price and the oracle's resolution (sim/result.ts,
 * Verdict); the judging and the option keeper's choices are the pure functions below.
 */
import type { Contract, Interface } from 'ethers';
import type { SignedReport } from '../../aggregator/round/index.ts';
import type { LiquidationRecord, OptionRecord } from '../result.ts';
import type { Scenario } from '../scenario/schema.ts';
import { fromUnits, usd } from './accounting.ts';
import { tryCall, type Signers } from './chain.ts';
import type { BlockClock } from './clock.ts';
import type { RunLog } from './events.ts';
import { traderSigner, type Settlement } from './settlement.ts';

/** A position's signed size in 1e-6 units of the asset: its notional at the start price, negative when short. */
export function positionSize(notionalUsd: number, startPrice: number, side: 'long' | 'short'): bigint {
  const units = notionalUsd / startPrice;
  return BigInt(Math.round(units * 1e6)) * (side === 'long' ? 1n : -1n);
}

/**
 * The oracle's resolution, percent: no post below the deviation threshold, the committee's
 * dispersion in the served round, and the venues' own noise (sim/result.ts, Verdict).
 */
export function resolutionPct(postingThresholdPct: number, spreadBps: number, venueNoiseBps: number): number {
  return postingThresholdPct + spreadBps / 100 + venueNoiseBps / 100;
}

/** How a liquidation reads: justified by the true price, early within the resolution, or beyond it (manipulated with an attacker, an oracle error without). */
export function liquidationJudgement(justified: boolean, withinResolution: boolean, attacked: boolean): LiquidationRecord['judgement'] {
  return justified ? 'justified' : withinResolution ? 'early within resolution' : attacked ? 'manipulated price' : 'oracle error';
}

/** The option's terms in contract units: strike and width from the start price, quantity in 1e-6, and the writer's collateral (width × quantity). */
export function optionTerms(
  startPrice: number,
  opt: { strikePct: number; widthPct: number; quantity: number },
  decimals: number,
  toAnswer: (price: number) => bigint,
): { strike: bigint; width: bigint; quantity: bigint; collateral: bigint } {
  const strike = toAnswer(startPrice * (opt.strikePct / 100));
  const width = BigInt(Math.max(1, Number(toAnswer(startPrice * (opt.widthPct / 100)))));
  const quantity = BigInt(Math.round(opt.quantity * 1e6));
  const collateral = (width * quantity) / 10n ** BigInt(decimals);
  return { strike, width, quantity, collateral };
}

/** What the option keeper does with the next block at `lastTs + 1`: propose until the deadline, settle after it. */
export function optionStep(lastTs: number, proposalDeadline: number): 'propose' | 'wait' | 'settle' {
  if (lastTs + 1 <= proposalDeadline) return 'propose';
  if (lastTs > proposalDeadline) return 'settle';
  return 'wait';
}

/** The signed reports observed at or after `expiry` not proposed yet, nearest to expiry first. */
export function proposalQueue(signed: readonly SignedReport[], expiry: bigint, proposed: ReadonlySet<string>): SignedReport[] {
  return signed.filter((x) => x.report.observedAt >= expiry && !proposed.has(x.message)).sort((a, b) => Number(a.report.observedAt - b.report.observedAt));
}

export interface KeeperDeps {
  hub: Contract;
  feedId: string;
  settlement: Settlement;
  signers: Signers;
  clock: BlockClock;
  log: RunLog;
  /** The run's start on the chain (t = 0). */
  t0Sec: number;
  startPrice: number;
  venueNoiseBps: number;
  truth: (tSec: number) => number;
  toAnswer: (price: number) => bigint;
  fromAnswer: (answer: bigint) => number;
  /** The aggregator's signed reports so far. */
  signedHistory: readonly SignedReport[];
  /** Interfaces whose errors a refused call is named by. */
  errors: readonly Interface[];
}

export class Keeper {
  readonly liquidations: LiquidationRecord[] = [];
  optionRecord: OptionRecord | undefined;
  #positionsOpen = false;
  /** Traders (by k) whose position is open. */
  readonly #open = new Set<number>();
  #optionId: bigint | undefined;
  #optionDone = false;
  /** Signed reports (by message) and hub rounds the option keeper has proposed already. */
  readonly #proposed = new Set<string>();

  constructor(
    private readonly s: Scenario,
    private readonly x: KeeperDeps,
  ) {}

  #call(c: Contract, fn: string, args: unknown[]): ReturnType<typeof tryCall> {
    return tryCall(c, fn, args, { clock: this.x.clock, errors: this.x.errors });
  }

  /** Acts after the round at `tSec`; nothing before the feed's first round. */
  async act(tSec: number): Promise<void> {
    const { hub, feedId } = this.x;
    const latestRound = BigInt(await hub.getFunction('latestRoundId')(feedId));
    if (latestRound === 0n) return;
    await this.#openPositions(tSec);
    await this.#liquidate(tSec);
    await this.#writeOption();
    await this.#settleOption(tSec, latestRound);
  }

  /** The option's record when the run ended before it settled (`finish` after the last step). */
  async finish(): Promise<void> {
    const { option } = this.x.settlement;
    const opt = this.s.settlement.option;
    if (option && this.#optionId !== undefined && !this.#optionDone) {
      this.optionRecord = { tSec: this.s.durationSec, outcome: 'not settled by the end of the run', holderPayoutUsd: 0, honestPayoutUsd: fromUnits(BigInt(await option.getFunction('payoffAt')(this.#optionId, this.x.toAnswer(this.x.truth(opt!.expirySec))))) };
    }
  }

  async #openPositions(tSec: number): Promise<void> {
    const { futures } = this.x.settlement;
    const fut = this.s.settlement.futures;
    if (!futures || !fut || this.#positionsOpen) return;
    this.#positionsOpen = true;
    for (const [k, pos] of fut.positions.entries()) {
      const f = futures.connect(traderSigner(this.x.signers, k)) as Contract;
      await this.x.clock.nextTx();
      await (await f.getFunction('deposit')(usd(pos.collateralUsd))).wait();
      const r = await this.#call(f, 'openPosition', [positionSize(pos.notionalUsd, this.x.startPrice, pos.side)]);
      if (r.ok) this.#open.add(k);
      else this.x.log.fired(tSec, 'futures refused to open', r.error);
    }
  }

  async #liquidate(tSec: number): Promise<void> {
    const { hub, feedId, log, toAnswer, fromAnswer } = this.x;
    const { futures } = this.x.settlement;
    const s = this.s;
    if (!futures || !s.settlement.futures) return;
    const fA = futures.connect(this.x.signers.attacker) as Contract;
    for (const k of [...this.#open]) {
      const addr = await traderSigner(this.x.signers, k).getAddress();
      // Judged before the liquidation: afterwards the position is gone and no price makes
      // it liquidatable (that had every liquidation read as unjustified).
      const truth = this.x.truth(tSec);
      const liquidatableAt = async (price: number): Promise<boolean> => Boolean(await futures.getFunction('isLiquidatableAt')(addr, toAnswer(price)));
      const read = await hub.getFunction('tryRead')(feedId);
      const spreadBps = Number(read[2]);
      const resolution = resolutionPct(s.oracle.deviationPct, spreadBps, this.x.venueNoiseBps);
      const justified = await liquidatableAt(truth);
      const withinResolution = justified || (await liquidatableAt(truth * (1 - resolution / 100))) || (await liquidatableAt(truth * (1 + resolution / 100)));
      const r = await this.#call(fA, 'liquidate', [addr]);
      if (r.ok) {
        this.#open.delete(k);
        const served = fromAnswer(BigInt(read[0]));
        const judgement = liquidationJudgement(justified, withinResolution, s.attacks.length > 0);
        this.liquidations.push({ tSec, trader: `trader ${k + 1}`, price: served, truePrice: truth, justified, resolution: { pct: Number(resolution.toFixed(4)), postingThresholdPct: s.oracle.deviationPct, spreadBps, venueNoiseBps: this.x.venueNoiseBps }, withinResolution, judgement });
        if (judgement === 'manipulated price') log.noteAttack(tSec, `trader ${k + 1} liquidated at ${served.toPrecision(6)} while the true price ${truth.toPrecision(6)} did not justify it, beyond the oracle's resolution of ${resolution.toFixed(3)} %`);
      } else if (r.error !== 'NotLiquidatable') {
        const wouldBe = Boolean(await futures.getFunction('isLiquidatableAt')(addr, BigInt((await hub.getFunction('tryRead')(feedId))[0])));
        if (wouldBe) log.fired(tSec, 'futures refused liquidation', r.error);
      }
    }
  }

  /** Writes the option (the LP writes, the holder buys; in an expiry push the attacker holds it). */
  async #writeOption(): Promise<void> {
    const { option, parties } = this.x.settlement;
    const opt = this.s.settlement.option;
    if (!option || !opt || this.#optionId !== undefined) return;
    const { lp, attacker, holder } = this.x.signers;
    const { clock, t0Sec } = this.x;
    const { strike, width, quantity, collateral } = optionTerms(this.x.startPrice, opt, this.s.feed.decimals, this.x.toAnswer);
    const oa = await option.getAddress();
    const holderSigner = this.s.attacks.some((a) => a.kind === 'expiry-push') ? attacker : holder;
    await parties.fund('option writer (LP)', lp, fromUnits(collateral) + 1, oa);
    await parties.fund(holderSigner === attacker ? 'attacker' : 'option holder', holderSigner, opt.premiumUsd + 1, oa);
    await clock.nextTx();
    const w = option.connect(lp) as Contract;
    const id = await w.getFunction('write').staticCall(opt.isCall, strike, width, quantity, usd(opt.premiumUsd), BigInt(t0Sec + opt.expirySec));
    await (await w.getFunction('write')(opt.isCall, strike, width, quantity, usd(opt.premiumUsd), BigInt(t0Sec + opt.expirySec))).wait();
    await clock.nextTx();
    await (await (option.connect(holderSigner) as Contract).getFunction('buy')(id)).wait();
    this.#optionId = BigInt(id);
  }

  /**
   * An honest keeper: until the proposal deadline it proposes the committee's signed prices
   * observed at or after expiry, nearest first (the aggregator's signed reports, which pull
   * mode serves, and the first hub round); the option keeps the nearest valid one. After the
   * deadline it settles on that candidate, or refunds when there is none.
   */
  async #settleOption(tSec: number, latestRound: bigint): Promise<void> {
    const { option } = this.x.settlement;
    const opt = this.s.settlement.option;
    const optionId = this.#optionId;
    if (!option || !opt || optionId === undefined || this.#optionDone || tSec < opt.expirySec) return;
    const { hub, feedId, clock, log, toAnswer, fromAnswer } = this.x;
    const expiry = BigInt(this.x.t0Sec + opt.expirySec);
    const o = option.connect(this.x.signers.holder) as Contract;
    const proposalDeadline = Number(await option.getFunction('proposalDeadline')(optionId));
    const step = optionStep(clock.lastTs, proposalDeadline);
    if (step === 'propose') {
      for (const x of proposalQueue(this.x.signedHistory, expiry, this.#proposed)) {
        if (clock.lastTs + 1 > proposalDeadline) break;
        this.#proposed.add(x.message);
        const r = await this.#call(o, 'proposeReport', [optionId, x.report, x.signatureEvm]);
        if (r.ok) break;
        if (r.error !== 'ProposalNotBetter') log.fired(tSec, 'option refused a proposal', r.error);
      }
      // The first served round observed at or after expiry (push mode).
      let first: bigint | undefined;
      for (let r = latestRound; r >= 1n && r > latestRound - 60n; r--) {
        try {
          const g = await hub.getFunction('getRound')(feedId, r);
          if (BigInt(g[1]) >= expiry) first = r;
          else break;
        } catch {
          break;
        }
      }
      if (first !== undefined && !this.#proposed.has(`round ${first}`) && clock.lastTs + 1 <= proposalDeadline) {
        this.#proposed.add(`round ${first}`);
        const r = await this.#call(o, 'proposeRound', [optionId, first]);
        if (!r.ok && r.error !== 'ProposalNotBetter') log.fired(tSec, 'option refused a proposal', r.error);
      }
    } else if (step === 'settle') {
      const truthAtExpiry = this.x.truth(opt.expirySec);
      const honestPayout = fromUnits(BigInt(await option.getFunction('payoffAt')(optionId, toAnswer(truthAtExpiry))));
      const c = await option.getFunction('getCandidate')(optionId);
      const candidate = Number(c.source) !== 0 ? BigInt(c.answer) : undefined;
      const settled = await this.#call(o, 'settle', [optionId]);
      if (settled.ok) {
        this.#optionDone = true;
        this.optionRecord = { tSec, outcome: 'settled', roundPrice: fromAnswer(candidate!), truePriceAtExpiry: truthAtExpiry, holderPayoutUsd: fromUnits(BigInt(await option.getFunction('payoffAt')(optionId, candidate!))), honestPayoutUsd: honestPayout };
      } else {
        const refund = await this.#call(o, 'refundAfterDeadline', [optionId]);
        if (refund.ok) {
          this.#optionDone = true;
          log.fired(tSec, 'option refunded', settled.error);
          this.optionRecord = { tSec, outcome: `refunded (${settled.error})`, ...(candidate !== undefined ? { roundPrice: fromAnswer(candidate) } : {}), truePriceAtExpiry: truthAtExpiry, holderPayoutUsd: 0, honestPayoutUsd: honestPayout };
        }
      }
    }
  }
}
