/**
 * `npm run chaos -- [--only a,b] [--json] [--list] [--mode auto|namespaces|loopback] [--out DIR]`
 * runs testbed scenarios from `sim/testbed/scenarios/` (docs/running-over-real-networks.md §The testbed) one after the
 * other and prints a table of the runs with their failed expectations; `--json` prints one
 * JSON object `{"runs":[…]}` on stdout instead (progress always goes to stderr). Reports
 * (result.json, report.md, one SVG timeline per run) are written to `--out` (default
 * chaos-out). Exit 0 when every run passed, 1 otherwise; without network namespaces (not
 * root) it says so in one line and exits 2, unless `--mode loopback` (process faults only).
 */
import { Command } from 'commander';
import Table from 'cli-table3';
import { listTestbedScenarios, loadTestbedScenario } from '../sim/testbed/scenario/load.ts';
import { runScenario } from '../sim/testbed/runner.ts';
import { toJson, writeTestbedReports, type TestbedRun } from '../sim/testbed/report/index.ts';

const program = new Command('chaos')
  .description('run testbed fault scenarios and print their verdicts')
  .option('--only <names>', 'comma-separated scenario names (default: every non-smoke scenario)')
  .option('--smoke', 'only the smoke scenarios')
  .option('--json', 'one JSON object {"runs":[…]} on stdout')
  .option('--list', 'list the library and exit')
  .option('--mode <mode>', 'auto | namespaces | loopback', 'auto')
  .option('--out <dir>', 'report folder', 'chaos-out')
  .showHelpAfterError();
program.parse(process.argv);
const o = program.opts<{ only?: string; smoke?: boolean; json?: boolean; list?: boolean; mode: string; out: string }>();
const log = (line: string) => process.stderr.write(`${line}\n`);

const library = listTestbedScenarios();
if (o.list) {
  for (const name of library) {
    const s = loadTestbedScenario(name);
    process.stdout.write(`${name}\tn=${s.n} t=${s.t}\t${s.durationSec} s\t${s.faults.map((f) => f.kind).join(', ') || 'no faults'}${s.smoke ? '\t(smoke)' : ''}\n`);
  }
  process.exit(0);
}
if (!['auto', 'namespaces', 'loopback'].includes(o.mode)) {
  log(`chaos: --mode ${o.mode}: expected auto, namespaces or loopback`);
  process.exit(2);
}
const names = o.only ? o.only.split(',').map((x) => x.trim()).filter(Boolean) : library.filter((n) => loadTestbedScenario(n).smoke === !!o.smoke);
const scenarios = names.map((n) => {
  try {
    return loadTestbedScenario(n);
  } catch (err) {
    log(`chaos: ${(err as Error).message}`);
    process.exit(2);
  }
});
if (o.mode !== 'loopback') {
  const { canCreateNamespaces } = await import('../sim/testbed/net/index.ts');
  const c = await canCreateNamespaces();
  if (!c.ok) {
    log(`chaos: needs root to create network namespaces (${c.reason}); run as root, or --mode loopback for process-only scenarios`);
    process.exit(2);
  }
}

// Say who ended us: the testbed tears down on SIGINT/SIGTERM, and a silent stop is a mystery.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.prependListener(sig, () => log(`chaos: received ${sig}; tearing down`));

const runs: TestbedRun[] = [];
for (const s of scenarios) {
  log(`chaos: ${s.name} (n=${s.n}, t=${s.t}, ${s.durationSec} s, ${s.faults.length} faults)`);
  const r = await runScenario(s, { mode: o.mode as 'auto', progress: (l) => log(`  ${l}`) });
  log(`chaos: ${s.name}: ${r.skipped ? `skipped (${r.skipped})` : r.error ? `error: ${r.error}` : r.pass ? 'pass' : 'FAIL'} in ${(r.wallMs / 1000).toFixed(0)} s; files in ${r.dir}`);
  runs.push(r);
  writeTestbedReports(runs, o.out); // after every run, so a long suite shows its progress
}
const paths = writeTestbedReports(runs, o.out);
log(`chaos: reports in ${paths.md}, ${paths.json}${paths.svgs.length ? `, ${paths.svgs.length} SVG timelines` : ''}`);

if (o.json) {
  process.stdout.write(`${toJson(runs)}\n`);
} else {
  const t = new Table({ head: ['scenario', 'n', 't', 'needed', 'posted', 'p50 ms', 'p99 ms', 'equiv.', 'unsigned', 'failover', 'recovery', 'layer', 'verdict'] });
  const c = (v: unknown) => (v === null || v === undefined ? '–' : String(v));
  for (const r of runs) t.push([r.scenario, r.n, r.t, r.ticksNeeded, r.ticksPosted, c(r.roundP50Ms), c(r.roundP99Ms), r.equivocations, r.unsignedAccepted, c(r.failoverTicks), c(r.recoveryTicks), r.layer || '–', r.skipped ? 'skipped' : r.error ? 'error' : r.pass ? 'pass' : 'FAIL']);
  process.stdout.write(`${t.toString()}\n`);
  for (const r of runs) {
    if (r.skipped) process.stdout.write(`${r.scenario}: skipped: ${r.skipped}\n`);
    if (r.error) process.stdout.write(`${r.scenario}: error: ${r.error}\n`);
    for (const e of r.expectations.filter((x) => !x.ok)) process.stdout.write(`${r.scenario}: ${e.expect} failed: ${e.actual}\n`);
  }
}
process.exit(runs.every((r) => r.pass) ? 0 : 1);
