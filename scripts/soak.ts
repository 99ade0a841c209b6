/**
 * `npm run soak -- --minutes N [--json] [--out DIR] [--mode auto|namespaces|loopback]`: runs the
 * n = 7 soak of `sim/testbed/soak.ts` for N minutes (faults cycling), samples every process
 * every minute, and prints a table (default) or one JSON object (`--json`:
 * `{"minutes", "processes": [{"name", "rssGrowthPct", "fdGrowthPct", "sqliteGrowthPct", …}], "pass", …}`).
 * Progress goes to stderr, one line per sample. Samples (CSV, JSON), the table and one SVG
 * chart per metric go to `--out` (default `.soak/`). `--seconds S` instead of `--minutes`
 * for short runs (tests). Exit 0 when every growth stays under the bound, 1 otherwise, 2 on
 * bad arguments. Without root: loopback with process faults only (said on stderr and in the
 * JSON's "mode"), unless `--mode namespaces`.
 */
import { Command } from 'commander';
import Table from 'cli-table3';
import { runSoak, writeSoakOutputs } from '../sim/testbed/soak.ts';

const program = new Command('soak')
  .description('run an n = 7 network with faults cycling and check that no process keeps growing')
  .option('--minutes <n>', 'how long to measure, minutes (1–240)')
  .option('--seconds <n>', 'how long to measure, seconds (short runs, tests; 20–14400)')
  .option('--sample-sec <n>', 'seconds between samples (default 60; for --seconds runs: a twelfth of the run, at least 5)')
  .option('--json', 'one JSON object on stdout')
  .option('--out <dir>', 'output folder (samples, table, SVG charts)', '.soak')
  .option('--mode <mode>', 'auto | namespaces | loopback', 'auto')
  .option('--dir <dir>', 'run directory (configs, stores, logs); default under $TMPDIR')
  .showHelpAfterError();
program.parse(process.argv);
const o = program.opts<{ minutes?: string; seconds?: string; sampleSec?: string; json?: boolean; out: string; mode: string; dir?: string }>();
const log = (line: string) => process.stderr.write(`${line}\n`);
const bad = (msg: string): never => {
  log(`soak: ${msg}`);
  process.exit(2);
};

if ((o.minutes === undefined) === (o.seconds === undefined)) bad('give exactly one of --minutes N or --seconds S, e.g. --minutes 60');
const durationSec = o.minutes !== undefined ? Number(o.minutes) * 60 : Number(o.seconds);
if (!Number.isFinite(durationSec) || durationSec < 20 || durationSec > 240 * 60) bad(`duration ${o.minutes !== undefined ? `--minutes ${o.minutes}` : `--seconds ${o.seconds}`}: must be between 20 s and 240 minutes`);
if (!['auto', 'namespaces', 'loopback'].includes(o.mode)) bad(`--mode ${o.mode}: expected auto, namespaces or loopback`);
const sampleSec = o.sampleSec !== undefined ? Number(o.sampleSec) : o.minutes !== undefined ? 60 : Math.max(5, Math.round(durationSec / 12));
if (!Number.isFinite(sampleSec) || sampleSec < 1 || sampleSec > durationSec) bad(`--sample-sec ${o.sampleSec}: must be between 1 and the run's ${durationSec} s`);

// Loopback processes are ours to end on Ctrl-C (the namespace testbed tears itself down and
// exits on SIGINT/SIGTERM by itself).
let loopbackStop: (() => Promise<void>) | undefined;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    if (!loopbackStop) return;
    log(`soak: ${sig}: stopping the processes`);
    void loopbackStop().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  });
}
if (o.mode === 'loopback') loopbackStop = async () => (await import('../sim/testbed/proc.ts')).stopAll(2000);

log(`soak: ${(durationSec / 60).toFixed(1)} minutes, a sample every ${sampleSec} s; output in ${o.out}`);
let out;
try {
  out = await runSoak({ durationSec, sampleSec, mode: o.mode as 'auto', ...(o.dir ? { dir: o.dir } : {}), progress: (l) => log(l) });
} catch (err) {
  log(`soak: ${(err as Error).message}`);
  process.exit(2);
}
const { result, samples } = out;
if (result.mode === 'loopback' && !loopbackStop) loopbackStop = async () => (await import('../sim/testbed/proc.ts')).stopAll(2000);
result.out = o.out;
const files = writeSoakOutputs(o.out, samples, result);
log(`soak: ${result.mode}; ${result.samples} samples; files: ${files.map((f) => f.split('/').pop()).join(', ')} in ${o.out}; run directory ${result.run.dir}`);
if (result.run.error) log(`soak: the run failed: ${result.run.error}`);
if (result.run.skipped) log(`soak: the run was skipped: ${result.run.skipped}`);

if (o.json) {
  process.stdout.write(`${JSON.stringify(result)}\n`);
} else {
  const c = (v: unknown) => (v === null || v === undefined ? '–' : String(v));
  const t = new Table({ head: ['process', 'RSS MiB base→last', 'RSS %', 'fds base→last', 'fds %', 'SQLite KiB base→last', 'SQLite %', 'heap %', 'loop p99 ms', 'restarts', 'verdict'] });
  for (const p of result.processes) t.push([p.name, `${c(p.rssMiB.base)}→${c(p.rssMiB.last)}`, c(p.rssGrowthPct), `${c(p.fds.base)}→${c(p.fds.last)}`, c(p.fdGrowthPct), `${c(p.sqliteKiB.base)}→${c(p.sqliteKiB.last)}`, c(p.sqliteGrowthPct), c(p.heapGrowthPct), c(p.eventLoopP99Ms), p.restarts, p.pass ? 'pass' : 'FAIL']);
  process.stdout.write(`${t.toString()}\n`);
  process.stdout.write(`mode ${result.mode}; warm-up ${result.warmup.minutes} min (${result.warmup.rule}); bound ${result.boundPct} % growth; ticks posted ${result.run.ticksPosted}/${result.run.ticksNeeded}; equivocations ${result.run.equivocations}; unsigned accepted ${result.run.unsignedAccepted}\n`);
  for (const p of result.processes.filter((x) => !x.pass)) process.stdout.write(`${p.name}: ${p.why}\n`);
  process.stdout.write(`${result.pass ? 'pass' : 'FAIL'}\n`);
}
process.exit(result.pass ? 0 : 1);
