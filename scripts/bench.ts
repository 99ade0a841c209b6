/**
 * `npm run bench` — every benchmark section, printed as tables; `-- --json` prints one JSON
 * object `{ gas: [...], timing: [...], meta: {...} }` on stdout instead (progress goes to
 * stderr). `meta` holds each section's wall time, the total and the machine's load, because a
 * 2-core machine shared with other work stretches every timing row (and the whole
 * benchmark is meant to finish in under 10 minutes).
 * Results are also written to `<out>/bench.json` and `<out>/bench.md` (default `bench-out`).
 *
 * Each section is a `benchSection` of one module in `bench/`; this file only runs them and prints.
 */
import { Command } from 'commander';
import Table from 'cli-table3';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import type { BenchResult, GasRow, TimingRow } from '../bench/stats.ts';
import { dealerKeygen, edPublicKey, edSign, edVerify, partialSign, verifyPartial } from '../protocol/index.ts';
import { keccak256Bytes } from '../protocol/keccak.ts';

type SectionFn = (o: SectionOptions) => Promise<Partial<BenchResult>>;

interface Section {
  name: string;
  /** A literal import: renaming a section's module or its function is a type error. */
  load: () => Promise<SectionFn>;
}

const SECTIONS: Section[] = [
  { name: 'crypto', load: () => import('../bench/crypto.ts').then((m) => m.benchSection) },
  { name: 'gas', load: () => import('../bench/gas.ts').then((m) => m.benchSection) },
  { name: 'adapters', load: () => import('../bench/adapters.ts').then((m) => m.benchSection) },
  { name: 'observe', load: () => import('../bench/observe.ts').then((m) => m.benchSection) },
  { name: 'round', load: () => import('../bench/round.ts').then((m) => m.benchSection) },
  { name: 'dkg', load: () => import('../bench/dkg.ts').then((m) => m.benchSection) },
  { name: 'peers', load: () => import('../bench/peers.ts').then((m) => m.benchSection) },
  { name: 'dashboard', load: () => import('../bench/dashboard.ts').then((m) => m.benchSection) },
  { name: 'hub-ops', load: () => import('../bench/hub-ops.ts').then((m) => m.benchSection) },
];

export interface SectionOptions {
  quick: boolean;
  progress: (msg: string) => void;
  /** The output folder, for sections that write their own files (peers). */
  out: string;
}

/** Wall time of the run, beside the rows (not a row: tools chart every timing row). */
export interface BenchMeta {
  /** Seconds per section run, in run order. */
  sections: { name: string; wall_s: number }[];
  total_s: number;
  cpus: number;
  /** `os.loadavg()` (1, 5, 15 min) at the start and at the end of the run. */
  load_start: number[];
  load_end: number[];
  /**
   * This machine's speed at the start and at the end of the run: milliseconds of one fixed,
   * single-threaded workload of the round's own primitives (`speedProbeMs`). The same build
   * measured minutes apart on this VM has differed by 40 %; rows of two runs compare in
   * proportion to these.
   */
  speed_probe_ms: [number, number];
}

/** 600 Ed25519 verifications, 200 Keccak hashes of 10 kB and 20 BLS pairing checks, timed (ms). */
function speedProbeMs(): number {
  const secret = new Uint8Array(32).fill(7);
  const message = new Uint8Array(32);
  const signature = edSign(message, secret);
  const publicKey = edPublicKey(secret);
  const data = new Uint8Array(10_000).fill(1);
  const share = dealer.shares[0]!;
  const partial = partialSign(share, message);
  const run = (k: number): void => {
    for (let i = 0; i < 30 * k; i++) edVerify(signature, message, publicKey);
    for (let i = 0; i < 10 * k; i++) keccak256Bytes(data);
    for (let i = 0; i < k; i++) verifyPartial(partial, dealer.publicShares[0]!, message);
  };
  run(2); // warm-up: first calls compile and initialise
  const t0 = performance.now();
  run(20);
  return Math.round(performance.now() - t0);
}
const dealer = dealerKeygen(1, 1);

const program = new Command('bench')
  .option('--json', 'print one JSON object with gas and timing rows on stdout')
  .option('--quick', 'fewer samples and sizes (a smoke run)')
  .option('--only <sections>', `comma-separated sections: ${SECTIONS.map((s) => s.name).join(', ')}`)
  .option('--out <dir>', 'where to write bench.json and bench.md', 'bench-out')
  .parse(process.argv);
const opts = program.opts<{ json?: boolean; quick?: boolean; only?: string; out: string }>();

const only = opts.only?.split(',').map((s) => s.trim());
const unknown = only?.filter((s) => !SECTIONS.some((x) => x.name === s)) ?? [];
if (unknown.length) {
  console.error(`bench: unknown section(s) ${unknown.join(', ')}; choose from ${SECTIONS.map((s) => s.name).join(', ')}`);
  process.exit(2);
}

const progress = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);
const result: BenchResult = { gas: [], timing: [] };
const seconds = (ms: number): number => Math.round(ms / 100) / 10;
const load = (): number[] => loadavg().map((l) => Math.round(l * 100) / 100);
const meta: BenchMeta = { sections: [], total_s: 0, cpus: cpus().length, load_start: load(), load_end: [], speed_probe_ms: [speedProbeMs(), 0] };
const started = performance.now();
for (const section of SECTIONS) {
  if (only && !only.includes(section.name)) continue;
  const t0 = performance.now(); // the section's wall time includes loading its modules
  const fn = await section.load();
  progress(`${section.name}: running`);
  const r = await fn({ quick: !!opts.quick, progress: (m) => progress(`${section.name}: ${m}`), out: opts.out });
  result.gas.push(...(r.gas ?? []));
  result.timing.push(...(r.timing ?? []));
  meta.sections.push({ name: section.name, wall_s: seconds(performance.now() - t0) });
  progress(`${section.name}: done in ${seconds(performance.now() - t0).toFixed(1)} s`);
}
meta.total_s = seconds(performance.now() - started);
meta.load_end = load();
meta.speed_probe_ms[1] = speedProbeMs();
progress(
  `all sections done in ${meta.total_s.toFixed(1)} s (${meta.sections.map((x) => `${x.name} ${x.wall_s.toFixed(1)} s`).join(', ')}; load ${meta.load_start.join('/')} → ${meta.load_end.join('/')} on ${meta.cpus} CPUs; speed probe ${meta.speed_probe_ms.join(' → ')} ms)`,
);

/** No colour codes when the tables go to a file or another program. */
const PLAIN_WHEN_PIPED = process.stdout.isTTY ? {} : { style: { head: [], border: [] } };

function gasTable(rows: GasRow[]): Table.Table {
  const t = new Table({ head: ['system', 'op', 'n', 'feeds', 'gas', 'note'], ...PLAIN_WHEN_PIPED });
  for (const r of rows) t.push([r.system, r.op, r.n, r.feeds, r.gas.toLocaleString('en-US'), r.note ?? '']);
  return t;
}

function timingTable(rows: TimingRow[]): Table.Table {
  const t = new Table({ head: ['op', 'n', 'feeds', 'p50 ms', 'p99 ms', 'samples', 'note'], ...PLAIN_WHEN_PIPED });
  for (const r of rows) t.push([r.op, r.n, r.feeds, r.p50_ms, r.p99_ms, r.samples, r.note ?? '']);
  return t;
}

function wallTable(m: BenchMeta): Table.Table {
  const t = new Table({ head: ['section', 'wall s'], ...PLAIN_WHEN_PIPED });
  for (const x of m.sections) t.push([x.name, x.wall_s.toFixed(1)]);
  t.push(['total', m.total_s.toFixed(1)]);
  return t;
}

function markdown(r: BenchResult, m: BenchMeta): string {
  const lines = ['# Aegis benchmark', '', `Run ${new Date().toISOString()}; \`npm run bench\`.`, ''];
  lines.push(
    '## Wall time',
    '',
    `${m.cpus} CPUs; load average (1/5/15 min) ${m.load_start.join(' / ')} at the start, ${m.load_end.join(' / ')} at the end; speed probe (a fixed workload of the round's primitives, lower is faster) ${m.speed_probe_ms[0]} ms at the start, ${m.speed_probe_ms[1]} ms at the end.`,
    '',
    '| section | wall s |',
    '| --- | ---: |',
    ...m.sections.map((x) => `| ${x.name} | ${x.wall_s.toFixed(1)} |`),
    `| total | ${m.total_s.toFixed(1)} |`,
    '',
  );
  if (r.gas.length) {
    lines.push('## Gas (total transaction gas)', '', '| system | op | n | feeds | gas | note |', '| --- | --- | ---: | ---: | ---: | --- |');
    for (const g of r.gas) lines.push(`| ${g.system} | ${g.op} | ${g.n} | ${g.feeds} | ${g.gas.toLocaleString('en-US')} | ${g.note ?? ''} |`);
    lines.push('');
  }
  if (r.timing.length) {
    lines.push('## Timing', '', '| op | n | feeds | p50 ms | p99 ms | samples | note |', '| --- | ---: | ---: | ---: | ---: | ---: | --- |');
    for (const t of r.timing) lines.push(`| ${t.op} | ${t.n} | ${t.feeds} | ${t.p50_ms} | ${t.p99_ms} | ${t.samples} | ${t.note ?? ''} |`);
  }
  return lines.join('\n') + '\n';
}

mkdirSync(opts.out, { recursive: true });
writeFileSync(join(opts.out, 'bench.json'), JSON.stringify({ ...result, meta }, null, 2) + '\n');
writeFileSync(join(opts.out, 'bench.md'), markdown(result, meta));

if (opts.json) {
  process.stdout.write(JSON.stringify({ ...result, meta }) + '\n');
} else {
  if (result.gas.length) console.log(`Gas (total transaction gas)\n${gasTable(result.gas).toString()}`);
  if (result.timing.length) console.log(`Timing\n${timingTable(result.timing).toString()}`);
  console.log(`Wall time (load ${meta.load_start.join('/')} → ${meta.load_end.join('/')}, ${meta.cpus} CPUs, speed probe ${meta.speed_probe_ms.join(" → ")} ms)\n${wallTable(meta).toString()}`);
  console.log(`Written: ${join(opts.out, 'bench.json')}, ${join(opts.out, 'bench.md')}`);
}
