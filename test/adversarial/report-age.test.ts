/**
 * Threat model, "pull-mode poster": keeping a stock of committee-signed reports and posting,
 * later, the one that suits the poster (a settlement or liquidation price of its choosing).
 *
 * Every tick's signed report used to stay acceptable until a later epoch landed, so whoever
 * posted first could pick any of them. Now (docs/design.md §Epochs and the clock: reports older than a bound are
 * refused at acceptance) the hub refuses a report whose observedAt is more than `maxReportAge`
 * behind its block time (`ReportTooOld`), in push and pull mode alike, though its signature is
 * genuine; and once a newer report landed, an older one is never applied. What is left to a
 * poster is the choice among the unposted reports of the last `maxReportAge` seconds (300 by
 * default), each newer than the served price; settlement contracts remove even that
 * (EuropeanOption takes the signed price nearest expiry by rule, see
 * option-settlement-choice.test.ts), and the futures market's own `maxPriceAge` bounds it too.
 *
 * Four production nodes (t = 3) sign real reports; the hub (maxReportAge 300 s) runs on anvil.
 * The last test moves anvil's clock forward, so it runs last.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hexlify, type Contract } from 'ethers';
import type { Report } from '../../protocol/index.ts';
import { BTC, ETH, epochCounter, hubRevert, signedRound, startLiveCommittee, type LiveCommittee } from './live-committee.ts';

const N = 4;
const T = 3;
let net: LiveCommittee;
let poster: Contract;
const nextEpoch = epochCounter();

function round(): Promise<{ report: Report; signature: string }> {
  return signedRound(net, T, nextEpoch());
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  net = await startLiveCommittee({ n: N, t: T });
  poster = net.hub.connect(net.anvil.wallet(2)) as Contract;
});

afterAll(async () => {
  await net?.close();
});

describe('a poster cannot keep a stock of signed reports and choose later', () => {
  it('once a newer report landed, an older one from the stock is never applied (push reverts, pull reads the newer price)', async () => {
    const older = await round();
    await sleep(1100);
    const newer = await round();
    await (await poster.transmit!(newer.report, newer.signature)).wait();
    expect((await hubRevert(net.hub, poster.transmit!(older.report, older.signature)))?.name).toBe('EpochNotAboveLast');
    const [, observedAt] = (await poster.updateAndRead!.staticCall(older.report, older.signature, BTC, 0)) as [bigint, bigint];
    expect(observedAt).toBe(newer.report.observedAt);
  });

  it('a genuinely signed report held past maxReportAge is refused at acceptance: ReportTooOld, push and pull', async () => {
    await sleep(1100);
    const stock = [await round()];
    await sleep(1100);
    stock.push(await round());
    const maxAge = BigInt(await net.hub.maxReportAge!());
    expect(maxAge).toBe(300n);
    const epochBefore = BigInt(await net.hub.latestEpoch!());
    // The poster waits for a better moment: the chain's clock moves past the bound.
    await net.anvil.increaseTime(Number(maxAge) + 5);
    for (const held of stock) {
      // The signature is still the committee's: only the age refuses it.
      await net.hub.verifyReport!(held.report, held.signature);
      const push = await hubRevert(net.hub, poster.transmit!(held.report, held.signature));
      expect(push?.name).toBe('ReportTooOld');
      expect(push!.args[0]).toBe(held.report.observedAt);
      expect(push!.args[1] as bigint).toBeGreaterThan(held.report.observedAt);
      expect((await hubRevert(net.hub, poster.updateAndRead!.staticCall(held.report, held.signature, BTC, 0)))?.name).toBe('ReportTooOld');
    }
    expect(BigInt(await net.hub.latestEpoch!())).toBe(epochBefore);
  });
});
