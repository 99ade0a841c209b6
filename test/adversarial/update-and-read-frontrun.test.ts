/**
 * Threat model, "front-runner": turning a consumer's pull-mode `updateAndRead` into a read of
 * an older price.
 *
 * A consumer brings a fresh committee-signed report and calls `updateAndRead(report, feed)`.
 * A front-runner lands first a newer report (a higher epoch, genuinely signed: aggregators
 * post only the feeds that need it) that does not carry the consumer's feed. The consumer's
 * report is then below the hub's epoch and is not applied. Before, the call still returned the
 * feed's older price as if it were the one the consumer brought. Now the hub reverts
 * `FeedNotUpdated(feedId, servedObservedAt, reportObservedAt)`: the caller gets the price it
 * brought, a newer one, or a revert (docs/design.md §Hub: consumers never pick among signed
 * prices, and never get an older one silently).
 *
 * Four production nodes (t = 3) sign real reports; the hub runs on anvil, and the same-block
 * race is mined with automine off.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hexlify, type Contract } from 'ethers';
import type { Report } from '../../protocol/index.ts';
import { BTC, ETH, epochCounter, hubRevert, signedRound, startLiveCommittee, type LiveCommittee } from './live-committee.ts';

const N = 4;
const T = 3;
let net: LiveCommittee;
const nextEpoch = epochCounter();

/** A report over `feeds`, signed by the real nodes in one honest round. */
function round(feeds: string[]): Promise<{ report: Report; signature: string }> {
  return signedRound(net, T, nextEpoch(), feeds);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  net = await startLiveCommittee({ n: N, t: T });
  const first = await round([BTC, ETH]);
  await (await net.hub.transmit!(first.report, first.signature)).wait();
});

afterAll(async () => {
  await net?.anvil.provider.send('evm_setAutomine', [true]).catch(() => undefined);
  await net?.close();
});

describe('a front-runner cannot make updateAndRead return an older price', () => {
  it('a newer report without the feed lands first: the consumer gets FeedNotUpdated, not the old price; with the latest report it reads', async () => {
    await sleep(1100); // observedAt is in seconds: the consumer's report must be newer than the served one
    const mine = await round([BTC, ETH]);
    await sleep(1100);
    const theirs = await round([ETH]);
    expect(theirs.report.epoch > mine.report.epoch).toBe(true);
    const frontRunner = net.hub.connect(net.anvil.wallet(2)) as Contract;
    await (await frontRunner.transmit!(theirs.report, theirs.signature)).wait();

    const consumer = net.hub.connect(net.anvil.wallet(3)) as Contract;
    const [, servedAt] = (await net.hub.tryRead!(BTC)) as [bigint, bigint];
    // What the consumer would have been handed before: BTC's older price.
    expect(servedAt < mine.report.observedAt).toBe(true);
    const revert = await hubRevert(net.hub, consumer.updateAndRead!.staticCall(mine.report, mine.signature, BTC, 0));
    expect(revert).toEqual({ name: 'FeedNotUpdated', args: [BTC, servedAt, mine.report.observedAt] });
    // The consumer retries with the aggregator's latest report for its feed and reads it.
    await sleep(1100);
    const latest = await round([BTC, ETH]);
    const [answer, observedAt] = (await consumer.updateAndRead!.staticCall(latest.report, latest.signature, BTC, 0)) as [bigint, bigint];
    expect([answer, observedAt]).toEqual([latest.report.answers[0], latest.report.observedAt]);
    await (await consumer.updateAndRead!(latest.report, latest.signature, BTC, 0)).wait();
  });

  it('the same race inside one block: the front-run consumer transaction reverts instead of reading the old price', async () => {
    await sleep(1100);
    const mine = await round([BTC, ETH]);
    await sleep(1100);
    const theirs = await round([ETH]);
    const provider = net.anvil.provider;
    const frontRunner = net.hub.connect(net.anvil.wallet(2)) as Contract;
    const consumer = net.hub.connect(net.anvil.wallet(3)) as Contract;
    const fee = (tip: bigint) => ({ gasLimit: 1_000_000n, maxFeePerGas: 100_000_000_000n, maxPriorityFeePerGas: tip });
    await provider.send('evm_setAutomine', [false]);
    try {
      // The front-runner saw the consumer's transaction and placed its own ahead of it in the
      // same block (a higher priority fee, or a builder's ordering).
      const attackTx = await frontRunner.transmit!(theirs.report, theirs.signature, fee(50_000_000_000n));
      const victimTx = await consumer.updateAndRead!(mine.report, mine.signature, BTC, 0, fee(1_000_000_000n));
      await provider.send('evm_mine', []);
      const [attack, victim] = await Promise.all([provider.getTransactionReceipt(attackTx.hash), provider.getTransactionReceipt(victimTx.hash)]);
      expect(attack!.blockNumber).toBe(victim!.blockNumber);
      expect(attack!.index).toBeLessThan(victim!.index);
      expect(attack!.status).toBe(1);
      expect(victim!.status).toBe(0);
    } finally {
      await provider.send('evm_setAutomine', [true]);
    }
    expect((await hubRevert(net.hub, consumer.updateAndRead!.staticCall(mine.report, mine.signature, BTC, 0)))?.name).toBe('FeedNotUpdated');
  });
});
