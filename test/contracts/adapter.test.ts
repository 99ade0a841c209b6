/**
 * Chainlink compatibility: AegisAggregatorV3 (lenient) and AegisAggregatorV3Strict over the real
 * hub, created by the factory, read by a consumer compiled against Chainlink's
 * AggregatorV3Interface with the usual checks. Lenient: tripped and paused feeds keep returning
 * the last served round with its true updatedAt, so the consumer's staleness check is what
 * stops it. Strict: every latest read reverts unless the feed is Active and fresh. Both: the V2
 * getters, Chainlink's missing-data rules, updatedAt never after the reading block, and the
 * NewRound / AnswerUpdated events of announce().
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Contract } from 'ethers';
import { attach } from '../../contracts/deploy.ts';
import { feedId } from '../../protocol/report.ts';
import { as, deployTest, deployWith, events, expectRevert, FEED, feedConfig, latestTime, ONE, setup, Status, type Fixture } from './helpers/chain.ts';

let f: Fixture;
let factory: Contract;
let adapter: Contract;
let consumer: Contract;
let strict: Contract;
const MAX_AGE = 600n;
const STRICT_MAX_AGE = 120n;

beforeAll(async () => {
  f = await setup();
  factory = await deployWith(f, f.deployer, 'AegisAggregatorV3Factory');
  await (await factory.create!(await f.hub.getAddress(), FEED)).wait();
  adapter = attach('AegisAggregatorV3', await factory.adapterOf!(await f.hub.getAddress(), FEED), f.deployer, f.compiled);
  consumer = await deployTest(f.deployer, 'ChainlinkConsumer', [await adapter.getAddress(), MAX_AGE]);
  await (await factory.createStrict!(await f.hub.getAddress(), FEED, STRICT_MAX_AGE)).wait();
  strict = attach('AegisAggregatorV3Strict', await factory.strictAdapterOf!(await f.hub.getAddress(), FEED, STRICT_MAX_AGE), f.deployer, f.compiled);
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

  it('creates strict adapters per maxAge at their own predicted addresses, and says which is which', async () => {
    const hub = await f.hub.getAddress();
    expect(await factory.predictStrict!(hub, FEED, STRICT_MAX_AGE)).toBe(await strict.getAddress());
    expect(await strict.getAddress()).not.toBe(await adapter.getAddress());
    await expectRevert(f, factory.createStrict!(hub, FEED, STRICT_MAX_AGE), 'AdapterExists', [hub, FEED, await strict.getAddress()]);
    expect(await factory.strictAdapterOf!(hub, FEED, 1n)).toBe('0x0000000000000000000000000000000000000000');
    const rc = await (await factory.createStrict!(hub, FEED, 1n)).wait();
    const created = events(factory, rc).find((e) => e.name === 'StrictAdapterCreated')!;
    expect([created.args.hub, created.args.feedId, created.args.adapter, created.args.maxAge]).toEqual([hub, FEED, await factory.strictAdapterOf!(hub, FEED, 1n), 1n]);
    expect([await adapter.strict!(), await strict.strict!(), await strict.maxAge!()]).toEqual([false, true, STRICT_MAX_AGE]);
  });

  it('adapters are EIP-1167 clones carrying their arguments (97 / 101 bytes of code); a standalone deployment reads the same', async () => {
    const code = await f.anvil.provider.getCode(await adapter.getAddress());
    expect((code.length - 2) / 2).toBe(45 + 52);
    expect(code.toLowerCase()).toContain((await factory.lenientImplementation!()).slice(2).toLowerCase());
    expect((await f.anvil.provider.getCode(await strict.getAddress())).length).toBe(2 + 2 * (45 + 56));
    expect([await adapter.hub!(), await adapter.feedId!()]).toEqual([await f.hub.getAddress(), FEED]);
    const standalone = await deployWith(f, f.deployer, 'AegisAggregatorV3', [await f.hub.getAddress(), FEED]);
    expect([...(await standalone.latestRoundData!())]).toEqual([...(await adapter.latestRoundData!())]);
    const standaloneStrict = await deployWith(f, f.deployer, 'AegisAggregatorV3Strict', [await f.hub.getAddress(), FEED, STRICT_MAX_AGE]);
    expect([await standaloneStrict.maxAge!(), await standaloneStrict.latestAnswer!()]).toEqual([STRICT_MAX_AGE, await adapter.latestAnswer!()]);
    // The implementations themselves point at no hub.
    const impl = adapter.attach(await factory.lenientImplementation!()) as Contract;
    expect(await impl.hub!()).toBe('0x0000000000000000000000000000000000000000');
  });

  it('createMany creates one adapter per feed in one transaction, each at its predicted address', async () => {
    const hub = await f.hub.getAddress();
    const ids = ['AAA/USD', 'BBB/USD', 'CCC/USD'].map((n) => feedId(n));
    for (const id of ids) await (await f.hub.addFeed!(id, feedConfig({ description: 'X / USD' }))).wait();
    const rc = await (await factory.createMany!(hub, ids, true, 30)).wait();
    const created = events(factory, rc).filter((e) => e.name === 'StrictAdapterCreated');
    expect(created.map((e) => e.args.feedId)).toEqual(ids);
    for (const [i, id] of ids.entries()) expect(created[i]!.args.adapter).toBe(await factory.predictStrict!(hub, id, 30));
    await expectRevert(f, factory.createMany!(hub, [feedId('DDD/USD')], false, 0), 'FeedNotConfigured', [hub, feedId('DDD/USD')]);
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
    expect(await adapter.version!()).toBe(2n);
    expect(await strict.version!()).toBe(2n);
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
      // Pushed faster than blocks, observedAt may lead the latest block: updatedAt is clamped to it.
      const [, observedAt] = (await f.hub.getRound!(FEED, r)) as [bigint, bigint];
      const block = await latestTime(f.hub);
      expect(updatedAt).toBe(observedAt < block ? observedAt : block);
    }
    const latest = first + BigInt(prices.length);
    await expectRevert(f, adapter.getRoundData!(latest + 1n), 'RoundNotFound', [FEED, latest + 1n]);
    await expectRevert(f, adapter.getRoundData!(0n), 'RoundNotFound', [FEED, 0n]);
    // The V2 getters return 0 for missing rounds instead of reverting (Chainlink's rule).
    expect([await adapter.getAnswer!(latest), await adapter.getTimestamp!(latest)]).toEqual([prices[3], (await adapter.getRoundData!(latest))[3]]);
    expect([await adapter.getAnswer!(latest + 1n), await adapter.getTimestamp!(latest + 1n), await adapter.getAnswer!(0n)]).toEqual([0n, 0n, 0n]);
    // Push past the 16-round ring: the oldest rounds leave the history.
    for (let k = 0; k < 16; k++) await f.oracle.push(2000n * ONE + BigInt(k));
    await expectRevert(f, adapter.getRoundData!(first), 'RoundNotFound', [FEED, first]);
    expect(await adapter.getAnswer!(first)).toBe(0n);
  });

  it('the V2 getters agree with latestRoundData', async () => {
    await f.oracle.push(2020n * ONE);
    const [roundId, answer, , updatedAt] = await adapter.latestRoundData!();
    expect([await adapter.latestAnswer!(), await adapter.latestTimestamp!(), await adapter.latestRound!()]).toEqual([answer, updatedAt, roundId]);
    expect([await strict.latestAnswer!(), await strict.latestTimestamp!(), await strict.latestRound!()]).toEqual([answer, updatedAt, roundId]);
  });

  it('an observedAt ahead of the block: updatedAt is the reading block time, never later, and the consumer does not underflow', async () => {
    const now = await latestTime(f.hub);
    await f.oracle.push(2030n * ONE, { observedAt: now + 40n }); // the hub accepts up to 60 s ahead
    const [, observedAt] = await f.hub.getRound!(FEED, await f.hub.latestRoundId!(FEED));
    expect(observedAt).toBe(now + 40n);
    const block = await latestTime(f.hub);
    expect(block).toBeLessThan(now + 40n);
    const [roundId, answer, startedAt, updatedAt] = await adapter.latestRoundData!();
    expect([answer, startedAt, updatedAt]).toEqual([2030n * ONE, block, block]);
    expect(await adapter.latestTimestamp!()).toBe(block);
    expect(await adapter.getTimestamp!(roundId)).toBe(block);
    expect((await consumer.price!())[0]).toBe(2030n * 10n ** 18n);
    // The hub counts the same age (0), so its read and the strict adapter serve it too.
    expect((await f.hub.read!(FEED, 1n))[0]).toBe(2030n * ONE);
    expect(await strict.latestAnswer!()).toBe(2030n * ONE);
    // Once the chain passes observedAt, updatedAt is observedAt itself.
    await f.warpTo(now + 50n);
    expect((await adapter.latestRoundData!())[3]).toBe(now + 40n);
  });

  it('announce() emits NewRound and AnswerUpdated once per served round, for Chainlink indexers', async () => {
    await adapter.announce!(); // whatever came before
    const first = ((await f.hub.latestRoundId!(FEED)) as bigint) + 1n;
    await f.oracle.push(2041n * ONE);
    await f.oracle.push(2042n * ONE);
    const rc = await (await adapter.announce!()).wait();
    const logs = events(adapter, rc);
    expect(logs.map((e) => [e.name, e.args[0], e.args[1]])).toEqual([
      ['NewRound', first, await f.hub.getAddress()],
      ['AnswerUpdated', 2041n * ONE, first],
      ['NewRound', first + 1n, await f.hub.getAddress()],
      ['AnswerUpdated', 2042n * ONE, first + 1n],
    ]);
    expect(logs[3]!.args[2]).toBe((await adapter.getRoundData!(first + 1n))[3]);
    expect(await adapter.lastAnnouncedRound!()).toBe(first + 1n);
    expect(events(adapter, await (await adapter.announce!()).wait())).toEqual([]);
    // A long silence: only the newest MAX_ANNOUNCE rounds still in the 16-round history are announced.
    for (let k = 0; k < 40; k++) await f.oracle.push(2000n * ONE + BigInt(k));
    const many = events(adapter, await (await adapter.announce!()).wait()).filter((e) => e.name === 'AnswerUpdated');
    expect(many.length).toBe(16);
    expect(many.at(-1)!.args[1]).toBe(await f.hub.latestRoundId!(FEED));
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

  it('strict adapter: tripped, paused and stale feeds revert FeedNotActive with the status; an old Active answer reverts StaleAnswer', async () => {
    await f.oracle.push(2000n * ONE);
    const held = await strict.getRoundData!(await f.hub.latestRoundId!(FEED));
    await f.oracle.push(2600n * ONE); // tripped
    for (const read of ['latestRoundData', 'latestAnswer', 'latestTimestamp', 'latestRound']) {
      await expectRevert(f, strict[read]!(), 'FeedNotActive', [FEED, Status.Tripped]);
    }
    // History is a fact in both variants.
    expect([...(await strict.getRoundData!(held[0]))]).toEqual([...held]);
    await f.oracle.push(2000n * ONE); // within the limit of the served answer: cleared
    expect(await strict.latestAnswer!()).toBe(2000n * ONE);
    await (await f.hub.setFeedPaused!(FEED, true)).wait();
    await expectRevert(f, strict.latestRoundData!(), 'FeedNotActive', [FEED, Status.Paused]);
    await (await f.hub.setFeedPaused!(FEED, false)).wait();
    const [, observedAt] = (await f.hub.getRound!(FEED, await f.hub.latestRoundId!(FEED))) as [bigint, bigint];
    await f.warpTo(observedAt + STRICT_MAX_AGE + 1n);
    await expectRevert(f, strict.latestAnswer!(), 'StaleAnswer', [FEED, STRICT_MAX_AGE + 1n, STRICT_MAX_AGE]);
    // Past the feed's own maxStaleness the hub reports Stale.
    const { maxStaleness } = await f.hub.feedConfig!(FEED);
    await f.warpTo(observedAt + (maxStaleness as bigint) + 1n);
    await expectRevert(f, strict.latestAnswer!(), 'FeedNotActive', [FEED, Status.Stale]);
  });

  it('paused feed: same behaviour, status() reports Paused', async () => {
    await f.oracle.push(2000n * ONE);
    const before = await adapter.latestRoundData!();
    await (await f.hub.setFeedPaused!(FEED, true)).wait();
    expect(await adapter.status!()).toBe(Status.Paused);
    await expectRevert(f, f.hub.read!(FEED, 0n), 'FeedPaused', [FEED]);
    expect([...(await adapter.latestRoundData!())]).toEqual([...before]);
  });

  it('a feed with no round yet: latestRoundData reverts "no data" (RoundNotFound round 0), the V2 getters return 0', async () => {
    const fresh = feedId('SOL/USD');
    await (await f.hub.addFeed!(fresh, feedConfig({ description: 'SOL / USD' }))).wait();
    await (await factory.create!(await f.hub.getAddress(), fresh)).wait();
    const a = adapter.attach(await factory.adapterOf!(await f.hub.getAddress(), fresh)) as Contract;
    await expectRevert(f, a.latestRoundData!(), 'RoundNotFound', [fresh, 0n]);
    expect([await a.latestAnswer!(), await a.latestTimestamp!(), await a.latestRound!(), await a.getAnswer!(1n)]).toEqual([0n, 0n, 0n, 0n]);
    const c = await deployTest(f.deployer, 'ChainlinkConsumer', [await a.getAddress(), MAX_AGE]);
    await expectRevert(f, as(c, f.signers[1]!).price!(), 'RoundNotFound', [fresh, 0n]);
  });
});
