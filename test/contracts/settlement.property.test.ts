/**
 * Stateful property tests (fast-check command sequences) of the settlement consumers against
 * the real hub on anvil, with BLS-signed reports moving the price (breaker trips included),
 * time jumps (staleness), guardian pauses and breaker resolutions interleaved with every user
 * action of EuropeanOption and FuturesMarket. After every command:
 *   - settlement conserves collateral: Σ token balances of every actor + both contracts is
 *     constant, and each contract holds exactly what its books say (market: pool + Σ
 *     collateral; option: Σ collateral of open/active options + premiums of active ones);
 *   - the market's exposure is Σ reserve + Σ claim (claims are debts of the pool, not tokens),
 *     and a successful defund leaves pool ≥ exposure: the owner never takes what traders are
 *     owed or may still win;
 *   - no liquidation (or mark) succeeds on a tripped, paused, stale or low-confidence price,
 *     and a successful liquidation used the price the hub served;
 *   - an option's settlement candidate only moves to an earlier price (a refused proposal
 *     changes nothing), and settlement pays on the candidate.
 * Bounded: a few runs (AEGIS_PROPERTY_RUNS, default 8) of up to 40 commands each (every command is a real transaction).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Contract, JsonRpcSigner } from 'ethers';
import { as, decodeRevert, deployTest, deployWith, FEED, latestTime, ONE, setup, Status, type Fixture } from './helpers/chain.ts';

const USDC = 10n ** 6n;
const RISK = { maxPriceAge: 300n, maxSpreadBps: 100n, initialMarginBps: 1000n, maintenanceMarginBps: 500n, liquidationBountyBps: 100n, minNotional: 100n * USDC, minCollateral: 10n * USDC, maxProfitBps: 10_000n };
const WINDOW = 600n;
const CHALLENGE = 300n;
const REFUND_DELAY = 600n;
const ZERO = '0x0000000000000000000000000000000000000000';
const PRICE_GATE_ERRORS = ['PriceTripped', 'PricePaused', 'PriceStale', 'PriceLowConfidence'];

let f: Fixture;
let token: Contract;
let market: Contract;
let option: Contract;
let actors: JsonRpcSigner[]; // traders, writers, buyers, keepers
let lp: JsonRpcSigner;
let total: bigint;
let base: string;

interface Real {
  liquidations: number;
  gatedRefusals: number;
  settled: number;
  refunded: number;
  proposals: number;
}
type Cmd = fc.AsyncCommand<object, Real>;

async function tokenOf(x: { getAddress(): Promise<string> }): Promise<bigint> {
  return (await token.balanceOf!(await x.getAddress())) as bigint;
}

/** Sends a transaction; returns the receipt or the decoded custom error name. */
async function send(p: Promise<{ wait(): Promise<unknown> }>): Promise<{ ok: true; rc: { logs: readonly { address: string; topics: readonly string[]; data: string }[] } } | { ok: false; error: string }> {
  try {
    const rc = (await (await p).wait()) as { logs: readonly { address: string; topics: readonly string[]; data: string }[] };
    return { ok: true, rc };
  } catch (err) {
    // Estimated fine at the latest block but reverted when mined a second later (a time
    // boundary: staleness, expiry, deadline): take the revert data from the trace.
    const mined = (err as { receipt?: { hash: string; status: number } }).receipt;
    if (mined && mined.status === 0) {
      const trace = (await f.anvil.provider.send('debug_traceTransaction', [mined.hash, { tracer: 'callTracer' }])) as { output?: string };
      const d = trace.output ? f.errors.parseError(trace.output) : null;
      if (!d) throw new Error(`undecodable mined revert ${mined.hash}: ${JSON.stringify(trace).slice(0, 300)}`);
      return { ok: false, error: d.name };
    }
    const d = decodeRevert(f, err);
    if (!d) throw new Error(`undecodable revert: ${(err as Error).message.slice(0, 300)}`);
    return { ok: false, error: d.name };
  }
}

/** Outcome counts per action (printed with AEGIS_PROPERTY_VERBOSE=1). */
const outcomes = new Map<string, number>();
function expectAllowed(r: { ok: boolean; error?: string }, allowed: string[], what: string): void {
  const key = `${what.split('(')[0]}: ${r.ok ? 'ok' : r.error}`;
  outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
  if (!r.ok && !allowed.includes(r.error!)) throw new Error(`${what}: unexpected revert ${r.error}; allowed ${allowed.join(', ')}`);
}

/** The market's price gate as seen now (before sending the transaction). */
async function gate(): Promise<{ good: boolean; answer: bigint; roundId: bigint }> {
  const [answer, observedAt, spreadBps, roundId, status] = (await f.hub.tryRead!(FEED)) as [bigint, bigint, bigint, bigint, bigint];
  const age = (await latestTime(f.hub)) - observedAt;
  const good = status === Status.Active && roundId > 0n && age <= RISK.maxPriceAge && spreadBps <= RISK.maxSpreadBps && answer > 0n;
  return { good, answer, roundId };
}

async function checkInvariants(): Promise<void> {
  // Conservation across everyone.
  let sum = (await tokenOf(market)) + (await tokenOf(option));
  for (const s of [...actors, lp]) sum += await tokenOf(s);
  expect(sum).toBe(total);
  // Market books.
  let books = (await market.pool!()) as bigint;
  let exposure = 0n;
  for (const s of actors) {
    const a = (await market.getAccount!(await s.getAddress())) as { collateral: bigint; reserve: bigint; claim: bigint; size: bigint };
    books += a.collateral;
    exposure += a.reserve + a.claim;
    if (a.size === 0n) expect(a.reserve).toBe(0n);
  }
  expect(await tokenOf(market)).toBe(books);
  expect(await market.exposure!()).toBe(exposure);
  // Option books.
  let held = 0n;
  const count = (await option.optionCount!()) as bigint;
  for (let id = 1n; id <= count; id++) {
    const o = (await option.getOption!(id)) as { status: bigint; collateral: bigint; premium: bigint };
    if (o.status === 1n) held += o.collateral;
    if (o.status === 2n) held += o.collateral + o.premium;
  }
  expect(await tokenOf(option)).toBe(held);
}

const actor = fc.integer({ min: 0, max: 3 });
const trader = fc.integer({ min: 0, max: 1 });

// -- Oracle and time --

class PushPrice implements Cmd {
  constructor(readonly moveBps: number, readonly spreadBps: number) {}
  check = (): boolean => true;
  async run(_m: object, _r: Real): Promise<void> {
    const [last] = (await f.hub.tryRead!(FEED)) as [bigint];
    const next = last + (last * BigInt(this.moveBps)) / 10_000n;
    await f.oracle.push(next > 0n ? next : 1n, { spreadBps: this.spreadBps });
  }
  toString = (): string => `push(${this.moveBps}bps, spread ${this.spreadBps})`;
}

/** Moves the price against `who`'s position by `bps` (within or beyond the breaker). */
class AdverseMove implements Cmd {
  constructor(readonly who: number, readonly bps: number) {}
  check = (): boolean => true;
  async run(m: object, r: Real): Promise<void> {
    const acct = (await market.getAccount!(await actors[this.who]!.getAddress())) as { size: bigint };
    await new PushPrice(acct.size >= 0n ? -this.bps : this.bps, 10).run(m, r);
  }
  toString = (): string => `adverseMove(#${this.who}, ${this.bps}bps)`;
}

class Warp implements Cmd {
  constructor(readonly seconds: number) {}
  check = (): boolean => true;
  async run(): Promise<void> {
    await f.anvil.increaseTime(this.seconds);
  }
  toString = (): string => `warp(${this.seconds}s)`;
}

class Guardian implements Cmd {
  constructor(readonly action: 'pause' | 'unpause' | 'accept' | 'reject') {}
  check = (): boolean => true;
  async run(): Promise<void> {
    const r =
      this.action === 'pause' || this.action === 'unpause'
        ? await send(f.hub.setFeedPaused!(FEED, this.action === 'pause'))
        : await send(f.hub.resolveBreaker!(FEED, this.action === 'accept'));
    expectAllowed(r, ['BreakerNotTripped'], `guardian ${this.action}`);
  }
  toString = (): string => `guardian.${this.action}`;
}

// -- Futures --

class Deposit implements Cmd {
  constructor(readonly who: number, readonly amount: bigint) {}
  check = (): boolean => true;
  async run(): Promise<void> {
    expectAllowed(await send(as(market, actors[this.who]!).deposit!(this.amount)), [], 'deposit');
  }
  toString = (): string => `deposit(#${this.who}, ${this.amount})`;
}

class Withdraw implements Cmd {
  constructor(readonly who: number, readonly amount: bigint) {}
  check = (): boolean => true;
  async run(): Promise<void> {
    expectAllowed(await send(as(market, actors[this.who]!).withdraw!(this.amount)), ['InsufficientCollateral', 'InsufficientMargin', 'CollateralBelowMinimum', ...PRICE_GATE_ERRORS], 'withdraw');
  }
  toString = (): string => `withdraw(#${this.who}, ${this.amount})`;
}

class Open implements Cmd {
  constructor(readonly who: number, readonly size: bigint) {}
  check = (): boolean => true;
  async run(): Promise<void> {
    expectAllowed(await send(as(market, actors[this.who]!).openPosition!(this.size)), ['PositionAlreadyOpen', 'InsufficientMargin', 'NotionalBelowMinimum', 'CollateralBelowMinimum', ...PRICE_GATE_ERRORS], 'open');
  }
  toString = (): string => `open(#${this.who}, ${this.size})`;
}

/** Deposits just above the initial margin and opens a 10x-ish position (so moves liquidate it). */
class OpenLeveraged implements Cmd {
  constructor(readonly who: number, readonly long: boolean, readonly bufferBps: number) {}
  check = (): boolean => true;
  async run(): Promise<void> {
    const s = actors[this.who]!;
    const acct = (await market.getAccount!(await s.getAddress())) as { size: bigint };
    if (acct.size !== 0n) return;
    const [p] = (await f.hub.tryRead!(FEED)) as [bigint];
    const size = 2n * USDC;
    const im = (((size * p) / ONE) * (1000n + BigInt(this.bufferBps))) / 10_000n + 1n;
    expectAllowed(await send(as(market, s).deposit!(im)), [], 'deposit');
    expectAllowed(await send(as(market, s).openPosition!(this.long ? size : -size)), ['InsufficientMargin', ...PRICE_GATE_ERRORS], 'open leveraged');
  }
  toString = (): string => `openLeveraged(#${this.who}, ${this.long ? 'long' : 'short'}, +${this.bufferBps}bps)`;
}

/** Writes an option and has another actor buy it at once. */
class WriteAndBuy implements Cmd {
  constructor(readonly writer: number, readonly isCall: boolean, readonly strikeBps: number, readonly expiresIn: number) {}
  check = (): boolean => true;
  async run(): Promise<void> {
    const w = new Write(this.writer, this.isCall, this.strikeBps, this.expiresIn);
    await w.run();
    const id = (await option.optionCount!()) as bigint;
    if (id === 0n) return;
    expectAllowed(await send(as(option, actors[(this.writer + 1) % actors.length]!).buy!(id)), ['WrongStatus', 'OptionExpired'], 'buy');
  }
  toString = (): string => `writeAndBuy(#${this.writer}, ${this.isCall ? 'call' : 'put'}, ${this.strikeBps}bps, +${this.expiresIn}s)`;
}

class Close implements Cmd {
  constructor(readonly who: number) {}
  check = (): boolean => true;
  async run(): Promise<void> {
    expectAllowed(await send(as(market, actors[this.who]!).closePosition!()), ['NoPosition', ...PRICE_GATE_ERRORS], 'close');
  }
  toString = (): string => `close(#${this.who})`;
}

/** The pool owner funds, defunds an amount, or defunds all it may (`freePool`). */
class PoolAction implements Cmd {
  constructor(readonly action: 'fund' | 'defund' | 'defundFree', readonly amount: bigint) {}
  check = (): boolean => true;
  async run(): Promise<void> {
    if (this.action === 'fund') return expectAllowed(await send(as(market, lp).fundPool!(this.amount)), [], 'fundPool');
    const amount = this.action === 'defund' ? this.amount : ((await market.freePool!()) as bigint);
    if (amount === 0n) return;
    const r = await send(as(market, lp).defundPool!(amount));
    expectAllowed(r, ['PoolLocked', 'InsufficientPool'], this.action);
    if (r.ok) expect(await market.pool!()).toBeGreaterThanOrEqual((await market.exposure!()) as bigint);
  }
  toString = (): string => `${this.action}(${this.action === 'defundFree' ? 'free' : this.amount})`;
}

/** Anyone pays a trader's claim from the pool, or closes a trader's dust position. */
class ClaimOrDust implements Cmd {
  constructor(readonly caller: number, readonly target: number, readonly dust: boolean) {}
  check = (): boolean => true;
  async run(): Promise<void> {
    const c = as(market, actors[this.caller]!);
    const target = await actors[this.target]!.getAddress();
    if (this.dust) expectAllowed(await send(c.closeDust!(target)), ['NoPosition', 'NotDust', ...PRICE_GATE_ERRORS], 'closeDust');
    else expectAllowed(await send(c.collectClaim!(target)), ['NoClaim', 'InsufficientPool'], 'collectClaim');
  }
  toString = (): string => `${this.dust ? 'closeDust' : 'collectClaim'}(#${this.caller} → #${this.target})`;
}

class MarkOrLiquidate implements Cmd {
  constructor(readonly caller: number, readonly target: number, readonly liquidate: boolean) {}
  check = (): boolean => true;
  async run(_m: object, real: Real): Promise<void> {
    const g = await gate();
    const target = await actors[this.target]!.getAddress();
    const c = as(market, actors[this.caller]!);
    const r = await send(this.liquidate ? c.liquidate!(target) : c.mark!(target));
    if (r.ok) {
      // Success implies the price was good already before the transaction (time only grows).
      expect(g.good).toBe(true);
      const ev = r.rc.logs.map((l) => market.interface.parseLog(l)).find((e) => e?.name === (this.liquidate ? 'Liquidated' : 'PositionMarked'));
      expect(ev!.args[2]).toBe(g.answer);
      if (this.liquidate) real.liquidations++;
    } else if (!g.good) {
      // Anything but a price-gate refusal is fine only if it came first (no position).
      expectAllowed(r, [...PRICE_GATE_ERRORS, 'NoPosition'], 'liquidate on a bad price');
      if (PRICE_GATE_ERRORS.includes(r.error)) real.gatedRefusals++;
    } else {
      expectAllowed(r, ['NoPosition', 'NotLiquidatable', 'PriceStale'], 'liquidate/mark');
    }
  }
  toString = (): string => `${this.liquidate ? 'liquidate' : 'mark'}(#${this.caller} → #${this.target})`;
}

// -- Options --

class Write implements Cmd {
  constructor(readonly who: number, readonly isCall: boolean, readonly strikeBps: number, readonly expiresIn: number) {}
  check = (): boolean => true;
  async run(): Promise<void> {
    const [p] = (await f.hub.tryRead!(FEED)) as [bigint];
    const strike = p + (p * BigInt(this.strikeBps)) / 10_000n;
    const expiry = (await latestTime(f.hub)) + BigInt(this.expiresIn);
    expectAllowed(await send(as(option, actors[this.who]!).write!(this.isCall, strike > 0n ? strike : 1n, 300n * ONE, USDC, 15n * USDC, expiry)), ['ExpiryNotInFuture'], 'write');
  }
  toString = (): string => `write(#${this.who}, ${this.isCall ? 'call' : 'put'}, ${this.strikeBps}bps, +${this.expiresIn}s)`;
}

async function pickOption(k: number): Promise<bigint | null> {
  const count = (await option.optionCount!()) as bigint;
  return count === 0n ? null : 1n + (BigInt(k) % count);
}

/** The first served round at or after `expiry`, found off-chain by walking the history back. */
async function firstRoundAfter(expiry: bigint): Promise<bigint | null> {
  let r = (await f.hub.latestRoundId!(FEED)) as bigint;
  let found: bigint | null = null;
  while (r > 0n) {
    try {
      const [, observedAt] = (await f.hub.getRound!(FEED, r)) as [bigint, bigint];
      if (observedAt < expiry) break;
      found = r;
      r--;
    } catch {
      break;
    }
  }
  return found;
}

type Candidate = { source: bigint; answer: bigint; observedAt: bigint; epoch: bigint; message: string };
const PROPOSAL_ERRORS = ['WrongStatus', 'ProposalPeriodClosed', 'ObservedBeforeExpiry', 'ObservedAfterWindow', 'ObservedInFuture', 'LowConfidence', 'InvalidAnswer', 'ProposalNotBetter'];

/**
 * Sends a proposal and checks the candidate rule: an accepted proposal is never later than
 * the candidate it replaces (nearest to expiry wins, whoever proposes in whatever order), and
 * a refused one changes nothing.
 */
async function proposeChecked(id: bigint, p: Promise<{ wait(): Promise<unknown> }>, what: string, real: Real): Promise<void> {
  const before = (await option.getCandidate!(id)) as Candidate;
  const r = await send(p);
  const after = (await option.getCandidate!(id)) as Candidate;
  if (r.ok) {
    real.proposals++;
    expect(after.source).not.toBe(0n);
    if (before.source !== 0n) expect(after.observedAt).toBeLessThanOrEqual(before.observedAt);
  } else {
    expect([after.source, after.answer, after.observedAt, after.epoch, after.message]).toEqual([before.source, before.answer, before.observedAt, before.epoch, before.message]);
  }
  expectAllowed(r, PROPOSAL_ERRORS, what);
}

class OptionAction implements Cmd {
  constructor(readonly who: number, readonly k: number, readonly action: 'buy' | 'cancel' | 'proposeRound' | 'settle' | 'refundAfterDeadline') {}
  check = (): boolean => true;
  async run(_m: object, real: Real): Promise<void> {
    const id = await pickOption(this.k);
    if (id === null) return;
    const c = as(option, actors[this.who]!);
    if (this.action === 'proposeRound') {
      const o = (await option.getOption!(id)) as { expiry: bigint };
      const first = await firstRoundAfter(o.expiry);
      if (first !== null) await proposeChecked(id, c.proposeRound!(id, first), `proposeRound(${id})`, real);
      return;
    }
    const candidate = (await option.getCandidate!(id)) as Candidate;
    let r;
    if (this.action === 'buy') r = await send(c.buy!(id));
    else if (this.action === 'cancel') r = await send(c.cancel!(id));
    else if (this.action === 'refundAfterDeadline') r = await send(c.refundAfterDeadline!(id));
    else r = await send(c.settle!(id));
    if (r.ok && this.action === 'settle') {
      real.settled++;
      // Settlement pays on the candidate, nothing else.
      const ev = r.rc.logs.map((l) => option.interface.parseLog(l)).find((e) => e?.name === 'OptionSettled');
      expect(ev!.args[4]).toBe(candidate.answer);
    }
    if (r.ok && this.action === 'refundAfterDeadline') real.refunded++;
    expectAllowed(r, ['WrongStatus', 'NotWriter', 'OptionExpired', 'ProposalPeriodOpen', 'NoCandidate', 'SettlementDeadlinePassed', 'DeadlineNotReached'], `${this.action}(${id})`);
  }
  toString = (): string => `${this.action}(#${this.who}, option k=${this.k})`;
}

/** Someone proposes a committee-signed report (never posted to the hub) observed `offset` s after option k's expiry. */
class ProposeReport implements Cmd {
  constructor(readonly who: number, readonly k: number, readonly offset: number, readonly moveBps: number, readonly spreadBps: number) {}
  check = (): boolean => true;
  async run(_m: object, real: Real): Promise<void> {
    const id = await pickOption(this.k);
    if (id === null) return;
    const o = (await option.getOption!(id)) as { expiry: bigint };
    const [last] = (await f.hub.tryRead!(FEED)) as [bigint];
    const s = await f.oracle.report({ [FEED]: last + (last * BigInt(this.moveBps)) / 10_000n }, o.expiry + BigInt(this.offset), this.spreadBps);
    await proposeChecked(id, as(option, actors[this.who]!).proposeReport!(id, s.report, s.signature), `proposeReport(${id})`, real);
  }
  toString = (): string => `proposeReport(#${this.who}, option k=${this.k}, expiry+${this.offset}s, ${this.moveBps}bps, spread ${this.spreadBps})`;
}

/** Runs a command, then checks every invariant. */
class Checked implements Cmd {
  constructor(readonly inner: Cmd) {}
  check = (): boolean => true;
  async run(m: object, r: Real): Promise<void> {
    await this.inner.run(m, r);
    await checkInvariants();
  }
  toString = (): string => this.inner.toString();
}

const w = <T,>(weight: number, arbitrary: fc.Arbitrary<T>): { weight: number; arbitrary: fc.Arbitrary<T> } => ({ weight, arbitrary });
/** Liquidates whichever trader has a position (a keeper scanning accounts). */
class LiquidateAny implements Cmd {
  constructor(readonly caller: number) {}
  check = (): boolean => true;
  async run(m: object, r: Real): Promise<void> {
    for (let t = 0; t < 2; t++) {
      const acct = (await market.getAccount!(await actors[t]!.getAddress())) as { size: bigint };
      if (acct.size !== 0n) return new MarkOrLiquidate(this.caller, t, true).run(m, r);
    }
  }
  toString = (): string => `liquidateAny(#${this.caller})`;
}

/**
 * A keeper bringing option k to settlement: jump past expiry, push a report, propose the first
 * round after expiry and a signed report, jump past the proposal deadline and settle (or
 * refund when nothing valid was proposed).
 */
class KeeperSettle implements Cmd {
  constructor(readonly k: number, readonly afterExpiry: number, readonly moveBps: number, readonly spreadBps: number) {}
  check = (): boolean => true;
  async run(m: object, r: Real): Promise<void> {
    const id = await pickOption(this.k);
    if (id === null) return;
    const o = (await option.getOption!(id)) as { expiry: bigint; status: bigint };
    if (o.status !== 2n) return;
    const now = await latestTime(f.hub);
    if (now < o.expiry + BigInt(this.afterExpiry)) await f.warpTo(o.expiry + BigInt(this.afterExpiry));
    await new PushPrice(this.moveBps, this.spreadBps).run(m, r);
    await new OptionAction(0, this.k, 'proposeRound').run(m, r);
    await new ProposeReport(1, this.k, this.afterExpiry, -this.moveBps, this.spreadBps).run(m, r);
    const pd = (await option.proposalDeadline!(id)) as bigint;
    if ((await latestTime(f.hub)) <= pd) await f.warpTo(pd + 1n);
    await new OptionAction(0, this.k, 'settle').run(m, r);
    // Nothing valid proposed (e.g. only low-confidence prices): the refund is open now.
    if (((await option.getOption!(id)) as { status: bigint }).status === 2n) await new OptionAction(2, this.k, 'refundAfterDeadline').run(m, r);
  }
  toString = (): string => `keeperSettle(k=${this.k}, +${this.afterExpiry}s, ${this.moveBps}bps, spread ${this.spreadBps})`;
}

const commands: fc.Arbitrary<Cmd>[] = [
  fc.oneof(
    // Oracle and time: small moves, breaker-tripping moves, low-confidence reports, staleness.
    w(4, fc.tuple(fc.integer({ min: -900, max: 900 }), fc.constantFrom(5, 20, 50)).map(([m, s]) => new PushPrice(m, s) as Cmd)),
    w(2, fc.tuple(fc.integer({ min: -2000, max: 2000 }), fc.constantFrom(5, 50, 150)).map(([m, s]) => new PushPrice(m, s) as Cmd)),
    w(1, fc.integer({ min: 1, max: 700 }).map((s) => new Warp(s) as Cmd)),
    w(2, fc.tuple(trader, fc.integer({ min: 300, max: 1500 })).map(([a, b]) => new AdverseMove(a, b) as Cmd)),
    w(1, fc.constantFrom('pause', 'unpause', 'unpause', 'accept', 'reject').map((a) => new Guardian(a as Guardian['action']) as Cmd)),
    // Futures.
    w(1, fc.tuple(actor, fc.bigInt({ min: 1n, max: 800n })).map(([a, x]) => new Deposit(a, x * USDC) as Cmd)),
    w(1, fc.tuple(actor, fc.bigInt({ min: 1n, max: 800n })).map(([a, x]) => new Withdraw(a, x * USDC) as Cmd)),
    w(1, fc.tuple(actor, fc.bigInt({ min: -3n * USDC, max: 3n * USDC }).filter((x) => x !== 0n)).map(([a, x]) => new Open(a, x) as Cmd)),
    w(3, fc.tuple(trader, fc.boolean(), fc.integer({ min: 0, max: 300 })).map(([a, l, b]) => new OpenLeveraged(a, l, b) as Cmd)),
    w(1, actor.map((a) => new Close(a) as Cmd)),
    w(2, fc.tuple(actor, trader, fc.boolean()).map(([c, t, l]) => new MarkOrLiquidate(c, t, l) as Cmd)),
    w(3, actor.map((c) => new LiquidateAny(c) as Cmd)),
    w(2, fc.tuple(fc.constantFrom('fund', 'defund', 'defundFree'), fc.bigInt({ min: 1n, max: 6000n })).map(([a, x]) => new PoolAction(a as PoolAction['action'], x * USDC) as Cmd)),
    w(1, fc.tuple(actor, trader, fc.boolean()).map(([c, t, d]) => new ClaimOrDust(c, t, d) as Cmd)),
    // Options.
    w(1, fc.tuple(actor, fc.boolean(), fc.integer({ min: -1000, max: 1000 }), fc.integer({ min: 30, max: 900 })).map(([a, c, k, e]) => new Write(a, c, k, e) as Cmd)),
    w(2, fc.tuple(actor, fc.boolean(), fc.integer({ min: -500, max: 500 }), fc.integer({ min: 30, max: 400 })).map(([a, c, k, e]) => new WriteAndBuy(a, c, k, e) as Cmd)),
    w(2, fc.tuple(fc.nat(50), fc.integer({ min: 0, max: 900 }), fc.integer({ min: -1200, max: 1200 }), fc.constantFrom(5, 5, 150)).map(([k, a, mv, sp]) => new KeeperSettle(k, a, mv, sp) as Cmd)),
    w(1, fc.tuple(actor, fc.nat(50), fc.constantFrom('buy', 'cancel')).map(([a, k, x]) => new OptionAction(a, k, x as OptionAction['action']) as Cmd)),
    w(3, fc.tuple(actor, fc.nat(50), fc.constantFrom('proposeRound', 'settle', 'settle', 'refundAfterDeadline')).map(([a, k, x]) => new OptionAction(a, k, x as OptionAction['action']) as Cmd)),
    w(2, fc.tuple(actor, fc.nat(50), fc.integer({ min: -60, max: 900 }), fc.integer({ min: -1200, max: 1200 }), fc.constantFrom(5, 5, 150)).map(([a, k, o, mv, sp]) => new ProposeReport(a, k, o, mv, sp) as Cmd)),
  ),
];

beforeAll(async () => {
  f = await setup();
  actors = f.signers.slice(1, 5);
  lp = f.signers[5]!;
  token = await deployTest(f.deployer, 'TestToken', ['USD Coin (test)', 'USDC', 6]);
  const hub = await f.hub.getAddress();
  market = await deployWith(f, f.deployer, 'FuturesMarket', [hub, FEED, await token.getAddress(), await lp.getAddress(), RISK, ZERO, 0n]);
  option = await deployWith(f, f.deployer, 'EuropeanOption', [hub, FEED, await token.getAddress(), WINDOW, CHALLENGE, REFUND_DELAY, 100n, ZERO, 0n]);
  for (const s of [...actors, lp]) {
    await (await token.mint!(await s.getAddress(), 100_000n * USDC)).wait();
    for (const c of [market, option]) await (await as(token, s).approve!(await c.getAddress(), 2n ** 255n)).wait();
  }
  await (await as(market, lp).fundPool!(5_000n * USDC)).wait();
  total = 5n * 100_000n * USDC;
  base = await f.snapshot();
});
afterAll(async () => {
  await f?.stop();
});

describe('settlement under random command sequences (real hub, BLS-signed reports)', () => {
  it('conserves collateral and never liquidates or marks on a tripped, paused, stale or low-confidence price', async () => {
    const seen: Real = { liquidations: 0, gatedRefusals: 0, settled: 0, refunded: 0, proposals: 0 };
    await fc.assert(
      fc.asyncProperty(fc.commands(commands.map((a) => a.map((c) => new Checked(c))), { maxCommands: 40, size: 'max' }), async (cmds) => {
        await f.revert(base);
        base = await f.snapshot();
        // Wall-clock time moved on since the snapshot: start every run from a fresh price.
        await f.oracle.push(2000n * ONE);
        const real: Real = { liquidations: 0, gatedRefusals: 0, settled: 0, refunded: 0, proposals: 0 };
        await fc.asyncModelRun(() => ({ model: {}, real }), cmds);
        if (process.env.AEGIS_PROPERTY_VERBOSE) console.log(String(cmds), JSON.stringify(real));
        for (const k of Object.keys(seen) as (keyof Real)[]) seen[k] += real[k];
      }),
      // A fixed default seed: the coverage check below must not depend on the draw; set
      // AEGIS_PROPERTY_SEED (and AEGIS_PROPERTY_RUNS) to explore other sequences.
      { numRuns: Number(process.env.AEGIS_PROPERTY_RUNS ?? 8), seed: Number(process.env.AEGIS_PROPERTY_SEED ?? 20261125), endOnFailure: true },
    );
    // The sequences must actually exercise the paths the properties are about.
    console.log(`settlement property: ${JSON.stringify(seen)}`);
    if (process.env.AEGIS_PROPERTY_VERBOSE) console.log([...outcomes].sort().map(([k, v]) => `${k} ×${v}`).join('\n'));
    expect(seen.liquidations + seen.gatedRefusals).toBeGreaterThan(0);
  }, 900_000);
});
