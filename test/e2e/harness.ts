/**
 * End-to-end network on loopback: a real anvil with the AegisHub deployed for a dealer
 * committee, a simulated-exchange server speaking the real venues' formats, n real nodes
 * (`node/` in-process: keystores, SQLite signing store, HTTP API) and aggregator configs with
 * real keystores. Everything started here is stopped by `close()`, which tests call in
 * `afterAll`, also on failure.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { hexlify, type Contract } from 'ethers';
import pino, { type Logger } from 'pino';
import { stringify } from 'yaml';
import { committeeConfigDigest, dealerKeygen, feedId, parseCommittee, scalarToBytes, type Committee, type DealerOutput } from '../../protocol/index.ts';
import { ANVIL_KEYS, startAnvil, type Anvil } from '../../contracts/anvil.ts';
import { addFeeds, deployHub } from '../../contracts/hub.ts';
import { importBlsShare, importIdentity } from '../../node/keys/index.ts';
import { startNode, type RunningNode } from '../../node/start.ts';
import { startVenueServer, type VenueServer } from '../../sim/venues/index.ts';
import { createIdentityKey, createTransmitterKey } from '../../aggregator/keys.ts';
import { ReferenceNode, type Fault } from '../../testkit/reference-node/node.ts';
import { serveReferenceNode, type ReferenceHttpNode } from '../../testkit/reference-node/http.ts';

export const FEEDS = ['BTC/USD', 'ETH/USD'] as const;
export const TRUE_USD: Record<string, number> = { 'BTC/USD': 60_000, 'ETH/USD': 3_000 };
const USD_VENUES = ['coinbase', 'kraken', 'bitstamp', 'gemini'] as const;
export const PASSWORD = 'e2e password';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
    s.once('error', reject);
  });
}

export interface E2eNetwork {
  dir: string;
  anvil: Anvil;
  hub: Contract;
  hubAddress: string;
  dealer: DealerOutput;
  committee: Committee;
  committeeFile: string;
  configDigest: string;
  venues: VenueServer;
  /** Multiplier on every venue price (1 = true prices). */
  setMove(m: number): void;
  move(): number;
  stopNode(i: number): Promise<void>;
  startNode(i: number): Promise<void>;
  /** Replaces node i by an impostor holding its keys that misbehaves as `fault`. */
  startByzantine(i: number, fault: Fault): Promise<void>;
  /** Writes an aggregator config (k = 0 or 1 picks the identity and transmitter key) and returns its path. */
  aggregatorConfig(k: number, overrides?: Record<string, unknown>): string;
  transmitterAddress(k: number): string;
  close(): Promise<void>;
}

/** Where node i listens, when not plain http on 127.0.0.1 (`setupNetwork`'s `listen`). */
export interface NodeListen {
  /** listen.host of the node's config. */
  host: string;
  /** Host of the node's URL in the committee file; default `host`. */
  urlHost?: string;
  /** listen.tls of the node's config: the URL is https. */
  tls?: { cert: string; key: string };
  /** The node's committee-file pin (`tls`), with `tls`. */
  pin?: { ca?: string; certSha256?: string };
}

export async function setupNetwork(opts: { n: number; t: number; listen?: (i: number) => NodeListen | undefined; nodeLogger?: (i: number) => Logger }): Promise<E2eNetwork> {
  const dir = mkdtempSync(join(tmpdir(), 'aegis-e2e-'));
  const started: { close(): Promise<void> }[] = [];
  const nodes = new Map<number, RunningNode | ReferenceHttpNode>();
  let anvil: Anvil | undefined;
  let venues: VenueServer | undefined;
  const close = async (): Promise<void> => {
    for (const [, n] of nodes) await ('stop' in n ? n.stop() : n.close()).catch(() => undefined);
    nodes.clear();
    for (const s of started.reverse()) await s.close().catch(() => undefined);
    await venues?.close().catch(() => undefined);
    await anvil?.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    anvil = await startAnvil();
    const dealer = dealerKeygen(opts.t, opts.n);
    const hub = await deployHub(anvil.wallet(0), dealer, { maxFutureDrift: 60 });
    const hubAddress = await hub.getAddress();
    await addFeeds(hub, [...FEEDS], { deviationBps: 2000, confirmations: 1, confirmationTime: 0, maxStaleness: 3600 });

    let move = 1;
    venues = await startVenueServer({
      feeds: [...FEEDS],
      venues: [...USD_VENUES],
      price: (_venue, feed) => {
        const usd = TRUE_USD[feed];
        return usd === undefined ? undefined : { price: usd * move, volume: 100 };
      },
    });

    const identities = Array.from({ length: opts.n }, () => ed25519.utils.randomSecretKey());
    const aggIds: string[] = [];
    const transmitters: string[] = [];
    writeFileSync(join(dir, 'password'), `${PASSWORD}\n`, { mode: 0o600 });
    for (const k of [0, 1]) {
      aggIds.push((await createIdentityKey(join(dir, `agg${k}-identity.json`), PASSWORD, { fast: true })).publicKey);
      transmitters.push((await createTransmitterKey(join(dir, `agg${k}-transmitter.json`), PASSWORD, { fast: true, privateKey: ANVIL_KEYS[k + 1]! })).address);
    }
    const ports = await Promise.all(Array.from({ length: opts.n }, () => freePort()));
    const listenOf = (i: number): NodeListen => opts.listen?.(i) ?? { host: '127.0.0.1' };
    const urlOf = (i: number): string => {
      const l = listenOf(i);
      return `${l.tls ? 'https' : 'http'}://${l.urlHost ?? l.host}:${ports[i - 1]}`;
    };
    const committeeJson = {
      chainId: anvil.chainId,
      hub: hubAddress,
      configVersion: 1,
      t: opts.t,
      groupPublicKey: hexlify(dealer.groupPublicKey),
      nodes: identities.map((id, k) => ({
        index: k + 1,
        identityKey: hexlify(ed25519.getPublicKey(id)),
        publicShare: hexlify(dealer.publicShares[k]!),
        url: urlOf(k + 1),
        ...(listenOf(k + 1).pin ? { tls: listenOf(k + 1).pin } : {}),
      })),
      aggregators: aggIds.map((identityKey, k) => ({ identityKey, name: `e2e aggregator ${k}` })),
    };
    const committeeFile = join(dir, 'committee.json');
    writeFileSync(committeeFile, JSON.stringify(committeeJson, null, 2));
    const committee = parseCommittee(committeeJson);
    const configDigest = committeeConfigDigest(committee).toLowerCase();
    const onchainDigest = String(await hub.configDigest!()).toLowerCase();
    if (onchainDigest !== configDigest) throw new Error(`e2e: config digest mismatch: hub ${onchainDigest}, committee file ${configDigest}`);

    const nodeConfig = async (i: number): Promise<string> => {
      const nd = join(dir, `node${i}`);
      mkdirSync(nd, { recursive: true });
      const kdf = { function: 'pbkdf2' as const, c: 16 };
      await importIdentity(join(nd, 'identity.json'), bytesToHex(identities[i - 1]!), { password: PASSWORD, kdf });
      await importBlsShare(join(nd, 'share.json'), bytesToHex(scalarToBytes(dealer.shares[i - 1]!.secret)), { index: i, n: opts.n, t: opts.t, groupPublicKey: hexlify(dealer.groupPublicKey) }, { password: PASSWORD, kdf });
      const src = (venue: string) => ({ venue, baseUrl: venues!.url(venue as never) });
      const file = join(nd, 'node.yaml');
      writeFileSync(
        file,
        stringify({
          listen: { host: listenOf(i).host, port: ports[i - 1], ...(listenOf(i).tls ? { tls: listenOf(i).tls } : {}) },
          committee: committeeFile,
          keys: { identity: { path: join(nd, 'identity.json'), passwordFile: join(dir, 'password') }, share: { path: join(nd, 'share.json'), passwordFile: join(dir, 'password') } },
          store: join(nd, 'signing.sqlite'),
          poll: { schedule: '* * * * * *', concurrency: 4 },
          signer: { sanityBandBps: 200, maxReportAgeS: 120, maxFutureS: 5 },
          feeds: FEEDS.map((name) => ({ name, decimals: 8, minSources: 3, sources: USD_VENUES.map(src) })),
          log: { level: 'silent' },
        }),
      );
      return file;
    };
    const nodeFiles = new Map<number, string>();
    for (let i = 1; i <= opts.n; i++) nodeFiles.set(i, await nodeConfig(i));
    const startOne = async (i: number): Promise<void> => {
      nodes.set(i, await startNode(nodeFiles.get(i)!, { logger: opts.nodeLogger?.(i) ?? pino({ level: 'silent' }) }));
    };
    // A TLS node's health is not fetched (fetch would need its CA): it is asked in-process.
    const waitReady = async (i: number): Promise<void> => {
      const n = nodes.get(i);
      if (!listenOf(i).tls || !n || !('service' in n)) return waitNodesReady([urlOf(i)]);
      const until = Date.now() + 30_000;
      while (!n.service.ready()) {
        if (Date.now() > until) throw new Error(`node ${i} at ${urlOf(i)} not ready within 30000 ms`);
        await sleep(100);
      }
    };
    await Promise.all([...nodeFiles.keys()].map(startOne));
    for (const i of nodeFiles.keys()) await waitReady(i);

    const stopNode = async (i: number): Promise<void> => {
      const n = nodes.get(i);
      if (!n) return;
      nodes.delete(i);
      await ('stop' in n ? n.stop() : n.close());
    };
    return {
      dir,
      anvil,
      hub,
      hubAddress,
      dealer,
      committee,
      committeeFile,
      configDigest,
      venues,
      setMove: (m) => {
        move = m;
      },
      move: () => move,
      stopNode,
      startNode: async (i) => {
        await stopNode(i);
        await startOne(i);
        await waitReady(i);
      },
      startByzantine: async (i, fault) => {
        await stopNode(i);
        const tc = { committee, configDigest, shares: dealer.shares, identitySecrets: identities, aggregatorSecret: new Uint8Array(32) };
        const impostor = new ReferenceNode(i, tc, (id) => {
          const name = FEEDS.find((f) => feedId(f).toLowerCase() === id.toLowerCase());
          return name ? BigInt(Math.round(TRUE_USD[name]! * move * 1e8)) : null;
        });
        impostor.fault = fault;
        const allowed = new Set(aggIds.map((k) => k.toLowerCase().replace(/^0x/, '')));
        nodes.set(i, await serveReferenceNode(impostor, allowed, ports[i - 1]!));
      },
      aggregatorConfig: (k, overrides = {}) => {
        const file = join(dir, `agg${k}-${Date.now()}-${Math.random().toString(16).slice(2, 6)}.yaml`);
        writeFileSync(
          file,
          stringify({
            name: `agg${k}`,
            committee: committeeFile,
            identity: { path: join(dir, `agg${k}-identity.json`), passwordFile: join(dir, 'password') },
            transmitter: { path: join(dir, `agg${k}-transmitter.json`), passwordFile: join(dir, 'password') },
            chain: { rpcUrl: anvil!.url, maxFeePerGasGwei: 100, replaceAfterSec: 10 },
            feeds: FEEDS.map((name) => ({ name, deviationPct: 0.5, heartbeatSec: 1 })),
            schedule: { intervalMs: 1000, slotMs: 800, position: 0, of: 1 },
            round: { observeTimeoutMs: 1500, signTimeoutMs: 1500, graceMs: 200, maxObservationAgeSec: 30 },
            listen: { port: 0 },
            db: join(dir, `agg${k}.db`),
            log: { level: 'silent' },
            ...overrides,
          }),
        );
        return file;
      },
      transmitterAddress: (k) => transmitters[k]!,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

export async function waitNodesReady(urls: string[], timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (const url of urls) {
    for (;;) {
      try {
        const res = await fetch(`${url}/v1/health`);
        if (res.ok && ((await res.json()) as { ready?: boolean }).ready) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > until) throw new Error(`node at ${url} not ready within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
