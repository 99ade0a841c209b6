/**
 * Runs one testbed scenario end to end (docs/running-over-real-networks.md, "The testbed"): composes the network (dealer
 * keys, committee file with node URLs at the hosts' addresses, node and aggregator YAML with
 * `listen.host` = the host's address, the venue-server and anvil processes), starts every
 * part as a real process on its host, schedules the scenario's faults, samples `/health`,
 * stops, measures (measure/), judges `expect` and returns the run — and always tears down.
 *
 * Two fabrics carry the hosts:
 *  - `namespaces` (root): one Linux network namespace per host through `net/` (createTestbed);
 *    every fault kind is available; delay comes from netem or the per-host relays;
 *  - `loopback` (no root): every host on 127.0.0.1 with its own ports, processes through
 *    `proc.ts`; only process faults (kill, kill-during-sign, clock) exist there, so a scenario
 *    with network faults or region delays is skipped with the reason.
 * `mode: 'auto'` picks namespaces where they can be created.
 *
 * Timeline: start-up → every process healthy → warmupSec → one health pass within 900 ms → t0 (measured start; fault `at` /
 * `until` count from here) → durationSec → 3 s for in-flight transactions → measure → stop.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { FetchRequest, JsonRpcProvider, NonceManager, Wallet } from 'ethers';
import { parse as parseYaml, stringify } from 'yaml';
import { committeeConfigDigest, dealerKeygen, feedId } from '../../protocol/index.ts';
import { ANVIL_BIN, ANVIL_KEYS } from '../../contracts/anvil.ts';
import { addFeeds, deployHub } from '../../contracts/hub.ts';
import { createIdentityKey, createTransmitterKey } from '../../aggregator/keys.ts';
import { freePort, writeCommitteeFile, writeNodeFiles } from '../devnet/devnet.ts';
import { Rng } from '../market/index.ts';
import { startProcess, stopAll, waitForHealth, type FaketimeSpec, type HealthResult, type TestbedProcess } from './proc.ts';
import { allHosts, regionOf, selectAll, type Topology } from './scenario/hosts.ts';
import type { Fault, TestbedScenario } from './scenario/schema.ts';
import { inSigningPhase, judgeHealth, measureRun, readRounds, type FaultTiming, type HealthSample } from './measure/index.ts';
import { judge } from './measure/verdict.ts';
import { truthPaths } from './truth.ts';
import type { TestbedRun } from './report/index.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'scripts', 'aegis.ts');
const VENUE_HOST = join(ROOT, 'sim', 'testbed', 'venue-host.ts');
const PASSWORD = 'aegis testbed password';
const PORTS = { node: 7400, agg: 7600, venues: 7700, anvil: 8545 };

export interface RunOptions {
  mode?: 'auto' | 'namespaces' | 'loopback';
  /** Run directory (configs, keys, stores, logs); default a fresh one under $TMPDIR. */
  dir?: string;
  progress?: (line: string) => void;
  /** Edits each node's YAML before it is written (the soak sets the store's retention). */
  nodeConfig?: (yaml: Record<string, unknown>, host: string) => void;
  /** Edits each aggregator's YAML before it is written (the soak sets retention, pull mode). */
  aggregatorConfig?: (yaml: Record<string, unknown>, host: string) => void;
  /** Called once at the measured start with the live processes (the soak samples them). */
  onRunning?: (view: RunningView) => void;
}

/** The running network, for callers that watch it (handles stay valid across restarts; `pid` changes). */
export interface RunningView {
  mode: 'namespaces' | 'loopback';
  dir: string;
  /** Every host's process handle, in start order. */
  processes: Map<string, TestbedProcess>;
  /** Base URL (reachable from here with `fetch`) of a node's or aggregator's HTTP API. */
  apiUrl: Map<string, string>;
  fetch(url: string, init?: RequestInit): Promise<Response>;
  /** SQLite files of each node (signing store) and aggregator (round database), without -wal. */
  sqlite: Map<string, string>;
  /** Measured start (ms) and planned end of the run. */
  t0: number;
  endMs: number;
}

/** What a fabric must offer the runner (namespaces via net/, or plain loopback). */
interface Fabric {
  mode: 'namespaces' | 'loopback';
  /** The testbed's run id (namespaces aegis-tb-<runId>-*); undefined on loopback. */
  runId?: string;
  /** Delay layer for reports ('relay' | 'netem'); undefined on loopback. */
  delayLayer?: string;
  addr(host: string): string;
  start(host: string, name: string, cmd: string, args: string[], faketime?: FaketimeSpec): Promise<TestbedProcess>;
  /** A URL the runner (root namespace) can use to reach addr:port of `host`. */
  reach(host: string, port: number): Promise<string>;
  fetch(url: string, init?: RequestInit): Promise<Response>;
  /** Network faults; throws on loopback. */
  net?: NetFaults;
  close(): Promise<void>;
}

interface NetFaults {
  startRelay(host: string, port: number, privatePort: number): Promise<unknown>;
  setDelayProfile(p: { hosts?: Record<string, { delayMs: number; jitterMs?: number }>; regions?: Record<string, { delayMs: number; jitterMs?: number }> }): Promise<string>;
  loss(host: string, pct: number, peers?: string[]): Promise<string>;
  partition(a: string[], b: string[], drop: 'both' | 'aToB' | 'bToA'): Promise<string>;
  heal(id: string): Promise<void>;
  setBandwidth(host: string, tbf: { rateKbit: number } | null): Promise<void>;
}

const NET_KINDS = new Set<Fault['kind']>(['delay', 'loss', 'bandwidth', 'partition', 'rpc-outage', 'venue-outage']);

/** Why the scenario cannot run on loopback, or undefined. */
export function loopbackRefusal(s: TestbedScenario): string | undefined {
  const net = s.faults.filter((f) => NET_KINDS.has(f.kind)).map((f) => f.kind);
  const delays = Object.values(s.regions).some((r) => r.delayMs > 0 || r.jitterMs > 0);
  if (net.length || delays) return `needs network namespaces (root) for ${[...new Set(net), ...(delays ? ['region delays'] : [])].join(', ')}`;
  return undefined;
}

/** The layer that produces each fault kind (docs/running-over-real-networks.md: every report says which). */
export function layerOf(kind: Fault['kind'], delayLayer: string | undefined): string {
  switch (kind) {
    case 'delay':
      return delayLayer ?? 'relay';
    case 'loss':
    case 'partition':
    case 'rpc-outage':
    case 'venue-outage':
      return 'nftables';
    case 'bandwidth':
      return 'tbf';
    case 'clock':
      return 'libfaketime';
    default:
      return 'signal';
  }
}

/** tc rate text → kbit/s. */
export function rateKbit(rate: string): number {
  const m = /^(\d+(?:\.\d+)?)(bit|kbit|mbit|gbit|bps|kbps|mbps|gbps)$/.exec(rate);
  if (!m) throw new RangeError(`rate ${rate}: expected e.g. 512kbit or 2mbit`);
  const v = Number(m[1]);
  const unit = { bit: 1e-3, kbit: 1, mbit: 1e3, gbit: 1e6, bps: 8e-3, kbps: 8, mbps: 8e3, gbps: 8e6 }[m[2] as 'bit'];
  return Math.max(1, Math.round(v * unit));
}

async function loopbackFabric(dir: string): Promise<Fabric> {
  const started: TestbedProcess[] = [];
  return {
    mode: 'loopback',
    addr: () => '127.0.0.1',
    async start(host, name, cmd, args, faketime) {
      const p = await startProcess({ name: `${host}-${name}`, cmd, args, cwd: ROOT, logFile: join(dir, 'logs', `${host}-${name}.log`), faketime });
      started.push(p);
      return p;
    },
    reach: async (_host, port) => `http://127.0.0.1:${port}`,
    fetch: (url, init) => fetch(url, init),
    async close() {
      await Promise.all(started.map((p) => p.stop(3000).catch(() => undefined)));
    },
  };
}

async function namespaceFabric(s: TestbedScenario, dir: string, progress: (l: string) => void): Promise<Fabric> {
  const { createTestbed } = await import('./net/index.ts');
  const topo: Topology = { n: s.n, aggregators: s.aggregators.count, regions: s.regions, placement: s.placement };
  const tb = await createTestbed({ hosts: allHosts(topo).map((name) => ({ name, region: regionOf(topo, name) })), dir: join(dir, 'net'), progress });
  return {
    mode: 'namespaces',
    runId: tb.runId,
    delayLayer: tb.delayLayer,
    addr: (h) => tb.host(h).addr,
    start: (host, name, cmd, args, faketime) => tb.start(host, { name, cmd, args, faketime, logFile: join(dir, 'logs', `${host}-${name}.log`) }),
    reach: (host, port) => tb.expose(tb.host(host).addr, port),
    fetch: tb.fetch,
    net: {
      startRelay: (h, p, pp) => tb.startRelay(h, p, pp),
      setDelayProfile: (p) => tb.setDelayProfile(p),
      loss: (h, pct, peers) => tb.loss(h, pct, peers),
      partition: (a, b, drop) => tb.partition(a, b, drop),
      heal: (id) => tb.heal(id),
      setBandwidth: (h, t) => tb.setBandwidth(h, t),
    },
    close: () => tb.close(),
  };
}

interface Service {
  host: string;
  /** Port peers use (the relay's when relays carry delay). */
  port: number;
  /** Port the process binds. */
  bindPort: number;
  proc?: TestbedProcess;
  /** Every log file the host's process wrote. */
  log: string;
}

export async function runScenario(s: TestbedScenario, opts: RunOptions = {}): Promise<TestbedRun> {
  const progress = opts.progress ?? (() => {});
  const wall0 = Date.now();
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), `aegis-tb-${s.name}-`));
  mkdirSync(dir, { recursive: true });
  const topo: Topology = { n: s.n, aggregators: s.aggregators.count, regions: s.regions, placement: s.placement };
  const select = (sels: readonly string[]) => selectAll(topo, sels);
  const empty = (why: string, mode: 'namespaces' | 'loopback', error?: string): TestbedRun => ({
    scenario: s.name,
    n: s.n,
    t: s.t,
    ticksNeeded: 0,
    ticksPosted: 0,
    roundP50Ms: null,
    roundP99Ms: null,
    equivocations: 0,
    unsignedAccepted: 0,
    failoverTicks: null,
    recoveryTicks: null,
    layer: '',
    pass: false,
    expectations: [],
    dir,
    mode,
    wallMs: Date.now() - wall0,
    ...(error ? { error } : { skipped: why }),
    details: { window: { startMs: 0, endMs: 0, intervalMs: s.aggregators.intervalMs }, missedTicks: [], doublePosts: 0, acceptedReports: 0, acceptedByAggregator: {}, rounds: { total: 0, signed: 0, failed: 0, byStatus: {}, failures: {} }, served: { maxStaleSec: 0, maxDeviationSec: 0, perFeed: [] }, maxStaleSec: 0, maxDeviationSec: 0, equivocationsFound: [], signaturesRead: 0, unsignedReasons: [], failover: { ticks: null, rawTicks: null, detail: '' }, recovery: { ticks: null, perFault: [] }, unhealthy: [], faults: [], ticks: [], posts: [] },
  });

  let mode: 'namespaces' | 'loopback' = opts.mode === 'loopback' ? 'loopback' : 'namespaces';
  if (opts.mode !== 'loopback') {
    const { canCreateNamespaces } = await import('./net/index.ts');
    const c = await canCreateNamespaces();
    if (!c.ok) {
      if (opts.mode === 'namespaces') return empty(`network namespaces unavailable: ${c.reason}`, 'namespaces');
      mode = 'loopback';
    }
  }
  if (mode === 'loopback') {
    const why = loopbackRefusal(s);
    if (why) return empty(why, 'loopback');
  }

  let fabric: Fabric | undefined;
  let provider: JsonRpcProvider | undefined;
  const timers: NodeJS.Timeout[] = [];
  let stopping = false;
  try {
    fabric = mode === 'namespaces' ? await namespaceFabric(s, dir, progress) : await loopbackFabric(dir);
    const fab = fabric;
    const hosts = allHosts(topo);
    const useRelays = fab.mode === 'namespaces' && fab.delayLayer === 'relay' && (Object.values(s.regions).some((r) => r.delayMs > 0 || r.jitterMs > 0) || s.faults.some((f) => f.kind === 'delay'));
    const services = new Map<string, Service>();
    for (const h of hosts) {
      const base = h === 'anvil' ? PORTS.anvil : h === 'venues' ? PORTS.venues : h.startsWith('node') ? PORTS.node : PORTS.agg;
      const port = fab.mode === 'loopback' ? await freePort() : base;
      const bindPort = useRelays ? port + 1000 : port;
      services.set(h, { host: h, port, bindPort, log: join(dir, 'logs', `${h}-${h}.log`) });
    }
    const svc = (h: string) => services.get(h)!;
    const url = (h: string) => `http://${fab.addr(h)}:${svc(h).port}`;

    // Clock faults apply from process start (libfaketime is read at exec).
    const clockOf = new Map<string, FaketimeSpec>();
    for (const f of s.faults) if (f.kind === 'clock') for (const h of select(f.hosts)) clockOf.set(h, { offsetMs: f.offsetSec * 1000, rate: 1 + f.driftPpm / 1e6 });


    progress(`${s.name}: starting anvil (${fab.mode})`);
    const anvilArgs = ['--host', fab.addr('anvil'), '--port', String(svc('anvil').bindPort), '--chain-id', '31337', '--block-time', '1', '--state', join(dir, 'anvil-state.json'), '--state-interval', '1'];
    svc('anvil').proc = await fab.start('anvil', 'anvil', ANVIL_BIN, anvilArgs, clockOf.get('anvil'));
    const rpcUrl = await fab.reach('anvil', svc('anvil').bindPort);
    const rpc = new FetchRequest(rpcUrl);
    rpc.timeout = 15_000; // a dead RPC must fail the measure, not hang it
    provider = new JsonRpcProvider(rpc, 31337, { staticNetwork: true, pollingInterval: 500 });
    for (let k = 0; ; k++) {
      try {
        await provider.getBlockNumber();
        break;
      } catch (err) {
        if (k > 100) throw new Error(`anvil at ${rpcUrl} did not answer within 20 s (${(err as Error).message}); see ${dir}/logs/anvil-anvil.log`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    const dealer = dealerKeygen(s.t, s.n);
    const deployer = new NonceManager(new Wallet(ANVIL_KEYS[0]!, provider));
    const hub = await deployHub(deployer, dealer, { maxFutureDrift: 60 });
    const hubAddress = await hub.getAddress();
    await addFeeds(hub, s.feeds.map((f) => f.name), { deviationBps: 1000, confirmations: 2, confirmationTime: 10, maxStaleness: 3600, heartbeat: 3600 });
    const fromBlock = await provider.getBlockNumber();

    // Relays (delay) come after the deployment: the runner talks to anvil on its private port
    // (an observer, not a host of the network), the hosts through the relays.
    if (useRelays) {
      progress(`${s.name}: starting ${hosts.length} delay relays`);
      for (const h of hosts) await fab.net!.startRelay(h, svc(h).port, svc(h).bindPort);
    }
    if (fab.net && Object.keys(s.regions).length) {
      await fab.net.setDelayProfile({ regions: s.regions });
    }

    progress(`${s.name}: keys and configs for n=${s.n}, t=${s.t}, ${s.aggregators.count} aggregators`);
    const identities = Array.from({ length: s.n }, () => ed25519.utils.randomSecretKey());
    const passwordFile = join(dir, 'password');
    writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
    const aggKeys = [];
    for (let k = 0; k < s.aggregators.count; k++) {
      aggKeys.push(await createIdentityKey(join(dir, `agg${k}-identity.json`), PASSWORD, { fast: true }));
      await createTransmitterKey(join(dir, `agg${k}-transmitter.json`), PASSWORD, { fast: true, privateKey: ANVIL_KEYS[1 + k]! });
    }
    const nodeHosts = hosts.filter((h) => h.startsWith('node'));
    const { file: committeeFile, committee, digest } = writeCommitteeFile({
      dir,
      chainId: 31337,
      hub: hubAddress,
      dealer,
      identities,
      nodeUrls: nodeHosts.map(url),
      aggregators: aggKeys.map((a, k) => ({ identityKey: a.publicKey, name: `agg${k}` })),
    });
    const onchain = String(await hub.configDigest!()).toLowerCase();
    if (digest !== onchain) throw new Error(`testbed: config digest mismatch: expected ${onchain} (hub), got ${digest} (committee file)`);

    const t0Truth = Date.now();
    const truth = truthPaths(s.feeds, s.seed, t0Truth, s.durationSec + s.warmupSec + 300);
    progress(`${s.name}: starting the venue server`);
    svc('venues').proc = await fab.start('venues', 'venues', process.execPath, ['--import', 'tsx', VENUE_HOST, '--listen', `${fab.addr('venues')}:${svc('venues').bindPort}`, '--t0', String(t0Truth), '--seed', String(s.seed), '--duration', String(s.durationSec + s.warmupSec + 300), '--venues', s.venues.join(','), '--feeds', JSON.stringify(s.feeds.map((f) => ({ name: f.name, start: f.start, volatility: f.volatility })))], clockOf.get('venues'));

    const nodeFiles: string[] = [];
    for (let i = 1; i <= s.n; i++) {
      const file = await writeNodeFiles({ dir, index: i, dealer, identitySecret: identities[i - 1]!, committeeFile, digest, port: svc(`node${i}`).bindPort, passwordFile, password: PASSWORD, feeds: s.feeds.map((f) => f.name), venues: s.venues, venueUrl: (v) => `${url('venues')}/${v}`, pollSchedule: s.pollSchedule ?? '* * * * * *' });
      const y = parseYaml(readFileSync(file, 'utf8')) as Record<string, unknown>;
      y.listen = { host: fab.addr(`node${i}`), port: svc(`node${i}`).bindPort };
      opts.nodeConfig?.(y, `node${i}`);
      writeFileSync(file, stringify(y));
      nodeFiles.push(file);
    }
    progress(`${s.name}: starting ${s.n} nodes`);
    for (let i = 1; i <= s.n; i++) {
      const h = `node${i}`;
      svc(h).proc = await fab.start(h, h, process.execPath, ['--import', 'tsx', CLI, 'node', 'start', '--config', nodeFiles[i - 1]!], clockOf.get(h));
    }
    const healthUrl = async (h: string) => fab.reach(h, svc(h).port);
    const startTimeout = 60_000 + s.n * 4000;
    const waitUp = async (h: string, timeoutMs: number) => {
      const p = svc(h).proc!;
      const died = p.exited.then((code): HealthResult => ({ ok: false, attempts: 0, error: `exited during start-up (code ${code})` }));
      const r = await Promise.race([waitForHealth(`${await healthUrl(h)}/v1/health`, { timeoutMs, fetch: fab.fetch }), died]);
      if (!r.ok) throw new Error(`${h} not healthy within ${timeoutMs} ms: ${r.error ?? `HTTP ${r.status}`}; see ${dir}/logs/${h}-${h}.log`);
    };
    await Promise.all(nodeHosts.map((h) => waitUp(h, startTimeout)));

    const aggHosts = hosts.filter((h) => h.startsWith('agg'));
    for (const [k, h] of aggHosts.entries()) {
      const file = join(dir, `${h}.yaml`);
      const aggYaml: Record<string, unknown> = {
          name: h,
          committee: committeeFile,
          identity: { path: join(dir, `${h}-identity.json`), passwordFile },
          transmitter: { path: join(dir, `${h}-transmitter.json`), passwordFile },
          chain: { rpcUrl: url('anvil'), maxFeePerGasGwei: 100, replaceAfterSec: 10, rpcTimeoutMs: s.aggregators.rpcTimeoutMs ?? 5000 },
          feeds: s.feeds.map((f) => ({ name: f.name, deviationPct: f.deviationPct, heartbeatSec: f.heartbeatSec })),
          schedule: { intervalMs: s.aggregators.intervalMs, slotMs: s.aggregators.slotMs, position: k, of: s.aggregators.count },
          round: { observeTimeoutMs: s.aggregators.observeTimeoutMs, signTimeoutMs: s.aggregators.signTimeoutMs, graceMs: s.aggregators.graceMs, maxObservationAgeSec: 30 },
          listen: { host: fab.addr(h), port: svc(h).bindPort },
          db: join(dir, `${h}.sqlite`),
          log: { level: 'info' },
        };
      opts.aggregatorConfig?.(aggYaml, h);
      writeFileSync(file, stringify(aggYaml));
      svc(h).proc = await fab.start(h, h, process.execPath, ['--import', 'tsx', CLI, 'aggregator', 'start', '--config', file], clockOf.get(h));
    }
    await Promise.all(aggHosts.map((h) => waitUp(h, 60_000)));

    progress(`${s.name}: all ${hosts.length} processes up; warming up ${s.warmupSec} s`);
    await new Promise((r) => setTimeout(r, s.warmupSec * 1000));
    // Measure steady state: many processes on few cores are still compiling and polling their
    // first rounds after the warm-up, so t0 waits (up to 60 s) for one pass in which every node
    // and aggregator answers its health check within the sampler's 900 ms.
    {
      const probeHosts = hosts.filter((h) => h.startsWith('node') || h.startsWith('agg'));
      const until = Date.now() + 60_000;
      for (;;) {
        const slow: string[] = [];
        await Promise.all(
          probeHosts.map(async (h) => {
            try {
              const res = await fab.fetch(`${await healthUrl(h)}/v1/health`, { signal: AbortSignal.timeout(900) });
              await res.arrayBuffer();
            } catch {
              slow.push(h);
            }
          }),
        );
        if (slow.length === 0) break;
        if (Date.now() > until) {
          progress(`${s.name}: ${slow.length} host(s) still slow to answer after 60 s (${slow.slice(0, 5).join(', ')}); measuring anyway`);
          break;
        }
        await new Promise((r) => setTimeout(r, 1000));
      }
    }

    // -- measured run --
    const t0 = Date.now();
    const endMs = t0 + s.durationSec * 1000;
    const faults: FaultTiming[] = [];
    let activeKillMs: number | null = null;
    const errors: string[] = [];
    const at = (sec: number, what: () => Promise<void>) => {
      timers.push(
        setTimeout(() => {
          if (stopping) return;
          what().catch((err) => errors.push((err as Error).message));
        }, Math.max(0, t0 + sec * 1000 - Date.now())),
      );
    };
    const baseProfile = { regions: s.regions };
    const delayOverrides = new Map<string, Record<string, { delayMs: number; jitterMs: number }>>();
    const applyDelays = async () => {
      const hostsDelay: Record<string, { delayMs: number; jitterMs: number }> = {};
      for (const o of delayOverrides.values()) Object.assign(hostsDelay, o);
      await fab.net!.setDelayProfile({ ...baseProfile, hosts: hostsDelay });
    };
    const rng = new Rng(s.seed).fork('kills');
    const signKills: { timing: FaultTiming; kills: { host: string; atMs: number; trigger: string }[] }[] = [];

    for (const f of s.faults) {
      const layer = layerOf(f.kind, fab.delayLayer);
      const timing: FaultTiming = { id: f.id, kind: f.kind, hosts: f.kind === 'kill' ? select([f.target]) : select(f.hosts), fromMs: t0 + f.at * 1000, toMs: f.until < s.durationSec ? t0 + f.until * 1000 : null, layer };
      faults.push(timing);
      const hostsOf = timing.hosts;
      const others = (sel?: string[]) => (sel ? select(sel) : hosts.filter((h) => !hostsOf.includes(h)));
      switch (f.kind) {
        case 'clock':
          timing.fromMs = t0;
          timing.toMs = null;
          timing.detail = `${f.offsetSec >= 0 ? '+' : ''}${f.offsetSec} s, ${f.driftPpm} ppm from process start`;
          break;
        case 'delay':
          at(f.at, async () => {
            delayOverrides.set(f.id, Object.fromEntries(hostsOf.map((h) => [h, { delayMs: f.ms, jitterMs: f.jitterMs }])));
            timing.layer = await fab.net!.setDelayProfile({ ...baseProfile, hosts: Object.assign({}, ...delayOverrides.values()) });
          });
          at(f.until, async () => {
            delayOverrides.delete(f.id);
            await applyDelays();
          });
          break;
        case 'loss': {
          const ids: string[] = [];
          at(f.at, async () => {
            for (const h of hostsOf) ids.push(await fab.net!.loss(h, f.pct, f.peers ? select(f.peers) : undefined));
          });
          at(f.until, async () => {
            for (const id of ids.splice(0)) await fab.net!.heal(id);
          });
          break;
        }
        case 'bandwidth':
          at(f.at, async () => {
            for (const h of hostsOf) await fab.net!.setBandwidth(h, { rateKbit: rateKbit(f.rate) });
          });
          at(f.until, async () => {
            for (const h of hostsOf) await fab.net!.setBandwidth(h, null);
          });
          break;
        case 'partition':
        case 'rpc-outage':
        case 'venue-outage': {
          let id: string | undefined;
          const b = f.kind === 'partition' ? others(f.from) : [f.kind === 'rpc-outage' ? 'anvil' : 'venues'];
          // 'outbound': packets from `hosts` are lost (aToB); 'inbound': packets to them (bToA).
          const drop = f.kind === 'partition' ? ({ both: 'both', outbound: 'aToB', inbound: 'bToA' } as const)[f.direction] : 'both';
          timing.detail = `${hostsOf.join(',')} ⟂ ${b.length > 6 ? `${b.length} hosts` : b.join(',')} (${drop})`;
          at(f.at, async () => {
            id = await fab.net!.partition(hostsOf, b, drop);
          });
          at(f.until, async () => {
            if (id) await fab.net!.heal(id);
          });
          break;
        }
        case 'kill': {
          const h = hostsOf[0]!;
          at(f.at, async () => {
            if (h === 'agg0') activeKillMs = Date.now();
            await svc(h).proc!.kill();
          });
          if (f.restartAfterSec !== undefined) {
            at(f.at + f.restartAfterSec, async () => {
              await svc(h).proc!.restart();
            });
          } else timing.toMs = null;
          break;
        }
        case 'kill-during-sign': {
          // Each kill picks a node and arms a one-shot trigger on its log: the node's
          // "report signed" line (written once the signature is recorded in its store and
          // computed, as it answers) fires the SIGKILL at once, while the aggregator is still
          // gathering the other signatures. When no line comes within two ticks, the kill
          // falls back to a timed aim (the recent rounds' start lag + observe + build time,
          // plus a random part of their signing time). Whether each kill landed inside a
          // round's signing phase is checked afterwards from the round databases.
          const per = ((f.until - f.at) * 1000) / f.count;
          const kills: { host: string; atMs: number; trigger: string }[] = [];
          signKills.push({ timing, kills });
          const armed = new Map<string, () => void>();
          for (const h of new Set(hostsOf)) {
            svc(h).proc!.onLine((line) => {
              if (line.includes('"report signed"')) armed.get(h)?.();
            });
          }
          const fire = (target: string, trigger: string) => {
            armed.delete(target);
            const p = svc(target).proc!;
            if (stopping || !p.running) return;
            kills.push({ host: target, atMs: Date.now(), trigger });
            void p
              .kill()
              .then(() => new Promise((r) => setTimeout(r, f.restartAfterSec * 1000)))
              .then(() => (stopping ? undefined : p.restart()))
              .catch((err) => errors.push((err as Error).message));
          };
          for (let k = 0; k < f.count; k++) {
            const target = hostsOf[Math.floor(rng.next() * hostsOf.length)]!;
            const u = rng.next();
            const armAt = t0 + f.at * 1000 + k * per;
            timers.push(
              setTimeout(() => {
                if (stopping) return;
                armed.set(target, () => fire(target, 'log'));
                const tick = (Math.ceil(Date.now() / s.aggregators.intervalMs) + 1) * s.aggregators.intervalMs;
                const recent = readRounds('agg0', join(dir, 'agg0.sqlite')).filter((r) => r.status === 'signed').slice(-5);
                // The round starts a little after its tick (startedAt − epoch: timers, the hub reads before it).
                const pre = median(recent.map((r) => r.startedAt - Number(r.epoch) + (r.timings.observeMs ?? 0) + (r.timings.buildMs ?? 0)));
                const sign = median(recent.map((r) => r.timings.signMs ?? 0)) ?? 0;
                const killAt = tick + (pre === undefined ? f.offsetMs : pre + u * sign);
                timers.push(
                  setTimeout(() => {
                    if (armed.has(target)) fire(target, 'timed');
                  }, Math.max(0, killAt - Date.now())),
                );
              }, Math.max(0, armAt - Date.now())),
            );
          }
          break;
        }
      }
    }

    // Health sampling, every second, every node and aggregator.
    const health: HealthSample[] = [];
    const sampled = [...nodeHosts, ...aggHosts];
    const reach = new Map<string, string>();
    for (const h of sampled) reach.set(h, await healthUrl(h));
    const sampler = (async () => {
      while (!stopping && Date.now() < endMs) {
        const tMs = Date.now();
        await Promise.all(
          sampled.map(async (h) => {
            try {
              const res = await fab.fetch(`${reach.get(h)}/v1/health`, { signal: AbortSignal.timeout(900) });
              let body: unknown = null;
              try {
                body = await res.json();
              } catch {
                // not JSON
              }
              health.push({ tMs, host: h, ...judgeHealth(res.status, body) });
            } catch (err) {
              const e = err as Error & { cause?: { code?: string } };
              health.push({ tMs, host: h, ok: false, message: `unreachable (${e.cause?.code ?? e.name})` });
            }
          }),
        );
        await new Promise((r) => setTimeout(r, Math.max(0, tMs + 1000 - Date.now())));
      }
    })();
    if (opts.onRunning) {
      const nodeStore = (h: string) => join(dir, `node${h.slice(4)}`, 'signing.sqlite');
      opts.onRunning({
        mode: fab.mode,
        dir,
        processes: new Map(hosts.flatMap((h) => (svc(h).proc ? [[h, svc(h).proc!] as const] : []))),
        apiUrl: reach,
        fetch: fab.fetch,
        sqlite: new Map([...nodeHosts.map((h) => [h, nodeStore(h)] as const), ...aggHosts.map((h) => [h, join(dir, `${h}.sqlite`)] as const)]),
        t0,
        endMs,
      });
    }
    progress(`${s.name}: measuring ${s.durationSec} s with ${s.faults.length} faults`);
    await new Promise((r) => setTimeout(r, Math.max(0, endMs - Date.now())));
    stopping = true;
    await sampler;
    await new Promise((r) => setTimeout(r, 3000));

    progress(`${s.name}: reading the chain, the stores and the samples`);
    const allRounds = aggHosts.flatMap((h) => readRounds(h, join(dir, `${h}.sqlite`)));
    for (const { timing, kills } of signKills) {
      const hit = kills.filter((k) => inSigningPhase(k.atMs, allRounds));
      timing.detail = `${kills.length} SIGKILLs (${kills.map((k) => `${k.host}@${((k.atMs - t0) / 1000).toFixed(1)}s/${k.trigger}`).join(' ')}); ${hit.length} landed inside a round's signing phase, ${kills.filter((k) => k.trigger === 'log').length} right after the node logged a signature`;
    }
    const excused = s.expect.flatMap((e) => (typeof e === 'object' && 'noPostDuring' in e ? [e.noPostDuring] : []));
    const layers = [...new Set(faults.map((f) => f.layer))];
    if (Object.values(s.regions).some((r) => r.delayMs > 0) && fab.delayLayer) layers.unshift(fab.delayLayer);
    const gone = hosts.filter((h) => svc(h).proc && !svc(h).proc!.running);
    if (gone.length === hosts.length) throw new Error(`every process of the run had ended before the measure (something outside this run stopped them: another run's \`testbed down\`?); logs in ${dir}/logs`);
    const measures = await withTimeout(120_000, 'measuring the run', measureRun({
      scenario: s.name,
      n: s.n,
      t: s.t,
      intervalMs: s.aggregators.intervalMs,
      aggregators: s.aggregators.count,
      feeds: s.feeds.map((f) => ({ feedId: feedId(f.name).toLowerCase(), decimals: 8, deviationPct: f.deviationPct, heartbeatSec: f.heartbeatSec })),
      window: { startMs: t0, endMs },
      provider,
      hub: hubAddress,
      fromBlock,
      committee: { configDigest: committeeConfigDigest(committee), groupPublicKey: dealer.groupPublicKey },
      aggregatorDbs: aggHosts.map((h) => ({ host: h, file: join(dir, `${h}.sqlite`) })),
      nodeStores: nodeHosts.map((h, k) => ({ host: h, file: join(dir, `node${k + 1}`, 'signing.sqlite') })),
      truthSamples: sampleTruth(s, truth, t0, endMs),
      healthSamples: health,
      faults,
      excused,
      activeKillMs,
      layer: [...new Set(layers)].join('+') || 'none',
    }));
    const logs = Object.fromEntries(hosts.map((h) => [h, [join(dir, 'logs', `${h}-${h}.log`)]]));
    progress(`${s.name}: measured (${measures.details.acceptedReports} reports accepted); stopping`);
    const expectations = judge(s.expect, measures, { select, logs });
    if (errors.length) expectations.push({ expect: 'faults applied without error', ok: false, actual: errors.slice(0, 3).join('; ') });
    return { ...measures, pass: expectations.every((e) => e.ok), expectations, dir, mode: fab.mode, runId: fab.runId, wallMs: Date.now() - wall0 };
  } catch (err) {
    progress(`${s.name}: error: ${(err as Error).message}`);
    return empty('', mode, (err as Error).message);
  } finally {
    stopping = true;
    for (const t of timers) clearTimeout(t);
    provider?.destroy();
    // Bounded: a teardown that hangs (a forwarder waiting on a kept-alive connection) must
    // not hold the suite; the run's namespaces are then removed by name.
    const closed = await withTimeout(45_000, 'closing the testbed', fabric?.close() ?? Promise.resolve()).then(
      () => true,
      () => false,
    );
    if (!closed && fabric?.runId) {
      progress(`${s.name}: teardown did not finish in 45 s; removing testbed ${fabric.runId} by name`);
      const { downAll } = await import('./net/index.ts');
      await downAll(2000, fabric.runId).catch(() => undefined);
    }
    if (mode === 'loopback') await stopAll().catch(() => undefined);
  }
}

function withTimeout<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, fail) => (timer = setTimeout(() => fail(new Error(`${what}: no answer within ${ms / 1000} s (is anvil still up?)`)), ms)))]).finally(() => clearTimeout(timer));
}

function median(xs: readonly number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function sampleTruth(s: TestbedScenario, truth: ReturnType<typeof truthPaths>, fromMs: number, toMs: number): { tMs: number; prices: Record<string, number> }[] {
  const out = [];
  for (let t = fromMs - 1000; t <= toMs + 1000; t += 250) {
    const prices: Record<string, number> = {};
    for (const f of s.feeds) prices[feedId(f.name).toLowerCase()] = truth.at(f.name, t)!;
    out.push({ tMs: t, prices });
  }
  return out;
}
