/**
 * The alert drill: every rule of monitoring/aegis-alerts.yml seen firing in a real run. It
 * starts a devnet (anvil, the hub, simulated venues, node processes, the active aggregator),
 * a standby aggregator and the real Prometheus (testkit/prometheus.ts) scraping them all with
 * the repository's rules, then causes each rule's condition with real actions — a process
 * killed by PID, a venue that stops answering, the guardian pausing a feed, a 30 % move that
 * trips a breaker, venues that disagree so the committee signs a suspension, a second copy of
 * the active aggregator's config asking the nodes for a different report at the same epoch,
 * a drained transmitter — and polls Prometheus's /api/v1/alerts until each fired or its bound
 * passed. Only the `for:` durations are shortened, in a copy of the rule file (same `expr`).
 *
 * Everything it starts is stopped by PID when it ends, fails, or gets Ctrl-C.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { Wallet } from 'ethers';
import { feedId } from '../../protocol/index.ts';
import { ANVIL_KEYS } from '../../contracts/anvil.ts';
import { createIdentityKey, createTransmitterKey } from '../../aggregator/keys.ts';
import type { VenueId } from '../../node/sources/index.ts';
import { ALERT_RULES, PROMETHEUS, startPrometheus, type PromAlert, type PrometheusServer } from '../../testkit/prometheus.ts';
import { freePort, startDevnet, type Devnet } from './devnet.ts';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const CLI = join(ROOT, 'scripts', 'aegis.ts');
const PASSWORD = 'aegis alert drill password';
const VENUES: VenueId[] = ['coinbase', 'kraken', 'bitstamp', 'gemini', 'bitfinex'];
const FEEDS = [
  { name: 'BTC/USD', start: 64_000, volatility: 3 },
  { name: 'ETH/USD', start: 3_100, volatility: 3.5 },
  { name: 'SOL/USD', start: 150, volatility: 4 },
  { name: 'LINK/USD', start: 14, volatility: 4 },
];
/** The hub's maxStaleness in the drill: short, so a committee that stops posting makes a feed stale within the drill. */
const MAX_STALENESS_S = 30;
/** The venue that stops answering (slow: a request waits 90 s), opening its circuit on the nodes. */
const SLOW_VENUE: VenueId = 'gemini';
/** The node configured with a 60 s request timeout for that venue: its poll pass outlasts the 30 s snapshot limit. */
const PATIENT_NODE = 4;

export interface AlertDrillOptions {
  /** Every `for:` of the rules is rewritten to this many seconds in the copy the drill loads. */
  forSec: number;
  /** Progress lines. */
  log: (line: string) => void;
}

export interface DrillRow {
  alert: string;
  /** What the drill did to cause it. */
  action: string;
  /** The `for:` of the repository's rule and the one the drill loaded. */
  ruleFor: string;
  drillFor: string;
  /** Seconds after the drill started that the action ran (undefined: never ran). */
  actionAtS?: number;
  /** Seconds from the action to the first scrape of /api/v1/alerts that showed it firing. */
  firedAfterS?: number;
  /** Labels of that firing alert (alertname and severity left out). */
  labels?: Record<string, string>;
  /** It was firing already when the action ran: the drill cannot credit the action, the row counts as not fired. */
  firingBeforeAction?: boolean;
  /** Seconds after the action by which it must fire. */
  boundS: number;
  fired: boolean;
}

interface Expectation {
  alert: string;
  action: string;
  boundS: number;
  /** Which firing instance counts (the intended node, feed, aggregator). */
  match: (labels: Record<string, string>) => boolean;
}

/** The rule file with every `for:` set to `forSec` (expressions unchanged); returns the copy's path and each rule's original `for`. */
export function shortenedRules(dir: string, forSec: number): { file: string; original: Map<string, string> } {
  const doc = parse(readFileSync(ALERT_RULES, 'utf8')) as { groups: { rules: { alert: string; for?: string }[] }[] };
  const original = new Map<string, string>();
  for (const g of doc.groups) {
    for (const r of g.rules) {
      original.set(r.alert, r.for ?? '0s');
      if (r.for !== undefined) r.for = `${forSec}s`;
    }
  }
  const file = join(dir, 'aegis-alerts.drill.yml');
  writeFileSync(file, stringify(doc));
  return { file, original };
}

interface OwnProcess {
  name: string;
  child: ChildProcess;
  exited: Promise<void>;
}

function spawnCli(name: string, args: string[], logFile: string): OwnProcess {
  const fd = openSync(logFile, 'a');
  // `node --import tsx` (not the tsx wrapper) so the PID held is the process that serves.
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: ROOT, stdio: ['ignore', fd, fd] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return { name, child, exited };
}

async function stopOwn(p: OwnProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  process.kill(p.child.pid!, signal);
  const t = setTimeout(() => p.child.exitCode === null && p.child.kill('SIGKILL'), 5000);
  await p.exited;
  clearTimeout(t);
}

async function waitHealthy(url: string, what: string, p: OwnProcess, timeoutMs: number, readyField?: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (p.child.exitCode !== null) throw new Error(`${what} exited during start-up (code ${p.child.exitCode}); see its log`);
    const body = await fetch(`${url}/v1/health`, { signal: AbortSignal.timeout(1500) })
      .then(async (r) => (r.ok ? ((await r.json()) as Record<string, unknown>) : undefined))
      .catch(() => undefined);
    if (body && (!readyField || body[readyField])) return;
    if (Date.now() > until) throw new Error(`${what} at ${url} not healthy within ${timeoutMs} ms; see its log`);
    await sleep(300);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const hostOf = (url: string) => new URL(url).host;

/**
 * Runs the drill; resolves with one row per alert of the rule file (fired or not). `signal`
 * aborts it (Ctrl-C): what it started is stopped, and it rejects.
 */
export async function runAlertDrill(o: AlertDrillOptions, signal?: AbortSignal): Promise<DrillRow[]> {
  if (!PROMETHEUS) throw new Error('alert drill: prometheus not found at /usr/bin/prometheus (or $AEGIS_PROMETHEUS); install it with apt-get install -y prometheus');
  const log = o.log;
  const dir = mkdtempSync(join(tmpdir(), 'aegis-alert-drill-'));
  const own: OwnProcess[] = [];
  let net: Devnet | undefined;
  let prom: PrometheusServer | undefined;
  let keep = true;
  const t0 = Date.now();
  const since = () => (Date.now() - t0) / 1000;
  const aborted = () => {
    if (signal?.aborted) throw new Error('alert drill interrupted');
  };

  // Last resort if the drill's process exits without its cleanup (a second Ctrl-C): kill by PID.
  const killOwn = () => {
    for (const p of own) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    if (prom && prom.pid) {
      try {
        process.kill(prom.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  process.once('exit', killOwn);
  const cleanup = async () => {
    net?.venues.setBehaviour(SLOW_VENUE, { kind: 'normal' });
    await Promise.all(own.map((p) => stopOwn(p)));
    await prom?.stop().catch(() => undefined);
    // A venue answer held for 90 s must not hold the exit: the devnet's close is bounded.
    await Promise.race([net?.close(), sleep(20_000)]).catch(() => undefined);
    process.removeListener('exit', killOwn);
  };

  try {
    const { file: rulesFile, original } = shortenedRules(dir, o.forSec);
    log(`rules: ${ALERT_RULES} loaded as ${rulesFile} with every for: shortened to ${o.forSec}s (expressions unchanged)`);

    // The standby's identity is listed in the committee file, so it is made before the devnet.
    const passwordFile = join(dir, 'password');
    writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
    const standbyId = await createIdentityKey(join(dir, 'standby-identity.json'), PASSWORD, { fast: true });
    await createTransmitterKey(join(dir, 'standby-transmitter.json'), PASSWORD, { fast: true, privateKey: ANVIL_KEYS[2]! });
    await createTransmitterKey(join(dir, 'clone-transmitter.json'), PASSWORD, { fast: true, privateKey: ANVIL_KEYS[3]! });

    net = await startDevnet({
      n: 5,
      t: 3,
      feeds: FEEDS,
      venues: VENUES,
      seed: 11,
      durationSec: 1200,
      // 3 s ticks and the standby 2 s into each: longer than the active's round plus a 1 s
      // block, so the standby sees the active's post and skips (docs/design.md §Several aggregators).
      roundIntervalMs: 3000,
      deviationPct: 0.5,
      heartbeatSec: 10,
      hubFeed: { deviationBps: 1000, confirmations: 2, confirmationTime: 10, maxStaleness: MAX_STALENESS_S, heartbeat: 3600 },
      standbys: [{ identityKey: standbyId.publicKey, name: 'drill standby' }],
      progress: (l) => log(`devnet: ${l}`),
    });
    aborted();
    log(`devnet up in ${since().toFixed(0)} s; logs and configs in ${net.dir}`);
    const active = parse(readFileSync(join(net.dir, 'aggregator.yaml'), 'utf8')) as Record<string, unknown> & { schedule: Record<string, number>; feeds: Record<string, unknown>[] };

    // The standby: position 1 of 2, its own identity, transmitter and database.
    const standbyPort = await freePort();
    const standbyUrl = `http://127.0.0.1:${standbyPort}`;
    const standbyFile = join(dir, 'standby.yaml');
    writeFileSync(
      standbyFile,
      stringify({
        ...active,
        name: 'drill-standby',
        identity: { path: join(dir, 'standby-identity.json'), passwordFile },
        transmitter: { path: join(dir, 'standby-transmitter.json'), passwordFile },
        schedule: { ...active.schedule, slotMs: 2000, position: 1, of: 2 },
        listen: { port: standbyPort },
        db: join(dir, 'standby.sqlite'),
      }),
    );

    // Node PATIENT_NODE restarted with a 60 s request timeout for SLOW_VENUE: an operator's
    // over-long timeout, which lets one hung venue hold the node's whole poll pass.
    const pidPatient = net.pid(`node${PATIENT_NODE}`);
    if (pidPatient === undefined) throw new Error(`alert drill: node ${PATIENT_NODE} of the devnet is not running; see ${net.dir}/node${PATIENT_NODE}.log`);
    process.kill(pidPatient, 'SIGTERM');
    const patientFile = join(net.dir, `node${PATIENT_NODE}`, 'node.yaml');
    const patientCfg = parse(readFileSync(patientFile, 'utf8')) as Record<string, unknown>;
    writeFileSync(patientFile, stringify({ ...patientCfg, venues: { [SLOW_VENUE]: { timeoutMs: 60_000, retries: 0 } } }));
    for (let k = 0; k < 50 && net.pid(`node${PATIENT_NODE}`) !== undefined; k++) await sleep(100);
    const patient = spawnCli(`node ${PATIENT_NODE}`, ['node', 'start', '--config', patientFile], join(dir, `node${PATIENT_NODE}.log`));
    own.push(patient);
    await waitHealthy(net.nodeUrls[PATIENT_NODE - 1]!, `node ${PATIENT_NODE}`, patient, 60_000, 'ready');
    log(`node ${PATIENT_NODE} restarted with venues.${SLOW_VENUE}.timeoutMs: 60000 (pid ${patient.child.pid})`);

    prom = await startPrometheus(
      [
        { job: 'aegis-aggregator', urls: [net.aggregatorUrl] },
        { job: 'aegis-node', urls: net.nodeUrls },
      ],
      { rulesFile },
    );
    log(`prometheus at ${prom.url} (pid ${prom.pid}) scraping ${net.nodeUrls.length} nodes and the active aggregator every second`);

    // A priced round for every feed first, so each alert below starts from a healthy network.
    const until = Date.now() + 90_000;
    for (;;) {
      aborted();
      const rounds = await Promise.all(FEEDS.map(async (f) => ((await net!.hub.tryRead!(feedId(f.name))) as bigint[])[3]!));
      if (rounds.every((r) => r > 0n)) break;
      if (Date.now() > until) throw new Error(`alert drill: the devnet did not post every feed within 90 s; see ${net.dir}/aggregator.log`);
      await sleep(1000);
    }
    log(`every feed posted; ${since().toFixed(0)} s in`);

    const nodeHost = (i: number) => hostOf(net!.nodeUrls[i - 1]!);
    const activeHost = hostOf(net.aggregatorUrl);
    const standbyHost = hostOf(standbyUrl);
    const rows = new Map<string, DrillRow>();
    const expectations = new Map<string, Expectation>();
    const expect = async (e: Expectation) => {
      expectations.set(e.alert, e);
      const row = rows.get(e.alert)!;
      Object.assign(row, { action: e.action, boundS: e.boundS, actionAtS: since() });
      const before = await prom!.firing().catch(() => [] as PromAlert[]);
      if (before.some((a) => a.labels.alertname === e.alert && e.match(a.labels))) {
        row.firingBeforeAction = true;
        log(`${e.alert} was firing before its action: not credited to it`);
      }
    };
    for (const [alert, f] of original) rows.set(alert, { alert, action: 'not induced', ruleFor: f, drillFor: f === '0s' ? '0s' : `${o.forSec}s`, boundS: 0, fired: false });
    const started = new Map<string, number>();

    /** Polls /api/v1/alerts until every expectation in `names` fired or its bound passed. */
    const watch = async (names: string[]) => {
      for (const n of names) started.set(n, Date.now());
      for (;;) {
        aborted();
        let alerts: PromAlert[] = [];
        try {
          alerts = await prom!.firing();
        } catch {
          // one slow answer under load: ask again
        }
        for (const a of alerts) {
          const e = expectations.get(a.labels.alertname ?? '');
          const row = e && rows.get(e.alert);
          if (!e || !row || row.fired || row.firingBeforeAction || !started.has(e.alert) || !e.match(a.labels)) continue;
          const { alertname: _n, severity: _s, ...labels } = a.labels;
          Object.assign(row, { fired: true, firedAfterS: (Date.now() - started.get(e.alert)!) / 1000, labels });
          log(`FIRED ${e.alert} ${row.firedAfterS!.toFixed(0)} s after: ${e.action} (${Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(', ')})`);
        }
        const open = names.filter((n) => !rows.get(n)!.fired && !rows.get(n)!.firingBeforeAction);
        if (open.length === 0) return;
        const late = open.filter((n) => Date.now() - started.get(n)! > expectations.get(n)!.boundS * 1000);
        if (late.length === open.length) {
          for (const n of late) log(`NOT FIRED ${n} within ${expectations.get(n)!.boundS} s`);
          return;
        }
        await sleep(1000);
      }
    };

    // Phase 1: conditions that leave t nodes and the active aggregator able to post.
    log('phase 1: drained transmitter, guardian pause, 30 % move, disagreeing venues, a hung venue');
    const transmitter = new Wallet(ANVIL_KEYS[1]!).address;
    await net.anvil.provider.send('anvil_setBalance', [transmitter, '0xb1a2bc2ec50000']); // 0.05 ETH
    await expect({ alert: 'AegisTransmitterBalanceLow', action: `active aggregator's transmitter ${transmitter} set to 0.05 ETH (anvil_setBalance)`, boundS: 40, match: (l) => l.instance === activeHost });

    await (await net.hub.setFeedPaused!(feedId('SOL/USD'), true)).wait();
    await expect({ alert: 'AegisFeedPaused', action: 'guardian: hub.setFeedPaused(SOL/USD, true)', boundS: 40, match: (l) => l.feed === 'SOL/USD' });

    for (const v of VENUES) net.pump(v, 'ETH/USD', 1.3);
    await expect({ alert: 'AegisBreakerTripped', action: 'every venue moves ETH/USD +30 % (hub breaker 10 %)', boundS: 60, match: (l) => l.feed === 'ETH/USD' });

    // Five venues 50 % apart: no three agree, every node withholds BTC/USD (sources_disagree
    // or too_few_sources), t nodes sign that they cannot price it.
    [0.5, 0.75, 1, 1.5, 2.25].forEach((f, k) => net!.pump(VENUES[k]!, 'BTC/USD', f));
    await expect({ alert: 'AegisFeedSuspended', action: 'the five venues quote BTC/USD ×0.5, ×0.75, ×1, ×1.5, ×2.25: no three agree', boundS: 60, match: (l) => l.feed === 'BTC/USD' });

    net.venues.setBehaviour(SLOW_VENUE, { kind: 'slow', delayMs: 90_000 });
    await expect({ alert: 'AegisSourceCircuitOpen', action: `venue ${SLOW_VENUE} stops answering (requests hang 90 s; nodes time out after 2 s)`, boundS: 60, match: (l) => l.source === SLOW_VENUE });
    await expect({ alert: 'AegisNodeSnapshotStale', action: `same hung venue; node ${PATIENT_NODE} waits 60 s per request to it, so its poll pass outlasts 30 s`, boundS: 75, match: (l) => l.instance === nodeHost(PATIENT_NODE) });

    const phase1 = ['AegisTransmitterBalanceLow', 'AegisFeedPaused', 'AegisBreakerTripped', 'AegisFeedSuspended', 'AegisSourceCircuitOpen', 'AegisNodeSnapshotStale'];
    await watch(phase1);

    // Phase 2: a node and the active aggregator killed by PID; the standby takes over. The
    // standby starts only now: a standby also posts, validly, when a post falls due between the
    // active's slot and its own (docs/design.md §Several aggregators), and such an extra post
    // would fire AegisStandbyTookOver before the kill.
    const standby = spawnCli('standby aggregator', ['aggregator', 'start', '--config', standbyFile], join(dir, 'standby.log'));
    own.push(standby);
    await waitHealthy(standbyUrl, 'standby aggregator', standby, 60_000);
    await prom.setTargets([
      { job: 'aegis-aggregator', urls: [net.aggregatorUrl, standbyUrl] },
      { job: 'aegis-node', urls: net.nodeUrls },
    ]);
    log(`standby aggregator up at ${standbyUrl} (pid ${standby.child.pid}), scraped by prometheus`);
    log('phase 2: kill node 5 and the active aggregator by PID');
    const pid5 = net.pid('node5');
    const pidAgg = net.pid('aggregator');
    if (pid5 === undefined || pidAgg === undefined) throw new Error(`alert drill: node 5 or the aggregator of the devnet is not running; see ${net.dir}`);
    process.kill(pid5, 'SIGKILL');
    await expect({ alert: 'AegisNodeDown', action: `kill -9 node 5 (pid ${pid5})`, boundS: 40, match: (l) => l.instance === nodeHost(5) });
    process.kill(pidAgg, 'SIGKILL');
    await expect({ alert: 'AegisAggregatorDown', action: `kill -9 the active aggregator (pid ${pidAgg})`, boundS: 40, match: (l) => l.instance === activeHost });
    await expect({ alert: 'AegisStandbyTookOver', action: 'same kill; the standby (position 1 of 2) posts', boundS: 60, match: (l) => l.instance === standbyHost });
    await watch(['AegisNodeDown', 'AegisAggregatorDown', 'AegisStandbyTookOver']);

    // Phase 2b: a second copy of the now-posting standby's config, started on another host: the
    // same identity and schedule slot, its own database, one feed with a 2 s heartbeat. At the
    // ticks both run they ask the nodes for different reports at one epoch.
    log("phase 2b: start a copy of the standby's config as a second aggregator");
    const cloneFile = join(dir, 'clone.yaml');
    const standbyCfg = parse(readFileSync(standbyFile, 'utf8')) as typeof active;
    writeFileSync(
      cloneFile,
      stringify({
        ...standbyCfg,
        name: 'drill-clone',
        transmitter: { path: join(dir, 'clone-transmitter.json'), passwordFile },
        feeds: [{ ...standbyCfg.feeds.find((f) => f.name === 'LINK/USD'), heartbeatSec: 2 }],
        listen: { port: await freePort() },
        db: join(dir, 'clone.sqlite'),
      }),
    );
    const clone = spawnCli('clone aggregator', ['aggregator', 'start', '--config', cloneFile], join(dir, 'clone.log'));
    own.push(clone);
    await expect({ alert: 'AegisSigningStoreRefused', action: "a second aggregator started from a copy of the standby's config (same identity and schedule slot, one feed) asks for a different report at the standby's epochs", boundS: 60, match: () => true });
    await watch(['AegisSigningStoreRefused']);
    await stopOwn(clone);

    // Phase 3: two more nodes killed — one node answers, t = 3: no round can succeed.
    log('phase 3: kill nodes 1 and 2 by PID: fewer than t nodes answer');
    const pids = [1, 2].map((i) => net!.pid(`node${i}`));
    for (const p of pids) if (p !== undefined) process.kill(p, 'SIGKILL');
    await expect({ alert: 'AegisQuorumLost', action: `kill -9 nodes 1 and 2 (pids ${pids.join(', ')}): node 3 answers, node ${PATIENT_NODE} withholds, t = 3`, boundS: 180, match: (l) => l.instance === standbyHost });
    await expect({ alert: 'AegisFeedStale', action: `same kill; nothing is posted for the hub's maxStaleness (${MAX_STALENESS_S} s in the drill)`, boundS: 90, match: () => true });
    await watch(['AegisQuorumLost', 'AegisFeedStale']);

    keep = [...rows.values()].some((r) => !r.fired);
    return [...rows.values()];
  } finally {
    log('stopping everything the drill started');
    await cleanup();
    if (keep) log(`the drill's own configs and logs (standby, clone, node ${PATIENT_NODE}) stay in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}
