/**
 * A complete Aegis network on loopback, started and stopped as one object: anvil with the
 * hub deployed for a dealer committee, a simulated-exchange server speaking the real venues'
 * formats and driven by a seeded price path, `n` real node processes (`aegis node start`),
 * and one aggregator process (`aegis aggregator start`). The demo runs on it; the pieces are
 * the production code paths, configured from generated YAML files and EIP-2335 keystores.
 *
 * Every process it starts is stopped by `close()`, also when start-up fails half way, and
 * killed by PID on process exit as a last resort.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { hexlify, type Contract } from 'ethers';
import pino from 'pino';
import { stringify } from 'yaml';
import { committeeConfigDigest, dealerKeygen, parseCommittee, scalarToBytes, type Committee, type DealerOutput } from '../../protocol/index.ts';
import { ANVIL_KEYS, startAnvil, type Anvil } from '../../contracts/anvil.ts';
import { addFeeds, deployHub, type FeedConfig } from '../../contracts/hub.ts';
import { importBlsShare, importIdentity } from '../../node/keys/index.ts';
import { startNode, type RunningNode } from '../../node/start.ts';
import { startNodeHttp, type NodeHttpBackend, type NodeHttpServer } from '../../node/http/server.ts';
import { createIdentityKey, createTransmitterKey } from '../../aggregator/keys.ts';
import { startVenueServer, type VenueServer } from '../venues/index.ts';
import type { VenueId } from '../../node/sources/index.ts';
import { Rng, gbmPath, type TruePath } from '../market/index.ts';
import { faultyHandlers, type ByzantineSpec, type NodeFaults } from '../attack/nodes.ts';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const CLI = join(ROOT, 'scripts', 'aegis.ts');
const PASSWORD = 'aegis devnet password';

export interface DevnetFeed {
  name: string;
  /** Starting true price in USD. */
  start: number;
  /** Annualized volatility of the true path (demo paths are volatile on purpose). */
  volatility: number;
}

export interface DevnetOptions {
  n: number;
  t: number;
  feeds: DevnetFeed[];
  /** USD-quoted venues (no conversion feed needed). */
  venues: VenueId[];
  seed: number;
  /** Seconds of price path to draw. */
  durationSec: number;
  /** Aggregator round interval. */
  roundIntervalMs: number;
  /** Posting policy of the aggregator. */
  deviationPct: number;
  heartbeatSec: number;
  /** Hub feed settings (breaker etc.). */
  hubFeed: Partial<FeedConfig>;
  /** Progress lines (start-up phases). */
  progress?: (line: string) => void;
  /**
   * Standby aggregators the caller runs itself: listed in the committee file (identity keys)
   * and counted in the started aggregator's `schedule.of`, which stays position 0.
   */
  standbys?: { identityKey: string; name: string }[];
}

interface ManagedProcess {
  name: string;
  child: ChildProcess;
  exited: Promise<number | null>;
}

export interface Devnet {
  dir: string;
  anvil: Anvil;
  hub: Contract;
  dealer: DealerOutput;
  committee: Committee;
  venues: VenueServer;
  aggregatorUrl: string;
  nodeUrls: string[];
  /** Seconds since the price path started. */
  elapsedSec(): number;
  /** The true price of a feed now. */
  truePrice(feed: string): number;
  /** Multiplies one venue's quotes of one feed (1 = honest). */
  pump(venue: VenueId, feed: string, factor: number): void;
  /**
   * Replaces node `i`'s process by the same node code wrapped by a Byzantine strategy: it
   * reports answers × `factor` and signs a conflicting report instead of the one asked.
   */
  makeByzantine(i: number, factor: number): Promise<void>;
  byzantine(): number[];
  /** PID of a process the devnet started (`node1`…`node<n>`, `aggregator`), while it runs: drills kill it by PID. */
  pid(name: string): number | undefined;
  close(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => ok(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

export interface CommitteeFileOptions {
  dir: string;
  chainId: bigint | number;
  hub: string;
  dealer: DealerOutput;
  /** Ed25519 identity secrets of the nodes, index order. */
  identities: Uint8Array[];
  nodeUrls: string[];
  aggregators: { identityKey: string; name?: string }[];
}

/** Writes `committee.json` in `dir` for a dealer committee; returns the file, the parsed committee and its digest. */
export function writeCommitteeFile(o: CommitteeFileOptions): { file: string; committee: Committee; digest: string } {
  const committeeJson = {
    chainId: typeof o.chainId === 'bigint' ? o.chainId.toString() : o.chainId,
    hub: o.hub,
    configVersion: 1,
    t: o.dealer.t,
    groupPublicKey: hexlify(o.dealer.groupPublicKey),
    nodes: o.identities.map((id, k) => ({ index: k + 1, identityKey: hexlify(ed25519.getPublicKey(id)), publicShare: hexlify(o.dealer.publicShares[k]!), url: o.nodeUrls[k]! })),
    aggregators: o.aggregators,
  };
  const file = join(o.dir, 'committee.json');
  writeFileSync(file, JSON.stringify(committeeJson, null, 2));
  const committee = parseCommittee(committeeJson);
  return { file, committee, digest: committeeConfigDigest(committee).toLowerCase() };
}

export interface NodeFilesOptions {
  dir: string;
  /** 1-based node index. */
  index: number;
  dealer: DealerOutput;
  identitySecret: Uint8Array;
  committeeFile: string;
  digest: string;
  port: number;
  passwordFile: string;
  password: string;
  feeds: readonly string[];
  venues: readonly VenueId[];
  venueUrl: (venue: VenueId) => string;
  /** node-cron schedule of the source poller (seconds resolution). */
  pollSchedule: string;
  logLevel?: string;
}

/**
 * Writes node `index`'s EIP-2335 keystores (identity and BLS share, fast KDF: development
 * only) and its `node.yaml` under `dir/node<index>`; returns the config file.
 */
export async function writeNodeFiles(o: NodeFilesOptions): Promise<string> {
  const nd = join(o.dir, `node${o.index}`);
  mkdirSync(nd, { recursive: true });
  const kdf = { function: 'pbkdf2' as const, c: 16 };
  const n = o.dealer.n;
  await importIdentity(join(nd, 'identity.json'), bytesToHex(o.identitySecret), { password: o.password, kdf });
  await importBlsShare(join(nd, 'share.json'), bytesToHex(scalarToBytes(o.dealer.shares[o.index - 1]!.secret)), { index: o.index, n, t: o.dealer.t, groupPublicKey: hexlify(o.dealer.groupPublicKey) }, { password: o.password, kdf });
  const file = join(nd, 'node.yaml');
  writeFileSync(
    file,
    stringify({
      listen: { host: '127.0.0.1', port: o.port },
      committee: o.committeeFile,
      configDigest: o.digest,
      keys: { identity: { path: join(nd, 'identity.json'), passwordFile: o.passwordFile }, share: { path: join(nd, 'share.json'), passwordFile: o.passwordFile } },
      store: join(nd, 'signing.sqlite'),
      poll: { schedule: o.pollSchedule, concurrency: 4 },
      signer: { sanityBandBps: 200, maxReportAgeS: 60, maxFutureS: 5 },
      feeds: o.feeds.map((name) => ({ name, decimals: 8, minSources: 3, sources: o.venues.map((venue) => ({ venue, baseUrl: o.venueUrl(venue) })) })),
      log: { level: o.logLevel ?? 'info' },
    }),
  );
  return file;
}

function spawnCli(name: string, args: string[], logFile: string): ManagedProcess {
  // `node --import tsx` (not the tsx wrapper) so the PID we hold is the process that serves.
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env } });
  const log = createWriteStream(logFile);
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return { name, child, exited };
}

async function stopProcess(p: ManagedProcess, graceMs = 5000): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
  await p.exited;
  clearTimeout(timer);
}

async function waitHealthy(url: string, what: string, proc: ManagedProcess | undefined, timeoutMs: number, readyField?: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (proc && (proc.child.exitCode !== null || proc.child.signalCode !== null)) {
      throw new Error(`${what} exited during start-up (code ${proc.child.exitCode ?? proc.child.signalCode}); see its log`);
    }
    try {
      const res = await fetch(`${url}/v1/health`);
      if (res.ok) {
        const body = (await res.json()) as Record<string, unknown>;
        if (!readyField || body[readyField]) return;
      }
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new Error(`${what} at ${url} not healthy within ${timeoutMs} ms; see its log`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function startDevnet(o: DevnetOptions): Promise<Devnet> {
  const progress = o.progress ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), 'aegis-devnet-'));
  const procs = new Map<string, ManagedProcess>();
  const inProcess: { close(): Promise<void> }[] = [];
  let anvil: Anvil | undefined;
  let venues: VenueServer | undefined;
  let closed = false;
  const killAll = () => {
    for (const p of procs.values()) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  };
  process.once('exit', killAll);
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await Promise.all([...procs.values()].map((p) => stopProcess(p)));
    for (const c of inProcess.reverse()) await c.close().catch(() => undefined);
    await venues?.close().catch(() => undefined);
    await anvil?.stop().catch(() => undefined);
    process.removeListener('exit', killAll);
  };

  try {
    progress('starting anvil and deploying the hub (first run compiles the contracts)');
    // One block a second, as a chain would: block.timestamp keeps up with the wall clock.
    anvil = await startAnvil({ blockTime: 1 });
    const dealer = dealerKeygen(o.t, o.n);
    const hub = await deployHub(anvil.wallet(0), dealer, { maxFutureDrift: 60 });
    const hubAddress = await hub.getAddress();
    await addFeeds(hub, o.feeds.map((f) => f.name), o.hubFeed);

    progress(`starting ${o.venues.length} simulated venues (${o.venues.join(', ')})`);
    const rng = new Rng(o.seed);
    const paths = new Map<string, TruePath>(
      o.feeds.map((f) => [f.name, gbmPath({ kind: 'gbm', start: f.start, drift: 0, volatility: f.volatility, jumpsPerDay: 0, jumpMean: 0, jumpStd: 0 }, o.durationSec + 600, 1, rng.fork(`path:${f.name}`))]),
    );
    const noise = new Map<string, number>();
    for (const v of o.venues) for (const f of o.feeds) noise.set(`${v}|${f.name}`, (rng.fork(`noise:${v}:${f.name}`).next() - 0.5) * 0.0006);
    const pumps = new Map<string, number>();
    const t0 = Date.now();
    const elapsedSec = () => (Date.now() - t0) / 1000;
    const truePrice = (feed: string) => paths.get(feed)!.at(elapsedSec());
    venues = await startVenueServer({
      feeds: o.feeds.map((f) => f.name),
      venues: o.venues,
      price: (venue, feed) => {
        if (!paths.has(feed)) return undefined;
        const k = `${venue}|${feed}`;
        return { price: truePrice(feed) * (1 + (noise.get(k) ?? 0)) * (pumps.get(k) ?? 1), volume: 250 };
      },
    });

    progress(`creating keys for n=${o.n}, t=${o.t} (dealer mode: development only)`);
    const identities = Array.from({ length: o.n }, () => ed25519.utils.randomSecretKey());
    const passwordFile = join(dir, 'password');
    writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
    const agg = await createIdentityKey(join(dir, 'agg-identity.json'), PASSWORD, { fast: true });
    await createTransmitterKey(join(dir, 'agg-transmitter.json'), PASSWORD, { fast: true, privateKey: ANVIL_KEYS[1]! });
    const ports = await Promise.all(Array.from({ length: o.n }, () => freePort()));
    const nodeUrls = ports.map((p) => `http://127.0.0.1:${p}`);
    const { file: committeeFile, committee, digest } = writeCommitteeFile({
      dir,
      chainId: anvil.chainId,
      hub: hubAddress,
      dealer,
      identities,
      nodeUrls,
      aggregators: [{ identityKey: agg.publicKey, name: 'demo aggregator' }, ...(o.standbys ?? [])],
    });
    const onchain = String(await hub.configDigest!()).toLowerCase();
    if (digest !== onchain) throw new Error(`devnet: config digest mismatch: expected ${onchain} (hub), got ${digest} (committee file)`);

    const nodeFiles: string[] = [];
    for (let i = 1; i <= o.n; i++) {
      nodeFiles.push(
        await writeNodeFiles({
          dir,
          index: i,
          dealer,
          identitySecret: identities[i - 1]!,
          committeeFile,
          digest,
          port: ports[i - 1]!,
          passwordFile,
          password: PASSWORD,
          feeds: o.feeds.map((f) => f.name),
          venues: o.venues,
          venueUrl: (v) => venues!.url(v),
          pollSchedule: '* * * * * *',
        }),
      );
    }

    progress(`starting ${o.n} node processes`);
    for (let i = 1; i <= o.n; i++) procs.set(`node${i}`, spawnCli(`node ${i}`, ['node', 'start', '--config', nodeFiles[i - 1]!], join(dir, `node${i}.log`)));
    await Promise.all(nodeUrls.map((u, k) => waitHealthy(u, `node ${k + 1}`, procs.get(`node${k + 1}`), 60_000, 'ready')));

    progress('starting the aggregator process');
    const aggPort = await freePort();
    const aggFile = join(dir, 'aggregator.yaml');
    writeFileSync(
      aggFile,
      stringify({
        name: 'demo',
        committee: committeeFile,
        identity: { path: join(dir, 'agg-identity.json'), passwordFile },
        transmitter: { path: join(dir, 'agg-transmitter.json'), passwordFile },
        chain: { rpcUrl: anvil.url, maxFeePerGasGwei: 100, replaceAfterSec: 10 },
        feeds: o.feeds.map((f) => ({ name: f.name, deviationPct: o.deviationPct, heartbeatSec: o.heartbeatSec })),
        schedule: { intervalMs: o.roundIntervalMs, slotMs: 800, position: 0, of: 1 + (o.standbys?.length ?? 0) },
        round: { observeTimeoutMs: 3000, signTimeoutMs: 4000, graceMs: 300, maxObservationAgeSec: 30 },
        listen: { port: aggPort },
        db: join(dir, 'aggregator.sqlite'),
        log: { level: 'info' },
      }),
    );
    const aggProc = spawnCli('aggregator', ['aggregator', 'start', '--config', aggFile], join(dir, 'aggregator.log'));
    procs.set('aggregator', aggProc);
    const aggregatorUrl = `http://127.0.0.1:${aggPort}`;
    await waitHealthy(aggregatorUrl, 'aggregator', aggProc, 60_000);

    const byzantine = new Map<number, ByzantineSpec>();
    const faults: NodeFaults = {
      byzantine: (i) => byzantine.get(i),
      down: () => false,
      note: () => {},
    };

    return {
      dir,
      anvil,
      hub,
      dealer,
      committee,
      venues,
      aggregatorUrl,
      nodeUrls,
      elapsedSec,
      truePrice,
      pump: (venue, feed, factor) => {
        pumps.set(`${venue}|${feed}`, factor);
      },
      async makeByzantine(i, factor) {
        const p = procs.get(`node${i}`);
        if (p) {
          await stopProcess(p);
          procs.delete(`node${i}`);
        }
        // The real node code (keys, poller, signer) behind a Byzantine wrapper, on node i's port.
        const real: RunningNode = await startNode(nodeFiles[i - 1]!, { port: 0, logger: pino({ level: 'silent' }) });
        const nowSec = () => Math.floor(Date.now() / 1000);
        const keys = { identitySecret: identities[i - 1]!, share: dealer.shares[i - 1]! };
        byzantine.set(i, { strategy: 'extreme', factor, biasBps: 0, fromSec: 0, toSec: Number.MAX_SAFE_INTEGER });
        const lying = faultyHandlers(i, real.service, keys, faults, nowSec);
        const conflicting = faultyHandlers(i, lying, keys, { ...faults, byzantine: () => ({ strategy: 'equivocate', factor, biasBps: 0, fromSec: 0, toSec: Number.MAX_SAFE_INTEGER }) }, nowSec);
        const backend: NodeHttpBackend = {
          index: i,
          metrics: real.service.metrics,
          logger: real.logger,
          status: () => ({ ...real.service.status(), byzantine: `answers × ${factor}, signs conflicting reports` }),
          ready: () => real.service.ready(),
          observe: (call) => conflicting.observe(call),
          sign: (call) => conflicting.sign(call),
        };
        const allowed = new Set(committee.aggregators.map((a) => a.identityKey.toLowerCase().replace(/^0x/, '')));
        const http: NodeHttpServer = await startNodeHttp({ backend, allowedKeys: allowed, bodyLimitBytes: 1 << 20, maxSkewMs: 30_000, port: ports[i - 1]! });
        inProcess.push({ close: async () => { await http.close(); await real.stop(); } });
      },
      byzantine: () => [...byzantine.keys()],
      pid: (name) => {
        const c = procs.get(name)?.child;
        return c && c.exitCode === null && c.signalCode === null ? c.pid : undefined;
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
