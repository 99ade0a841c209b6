/**
 * End to end over loopback: anvil + AegisHub, venue server, four real nodes (t = 3), one
 * aggregator wired from its YAML config and keystores. Ticks are driven by the test.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBytes, hexlify, Wallet } from 'ethers';
import pino from 'pino';
import {
  combinePartials,
  decodeReport,
  encodeReport,
  feedId,
  partialSign,
  reportMessage,
  signatureToEvm,
  type Report,
} from '../../protocol/index.ts';
import { ANVIL_KEYS } from '../../contracts/anvil.ts';
import { loadConfig } from '../../aggregator/config.ts';
import { startAggregator, type RunningAggregator } from '../../aggregator/start.ts';
import { Transmitter } from '../../aggregator/chain/transmitter.ts';
import { decodeHubError, hubInterface } from '../../aggregator/chain/hub-abi.ts';
import type { TickOutcome } from '../../aggregator/service.ts';
import { setupNetwork, sleep, type E2eNetwork } from './harness.ts';

const BTC = feedId('BTC/USD');
const ETH = feedId('ETH/USD');
let net: E2eNetwork;
let agg: RunningAggregator;
let configFile: string;

async function tick(): Promise<Extract<TickOutcome, { kind: 'round' }>> {
  await sleep(1100); // nodes snapshot every second; a newer observedAt makes the heartbeat due
  const out = await agg.service.tick();
  if (out.kind !== 'round') throw new Error(`expected a round, got ${JSON.stringify(out, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}`);
  return out;
}

async function latestEpoch(): Promise<bigint> {
  return BigInt(await net.hub.latestEpoch!());
}

beforeAll(async () => {
  net = await setupNetwork({ n: 4, t: 3 });
  configFile = net.aggregatorConfig(0);
  agg = await startAggregator(loadConfig(configFile), { run: false, logger: pino({ level: 'silent' }) });
});

afterAll(async () => {
  await agg?.stop();
  await net?.close();
});

describe('aggregator end to end (anvil, hub, real nodes, venue server)', () => {
  it('prices reach the chain and read back, and the served report verifies on the hub', async () => {
    const out = await tick();
    expect(out.round.status).toBe('signed');
    expect(out.transmission?.status).toBe('accepted');
    expect(out.round.participants.observed).toEqual([1, 2, 3, 4]);
    const [btc, , , roundId] = await net.hub.read!(BTC, 0);
    expect(BigInt(btc)).toBe(6_000_000_000_000n);
    expect(BigInt(roundId)).toBe(1n);
    expect(BigInt((await net.hub.read!(ETH, 0))[0])).toBe(300_000_000_000n);
    expect(await latestEpoch()).toBe(out.round.epoch);

    const res = await fetch(`${agg.url}/v1/reports/latest?feeds=BTC/USD,ETH/USD`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { report: string; signature: string; tx: { hash: string } };
    const report = decodeReport(body.report);
    expect(await net.hub.verifyReport!(report, body.signature)).toBe(hexlify(reportMessage(report)));
    const stored = agg.store.get(out.round.epoch)!;
    expect(stored).toMatchObject({ txStatus: 'accepted', postingReason: 'initial', txHash: body.tx.hash });
    expect(stored.gasUsed! > 0n).toBe(true);
    const metrics = await (await fetch(`${agg.url}/metrics`)).text();
    expect(metrics).toMatch(/aegis_aggregator_transmissions_total\{outcome="accepted",aggregator="agg0"\} 1/);
  });

  it('stays live with n − t nodes down; with one more down it stops posting and says why', async () => {
    await net.stopNode(4);
    const live = await tick();
    expect(live.transmission?.status).toBe('accepted');
    expect(live.round.excluded).toContainEqual(expect.objectContaining({ index: 4, phase: 'observe', code: 'unreachable' }));

    await net.stopNode(3);
    const before = await latestEpoch();
    const dead = await tick();
    expect(dead.round.status).toBe('failed');
    expect(dead.round.failure?.code).toBe('too_few_observations');
    expect(dead.round.failure?.message).toMatch(/2 valid observation\(s\) of 4 nodes, need t=3; excluded: node 3 \(unreachable\), node 4 \(unreachable\)/);
    expect(dead.transmission).toBeUndefined();
    expect(await latestEpoch()).toBe(before);
    const status = (await (await fetch(`${agg.url}/v1/status`)).json()) as { lastRound: { failure: string } };
    expect(status.lastRound.failure).toMatch(/need t=3/);
    expect(agg.store.get(dead.round.epoch)?.failureCode).toBe('too_few_observations');

    await net.startNode(3);
    await net.startNode(4);
    expect((await tick()).transmission?.status).toBe('accepted');
  });

  it("excludes and names a Byzantine node's bad partial, and the round still completes on-chain", async () => {
    await net.startByzantine(2, { kind: 'bad_partial' });
    try {
      const out = await tick();
      expect(out.transmission?.status).toBe('accepted');
      const bad = out.round.excluded.filter((e) => e.code === 'bad_partial');
      expect(bad).toEqual([expect.objectContaining({ index: 2, phase: 'sign' })]);
      expect(bad[0]!.reason).toMatch(/node 2: partial signature of node 2: does not verify against its public share/);
      expect(out.round.participants.signed).toEqual([1, 3, 4]);
      expect(agg.store.get(out.round.epoch)!.excluded).toContainEqual(expect.objectContaining({ index: 2, code: 'bad_partial' }));
    } finally {
      await net.startNode(2);
    }
  });

  it('rejects on-chain a report altered or forged by a compromised aggregator without t partials', async () => {
    const last = agg.store.latestSigned([BTC])!;
    const genuine = decodeReport(last.encodedReport!);
    const epochBefore = await latestEpoch();
    const altered: Report = { ...genuine, epoch: epochBefore + 1n, answers: genuine.answers.map((a) => (a * 11n) / 10n) };
    const forged: Report = { ...genuine, epoch: epochBefore + 2n, observedAt: genuine.observedAt + 1n, answers: genuine.answers.map((a) => a * 2n) };
    const tMinus1 = net.dealer.shares.slice(0, net.committee.t - 1).map((s) => partialSign(s, reportMessage(forged)));
    const forgedSig = hexlify(signatureToEvm(combinePartials(tMinus1, net.committee.t - 1)));

    const evil = new Transmitter({
      provider: net.anvil.provider,
      wallet: new Wallet(ANVIL_KEYS[3]!),
      hub: net.hubAddress,
      chainId: BigInt(net.anvil.chainId),
      maxFeePerGasWei: 100_000_000_000n,
    });
    for (const [report, signature] of [
      [altered, last.signatureEvm!],
      [forged, forgedSig],
    ] as const) {
      const sim = await evil.transmit({ report, signatureEvm: signature });
      expect(sim).toMatchObject({ status: 'reverted', stage: 'simulation', error: { name: 'SignatureInvalid' } });
      // Sent anyway, bypassing the simulation: the hub reverts on-chain.
      const tx = await net.anvil.wallet(3).sendTransaction({ to: net.hubAddress, data: hubInterface.encodeFunctionData('transmit', [report, signature]), gasLimit: 3_000_000n });
      const receipt = await net.anvil.provider.waitForTransaction(tx.hash);
      expect(receipt?.status).toBe(0);
    }
    expect(await latestEpoch()).toBe(epochBefore);
    expect(BigInt((await net.hub.read!(BTC, 0))[0])).toBe(genuine.answers[genuine.feedIds.findIndex((f) => f.toLowerCase() === BTC.toLowerCase())]);
    expect(encodeReport(genuine)).toBe(last.encodedReport);
  });

  it('rejects a replayed old report; the aggregator classifies it as superseded', async () => {
    const oldest = agg.store.recent(100).filter((r) => r.txStatus === 'accepted').at(-1)!;
    const report = decodeReport(oldest.encodedReport!);
    const before = await latestEpoch();
    expect(report.epoch < before).toBe(true);
    const evil = new Transmitter({ provider: net.anvil.provider, wallet: new Wallet(ANVIL_KEYS[3]!), hub: net.hubAddress, chainId: BigInt(net.anvil.chainId), maxFeePerGasWei: 100_000_000_000n });
    const out = await evil.transmit({ report, signatureEvm: oldest.signatureEvm! });
    expect(out).toMatchObject({ status: 'superseded', stage: 'simulation', error: { name: 'EpochNotAboveLast', args: { given: report.epoch.toString(), last: before.toString() } } });
    const tx = await net.anvil.wallet(3).sendTransaction({ to: net.hubAddress, data: evil.calldata({ report, signatureEvm: oldest.signatureEvm! }), gasLimit: 3_000_000n });
    expect((await net.anvil.provider.waitForTransaction(tx.hash))?.status).toBe(0);
    expect(await latestEpoch()).toBe(before);
    try {
      await net.hub.transmit!.staticCall(report, oldest.signatureEvm!);
      expect.unreachable();
    } catch (err) {
      expect(decodeHubError((err as { data?: string }).data)?.name).toBe('EpochNotAboveLast');
    }
  });

  it('loses no recorded round across a restart and continues above every epoch it used', async () => {
    const before = agg.store.recent(1000);
    const maxBefore = before.reduce((m, r) => (r.epoch > m ? r.epoch : m), 0n);
    await agg.stop();
    agg = await startAggregator(loadConfig(configFile), { run: false, logger: pino({ level: 'silent' }) });
    const out = await tick();
    expect(out.transmission?.status).toBe('accepted');
    expect(out.round.epoch > maxBefore).toBe(true);
    const after = agg.store.recent(1000);
    expect(after).toHaveLength(before.length + 1);
    expect(after.slice(1).map((r) => [r.epoch, r.status, r.txHash])).toEqual(before.map((r) => [r.epoch, r.status, r.txHash]));
    expect(getBytes(after[0]!.signatureEvm!)).toHaveLength(96);
  });
});
