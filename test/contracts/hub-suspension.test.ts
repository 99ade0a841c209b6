/**
 * Committee-signed suspension on the real hub (docs/suspension.md), with BLS-signed reports
 * on anvil: a suspension entry (answer int192 min, reason in spreadBps) suspends the feed,
 * `read` reverts `FeedSuspended`, `tryRead` reports `Suspended` with the last served round,
 * the same signature, epoch, age and ordering rules as a price apply (no replay, no forgery
 * below t), and the first newer priced entry resumes the feed through the breaker. The
 * settlement contracts refuse to liquidate or settle on a suspended feed.
 * Also `invariant_suspension_OnlyCommittee` (IAegisHub).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Contract, JsonRpcSigner } from 'ethers';
import { combinePartials, partialSign, signatureToEvm } from '../../protocol/bls/index.ts';
import { SUSPENDED_ANSWER, SuspendReason, feedId, reportMessage, type Report } from '../../protocol/report.ts';
import { FeedStatus } from '../../contracts/hub.ts';
import { measureHubGas } from '../../bench/gas.ts';
import { as, deployTest, deployWith, events, expectRevert, FEED, feedConfig, fundAndApprove, latestTime, ONE, setup, type Fixture } from './helpers/chain.ts';

const USDC = 10n ** 6n;
const NO_RING = feedId('NORING/USD');
const ZERO = '0x0000000000000000000000000000000000000000';
let f: Fixture;
let snap: string;

beforeAll(async () => {
  f = await setup({ feed: { deviationBps: 1000, confirmations: 2, confirmationTime: 60 } });
  await (await f.hub.addFeed!(NO_RING, feedConfig({ historyCapacity: 0, description: 'NORING / USD', deviationBps: 1000, confirmations: 2, confirmationTime: 60 }))).wait();
  snap = await f.snapshot();
});
afterAll(async () => {
  await f?.stop();
});
beforeEach(async () => {
  await f.revert(snap);
  snap = await f.snapshot();
});

/** Signs (t of n) and transmits a suspension of `feed` observed at `observedAt` (default: now). */
async function suspend(reason: number = SuspendReason.too_few_sources, opts: { observedAt?: bigint; feed?: string } = {}) {
  const observedAt = opts.observedAt ?? (await next());
  const signed = await f.oracle.report({ [opts.feed ?? FEED]: SUSPENDED_ANSWER }, observedAt, reason);
  const rc = (await (await f.hub.transmit!(signed.report, signed.signature)).wait())!;
  return { ...signed, rc };
}
/** An observation time strictly after every one used so far and not after the next block. */
async function next(): Promise<bigint> {
  const t = (await latestTime(f.hub)) + 1n;
  const at = t > f.oracle.lastObservedAt ? t : f.oracle.lastObservedAt + 1n;
  f.oracle.lastObservedAt = at;
  return at;
}

describe('hub: suspension', () => {
  it('suspends at once: read reverts FeedSuspended, tryRead says Suspended with the last served round, events', async () => {
    const [, servedAt, spread, round] = (await f.hub.tryRead!(FEED)) as bigint[];
    const s = await suspend(SuspendReason.too_few_sources);
    const ev = events(f.hub, s.rc).map((e) => [e.name, ...e.args]);
    expect(ev).toEqual([
      ['ReportAccepted', await f.deployer.getAddress(), s.report.epoch, s.report.observedAt],
      ['CommitteeSuspendedFeed', FEED, 1n],
    ]);
    await expectRevert(f, f.hub.read!(FEED, 0), 'FeedSuspended', [FEED, 1n, s.report.observedAt]);
    // The served round is held with its true observation time: age checks keep working.
    expect([...((await f.hub.tryRead!(FEED)) as bigint[])]).toEqual([2000n * ONE, servedAt, spread, round, BigInt(FeedStatus.Suspended)]);
    expect([...((await f.hub.getRound!(FEED, round)) as bigint[])]).toEqual([2000n * ONE, servedAt, spread]);
    expect(await f.hub.latestRoundId!(FEED)).toBe(round);
  });

  it('cannot be replayed (epoch), forged below t (signature), or slipped in with an older observation time', async () => {
    const s = await suspend();
    await expectRevert(f, f.hub.transmit!(s.report, s.signature), 'EpochNotAboveLast', [s.report.epoch, s.report.epoch]);
    await f.oracle.push(2010n * ONE);
    expect(((await f.hub.tryRead!(FEED)) as bigint[])[4]).toBe(BigInt(FeedStatus.Active));
    // The same suspension again, re-signed at a newer epoch but with its old observation time: skipped.
    const old = await f.oracle.report({ [FEED]: SUSPENDED_ANSWER }, s.report.observedAt, 1);
    const rc = await (await f.hub.transmit!(old.report, old.signature)).wait();
    expect(events(f.hub, rc).map((e) => [e.name, ...e.args]).slice(1)).toEqual([['FeedSkipped', FEED, 2n]]);
    expect(((await f.hub.tryRead!(FEED)) as bigint[])[4]).toBe(BigInt(FeedStatus.Active));
    // t − 1 partials do not make a committee signature.
    const forged = await f.oracle.report({ [FEED]: SUSPENDED_ANSWER }, await next(), 1);
    const m = reportMessage(forged.report);
    const sig = signatureToEvm(combinePartials(f.committee.shares.slice(0, f.committee.t - 1).map((sh) => partialSign(sh, m)), f.committee.t - 1));
    await expectRevert(f, f.hub.transmit!(forged.report, sig), 'SignatureInvalid');
    expect(((await f.hub.tryRead!(FEED)) as bigint[])[4]).toBe(BigInt(FeedStatus.Active));
  });

  it('resumes on the first newer priced entry within the breaker, and trips on one beyond it', async () => {
    const round = (await f.hub.latestRoundId!(FEED)) as bigint;
    await suspend();
    const rc = await f.oracle.push(2050n * ONE);
    expect(events(f.hub, rc).map((e) => [e.name, ...e.args]).slice(1)).toEqual([['FeedResumed', FEED, round + 1n, 2050n * ONE]]);
    const [answer, , , r, status] = (await f.hub.tryRead!(FEED)) as bigint[];
    expect([answer, r, status]).toEqual([2050n * ONE, round + 1n, BigInt(FeedStatus.Active)]);
    await f.hub.read!(FEED, 0); // readable again

    // Suspended again, then a price 50 % away: the breaker holds it (not served), the feed reads Tripped.
    const [, servedAt] = (await f.hub.tryRead!(FEED)) as bigint[];
    await suspend(SuspendReason.sources_disagree);
    const trip = await f.oracle.push(1000n * ONE);
    expect(events(f.hub, trip).map((e) => e.name).slice(1)).toEqual(['BreakerTripped']);
    const t = (await f.hub.tryRead!(FEED)) as bigint[];
    expect([t[0], t[1], t[3], t[4]]).toEqual([2050n * ONE, servedAt, round + 1n, BigInt(FeedStatus.Tripped)]);
    await expectRevert(f, f.hub.read!(FEED, 0), 'FeedTripped', [FEED]);
  });

  it('clears a tripped breaker: nobody confirms its candidate any more', async () => {
    await f.oracle.push(1000n * ONE);
    expect(((await f.hub.tryRead!(FEED)) as bigint[])[4]).toBe(BigInt(FeedStatus.Tripped));
    await suspend();
    expect(((await f.hub.tryRead!(FEED)) as bigint[])[4]).toBe(BigInt(FeedStatus.Suspended));
    expect(((await f.hub.breakerState!(FEED)) as unknown[])[0]).toBe(false);
    await expectRevert(f, f.hub.resolveBreaker!(FEED, true), 'BreakerNotTripped', [FEED]);
  });

  it('keeps the served round of a feed without a history ring', async () => {
    await f.oracle.push(300n * ONE, { feed: NO_RING, spreadBps: 7 });
    const [, servedAt] = (await f.hub.tryRead!(NO_RING)) as bigint[];
    await suspend(SuspendReason.no_snapshot, { feed: NO_RING });
    expect([...((await f.hub.tryRead!(NO_RING)) as bigint[])]).toEqual([300n * ONE, servedAt, 7n, 1n, BigInt(FeedStatus.Suspended)]);
    expect([...((await f.hub.getRound!(NO_RING, 1n)) as bigint[])]).toEqual([300n * ONE, servedAt, 7n]);
    await f.oracle.push(301n * ONE, { feed: NO_RING });
    expect(((await f.hub.tryRead!(NO_RING)) as bigint[])[4]).toBe(BigInt(FeedStatus.Active));
  });

  it('pull mode: updateAndRead with a suspension reverts FeedSuspended (the caller never gets the held price)', async () => {
    const s = await f.oracle.report({ [FEED]: SUSPENDED_ANSWER }, await next(), 2);
    await expectRevert(f, f.hub.updateAndRead!(s.report, s.signature, FEED, 0), 'FeedSuspended', [FEED, 2n, s.report.observedAt]);
  });

  it('a paused feed skips the suspension (the guardian\'s pause stands)', async () => {
    await (await f.hub.setFeedPaused!(FEED, true)).wait();
    const s = await suspend();
    expect(events(f.hub, s.rc).map((e) => [e.name, ...e.args]).slice(1)).toEqual([['FeedSkipped', FEED, 1n]]);
    expect(((await f.hub.tryRead!(FEED)) as bigint[])[4]).toBe(BigInt(FeedStatus.Paused));
  });
});

describe('invariant', () => {
  // Command sequences against the hub and a model of the feed: priced entries (small moves,
  // inside the breaker), suspensions, each observed a little before or after the feed's last
  // ordering point; replays of any earlier signed report; suspensions signed by t − 1 shares.
  type Cmd = { kind: 'price'; bps: number; obsDelta: number } | { kind: 'suspend'; reason: number; obsDelta: number } | { kind: 'replay'; pick: number } | { kind: 'forge' };
  const cmd: fc.Arbitrary<Cmd> = fc.oneof(
    fc.record({ kind: fc.constant('price' as const), bps: fc.integer({ min: -300, max: 300 }), obsDelta: fc.integer({ min: -2, max: 3 }) }),
    fc.record({ kind: fc.constant('suspend' as const), reason: fc.integer({ min: 0, max: 5 }), obsDelta: fc.integer({ min: -2, max: 3 }) }),
    fc.record({ kind: fc.constant('replay' as const), pick: fc.nat() }),
    fc.constant({ kind: 'forge' as const }),
  );

  it('invariant_suspension_OnlyCommittee', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(cmd, { minLength: 4, maxLength: 10 }), async (cmds) => {
        const before = await f.snapshot();
        try {
          await run(cmds);
        } finally {
          await f.revert(before);
        }
      }),
      { numRuns: 12 },
    );
  }, 600_000);

  async function run(cmds: Cmd[]): Promise<void> {
    const start = (await f.hub.tryRead!(FEED)) as bigint[];
    // The model: the served round, the ordering point, the suspension.
    const m = { answer: start[0]!, servedAt: start[1]!, round: start[3]!, order: start[1]!, suspended: false, reason: 0n };
    const sent: { report: Report; signature: Uint8Array }[] = [];
    for (const c of cmds) {
      const now = await latestTime(f.hub);
      if (c.kind === 'price' || c.kind === 'suspend') {
        let at = m.order + BigInt(c.obsDelta);
        if (at > now + 30n) at = now + 30n;
        const answer = c.kind === 'price' ? (m.answer * BigInt(10_000 + c.bps)) / 10_000n : SUSPENDED_ANSWER;
        const signed = await f.oracle.report({ [FEED]: answer }, at, c.kind === 'suspend' ? c.reason : 10);
        await (await f.hub.transmit!(signed.report, signed.signature)).wait();
        sent.push(signed);
        if (at > m.order) {
          m.order = at;
          if (c.kind === 'suspend') [m.suspended, m.reason] = [true, BigInt(c.reason)];
          else [m.suspended, m.answer, m.servedAt, m.round] = [false, answer, at, m.round + 1n];
        }
      } else if (c.kind === 'replay' && sent.length > 0) {
        const old = sent[c.pick % sent.length]!;
        await expectRevert(f, f.hub.transmit!(old.report, old.signature), 'EpochNotAboveLast');
      } else if (c.kind === 'forge') {
        const forged = await f.oracle.report({ [FEED]: SUSPENDED_ANSWER }, now, 1);
        const msg = reportMessage(forged.report);
        const sig = signatureToEvm(combinePartials(f.committee.shares.slice(1, f.committee.t).map((sh) => partialSign(sh, msg)), f.committee.t - 1));
        await expectRevert(f, f.hub.transmit!(forged.report, sig), 'SignatureInvalid');
        f.oracle.epoch -= 1n; // never accepted
      }
      // Suspended exactly when the model says; never read as a price while suspended; the
      // served round (answer, its own observation time, id) is what the model served.
      const [answer, observedAt, , round, status] = (await f.hub.tryRead!(FEED)) as bigint[];
      expect([answer, observedAt, round]).toEqual([m.answer, m.servedAt, m.round]);
      expect(status).toBe(BigInt(m.suspended ? FeedStatus.Suspended : FeedStatus.Active));
      if (m.suspended) await expectRevert(f, f.hub.read!(FEED, 0), 'FeedSuspended', [FEED, m.reason, m.order]);
      else expect(((await f.hub.read!(FEED, 0)) as bigint[])[0]).toBe(m.answer);
    }
  }
});

describe('settlement on a suspended feed', () => {
  it('FuturesMarket refuses to liquidate (and to mark) with PriceSuspended, and liquidates after the resume', async () => {
    const [, alice, liquidator, lp] = f.signers as JsonRpcSigner[];
    const token = await deployTest(f.deployer, 'TestToken', ['USD Coin (test)', 'USDC', 6]);
    const risk = { maxPriceAge: 300n, maxSpreadBps: 100n, initialMarginBps: 1000n, maintenanceMarginBps: 500n, liquidationBountyBps: 100n, minNotional: 100n * USDC, minCollateral: 10n * USDC, maxProfitBps: 10_000n };
    const market: Contract = await deployWith(f, f.deployer, 'FuturesMarket', [await f.hub.getAddress(), FEED, await token.getAddress(), await lp!.getAddress(), risk, ZERO, 0n]);
    await fundAndApprove(token, market, [alice!, liquidator!, lp!], 1_000_000n * USDC);
    await (await as(market, lp!).fundPool!(100_000n * USDC)).wait();
    await (await as(market, alice!).deposit!(210n * USDC)).wait();
    await (await as(market, alice!).openPosition!(USDC)).wait(); // 1 ETH long at 2000, 10x
    // Down 9 % (within the breaker): below maintenance.
    await f.oracle.push(1820n * ONE);
    expect(await market.isLiquidatableAt!(await alice!.getAddress(), 1820n * ONE)).toBe(true);
    await suspend();
    await expectRevert(f, as(market, liquidator!).liquidate!(await alice!.getAddress()), 'PriceSuspended', [FEED]);
    await expectRevert(f, market.markPrice!(), 'PriceSuspended', [FEED]);
    await f.oracle.push(1815n * ONE);
    await (await as(market, liquidator!).liquidate!(await alice!.getAddress())).wait();
  });

  it('EuropeanOption refuses a suspension entry as a candidate and settles only once the feed is resumed', async () => {
    const [, writer, buyer, keeper] = f.signers as JsonRpcSigner[];
    const token = await deployTest(f.deployer, 'TestToken', ['USD Coin (test)', 'USDC', 6]);
    const option: Contract = await deployWith(f, f.deployer, 'EuropeanOption', [await f.hub.getAddress(), FEED, await token.getAddress(), 3600n, 600n, 3600n, 100n, ZERO, 0n]);
    await fundAndApprove(token, option, [writer!, buyer!, keeper!], 1_000_000n * USDC);
    const expiry = (await latestTime(f.hub)) + 100n;
    await (await as(option, writer!).write!(true, 2000n * ONE, 500n * ONE, USDC, 20n * USDC, expiry)).wait();
    const id = (await option.optionCount!()) as bigint;
    await (await as(option, buyer!).buy!(id)).wait();
    await f.warpTo(expiry + 10n);
    f.oracle.lastObservedAt = expiry + 10n;
    const s = await f.oracle.report({ [FEED]: SUSPENDED_ANSWER }, expiry + 5n, SuspendReason.sources_disagree);
    await expectRevert(f, as(option, keeper!).proposeReport!(id, s.report, s.signature), 'ReportSuspendsFeed', [FEED, 2n]);
    const priced = await f.oracle.report({ [FEED]: 2100n * ONE }, expiry + 6n);
    await (await as(option, keeper!).proposeReport!(id, priced.report, priced.signature)).wait();
    const suspended = await suspend(SuspendReason.too_few_sources, { observedAt: expiry + 11n });
    await f.warpTo(((await option.proposalDeadline!(id)) as bigint) + 1n);
    await expectRevert(f, as(option, keeper!).settle!(id), 'SettlementFeedSuspended', [FEED]);
    await expectRevert(f, f.hub.read!(FEED, 0), 'FeedSuspended', [FEED, 1n, suspended.report.observedAt]);
    f.oracle.lastObservedAt = 0n;
    await f.oracle.push(2100n * ONE);
    await (await as(option, keeper!).settle!(id)).wait();
    expect((await option.getOption!(id)).status).toBe(3n); // Settled
  });
});

describe('gas', () => {
  it('a round that suspends a feed costs no more than a round that prices it (the bench rows suspend and transmit, one feed)', async () => {
    const g = await measureHubGas({ n: 4, feeds: [1] });
    expect(g.suspend).toBeLessThanOrEqual(g.transmit[1]!);
    expect(g.resume).toBeGreaterThan(0);
  }, 300_000);
});
