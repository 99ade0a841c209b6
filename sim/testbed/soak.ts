/**
 * The soak (`npm run soak -- --minutes N`): an n = 7, t = 5 network with an active and a
 * standby aggregator runs for N minutes with faults cycling, and every sample period (a
 * minute) each node and aggregator process is measured from outside and inside:
 *   - RSS (`VmRSS` of /proc/<pid>/status) and open file descriptors (entries of /proc/<pid>/fd):
 *     the real PIDs of processes inside the testbed's namespaces are visible from here;
 *   - V8 heap used and event-loop delay p99 from the process's own /metrics (prom-client's
 *     process metrics, `aegis_node_nodejs_heap_size_used_bytes`, `…_eventloop_lag_p99_seconds`;
 *     the p99 covers the time since the previous scrape, i.e. the last sample period);
 *   - the size of its SQLite files: the signing store or the round database, main file + -wal.
 * anvil and the venue server are sampled too (RSS, fds) but are test fixtures, not judged.
 *
 * Verdict: for RSS, fds and SQLite size, growth = (last − base) / base where base is the
 * sample at minute 10 (runs shorter than 20 minutes: the sample at the end of the first third)
 * must stay under GROWTH_BOUND_PCT (docs/running-over-real-networks.md, "Soak", says why 10 %).
 * The stores run with a small retention (SOAK_RETENTION) so that pruning reaches its steady
 * state inside the warm-up: a store without pruning grows by one row per round and fails.
 *
 * Faults cycle every CYCLE_SEC (the whole run for short runs; see `soakFaults`): SIGKILL +
 * restart of node6 or node7, the active aggregator killed and restarted, 2 % loss on node2 and
 * node3, a partition of node4. node1..node5 and the standby are never restarted, so their
 * curves show a leak over the whole run.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lineChart, type Marker, type Series } from '../report/svg.ts';
import { runScenario, type RunningView } from './runner.ts';
import type { TestbedScenario } from './scenario/schema.ts';
import type { TestbedRun } from './report/index.ts';
import type { Fault } from './scenario/schema.ts';

export const GROWTH_BOUND_PCT = 10;
/** Retention the soak gives the stores: reached after ~6 minutes of 3 s ticks. */
export const SOAK_RETENTION = { nodeRows: 120, aggregatorRounds: 120, pruneEverySec: 60 };
export const CYCLE_SEC = 600;
/** What the runner's measures see after the soak's pruning (said in every result). */
export const STORE_COVERAGE =
  'ticksNeeded (its aggregator-decision part), round latencies and the equivocation check read the stores, which the soak prunes to their newest 120 rows: they cover about the last 6 minutes; unsignedAccepted re-verifies every accepted report on chain over the whole run';
export const WARMUP_SEC_LONG = 600;

export interface SoakOptions {
  durationSec: number;
  /** Seconds between samples (default 60; shorter for short runs). */
  sampleSec?: number;
  mode?: 'auto' | 'namespaces' | 'loopback';
  seed?: number;
  /** Run directory (configs, stores, logs); default under $TMPDIR. */
  dir?: string;
  progress?: (line: string) => void;
}

export interface Sample {
  /** Minutes since the measured start. */
  tMin: number;
  host: string;
  kind: 'node' | 'aggregator' | 'fixture';
  pid: number | null;
  up: boolean;
  rssBytes: number | null;
  fds: number | null;
  heapUsedBytes: number | null;
  eventLoopP99Ms: number | null;
  sqliteBytes: number | null;
  walBytes: number | null;
  /** Restarts (pid changes) seen so far. */
  restarts: number;
}

export interface ProcessVerdict {
  name: string;
  rssGrowthPct: number | null;
  fdGrowthPct: number | null;
  sqliteGrowthPct: number | null;
  heapGrowthPct: number | null;
  /** Largest event-loop delay p99 after the warm-up, ms. */
  eventLoopP99Ms: number | null;
  rssMiB: { base: number | null; last: number | null; max: number | null };
  fds: { base: number | null; last: number | null; max: number | null };
  sqliteKiB: { base: number | null; last: number | null; max: number | null };
  restarts: number;
  pass: boolean;
  why?: string;
}

export interface SoakResult {
  minutes: number;
  processes: ProcessVerdict[];
  pass: boolean;
  mode: 'namespaces' | 'loopback';
  warmup: { minutes: number; rule: string };
  boundPct: number;
  sampleSec: number;
  samples: number;
  fixtures: ProcessVerdict[];
  faults: { id: string; kind: string; atMin: number; untilMin: number; hosts: string }[];
  run: { ticksNeeded: number; ticksPosted: number; equivocations: number; unsignedAccepted: number; roundP50Ms: number | null; roundP99Ms: number | null; dir: string; runId?: string; error?: string; skipped?: string; coverage: string };
  retention: typeof SOAK_RETENTION;
  out?: string;
}

/**
 * The soak's fault schedule over `durationSec` (pure). In each cycle: at 0.1 a SIGKILL of node7
 * or node6 (alternately) restarted 5 s later; at 0.2 of every second cycle (every cycle in
 * short runs) the active aggregator SIGKILLed and restarted 10 s later; at 0.3 2 % loss on
 * node2 and node3 for a minute; at 0.5 a 20 s partition of node4. Nothing in the last tenth
 * (at most 5 minutes) of the run, so the last sample is never of a process just restarted.
 * The aggregator's restarts at minutes 2, 22, 42 of a long run leave it 8 minutes old at the
 * warm-up sample and 20 at the end: growth compares settled processes.
 */
export function soakFaults(durationSec: number, network: boolean): (Fault & { until: number; id: string })[] {
  const cycle = durationSec >= 2 * CYCLE_SEC ? CYCLE_SEC : durationSec;
  const out: (Fault & { until: number; id: string })[] = [];
  const fits = (until: number) => until <= durationSec - Math.min(300, durationSec * 0.1);
  for (let c = 0, start = 0; start < durationSec; c++, start += cycle) {
    const at = (frac: number) => Math.round(start + frac * cycle);
    const killAt = at(0.1);
    if (fits(killAt + 5)) out.push({ kind: 'kill', id: `kill-node-${c}`, at: killAt, until: killAt + 5, target: c % 2 === 0 ? 'node7' : 'node6', restartAfterSec: 5 });
    const aggAt = at(0.2);
    if ((cycle < CYCLE_SEC || c % 2 === 0) && fits(aggAt + 10)) out.push({ kind: 'kill', id: `restart-active-${c}`, at: aggAt, until: aggAt + 10, target: 'active-aggregator', restartAfterSec: 10 });
    if (network) {
      const lossAt = at(0.3);
      const lossLen = Math.min(60, Math.max(5, Math.round(cycle * 0.1)));
      if (fits(lossAt + lossLen)) out.push({ kind: 'loss', id: `loss-${c}`, at: lossAt, until: lossAt + lossLen, hosts: ['node2', 'node3'], pct: 2 });
      const partAt = at(0.5);
      const partLen = Math.min(20, Math.max(5, Math.round(cycle * 0.05)));
      if (fits(partAt + partLen)) out.push({ kind: 'partition', id: `partition-${c}`, at: partAt, until: partAt + partLen, hosts: ['node4'], direction: 'both' });
    }
  }
  return out.sort((a, b) => a.at - b.at);
}

/** The soak network (pure): n = 7, t = 5, one active and one standby aggregator. */
export function soakScenario(durationSec: number, network: boolean, seed = 7): TestbedScenario {
  return {
    name: 'soak',
    description: 'n = 7 with faults cycling; process resources sampled every minute',
    n: 7,
    t: 5,
    seed,
    // The standby acts 2 s into each 3 s tick, after the active's transaction is in a block.
    aggregators: { count: 2, intervalMs: 3000, slotMs: 2000, observeTimeoutMs: 1500, signTimeoutMs: 1500, graceMs: 250 },
    feeds: [
      { name: 'BTC/USD', start: 60000, volatility: 0.8, deviationPct: 0.5, heartbeatSec: 30 },
      { name: 'ETH/USD', start: 3000, volatility: 0.9, deviationPct: 0.5, heartbeatSec: 30 },
    ],
    venues: ['coinbase', 'kraken', 'bitstamp'],
    durationSec,
    warmupSec: 6,
    regions: {},
    placement: {},
    faults: soakFaults(durationSec, network),
    expect: [],
    smoke: false,
  };
}

/** Warm-up: 10 minutes, or the first third of runs shorter than 20 minutes. */
export function warmupOf(durationSec: number): { sec: number; rule: string } {
  if (durationSec >= 2 * WARMUP_SEC_LONG) return { sec: WARMUP_SEC_LONG, rule: 'first 10 minutes' };
  return { sec: durationSec / 3, rule: 'first third (run shorter than 20 minutes)' };
}

// -- sampling --

/**
 * RSS and open fds of `pid`. fds: the least of three reads 250 ms apart, so a request in
 * flight at the sampling instant (the runner's /health probe every second, an aggregator's
 * fresh connection) is not counted, while leaked descriptors, which stay, are.
 */
async function procStatus(pid: number): Promise<{ rssBytes: number; fds: number } | null> {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    if (!m) return null; // a zombie has no VmRSS
    let fds = readdirSync(`/proc/${pid}/fd`).length;
    for (let k = 0; k < 2; k++) {
      await new Promise((r) => setTimeout(r, 250));
      fds = Math.min(fds, readdirSync(`/proc/${pid}/fd`).length);
    }
    return { rssBytes: Number(m[1]) * 1024, fds };
  } catch {
    return null;
  }
}

/** `name value` of every sample line whose metric name ends with `suffix` (first match). */
export function metricValue(text: string, suffix: string): number | null {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m && m[1]!.endsWith(suffix)) {
      const v = Number(m[3]);
      return Number.isFinite(v) ? v : null;
    }
  }
  return null;
}

function fileSize(path: string): number {
  return statSync(path, { throwIfNoEntry: false })?.size ?? 0;
}

async function sampleOnce(view: RunningView, tMin: number, lastPid: Map<string, number>, restarts: Map<string, number>): Promise<Sample[]> {
  return Promise.all(
    [...view.processes].map(async ([host, proc]): Promise<Sample> => {
      const kind: Sample['kind'] = host.startsWith('node') ? 'node' : host.startsWith('agg') ? 'aggregator' : 'fixture';
      const pid = proc.running ? proc.pid : null;
      if (pid !== null) {
        const prev = lastPid.get(host);
        if (prev !== undefined && prev !== pid) restarts.set(host, (restarts.get(host) ?? 0) + 1);
        lastPid.set(host, pid);
      }
      const st = pid !== null ? await procStatus(pid) : null;
      let heap: number | null = null;
      let lag: number | null = null;
      const api = view.apiUrl.get(host);
      if (api && st) {
        try {
          const res = await view.fetch(`${api}/metrics`, { signal: AbortSignal.timeout(3000) });
          const text = await res.text();
          heap = metricValue(text, '_nodejs_heap_size_used_bytes');
          const p99 = metricValue(text, '_nodejs_eventloop_lag_p99_seconds');
          lag = p99 === null ? null : p99 * 1000;
        } catch {
          // unreachable (partitioned, restarting): heap and lag stay null for this sample
        }
      }
      const db = view.sqlite.get(host);
      const main = db ? fileSize(db) : null;
      const wal = db ? fileSize(`${db}-wal`) : null;
      return {
        tMin,
        host,
        kind,
        pid,
        up: st !== null,
        rssBytes: st?.rssBytes ?? null,
        fds: st?.fds ?? null,
        heapUsedBytes: heap,
        eventLoopP99Ms: lag,
        sqliteBytes: main === null ? null : main + wal!,
        walBytes: wal,
        restarts: restarts.get(host) ?? 0,
      };
    }),
  );
}

// -- verdict --

const pct = (base: number | null, last: number | null): number | null => (base === null || last === null || base <= 0 ? null : Math.round(((last - base) / base) * 1000) / 10);
const mib = (b: number | null) => (b === null ? null : Math.round((b / 2 ** 20) * 10) / 10);
const kib = (b: number | null) => (b === null ? null : Math.round(b / 1024));

const medianOf = (xs: readonly number[]): number => {
  const a = [...xs].sort((x, y) => x - y);
  return a.length % 2 ? a[(a.length - 1) / 2]! : (a[a.length / 2 - 1]! + a[a.length / 2]!) / 2;
};

/** Per-process growth from the first samples after the warm-up to the last ones (pure). */
export function judge(samples: readonly Sample[], warmupMin: number, boundPct = GROWTH_BOUND_PCT): { processes: ProcessVerdict[]; fixtures: ProcessVerdict[] } {
  const hosts = [...new Set(samples.map((s) => s.host))];
  const verdicts = hosts.map((host): ProcessVerdict & { kind: Sample['kind'] } => {
    const mine = samples.filter((s) => s.host === host).sort((a, b) => a.tMin - b.tMin);
    const kind = mine[0]!.kind;
    // Base: the median of the first samples at or after the warm-up; last: the median of the
    // last ones (a window of max(3, 10 % of them)). A leak keeps growing, so it moves the window's
    // median; one sample caught while a process holds a connection for a round (a standby's
    // seven node sockets in the one tick it takes over) does not decide the verdict.
    const pick = (f: (s: Sample) => number | null) => {
      const after = (mine.filter((s) => s.tMin >= warmupMin - 1e-6 && f(s) !== null).map(f) as number[]);
      const all = mine.filter((s) => f(s) !== null).map(f) as number[];
      const w = Math.max(3, Math.round(after.length / 10));
      const windowed = after.length >= 2 * w;
      return {
        base: after.length ? (windowed ? medianOf(after.slice(0, w)) : after[0]!) : null,
        last: after.length > 1 ? (windowed ? medianOf(after.slice(-w)) : after[after.length - 1]!) : null,
        max: all.length ? Math.max(...all) : null,
      };
    };
    const rss = pick((s) => s.rssBytes);
    const fds = pick((s) => s.fds);
    const sql = pick((s) => s.sqliteBytes);
    const heap = pick((s) => s.heapUsedBytes);
    const lags = mine.filter((s) => s.tMin >= warmupMin - 1e-6 && s.eventLoopP99Ms !== null).map((s) => s.eventLoopP99Ms!);
    const v = {
      name: host,
      kind,
      rssGrowthPct: pct(rss.base, rss.last),
      fdGrowthPct: pct(fds.base, fds.last),
      sqliteGrowthPct: kind === 'fixture' ? null : pct(sql.base, sql.last),
      heapGrowthPct: kind === 'fixture' ? null : pct(heap.base, heap.last),
      eventLoopP99Ms: lags.length ? Math.round(Math.max(...lags) * 10) / 10 : null,
      rssMiB: { base: mib(rss.base), last: mib(rss.last), max: mib(rss.max) },
      fds: fds,
      sqliteKiB: { base: kib(sql.base), last: kib(sql.last), max: kib(sql.max) },
      restarts: mine[mine.length - 1]!.restarts,
      pass: true,
    } as ProcessVerdict & { kind: Sample['kind'] };
    // Fixtures (anvil, the venue server) are reported, never judged.
    if (kind === 'fixture') return v;
    const over = (['rssGrowthPct', 'fdGrowthPct', 'sqliteGrowthPct'] as const).filter((k) => v[k] !== null && v[k]! >= boundPct);
    const missing = (['rssGrowthPct', 'fdGrowthPct', 'sqliteGrowthPct'] as const).filter((k) => v[k] === null);
    if (over.length) {
      v.pass = false;
      v.why = over.map((k) => `${k} ${v[k]} % >= ${boundPct} %`).join('; ');
    } else if (missing.length) {
      v.pass = false;
      v.why = `no ${missing.join(', ')}: fewer than two samples after the warm-up`;
    }
    return v;
  });
  const strip = ({ kind: _k, ...v }: ProcessVerdict & { kind: Sample['kind'] }) => v;
  return { processes: verdicts.filter((v) => v.kind !== 'fixture').map(strip), fixtures: verdicts.filter((v) => v.kind === 'fixture').map(strip) };
}

// -- the run --

export async function runSoak(o: SoakOptions): Promise<{ result: SoakResult; samples: Sample[]; run: TestbedRun }> {
  const progress = o.progress ?? (() => {});
  let mode: 'namespaces' | 'loopback' = o.mode === 'loopback' ? 'loopback' : 'namespaces';
  if (o.mode !== 'loopback') {
    const { canCreateNamespaces } = await import('./net/index.ts');
    const c = await canCreateNamespaces();
    if (!c.ok) {
      if (o.mode === 'namespaces') throw new Error(`soak: network namespaces unavailable (${c.reason}); run as root, or --mode loopback (process faults only)`);
      mode = 'loopback';
      progress(`soak: no network namespaces (${c.reason}): running on loopback with process faults only (SIGKILL + restart)`);
    }
  }
  const sampleSec = o.sampleSec ?? 60;
  if (!(sampleSec >= 1)) throw new RangeError(`soak: sampleSec ${sampleSec} must be >= 1`);
  const scenario = soakScenario(o.durationSec, mode === 'namespaces', o.seed);
  const warm = warmupOf(o.durationSec);
  const samples: Sample[] = [];
  let sampler: Promise<void> | undefined;
  let stop = false;

  const run = await runScenario(scenario, {
    mode,
    ...(o.dir ? { dir: o.dir } : {}),
    progress,
    nodeConfig: (y) => {
      y.store = { path: y.store, retainRows: SOAK_RETENTION.nodeRows, pruneEverySec: SOAK_RETENTION.pruneEverySec };
    },
    aggregatorConfig: (y) => {
      y.dbRetention = { retainRounds: SOAK_RETENTION.aggregatorRounds, pruneEverySec: SOAK_RETENTION.pruneEverySec };
      // Every tick signs a report (pull mode): the nodes' stores get one row per tick, the
      // load a store without pruning would grow under.
      y.pull = { signEveryRound: true };
    },
    onRunning: (view) => {
      const lastPid = new Map<string, number>();
      const restarts = new Map<string, number>();
      const total = Math.floor(o.durationSec / sampleSec + 1e-9);
      sampler = (async () => {
        for (let k = 0; k <= total && !stop; k++) {
          // The last sample a little before the end, while every process still runs.
          const at = Math.min(view.t0 + k * sampleSec * 1000, view.endMs - 1500);
          await new Promise((r) => setTimeout(r, Math.max(0, at - Date.now())));
          if (stop) break;
          const tMin = (at - view.t0) / 60_000;
          const batch = await sampleOnce(view, tMin, lastPid, restarts);
          samples.push(...batch);
          progress(progressLine(batch, tMin, o.durationSec / 60, scenario.faults, (Date.now() - view.t0) / 1000));
        }
      })();
    },
  });
  stop = true;
  await sampler;

  const judged = judge(samples, warm.sec / 60);
  const safe = run.equivocations === 0 && run.unsignedAccepted === 0 && !run.error && !run.skipped;
  const result: SoakResult = {
    minutes: Math.round((o.durationSec / 60) * 100) / 100,
    processes: judged.processes,
    pass: safe && judged.processes.length > 0 && judged.processes.every((p) => p.pass),
    mode: run.mode,
    warmup: { minutes: Math.round((warm.sec / 60) * 100) / 100, rule: warm.rule },
    boundPct: GROWTH_BOUND_PCT,
    sampleSec,
    samples: samples.length,
    fixtures: judged.fixtures,
    faults: scenario.faults.map((f) => ({ id: f.id, kind: f.kind, atMin: round2(f.at / 60), untilMin: round2(f.until / 60), hosts: f.kind === 'kill' ? f.target : 'hosts' in f ? f.hosts.join(',') : '' })),
    run: {
      ticksNeeded: run.ticksNeeded,
      ticksPosted: run.ticksPosted,
      equivocations: run.equivocations,
      unsignedAccepted: run.unsignedAccepted,
      roundP50Ms: run.roundP50Ms,
      roundP99Ms: run.roundP99Ms,
      dir: run.dir,
      coverage: STORE_COVERAGE,
      ...(run.runId ? { runId: run.runId } : {}),
      ...(run.error ? { error: run.error } : {}),
      ...(run.skipped ? { skipped: run.skipped } : {}),
    },
    retention: SOAK_RETENTION,
  };
  return { result, samples, run };
}

const round2 = (x: number) => Math.round(x * 100) / 100;

function range(vals: (number | null)[], f: (v: number) => string): string {
  const v = vals.filter((x): x is number => x !== null);
  return v.length ? `${f(Math.min(...v))}–${f(Math.max(...v))}` : '–';
}

function progressLine(batch: Sample[], tMin: number, totalMin: number, faults: TestbedScenario['faults'], tSec: number): string {
  const ours = batch.filter((s) => s.kind !== 'fixture');
  const down = ours.filter((s) => !s.up).map((s) => s.host);
  const active = faults.filter((f) => f.at <= tSec && tSec < f.until).map((f) => f.id);
  return (
    `soak ${tMin.toFixed(1)}/${totalMin.toFixed(0)} min: rss ${range(ours.map((s) => s.rssBytes), (b) => (b / 2 ** 20).toFixed(0))} MiB, ` +
    `heap ${range(ours.map((s) => s.heapUsedBytes), (b) => (b / 2 ** 20).toFixed(0))} MiB, fds ${range(ours.map((s) => s.fds), String)}, ` +
    `sqlite ${range(ours.map((s) => s.sqliteBytes), (b) => (b / 1024).toFixed(0))} KiB, loop p99 ≤ ${range(ours.map((s) => s.eventLoopP99Ms), (v) => v.toFixed(0))} ms` +
    `${down.length ? `; down: ${down.join(',')}` : ''}${active.length ? `; faults: ${active.join(',')}` : ''}`
  );
}

// -- outputs --

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f', '#393b79'];

export const CHARTS = [
  { key: 'rss', title: 'RSS per process', unit: 'MiB', get: (s: Sample) => (s.rssBytes === null ? null : s.rssBytes / 2 ** 20), fixtures: false },
  { key: 'heap', title: 'V8 heap used per process', unit: 'MiB', get: (s: Sample) => (s.heapUsedBytes === null ? null : s.heapUsedBytes / 2 ** 20), fixtures: false },
  { key: 'fds', title: 'Open file descriptors per process', unit: 'fds', get: (s: Sample) => s.fds, fixtures: false },
  { key: 'eventloop', title: 'Event-loop delay p99 per process (over the last sample period)', unit: 'ms', get: (s: Sample) => s.eventLoopP99Ms, fixtures: false },
  { key: 'sqlite', title: 'SQLite files per process (main + WAL)', unit: 'KiB', get: (s: Sample) => (s.sqliteBytes === null ? null : s.sqliteBytes / 1024), fixtures: false },
] as const;

export function soakCharts(samples: readonly Sample[], result: SoakResult): Record<string, string> {
  const hosts = [...new Set(samples.filter((s) => s.kind !== 'fixture').map((s) => s.host))];
  const markers: Marker[] = [
    { x: result.warmup.minutes, label: `end of warm-up (${result.warmup.rule})`, color: '#000' },
    ...result.faults.map((f) => ({ x: f.atMin, label: `${f.id}: ${f.kind} ${f.hosts} ${f.atMin}–${f.untilMin} min`, color: f.kind === 'kill' ? '#d62728' : f.kind === 'loss' ? '#ff7f0e' : '#9467bd' })),
  ];
  const out: Record<string, string> = {};
  for (const c of CHARTS) {
    const series: Series[] = hosts.map((h, i) => ({
      name: h,
      color: COLORS[i % COLORS.length]!,
      points: samples.filter((s) => s.host === h).map((s) => [Math.round(s.tMin * 100) / 100, c.get(s)] as [number, number | null]),
      ...(h.startsWith('agg') ? { dash: '6,3' } : {}),
    }));
    out[c.key] = lineChart({ title: `Soak (${result.minutes} min, ${result.mode}): ${c.title}`, xLabel: 'minutes since the measured start (dashed markers: warm-up end, faults)', yLabel: c.unit, series, markers });
  }
  return out;
}

export function soakCsv(samples: readonly Sample[]): string {
  const cols = ['tMin', 'host', 'kind', 'pid', 'up', 'rssBytes', 'fds', 'heapUsedBytes', 'eventLoopP99Ms', 'sqliteBytes', 'walBytes', 'restarts'] as const;
  return [cols.join(','), ...samples.map((s) => cols.map((c) => (s[c] === null ? '' : typeof s[c] === 'number' ? String(Math.round((s[c] as number) * 1000) / 1000) : String(s[c]))).join(','))].join('\n') + '\n';
}

export function soakTable(r: SoakResult): string {
  const c = (v: unknown) => (v === null || v === undefined ? '–' : String(v));
  const lines = [
    `| process | RSS MiB (base → last, max) | RSS growth % | fds (base → last) | fd growth % | SQLite KiB (base → last, max) | SQLite growth % | heap growth % | loop p99 max ms | restarts | verdict |`,
    `|---|---|---|---|---|---|---|---|---|---|---|`,
  ];
  for (const p of [...r.processes, ...r.fixtures]) {
    const fixture = r.fixtures.includes(p);
    lines.push(
      `| ${p.name}${fixture ? ' (fixture)' : ''} | ${c(p.rssMiB.base)} → ${c(p.rssMiB.last)}, ${c(p.rssMiB.max)} | ${c(p.rssGrowthPct)} | ${c(p.fds.base)} → ${c(p.fds.last)} | ${c(p.fdGrowthPct)} | ${fixture ? '–' : `${c(p.sqliteKiB.base)} → ${c(p.sqliteKiB.last)}, ${c(p.sqliteKiB.max)}`} | ${c(p.sqliteGrowthPct)} | ${c(p.heapGrowthPct)} | ${c(p.eventLoopP99Ms)} | ${p.restarts} | ${fixture ? 'not judged' : p.pass ? 'pass' : `FAIL: ${p.why}`} |`,
    );
  }
  return lines.join('\n') + '\n';
}

/** samples.csv, samples.json, result.json, table.md and soak-<metric>.svg into `dir`. */
export function writeSoakOutputs(dir: string, samples: readonly Sample[], result: SoakResult): string[] {
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  const put = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    files.push(join(dir, name));
  };
  put('samples.csv', soakCsv(samples));
  put('samples.json', `${JSON.stringify(samples)}\n`);
  put('result.json', `${JSON.stringify(result, null, 2)}\n`);
  put('table.md', soakTable(result));
  for (const [key, svg] of Object.entries(soakCharts(samples, result))) put(`soak-${key}.svg`, svg);
  return files;
}
