/**
 * The step loop (docs/simulator.md §Time): on a fixed grid of `stepSec` the market advances,
 * the venue attackers act, every node polls its sources once, and a block is mined at the
 * step's timestamp; every `roundEverySec` the aggregator runs a round and the keeper acts.
 * Each step ends with a sample of the truth, the venues and what the hub serves.
 *
 * `sourceFindings` and `sampleOf` are pure: what a step records of node 1's filter and of the
 * hub's read.
 */
import type { Contract } from 'ethers';
import type { NodeService } from '../../node/service.ts';
import type { FeedView } from '../../node/pricing.ts';
import type { VenueId } from '../../node/sources/index.ts';
import { FEED_STATUS } from '../../aggregator/chain/hub-abi.ts';
import { stepPush, stepWash, type Ledger } from '../attack/index.ts';
import type { SimMarket } from '../market/index.ts';
import type { Sample } from '../result.ts';
import type { Scenario } from '../scenario/schema.ts';
import type { AttackPlans } from './attackers.ts';
import type { BlockClock, SimClock } from './clock.ts';
import type { RunLog } from './events.ts';
import type { Keeper } from './keeper.ts';
import type { ServedVenues } from './market.ts';
import type { SimAggregator } from './rounds.ts';

/**
 * What node 1's filter did with the venues at this step, one line per source: the reason a
 * quote was not used, or that a fresh, valid quote went unused because the feed had no
 * observation; then the sources that never reached the filter. Each line once, in that order.
 */
export function sourceFindings(view: FeedView | undefined): string[] {
  const found = new Set<string>();
  for (const src of view?.result?.sources ?? []) if (!src.used) found.add(`${src.source}: ${src.reason ?? `fresh but unused, the feed has no observation (${view && !view.ok ? view.reason : 'priced without it'})`}`);
  for (const x of view?.excluded ?? []) found.add(`${x.source}: ${x.reason}`);
  return [...found];
}

/** The oldest price a consumer takes: the futures market's limit when there is one, capped by the hub's staleness. */
export function consumerMaxAge(s: Pick<Scenario, 'settlement' | 'oracle'>): number {
  const fut = s.settlement.futures;
  return fut ? Math.min(fut.maxPriceAgeSec, s.oracle.hub.maxStaleness) : s.oracle.hub.maxStaleness;
}

/** The hub's `tryRead` of the feed: answer, observedAt, spreadBps, roundId, status (a `FEED_STATUS` index). */
export type HubRead = readonly [answer: bigint, observedAt: bigint, spreadBps: bigint, roundId: bigint, status: bigint];

/**
 * One step's sample. The served price is usable when the feed has a round, is active, and is
 * no older at the last block than the consumer's maximum age.
 */
export function sampleOf(x: {
  tSec: number;
  truth: number;
  venues: Record<string, number | null>;
  read: HubRead;
  lastTs: number;
  maxAgeSec: number;
  spendUsd: number;
  fromAnswer: (answer: bigint) => number;
}): Sample {
  const r = x.read;
  const status = FEED_STATUS[Number(r[4])] ?? 'unknown';
  const roundId = BigInt(r[3]);
  const observedAt = Number(r[1]);
  const usable = roundId > 0n && status === 'active' && x.lastTs - observedAt <= x.maxAgeSec;
  const served = roundId > 0n ? x.fromAnswer(BigInt(r[0])) : null;
  return { tSec: x.tSec, truth: x.truth, venues: x.venues, served, status, usable, spendUsd: x.spendUsd, age: roundId > 0n ? x.lastTs - observedAt : null };
}

export interface StepLoopDeps {
  market: SimMarket;
  venueIds: readonly VenueId[];
  venues: ServedVenues;
  plans: Pick<AttackPlans, 'pushes' | 'washes'>;
  ledger: Ledger;
  services: readonly NodeService[];
  clock: SimClock;
  blocks: BlockClock;
  /** The run's start on the chain (t = 0). */
  t0Sec: number;
  hub: Contract;
  feedId: string;
  aggregator: SimAggregator;
  keeper: Keeper;
  log: RunLog;
  fromAnswer: (answer: bigint) => number;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface StepLoopResult {
  samples: Sample[];
  /** The first step at which node 1 withheld its observation (null if never). */
  quorumLostSec: number | null;
}

export async function runSteps(s: Scenario, x: StepLoopDeps): Promise<StepLoopResult> {
  const { market, log } = x;
  const samples: Sample[] = [];
  let quorumLostSec: number | null = null;
  const maxAgeSec = consumerMaxAge(s);
  const steps = Math.floor(s.durationSec / s.stepSec) + 1;
  for (let k = 0; k < steps; k++) {
    x.signal?.throwIfAborted();
    const tSec = k * s.stepSec;
    x.clock.ms = x.t0Sec * 1000 + tSec * 1000;
    market.advance(tSec);
    for (const p of x.plans.pushes) stepPush(market, p, tSec, x.ledger);
    for (const w of x.plans.washes) stepWash(market, w, tSec, s.stepSec, x.ledger);
    for (const v of x.venueIds) x.venues.setBehaviour(v, market.behaviour(v));
    await Promise.all(x.services.map((svc) => svc.poller.refresh()));
    // What node 1's filter did with the venues (the same view for every honest node).
    const view = x.services[0]!.views().get(s.feed.name);
    for (const f of sourceFindings(view)) log.fired(tSec, 'node filter dropped source', f);
    if (view && !view.ok) {
      log.fired(tSec, 'node withheld observation', view.reason);
      if (quorumLostSec === null) quorumLostSec = tSec;
    }
    await x.blocks.mineAt(x.t0Sec + tSec);
    if (tSec % s.oracle.roundEverySec === 0) {
      await x.aggregator.round(tSec);
      await x.keeper.act(tSec);
    }
    const read = (await x.hub.getFunction('tryRead')(x.feedId)) as HubRead;
    const truth = market.truth(tSec);
    const venuesNow: Record<string, number | null> = {};
    for (const v of x.venueIds) venuesNow[v] = market.behaviour(v).kind === 'normal' ? (market.tick(v)?.price ?? null) : null;
    samples.push(sampleOf({ tSec, truth, venues: venuesNow, read, lastTs: x.blocks.lastTs, maxAgeSec, spendUsd: x.ledger.spendUsd, fromAnswer: x.fromAnswer }));
    x.onProgress?.(k + 1, steps);
  }
  return { samples, quorumLostSec };
}
