/**
 * Chainlink compatibility: AegisAggregatorV3 over the real hub, created by the factory, read
 * by a consumer compiled against Chainlink's AggregatorV3Interface with the usual checks.
 * Tripped and paused feeds: latestRoundData keeps returning the last served round with its
 * true updatedAt, so the consumer's staleness check is what stops it.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Contract } from 'ethers';
import { attach } from '../../contracts/deploy.ts';
import { feedId } from '../../protocol/report.ts';
import { as, deployWith, expectRevert, FEED, feedConfig, latestTime, ONE, setup, Status, type Fixture } from './helpers/chain.ts';

let f: Fixture;
let factory: Contract;
let adapter: Contract;
let consumer: Contract;
const MAX_AGE = 600n;

beforeAll(async () => {
  f = await setup();
  factory = await deployWith(f, f.deployer, 'AegisAggregatorV3Factory');
  await (await factory.create!(await f.hub.getAddress(), FEED)).wait();
  adapter = attach('AegisAggregatorV3', await factory.adapterOf!(await f.hub.getAddress(), FEED), f.deployer, f.compiled);
  consumer = await deployWith(f, f.deployer, 'ChainlinkConsumer', [await adapter.getAddress(), MAX_AGE]);
});
afterAll(async () => {
  await f?.stop();
});

describe('factory', () => {
  it('creates one adapter per (hub, feed) at the predicted CREATE2 address', async () => {
    const hub = await f.hub.getAddress();
    expect(await factory.predict!(hub, FEED)).toBe(await adapter.getAddress());
    await expectRevert(f, factory.create!(hub, FEED), 'AdapterExists', [hub, FEED, await adapter.getAddress()]);
  });

  it('refuses a feed the hub does not know', async () => {
    const hub = await f.hub.getAddress();
    const unknown = feedId('NOPE/USD');
    await expectRevert(f, factory.create!(hub, unknown), 'FeedNotConfigured', [hub, unknown]);
  });
});

describe('AegisAggregatorV3', () => {
  let snap: string;
  beforeEach(async () => {
    if (snap) await f.revert(snap);
    snap = await f.snapshot();
  });

  it('decimals, description and version come from the hub config', async () => {
    expect(await adapter.decimals!()).toBe(8n);
    expect(await adapter.description!()).toBe('ETH / USD');
    expect(await adapter.version!()).toBe(1n);
  });

  it('latestRoundData is the hub latest round: answer, updatedAt = observedAt, answeredInRound = roundId', async () => {
    const t = await latestTime(f.hub);
    await f.oracle.push(2010n * ONE, { observedAt: t });
    const round = (await f.hub.latestRoundId!(FEED)) as bigint;
    const [roundId, answer, startedAt, updatedAt, answeredInRound] = await adapter.latestRoundData!();
    expect(roundId).toBe(round);
    expect(answer).toBe(2010n * ONE);
    expect(updatedAt).toBe(t);
    expect(startedAt).toBe(t);
    expect(answeredInRound).toBe(round);
  });

  it('getRoundData walks the history; rounds outside it revert with the hub RoundNotFound', async () => {
    const first = (await f.hub.latestRoundId!(FEED)) as bigint;
    const prices = [2001n, 2002n, 2003n, 2004n].map((p) => p * ONE);
    for (const p of prices) {
      await f.oracle.push(p);
    }
    for (let k = 0; k < prices.length; k++) {
      const r = first + 1n + BigInt(k);
      const [roundId, answer, , updatedAt, answeredInRound] = await adapter.getRoundData!(r);
      expect([roundId, answer, answeredInRound]).toEqual([r, prices[k], r]);
      const [, observedAt] = await f.hub.getRound!(FEED, r);
      expect(updatedAt).toBe(observedAt);
    }
    const latest = first + BigInt(prices.length);
    await expectRevert(f, adapter.getRoundData!(latest + 1n), 'RoundNotFound', [FEED, latest + 1n]);
    await expectRevert(f, adapter.getRoundData!(0n), 'InvalidRoundId', [0n]);
    // Push past the 16-round ring: the oldest rounds leave the history.
    for (let k = 0; k < 16; k++) await f.oracle.push(2000n * ONE + BigInt(k));
    await expectRevert(f, adapter.getRoundData!(first), 'RoundNotFound', [FEED, first]);
  });

  it('a consumer compiled against AggregatorV3Interface reads it with the usual checks', async () => {
    await f.oracle.push(2050n * ONE);
    const [price18, roundId] = await consumer.price!();
    expect(price18).toBe(2050n * 10n ** 18n);
    expect(roundId).toBe(await f.hub.latestRoundId!(FEED));
    await f.anvil.increaseTime(Number(MAX_AGE) + 5);
    const e = await expectRevert(f, consumer.price!(), 'StalePrice');
    expect(e.args[2]).toBe(MAX_AGE);
  });

  it('tripped feed: latestRoundData holds the last served round with its true updatedAt; the staleness check fires', async () => {
    await f.oracle.push(2000n * ONE);
    const [heldRound, heldAnswer, , heldUpdatedAt] = await adapter.latestRoundData!();
    await f.oracle.push(2600n * ONE); // +30 % > 10 % limit: tripped, not served
    expect(await adapter.status!()).toBe(Status.Tripped);
    await expectRevert(f, f.hub.read!(FEED, 0n), 'FeedTripped', [FEED]);
    const [roundId, answer, , updatedAt, answeredInRound] = await adapter.latestRoundData!();
    expect([roundId, answer, updatedAt, answeredInRound]).toEqual([heldRound, heldAnswer, heldUpdatedAt, heldRound]);
    // Within the consumer's tolerance it still reads the held (last accepted) price ...
    expect((await consumer.price!())[0]).toBe(2000n * 10n ** 18n);
    // ... and once the hold outlasts it, the consumer's own staleness check stops it.
    await f.anvil.increaseTime(Number(MAX_AGE) + 1);
    await expectRevert(f, consumer.price!(), 'StalePrice');
  });

  it('paused feed: same behaviour, status() reports Paused', async () => {
    await f.oracle.push(2000n * ONE);
    const before = await adapter.latestRoundData!();
    await (await f.hub.setFeedPaused!(FEED, true)).wait();
    expect(await adapter.status!()).toBe(Status.Paused);
    await expectRevert(f, f.hub.read!(FEED, 0n), 'FeedPaused', [FEED]);
    expect([...(await adapter.latestRoundData!())]).toEqual([...before]);
  });

  it('a feed with no round yet returns zeros, which the consumer rejects', async () => {
    const fresh = feedId('SOL/USD');
    await (await f.hub.addFeed!(fresh, feedConfig({ description: 'SOL / USD' }))).wait();
    await (await factory.create!(await f.hub.getAddress(), fresh)).wait();
    const a = adapter.attach(await factory.adapterOf!(await f.hub.getAddress(), fresh)) as Contract;
    expect([...(await a.latestRoundData!())]).toEqual([0n, 0n, 0n, 0n, 0n]);
    const c = await deployWith(f, f.deployer, 'ChainlinkConsumer', [await a.getAddress(), MAX_AGE]);
    await expectRevert(f, as(c, f.signers[1]!).price!(), 'InvalidAnswer', [0n]);
  });
});
