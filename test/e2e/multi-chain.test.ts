/**
 * One committee, two chains (docs/design.md §Committee file): two anvils with different chain
 * ids, the same hub address on each (same deployer, same nonce: the digests differ only by the
 * chain id), one committee file listing both (the first hub as the primary, the second under
 * `deployments`), three real nodes (one share each, pinning both digests) and one aggregator
 * per chain wired from its YAML config. Shows: a node signs (digest A, e) and (digest B, e) but
 * refuses a second, different report for (digest A, e); the same epochs are accepted on both
 * hubs; a report signed for one hub is refused by the other; with chain A's RPC gone, chain B's
 * aggregator keeps posting.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { hexlify, type Contract } from 'ethers';
import pino from 'pino';
import { stringify } from 'yaml';
import {
  NodeRefusal,
  buildReport,
  committeeDeployments,
  dealerKeygen,
  feedId,
  parseCommittee,
  scalarToBytes,
  type Committee,
  type CommitteeDeployment,
  type SignedObservation,
} from '../../protocol/index.ts';
import { HttpNodeClient } from '../../protocol/http-node-client.ts';
import { ANVIL_KEYS, startAnvil, type Anvil } from '../../contracts/anvil.ts';
import { addFeeds, deployHub } from '../../contracts/hub.ts';
import { importBlsShare, importIdentity } from '../../node/keys/index.ts';
import { startNode, type RunningNode } from '../../node/start.ts';
import { startVenueServer, type VenueServer } from '../../sim/venues/index.ts';
import { createIdentityKey, createTransmitterKey, loadIdentityKey } from '../../aggregator/keys.ts';
import { startAggregator, type RunningAggregator } from '../../aggregator/start.ts';
import { decodeHubError, hubInterface } from '../../aggregator/chain/hub-abi.ts';
import { FEEDS, PASSWORD, TRUE_USD, freePort, sleep, waitNodesReady } from './harness.ts';

const N = 3;
const T = 2;
const CHAIN_A = 31337;
const CHAIN_B = 31338;
const USD_VENUES = ['coinbase', 'kraken', 'bitstamp', 'gemini'] as const;
const BTC = feedId('BTC/USD');
const ETH = feedId('ETH/USD');

interface Chain {
  anvil: Anvil;
  hub: Contract;
  hubAddress: string;
  deployment: CommitteeDeployment;
}

let dir: string;
let venues: VenueServer | undefined;
const anvils: Anvil[] = [];
let A: Chain;
let B: Chain;
let committee: Committee;
const nodes: RunningNode[] = [];
const aggs: RunningAggregator[] = [];
let clients: HttpNodeClient[];

async function accepted(c: Chain): Promise<{ epoch: bigint; tx: string }[]> {
  const logs = await c.anvil.provider.getLogs({ address: c.hubAddress, fromBlock: 0, toBlock: 'latest', topics: [hubInterface.getEvent('ReportAccepted')!.topicHash] });
  return logs.map((l) => ({ epoch: BigInt(hubInterface.parseLog(l)!.args.epoch), tx: l.transactionHash }));
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}; aggregators: ${aggs.map((a) => JSON.stringify(a.service.status(), (_k, x) => (typeof x === 'bigint' ? x.toString() : x)).slice(0, 1500)).join('\n')}`);
    await sleep(250);
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'aegis-multichain-'));
  const dealer = dealerKeygen(T, N);
  const chain = async (chainId: number): Promise<Omit<Chain, 'deployment'>> => {
    const anvil = await startAnvil({ chainId });
    anvils.push(anvil);
    const hub = await deployHub(anvil.wallet(0), dealer, { maxFutureDrift: 60 });
    await addFeeds(hub, [...FEEDS], { deviationBps: 2000, confirmations: 1, confirmationTime: 0, maxStaleness: 3600 });
    return { anvil, hub, hubAddress: await hub.getAddress() };
  };
  const a = await chain(CHAIN_A);
  const b = await chain(CHAIN_B);

  venues = await startVenueServer({
    feeds: [...FEEDS],
    venues: [...USD_VENUES],
    price: (_venue, feed) => {
      const usd = TRUE_USD[feed];
      return usd === undefined ? undefined : { price: usd, volume: 100 };
    },
  });

  const identities = Array.from({ length: N }, () => ed25519.utils.randomSecretKey());
  writeFileSync(join(dir, 'password'), `${PASSWORD}\n`, { mode: 0o600 });
  const aggIds: string[] = [];
  for (const k of [0, 1]) {
    aggIds.push((await createIdentityKey(join(dir, `agg${k}-identity.json`), PASSWORD, { fast: true })).publicKey);
    await createTransmitterKey(join(dir, `agg${k}-transmitter.json`), PASSWORD, { fast: true, privateKey: ANVIL_KEYS[k + 1]! });
  }
  const ports = await Promise.all(Array.from({ length: N }, () => freePort()));
  const urls = ports.map((p) => `http://127.0.0.1:${p}`);
  const committeeJson = {
    chainId: CHAIN_A,
    hub: a.hubAddress,
    configVersion: 1,
    deployments: [{ chainId: CHAIN_B, hub: b.hubAddress, configVersion: 1, name: 'chain-b' }],
    t: T,
    groupPublicKey: hexlify(dealer.groupPublicKey),
    nodes: identities.map((id, k) => ({ index: k + 1, identityKey: hexlify(ed25519.getPublicKey(id)), publicShare: hexlify(dealer.publicShares[k]!), url: urls[k]! })),
    aggregators: aggIds.map((identityKey, k) => ({ identityKey, name: `aggregator of chain ${k === 0 ? 'A' : 'B'}` })),
  };
  const committeeFile = join(dir, 'committee.json');
  writeFileSync(committeeFile, JSON.stringify(committeeJson, null, 2));
  committee = parseCommittee(committeeJson);
  const [dA, dB] = committeeDeployments(committee);
  A = { ...a, deployment: dA! };
  B = { ...b, deployment: dB! };

  for (let i = 1; i <= N; i++) {
    const nd = join(dir, `node${i}`);
    mkdirSync(nd, { recursive: true });
    const kdf = { function: 'pbkdf2' as const, c: 16 };
    await importIdentity(join(nd, 'identity.json'), bytesToHex(identities[i - 1]!), { password: PASSWORD, kdf });
    await importBlsShare(join(nd, 'share.json'), bytesToHex(scalarToBytes(dealer.shares[i - 1]!.secret)), { index: i, n: N, t: T, groupPublicKey: hexlify(dealer.groupPublicKey) }, { password: PASSWORD, kdf });
    const file = join(nd, 'node.yaml');
    writeFileSync(
      file,
      stringify({
        listen: { host: '127.0.0.1', port: ports[i - 1] },
        committee: committeeFile,
        // Both hubs' digests pinned, as an operator would after checking each against its hub.
        configDigest: [A.deployment.configDigest, B.deployment.configDigest],
        keys: { identity: { path: join(nd, 'identity.json'), passwordFile: join(dir, 'password') }, share: { path: join(nd, 'share.json'), passwordFile: join(dir, 'password') } },
        store: join(nd, 'signing.sqlite'),
        poll: { schedule: '* * * * * *', concurrency: 4 },
        signer: { sanityBandBps: 200, maxReportAgeS: 120, maxFutureS: 5 },
        feeds: FEEDS.map((name) => ({ name, decimals: 8, minSources: 3, sources: USD_VENUES.map((venue) => ({ venue, baseUrl: venues!.url(venue) })) })),
        log: { level: 'silent' },
      }),
    );
    nodes.push(await startNode(file, { logger: pino({ level: 'silent' }) }));
  }
  await waitNodesReady(urls);
  const secret = (await loadIdentityKey(join(dir, 'agg0-identity.json'), PASSWORD)).secret;
  clients = urls.map((url, k) => new HttpNodeClient({ index: k + 1, url, identitySecret: secret, timeoutMs: 5000 }));
}, 120_000);

afterAll(async () => {
  for (const a of aggs) await a.stop().catch(() => undefined);
  for (const n of nodes) await n.stop().catch(() => undefined);
  await venues?.close().catch(() => undefined);
  for (const a of anvils) await a.stop().catch(() => undefined);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function aggregatorConfig(k: number, chain: Record<string, unknown>): string {
  const file = join(dir, `agg${k}.yaml`);
  writeFileSync(
    file,
    stringify({
      name: `agg${k}`,
      committee: join(dir, 'committee.json'),
      identity: { path: join(dir, `agg${k}-identity.json`), passwordFile: join(dir, 'password') },
      transmitter: { path: join(dir, `agg${k}-transmitter.json`), passwordFile: join(dir, 'password') },
      chain: { maxFeePerGasGwei: 100, replaceAfterSec: 10, rpcTimeoutMs: 2000, ...chain },
      feeds: FEEDS.map((name) => ({ name, deviationPct: 0.5, heartbeatSec: 1 })),
      // Same schedule on both: each tick's epoch is its start in ms, so both chains get the same epochs.
      schedule: { intervalMs: 3000, slotMs: 1000, position: 0, of: 1 },
      round: { observeTimeoutMs: 2000, signTimeoutMs: 2000, graceMs: 200, maxObservationAgeSec: 30 },
      listen: { port: 0 },
      // One database per chain: the reserved epoch and round history are per hub.
      db: join(dir, `agg${k}.db`),
      log: { level: 'silent' },
    }),
  );
  return file;
}

const observeAll = (digest: string, epoch: bigint, seats = [1, 2, 3]): Promise<SignedObservation[]> =>
  Promise.all(seats.map((i) => clients[i - 1]!.observe({ configDigest: digest, epoch, feedIds: [BTC, ETH] })));

describe('one committee, two chains', () => {
  it('each hub holds its own digest; the committee file gives both', async () => {
    expect(A.hubAddress).toBe(B.hubAddress);
    expect(A.deployment.configDigest).not.toBe(B.deployment.configDigest);
    expect(String(await A.hub.configDigest!()).toLowerCase()).toBe(A.deployment.configDigest);
    expect(String(await B.hub.configDigest!()).toLowerCase()).toBe(B.deployment.configDigest);
    const status = (await (await fetch(`${clients[0]!.url}/v1/status`)).json()) as { deployments: { chainId: string; configDigest: string; name?: string; lastSigned: unknown }[] };
    expect(status.deployments.map((d) => [d.chainId, d.configDigest, d.name])).toEqual([
      [String(CHAIN_A), A.deployment.configDigest, undefined],
      [String(CHAIN_B), B.deployment.configDigest, 'chain-b'],
    ]);
  });

  it('a node signs (digest A, e) and (digest B, e), refuses a second report for (digest A, e), and names its digests for an unknown one', async () => {
    const epoch = BigInt(Date.now() - 60_000);
    const node = clients[0]!;
    const obsA = await observeAll(A.deployment.configDigest, epoch);
    const both = buildReport(A.deployment.configDigest, epoch, obsA.map((s) => s.observation), [BTC, ETH], T).report!;
    await node.sign({ report: both, observations: obsA });
    // The same report again: an idempotent repeat.
    await node.sign({ report: both, observations: obsA });
    // Another report for the same digest and epoch (only BTC): refused.
    const btcOnly = buildReport(A.deployment.configDigest, epoch, obsA.map((s) => s.observation), [BTC], T).report!;
    const refused = await node.sign({ report: btcOnly, observations: obsA }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(NodeRefusal);
    expect((refused as NodeRefusal).code).toBe('conflicting_report');

    // Chain B's scope is its own: the same epoch signs there.
    const obsB = await observeAll(B.deployment.configDigest, epoch);
    const onB = buildReport(B.deployment.configDigest, epoch, obsB.map((s) => s.observation), [BTC], T).report!;
    await node.sign({ report: onB, observations: obsB });
    const status = (await (await fetch(`${node.url}/v1/status`)).json()) as { deployments: { lastSigned: { epoch: string } | null }[] };
    expect(status.deployments.map((d) => d.lastSigned?.epoch)).toEqual([String(epoch), String(epoch)]);

    // A report of chain A's digest with chain B's observations: refused (observations bind their digest).
    const mixed = await node.sign({ report: { ...onB, configDigest: A.deployment.configDigest }, observations: obsB }).catch((e: unknown) => e);
    expect((mixed as NodeRefusal).code).toMatch(/conflicting_report|observation_mismatch|epoch_regression/);

    const unknown = await node.observe({ configDigest: '0x' + '11'.repeat(32), epoch, feedIds: [BTC] }).catch((e: unknown) => e);
    expect((unknown as NodeRefusal).code).toBe('config_digest_mismatch');
    expect((unknown as Error).message).toContain(A.deployment.configDigest);
    expect((unknown as Error).message).toContain(B.deployment.configDigest);
  });

  it('one aggregator per chain: the same epochs are accepted on both hubs, and a report for one hub is refused by the other', async () => {
    aggs.push(await startAggregator(aggregatorConfig(0, { rpcUrl: A.anvil.url }), { logger: pino({ level: 'silent' }) }));
    aggs.push(await startAggregator(aggregatorConfig(1, { rpcUrl: B.anvil.url, deployment: 'chain-b' }), { logger: pino({ level: 'silent' }) }));
    expect(aggs[0]!.service.configDigest.toLowerCase()).toBe(A.deployment.configDigest);
    expect(aggs[1]!.service.configDigest.toLowerCase()).toBe(B.deployment.configDigest);

    const common = await waitFor(
      'two epochs accepted on both hubs',
      async () => {
        const onB = new Set((await accepted(B)).map((x) => x.epoch));
        const both = (await accepted(A)).filter((x) => onB.has(x.epoch));
        return both.length >= 2 ? both : undefined;
      },
      90_000,
    );

    // Chain A's accepted transaction, replayed to chain B's hub: the hub refuses the digest.
    const txA = await A.anvil.provider.getTransaction(common[0]!.tx);
    const replay = await B.anvil.provider.call({ to: B.hubAddress, data: txA!.data }).then(
      () => 'accepted',
      (err: { data?: string; info?: { error?: { data?: string } } }) => decodeHubError(err.data ?? err.info?.error?.data),
    );
    expect(replay).not.toBe('accepted');
    expect((replay as { name: string } | null)?.name).toBe('ConfigDigestMismatch');
    expect((replay as { args: Record<string, string> }).args).toMatchObject({ given: A.deployment.configDigest, current: B.deployment.configDigest });

    // Relabelled with chain B's digest, the same signature does not verify: the digest is signed.
    const [report, signature] = hubInterface.decodeFunctionData('transmit', txA!.data);
    const fields = Object.entries((report as { toObject(): Record<string, unknown> }).toObject()).map(([k, v]) => [k, Array.isArray(v) ? [...(v as unknown[])] : v]);
    const relabelled = { ...Object.fromEntries(fields), configDigest: B.deployment.configDigest };
    const forged = await (B.hub.verifyReport!(relabelled, signature) as Promise<unknown>).then(
      () => 'verified',
      (err: { data?: string; info?: { error?: { data?: string } } }) => decodeHubError(err.data ?? err.info?.error?.data)?.name ?? String(err).slice(0, 300),
    );
    expect(forged).toBe('SignatureInvalid');
  });

  it("chain A's RPC outage does not stop chain B's posts", async () => {
    await A.anvil.stop();
    const before = (await accepted(B)).length;
    await waitFor('three more reports on chain B with chain A down', async () => ((await accepted(B)).length >= before + 3 ? true : undefined), 60_000);
    // Chain A's aggregator is still running and failing to reach its RPC; it stops cleanly.
    await aggs[0]!.stop();
  });
});
