/**
 * The testbed's measures on real artifacts: a loopback devnet (anvil + hub, venue server,
 * four `aegis node start` processes, one `aegis aggregator start`) runs for a few rounds,
 * then the measures read its hub events and calldata, its aggregator's round database and
 * every node's signing store. Forged and equivocating inputs are built from those real
 * artifacts (a real report with one answer changed; a real signing store with a second
 * report hash written for an epoch) and must be caught.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBytes, hexlify } from 'ethers';
import { startDevnet, type Devnet } from '../../sim/devnet/devnet.ts';
import { committeeConfigDigest, feedId, reportHash } from '../../protocol/index.ts';
import { SigningStore } from '../../node/store/signing-store.ts';
import { checkAccepted, decodeHubCall, findEquivocations, measureRun, readAccepted, readRounds, readSigned, type HealthSample, type RunMeasures } from '../../sim/testbed/measure/index.ts';
import { sampleHealth } from '../../sim/testbed/measure/health.ts';

const BTC = feedId('BTC/USD').toLowerCase();
let net: Devnet;
let run: RunMeasures;
let startMs: number;
let endMs: number;
const scratch = mkdtempSync(join(tmpdir(), 'aegis-tb-measure-'));

beforeAll(async () => {
  net = await startDevnet({
    n: 4,
    t: 3,
    feeds: [{ name: 'BTC/USD', start: 60_000, volatility: 3 }],
    venues: ['coinbase', 'kraken', 'bitstamp'],
    seed: 7,
    durationSec: 120,
    roundIntervalMs: 1000,
    deviationPct: 0.1,
    heartbeatSec: 3,
    hubFeed: { deviationBps: 1000, confirmations: 2, confirmationTime: 10, maxStaleness: 120, heartbeat: 3600 },
  });
  const truthSamples: { tMs: number; prices: Record<string, number> }[] = [];
  const health: HealthSample[] = [];
  startMs = Date.now() + 2000;
  const until = startMs + 12_000;
  while (Date.now() < until + 1500) {
    const tMs = Date.now();
    truthSamples.push({ tMs, prices: { [BTC]: net.truePrice('BTC/USD') } });
    if (truthSamples.length % 4 === 0) {
      const urls: [string, string][] = [['agg0', net.aggregatorUrl], ...net.nodeUrls.map((u, k): [string, string] => [`node${k + 1}`, u])];
      for (const [host, url] of urls) health.push({ tMs, host, ...(await sampleHealth(url)) });
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  endMs = until;
  run = await measureRun({
    scenario: 'devnet-loopback',
    n: 4,
    t: 3,
    intervalMs: 1000,
    aggregators: 1,
    feeds: [{ feedId: BTC, decimals: 8, deviationPct: 0.1, heartbeatSec: 3 }],
    window: { startMs, endMs },
    provider: net.anvil.provider,
    hub: await net.hub.getAddress(),
    committee: { configDigest: committeeConfigDigest(net.committee), groupPublicKey: net.dealer.groupPublicKey },
    aggregatorDbs: [{ host: 'agg0', file: join(net.dir, 'aggregator.sqlite') }],
    nodeStores: [1, 2, 3, 4].map((i) => ({ host: `node${i}`, file: join(net.dir, `node${i}`, 'signing.sqlite') })),
    truthSamples,
    healthSamples: health,
    faults: [],
    layer: 'none',
  });
}, 240_000);

afterAll(async () => {
  await net?.close();
  rmSync(scratch, { recursive: true, force: true });
});

describe('measures on a loopback devnet run', () => {
  it('counts needed and posted ticks from the hub and the true path; rounds from the round database', () => {
    expect(run.details.acceptedReports).toBeGreaterThanOrEqual(3);
    expect(run.ticksNeeded).toBeGreaterThanOrEqual(3);
    expect(run.ticksPosted, JSON.stringify(run.details.ticks.filter((t) => t.needed && !t.posted))).toBe(run.ticksNeeded);
    expect(run.details.rounds.signed).toBeGreaterThanOrEqual(3);
    expect(run.roundP50Ms).toBeGreaterThan(0);
    expect(run.roundP99Ms!).toBeGreaterThanOrEqual(run.roundP50Ms!);
    expect(run.failoverTicks).toBeNull();
    expect(run.recoveryTicks).toBeNull();
    expect(run.details.maxStaleSec).toBeLessThan(3);
  });

  it('finds no equivocation and nothing unsigned in an honest run, having read every store and every report', () => {
    expect(run.equivocations).toBe(0);
    expect(run.unsignedAccepted).toBe(0);
    expect(run.details.signaturesRead).toBeGreaterThanOrEqual(3 * run.details.rounds.signed);
  });

  it('health samples of every process were healthy', () => {
    expect(run.details.unhealthy).toEqual([]);
  });

  it('re-verifies each accepted report offline and rejects a forged one', async () => {
    const accepted = await readAccepted(net.anvil.provider, await net.hub.getAddress());
    const committee = { configDigest: committeeConfigDigest(net.committee), groupPublicKey: net.dealer.groupPublicKey };
    const real = accepted.at(-1)!;
    expect(real.method).toBe('transmit');
    expect(checkAccepted(real, committee)).toEqual({ ok: true });
    // The same calldata decodes to the same report the aggregator stored.
    const tx = await net.anvil.provider.getTransaction(real.txHash);
    expect(decodeHubCall(tx!.data)!.report.epoch).toBe(real.epoch);
    // One answer moved by one unit: the message changes, the signature no longer verifies.
    const forged = { ...real, report: { ...real.report!, answers: real.report!.answers.map((a, k) => (k === 0 ? a + 1n : a)) } };
    expect(checkAccepted(forged, committee).ok).toBe(false);
    expect(checkAccepted(forged, committee).reason).toMatch(/does not verify/);
    // Another committee's key: not signed by this committee.
    const otherKey = getBytes(hexlify(net.dealer.publicShares[0]!));
    expect(checkAccepted(real, { ...committee, groupPublicKey: otherKey }).ok).toBe(false);
    // A digest that is not the committee's.
    expect(checkAccepted(real, { ...committee, configDigest: '0x' + '11'.repeat(32) }).reason).toMatch(/config digest/);
    // Garbage signature bytes.
    expect(checkAccepted({ ...real, signature: '0x' + '00'.repeat(96) }, committee).ok).toBe(false);
  });

  it('reads the round database and finds an equivocation planted in a copy of a real signing store', () => {
    const rounds = readRounds('agg0', join(net.dir, 'aggregator.sqlite'));
    expect(rounds.some((r) => r.status === 'signed' && r.totalMs! > 0)).toBe(true);
    const src = join(net.dir, 'node1', 'signing.sqlite');
    const signed = readSigned('node1', src);
    expect(signed.length).toBeGreaterThan(0);
    const victim = signed.at(-1)!;
    // A copy of node 1's store written by the real SigningStore as "node 9", which signed a
    // different report under a NEW epoch and then (by hand, bypassing checkAndRecord, which
    // would refuse) a second hash under node 1's last epoch.
    const copy = join(scratch, 'node9.sqlite');
    copyFileSync(src, copy);
    for (const ext of ['-wal', '-shm']) {
      try {
        copyFileSync(src + ext, copy + ext);
      } catch {
        // no WAL side file
      }
    }
    const store = SigningStore.open(copy);
    const refused = store.checkAndRecord(victim.configDigest, victim.epoch, '0x' + 'ab'.repeat(32));
    expect(refused.ok).toBe(false);
    store.close();
    const all = [...signed, ...readSigned('node2', join(net.dir, 'node2', 'signing.sqlite'))];
    expect(findEquivocations(all)).toEqual([]);
    const planted = [...all, { ...victim, node: 'node9', reportHash: reportHash({ configDigest: victim.configDigest, epoch: victim.epoch, observedAt: 1n, observationsRoot: '0x' + '00'.repeat(32), observers: 1n, feedIds: [BTC], answers: [1n], spreadBps: [0] }) }];
    const found = findEquivocations(planted);
    expect(found).toHaveLength(1);
    expect(found[0]!.epoch).toBe(victim.epoch);
    expect(Object.keys(found[0]!.hashes)).toHaveLength(2);
    expect(found[0]!.hashes[victim.reportHash]).toContain('node1');
    expect(Object.values(found[0]!.hashes).some((nodes) => nodes.includes('node9'))).toBe(true);
  });
});
