/**
 * `npm run bench` — every benchmark section, printed as tables; `-- --json` prints one JSON
 * object `{ gas: [...], timing: [...] }` on stdout instead (progress goes to stderr).
 * Results are also written to `bench-out/bench.json` and `bench-out/bench.md`.
 *
 * Sections live beside the code they measure; this file only runs them and prints.
 */
import { Command } from 'commander';
import Table from 'cli-table3';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchResult, GasRow, TimingRow } from '../protocol/bench-stats.ts';

interface Section {
  name: string;
  file: string;
  fn: string;
}

const SECTIONS: Section[] = [
  { name: 'crypto', file: '../protocol/bls/bench.ts', fn: 'benchSection' },
  { name: 'gas', file: '../contracts/gas.ts', fn: 'benchSection' },
  { name: 'observe', file: '../sim/devnet/bench.ts', fn: 'benchSection' },
  { name: 'round', file: '../sim/devnet/round-nodes.ts', fn: 'benchSection' },
  { name: 'dkg', file: '../protocol/dkg/bench.ts', fn: 'benchSection' },
  { name: 'peers', file: '../contracts/peers/bench.ts', fn: 'benchSection' },
];

export interface SectionOptions {
  quick: boolean;
  progress: (msg: string) => void;
}

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
const started = performance.now();
for (const section of SECTIONS) {
  if (only && !only.includes(section.name)) continue;
  const mod = await import(new URL(section.file, import.meta.url).href).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes(section.file.slice(3))) return undefined;
    throw err;
  });
  const fn = mod?.[section.fn] as ((o: SectionOptions) => Promise<Partial<BenchResult>>) | undefined;
  if (!fn) {
    progress(`${section.name}: not built yet, skipped`);
    continue;
  }
  const t0 = performance.now();
  progress(`${section.name}: running`);
  const r = await fn({ quick: !!opts.quick, progress: (m) => progress(`${section.name}: ${m}`) });
  result.gas.push(...(r.gas ?? []));
  result.timing.push(...(r.timing ?? []));
  progress(`${section.name}: done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
progress(`all sections done in ${((performance.now() - started) / 1000).toFixed(1)} s`);

function gasTable(rows: GasRow[]): Table.Table {
  const t = new Table({ head: ['system', 'op', 'n', 'feeds', 'gas', 'note'] });
  for (const r of rows) t.push([r.system, r.op, r.n, r.feeds, r.gas.toLocaleString('en-US'), r.note ?? '']);
  return t;
}

function timingTable(rows: TimingRow[]): Table.Table {
  const t = new Table({ head: ['op', 'n', 'feeds', 'p50 ms', 'p99 ms', 'samples', 'note'] });
  for (const r of rows) t.push([r.op, r.n, r.feeds, r.p50_ms, r.p99_ms, r.samples, r.note ?? '']);
  return t;
}

function markdown(r: BenchResult): string {
  const lines = ['# Aegis benchmark', '', `Run ${new Date().toISOString()}; \`npm run bench\`.`, ''];
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
writeFileSync(join(opts.out, 'bench.json'), JSON.stringify(result, null, 2) + '\n');
writeFileSync(join(opts.out, 'bench.md'), markdown(result));

if (opts.json) {
  process.stdout.write(JSON.stringify(result) + '\n');
} else {
  if (result.gas.length) console.log(`Gas (total transaction gas)\n${gasTable(result.gas).toString()}`);
  if (result.timing.length) console.log(`Timing\n${timingTable(result.timing).toString()}`);
  console.log(`Written: ${join(opts.out, 'bench.json')}, ${join(opts.out, 'bench.md')}`);
}
