/**
 * A live committee for the adversarial suites that attack rounds: a real anvil with the
 * AegisHub of a dealer committee, n node seats on loopback and the keys an attacker would steal.
 *
 * Honest seats run the production node (`node/start.ts`: EIP-2335 keystores, SQLite signing
 * store, HTTP API, pollers). Each honest node reads its own simulated-venue server whose prices
 * are the true price times that node's multiplier, so the honest nodes disagree a little (the
 * honest range is an interval, not a point, and "within the honest range" is a real bound).
 * Byzantine seats hold that node's real identity key and BLS share behind the same HTTP API
 * and misbehave as told (`ByzantineNode`). The aggregator identity key lives in a real
 * keystore; `aggregatorSecret` is what a thief of that keystore and its password holds.
 *
 * `close()` stops every server, node and anvil started here (tests call it in `afterAll`).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { hexlify, type Contract } from 'ethers';
import pino from 'pino';
import { stringify } from 'yaml';
import {
  buildReport,
  combinePartials,
  committeeConfigDigest,
  dealerKeygen,
  feedId,
  G1,
  NodeRefusal,
  parseCommittee,
  partialSign,
  reportMessage,
  scalarToBytes,
  signObservation,
  signatureToEvm,
  type Committee,
  type DealerOutput,
  type NodeHandlers,
  type ObserveCall,
  type PartialSignature,
  type Report,
  type SignCall,
  type SignedObservation,
} from '../../protocol/index.ts';
import { HttpNodeClient } from '../../protocol/http-node-client.ts';
import { ANVIL_KEYS, startAnvil, type Anvil } from '../../contracts/anvil.ts';
import { addFeeds, deployHub } from '../../contracts/hub.ts';
import { importBlsShare, importIdentity } from '../../node/keys/index.ts';
import { startNode, type RunningNode } from '../../node/start.ts';
import { startVenueServer, type VenueServer } from '../../sim/venues/index.ts';
import { createIdentityKey, createTransmitterKey, loadIdentityKey } from '../../aggregator/keys.ts';
import { serveReferenceNode, type ReferenceHttpNode } from '../../testkit/reference-node/http.ts';
import { freePort, waitNodesReady } from '../e2e/harness.ts';

export const FEEDS = ['BTC/USD', 'ETH/USD'] as const;
export const BTC = feedId('BTC/USD').toLowerCase();
export const ETH = feedId('ETH/USD').toLowerCase();
export const TRUE_USD: Record<string, number> = { 'BTC/USD': 60_000, 'ETH/USD': 3_000 };
const USD_VENUES = ['coinbase', 'kraken', 'bitstamp', 'gemini'] as const;
const PASSWORD = 'adversarial password';

/** How a Byzantine seat answers observe requests. */
export type ByzantineObserve =
  /** The true price, like an honest node (the fault is elsewhere). */
  | { kind: 'true' }
  /** `factor` × the true price, signed with the node's real identity key. */
  | { kind: 'skew'; factor: number }
  /** A different signed observation each time it is asked, alternating between the factors. */
  | { kind: 'equivocate'; factors: readonly number[] }
  /** Refuses every observe request. */
  | { kind: 'refuse' }
  /** "No observation" for every feed, with a signed reason code: a vote to suspend (docs/suspension.md). */
  | { kind: 'absent'; reasonCode: number };

/** How a Byzantine seat answers sign requests. */
export type ByzantineSign =
  /** Signs whatever report it is sent with its real share: no checks, several reports per epoch. */
  | { kind: 'anything' }
  /** A well-formed G1 point that is not its partial signature. */
  | { kind: 'bad_partial' }
  /** Refuses with a 409 like an honest node would, to withhold its share. */
  | { kind: 'refuse' }
  /** Never answers within the aggregator's timeout. */
  | { kind: 'silent'; ms: number };

/** A node that holds node `index`'s real keys and follows none of the protocol's rules. */
export class ByzantineNode implements NodeHandlers {
  observeAs: ByzantineObserve = { kind: 'true' };
  signAs: ByzantineSign = { kind: 'anything' };
  observeCalls = 0;
  signCalls = 0;
  readonly #timers = new Set<NodeJS.Timeout>();

  constructor(
    readonly index: number,
    private readonly identitySecret: Uint8Array,
    private readonly share: DealerOutput['shares'][number],
  ) {}

  async observe(call: ObserveCall): Promise<SignedObservation> {
    const k = this.observeCalls++;
    const o = this.observeAs;
    if (o.kind === 'refuse') throw new NodeRefusal(this.index, 'not_ready', `node ${this.index}: not observing`);
    const factor = o.kind === 'skew' ? o.factor : o.kind === 'equivocate' ? o.factors[k % o.factors.length]! : 1;
    if (o.kind === 'absent') {
      const feeds = call.feedIds.map((id) => ({ feedId: id, answer: null, reasonCode: o.reasonCode }));
      return signObservation({ configDigest: call.configDigest.toLowerCase(), epoch: call.epoch, nodeIndex: this.index, observedAt: BigInt(Math.floor(Date.now() / 1000)), feeds }, this.identitySecret);
    }
    const feeds = call.feedIds.map((id) => {
      const usd = usdOf(id);
      return { feedId: id, answer: usd === undefined ? null : fixed(usd * factor) };
    });
    return signObservation({ configDigest: call.configDigest.toLowerCase(), epoch: call.epoch, nodeIndex: this.index, observedAt: BigInt(Math.floor(Date.now() / 1000)), feeds }, this.identitySecret);
  }

  async sign(call: SignCall): Promise<PartialSignature> {
    this.signCalls++;
    const s = this.signAs;
    if (s.kind === 'refuse') throw new NodeRefusal(this.index, 'outside_sanity_band', `node ${this.index}: will not sign`);
    if (s.kind === 'silent') {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.#timers.delete(timer);
          resolve();
        }, s.ms);
        this.#timers.add(timer);
      });
    }
    if (s.kind === 'bad_partial') return { index: this.index, signature: G1.BASE.multiply(1_000_003n + BigInt(this.index)).toBytes() };
    return partialSign(this.share, reportMessage(call.report));
  }

  /** Releases pending silent answers, so servers close at once. */
  release(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }
}

export interface LiveCommittee {
  dir: string;
  anvil: Anvil;
  hub: Contract;
  hubAddress: string;
  dealer: DealerOutput;
  committee: Committee;
  configDigest: string;
  /** Identity secrets, position i−1 for node i. */
  identities: Uint8Array[];
  /** The aggregator identity secret, decrypted from its keystore (what a thief holds). */
  aggregatorSecret: Uint8Array;
  urls: string[];
  /** Node i's multiplier on the true price (honest seats only). */
  honestMultiplier(i: number): number;
  byzantine: Map<number, ByzantineNode>;
  /** Sets every honest node's venues to `behaviour` (e.g. stale quotes: the venues freeze). */
  setVenueBehaviour(behaviour: Parameters<VenueServer['setBehaviour']>[1]): void;
  /** Stops honest node i (a crash or an outage: it answers nothing from then on). */
  stopHonest(i: number): Promise<void>;
  /** A client for node i authenticated with the aggregator identity key. */
  client(i: number, timeoutMs?: number): HttpNodeClient;
  /** Writes an aggregator config over this committee (keystores in `dir`) and returns its path. */
  aggregatorConfig(overrides?: Record<string, unknown>): string;
  close(): Promise<void>;
}

export interface LiveCommitteeOptions {
  n: number;
  t: number;
  /** Seats taken by a `ByzantineNode` instead of the production node. */
  byzantine?: readonly number[];
  /** Honest node i's multiplier on the true price (default 1 for every node). */
  honestMultiplier?: (i: number) => number;
  /** The honest nodes' feed `maxAgeMs` (default: the node's): how long a venue's last good quote counts as fresh. */
  maxAgeMs?: number;
}

/** Fixed point with 8 decimals (the feeds' on-chain decimals). */
export function fixed(usd: number): bigint {
  return BigInt(Math.round(usd * 1e8));
}

function usdOf(id: string): number | undefined {
  const name = FEEDS.find((f) => feedId(f).toLowerCase() === id.toLowerCase());
  return name ? TRUE_USD[name] : undefined;
}

export async function startLiveCommittee(opts: LiveCommitteeOptions): Promise<LiveCommittee> {
  const dir = mkdtempSync(join(tmpdir(), 'aegis-adversarial-'));
  const honestMultiplier = opts.honestMultiplier ?? (() => 1);
  const byzantineSeats = new Set(opts.byzantine ?? []);
  const nodes = new Map<number, RunningNode>();
  const servers: ReferenceHttpNode[] = [];
  const venues: VenueServer[] = [];
  const byzantine = new Map<number, ByzantineNode>();
  let anvil: Anvil | undefined;
  const close = async (): Promise<void> => {
    for (const b of byzantine.values()) b.release();
    for (const n of nodes.values()) await n.stop().catch(() => undefined);
    nodes.clear();
    for (const s of servers.splice(0)) await s.close().catch(() => undefined);
    for (const v of venues.splice(0)) await v.close().catch(() => undefined);
    await anvil?.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    anvil = await startAnvil();
    const dealer = dealerKeygen(opts.t, opts.n);
    const hub = await deployHub(anvil.wallet(0), dealer, { maxFutureDrift: 60 });
    const hubAddress = await hub.getAddress();
    await addFeeds(hub, [...FEEDS], { deviationBps: 2000, confirmations: 1, confirmationTime: 0, maxStaleness: 3600 });

    const identities = Array.from({ length: opts.n }, () => ed25519.utils.randomSecretKey());
    writeFileSync(join(dir, 'password'), `${PASSWORD}\n`, { mode: 0o600 });
    const aggregatorKey = await createIdentityKey(join(dir, 'agg-identity.json'), PASSWORD, { fast: true });
    await createTransmitterKey(join(dir, 'agg-transmitter.json'), PASSWORD, { fast: true, privateKey: ANVIL_KEYS[1]! });
    const aggregatorSecret = (await loadIdentityKey(join(dir, 'agg-identity.json'), PASSWORD)).secret;
    const ports = await Promise.all(Array.from({ length: opts.n }, () => freePort()));
    const urls = ports.map((p) => `http://127.0.0.1:${p}`);
    const committeeJson = {
      chainId: anvil.chainId,
      hub: hubAddress,
      configVersion: 1,
      t: opts.t,
      groupPublicKey: hexlify(dealer.groupPublicKey),
      nodes: identities.map((id, k) => ({ index: k + 1, identityKey: hexlify(ed25519.getPublicKey(id)), publicShare: hexlify(dealer.publicShares[k]!), url: urls[k] })),
      aggregators: [{ identityKey: aggregatorKey.publicKey, name: 'adversarial aggregator' }],
    };
    const committeeFile = join(dir, 'committee.json');
    writeFileSync(committeeFile, JSON.stringify(committeeJson, null, 2));
    const committee = parseCommittee(committeeJson);
    const configDigest = committeeConfigDigest(committee).toLowerCase();
    if (String(await hub.configDigest!()).toLowerCase() !== configDigest) throw new Error('live committee: the hub and the committee file disagree on the config digest');

    const kdf = { function: 'pbkdf2' as const, c: 16 };
    const startHonest = async (i: number): Promise<void> => {
      const m = honestMultiplier(i);
      const v = await startVenueServer({
        feeds: [...FEEDS],
        venues: [...USD_VENUES],
        price: (_venue, feed) => {
          const usd = TRUE_USD[feed];
          return usd === undefined ? undefined : { price: usd * m, volume: 100 };
        },
      });
      venues.push(v);
      const nd = join(dir, `node${i}`);
      mkdirSync(nd, { recursive: true });
      await importIdentity(join(nd, 'identity.json'), bytesToHex(identities[i - 1]!), { password: PASSWORD, kdf });
      await importBlsShare(join(nd, 'share.json'), bytesToHex(scalarToBytes(dealer.shares[i - 1]!.secret)), { index: i, n: opts.n, t: opts.t, groupPublicKey: hexlify(dealer.groupPublicKey) }, { password: PASSWORD, kdf });
      const file = join(nd, 'node.yaml');
      writeFileSync(
        file,
        stringify({
          listen: { host: '127.0.0.1', port: ports[i - 1] },
          committee: committeeFile,
          keys: { identity: { path: join(nd, 'identity.json'), passwordFile: join(dir, 'password') }, share: { path: join(nd, 'share.json'), passwordFile: join(dir, 'password') } },
          store: join(nd, 'signing.sqlite'),
          poll: { schedule: '* * * * * *', concurrency: 4 },
          signer: { sanityBandBps: 200, maxReportAgeS: 120, maxFutureS: 5 },
          feeds: FEEDS.map((name) => ({ name, decimals: 8, minSources: 3, ...(opts.maxAgeMs !== undefined ? { maxAgeMs: opts.maxAgeMs } : {}), sources: USD_VENUES.map((venue) => ({ venue, baseUrl: v.url(venue) })) })),
          log: { level: 'silent' },
        }),
      );
      nodes.set(i, await startNode(file, { logger: pino({ level: 'silent' }) }));
    };
    const allowed = new Set([aggregatorKey.publicKey.toLowerCase().replace(/^0x/, '')]);
    const startByzantine = async (i: number): Promise<void> => {
      const b = new ByzantineNode(i, identities[i - 1]!, dealer.shares[i - 1]!);
      byzantine.set(i, b);
      servers.push(await serveReferenceNode(b, allowed, ports[i - 1]!));
    };
    const seats = Array.from({ length: opts.n }, (_, k) => k + 1);
    await Promise.all(seats.map((i) => (byzantineSeats.has(i) ? startByzantine(i) : startHonest(i))));
    await waitNodesReady(seats.filter((i) => !byzantineSeats.has(i)).map((i) => urls[i - 1]!));

    return {
      dir,
      anvil,
      hub,
      hubAddress,
      dealer,
      committee,
      configDigest,
      identities,
      aggregatorSecret,
      urls,
      honestMultiplier,
      byzantine,
      setVenueBehaviour: (behaviour) => {
        for (const v of venues) for (const venue of USD_VENUES) v.setBehaviour(venue, behaviour);
      },
      stopHonest: async (i) => {
        const node = nodes.get(i);
        nodes.delete(i);
        await node?.stop();
      },
      client: (i, timeoutMs = 10_000) => new HttpNodeClient({ index: i, url: urls[i - 1]!, identitySecret: aggregatorSecret, timeoutMs }),
      aggregatorConfig: (overrides = {}) => {
        const file = join(dir, `agg-${Date.now()}-${Math.random().toString(16).slice(2, 6)}.yaml`);
        writeFileSync(
          file,
          stringify({
            name: 'agg-adversarial',
            committee: committeeFile,
            identity: { path: join(dir, 'agg-identity.json'), passwordFile: join(dir, 'password') },
            transmitter: { path: join(dir, 'agg-transmitter.json'), passwordFile: join(dir, 'password') },
            chain: { rpcUrl: anvil!.url, maxFeePerGasGwei: 100, replaceAfterSec: 10 },
            feeds: FEEDS.map((name) => ({ name, deviationPct: 0.5, heartbeatSec: 1 })),
            schedule: { intervalMs: 1000, slotMs: 800, position: 0, of: 1 },
            round: { observeTimeoutMs: 1500, signTimeoutMs: 1500, graceMs: 200, maxObservationAgeSec: 30 },
            listen: { port: 0 },
            db: join(dir, 'agg.db'),
            log: { level: 'silent' },
            ...overrides,
          }),
        );
        return file;
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** The custom error a hub call reverted with, decoded with the hub's ABI (null if none). */
export async function hubRevert(hub: Contract, p: Promise<unknown>): Promise<{ name: string; args: unknown[] } | null> {
  try {
    await p;
    return null;
  } catch (err) {
    const e = err as { data?: unknown; info?: { error?: { data?: unknown } } };
    const data = [e.data, e.info?.error?.data].find((d): d is string => typeof d === 'string' && d.startsWith('0x'));
    if (!data) throw err;
    const parsed = hub.interface.parseError(data);
    if (!parsed) throw err;
    return { name: parsed.name, args: [...parsed.args] };
  }
}

/** Epochs like the aggregator's (unix milliseconds), strictly increasing per counter. */
export function epochCounter(): () => bigint {
  let last = 0n;
  return () => {
    const now = BigInt(Date.now());
    last = now > last ? now : last + 1n;
    return last;
  };
}

/**
 * One honest round through every node of `net` at `epoch`: observations of BTC and ETH, the
 * report over `feeds` built with the shared rule, every node's partial, combined. Throws when a
 * node refuses (the callers attack what happens after an honest round).
 */
export async function signedRound(net: LiveCommittee, t: number, epoch: bigint, feeds: readonly string[] = [BTC, ETH]): Promise<{ report: Report; signature: string }> {
  const seats = net.committee.nodes.map((n) => n.index);
  const observations: SignedObservation[] = await Promise.all(seats.map((i) => net.client(i).observe({ configDigest: net.configDigest, epoch, feedIds: [BTC, ETH] })));
  const { report } = buildReport(net.configDigest, epoch, observations.map((s) => s.observation), feeds, t);
  if (!report) throw new Error('signedRound: no feed reached t');
  const partials = await Promise.all(seats.map((i) => net.client(i).sign({ report, observations })));
  return { report, signature: hexlify(signatureToEvm(combinePartials(partials, t))) };
}
