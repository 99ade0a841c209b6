/**
 * Shared by the consumer suites (one file per consumer package): the Aegis side of every test.
 * `setup()` from the contracts fixture gives one anvil, the real AegisHub with a dealer
 * committee (n = 4, t = 3) and an `Oracle` that pushes real threshold-signed reports; here the
 * adapters come from the real factory, and `walkHubStates` drives the hub through every state a
 * consumer can meet, handing each one to the suite's checks.
 */
import type { Contract } from 'ethers';
import { attach } from '../../contracts/deploy.ts';
import { SUSPENDED_ANSWER, SuspendReason } from '../../protocol/report.ts';
import { deployWith, FEED, latestTime, ONE, Status as FixtureStatus, type Fixture, type Oracle } from '../contracts/helpers/chain.ts';

/** IAegisFeeds.FeedStatus, with the committee's `Suspended` (appended as 5). */
export const Status = { ...FixtureStatus, Suspended: 5n } as const;

export { FEED, ONE };

/** The factory and the lenient and strict adapters of FEED (strict with the feed's own limit). */
export async function adapters(f: Fixture): Promise<{ factory: Contract; lenient: Contract; strict: Contract }> {
  const factory = await deployWith(f, f.deployer, 'AegisAggregatorV3Factory');
  const hub = await f.hub.getAddress();
  await (await factory.create!(hub, FEED)).wait();
  await (await factory.createStrict!(hub, FEED, 0n)).wait();
  return {
    factory,
    lenient: attach('AegisAggregatorV3', await factory.adapterOf!(hub, FEED), f.deployer, f.compiled),
    strict: attach('AegisAggregatorV3Strict', await factory.strictAdapterOf!(hub, FEED, 0n), f.deployer, f.compiled),
  };
}

/** What the hub itself says about FEED right now (never reverting). */
export interface HubView {
  answer: bigint;
  observedAt: bigint;
  roundId: bigint;
  status: bigint;
}

export async function hubView(f: Fixture): Promise<HubView> {
  const [answer, observedAt, , roundId, status] = (await f.hub.tryRead!(FEED)) as [bigint, bigint, bigint, bigint, bigint];
  return { answer, observedAt, roundId, status };
}

export type HubStateName = 'active' | 'tripped' | 'recovered from trip' | 'paused' | 'unpaused' | 'suspended' | 'resumed' | 'stale' | 'recovered from stale';

/** The committee signs that it cannot price FEED (a suspension entry: same report format). */
export async function suspend(f: Fixture, oracle: Oracle = f.oracle): Promise<void> {
  const now = await latestTime(f.hub);
  const observedAt = now > oracle.lastObservedAt ? now : oracle.lastObservedAt + 1n;
  oracle.lastObservedAt = observedAt;
  const { report, signature } = await oracle.report({ [FEED]: SUSPENDED_ANSWER }, observedAt, SuspendReason.too_few_sources);
  await (await f.hub.transmit!(report, signature)).wait();
}

/**
 * Drives FEED through every state the hub has, with real signed reports and the guardian's
 * real calls, and awaits `check` in each (the hub's view and the state's name are passed):
 * active → tripped (a +30 % report is held by the 10 % breaker) → recovered from trip (a report
 * within the limit clears it) → paused → unpaused → suspended (the committee signs that it
 * cannot price the feed) → resumed (the next priced report) → stale (past maxStaleness) →
 * recovered from stale (a fresh report). Asserts the hub really is in each state before calling `check`.
 * `oracle` signs the reports (default: the fixture's; pass another after a committee rotation).
 */
export async function walkHubStates(f: Fixture, check: (state: HubStateName, hub: HubView) => Promise<void>, oracle: Oracle = f.oracle): Promise<HubStateName[]> {
  const seen: HubStateName[] = [];
  const at = async (state: HubStateName, status: bigint): Promise<void> => {
    const v = await hubView(f);
    if (v.status !== status) throw new Error(`walkHubStates: expected hub status ${status} in state "${state}", hub says ${v.status}; check the fixture's feed config (10 % breaker, maxStaleness)`);
    seen.push(state);
    await check(state, v);
  };
  await oracle.push(2000n * ONE);
  await at('active', Status.Active);
  await oracle.push(2600n * ONE);
  await at('tripped', Status.Tripped);
  await oracle.push(2010n * ONE);
  await at('recovered from trip', Status.Active);
  await (await f.hub.setFeedPaused!(FEED, true)).wait();
  await at('paused', Status.Paused);
  await (await f.hub.setFeedPaused!(FEED, false)).wait();
  await at('unpaused', Status.Active);
  await suspend(f, oracle);
  await at('suspended', Status.Suspended);
  await oracle.push(2015n * ONE);
  await at('resumed', Status.Active);
  const { maxStaleness } = (await f.hub.feedConfig!(FEED)) as { maxStaleness: bigint };
  await f.warpTo((await hubView(f)).observedAt + maxStaleness + 1n);
  await at('stale', Status.Stale);
  await oracle.push(2020n * ONE);
  await at('recovered from stale', Status.Active);
  return seen;
}
