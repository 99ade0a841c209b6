/**
 * Sweeps: one base scenario run over a grid of attacker budget × venues attacked × Byzantine
 * nodes, on one shared anvil (each run deploys its own hub and settlement contracts later in
 * chain time). Per configuration: what the attacker spent, how far the usable served price
 * moved, and whether the attack paid against the settlement contracts. Outputs a heat map of
 * the served deviation per (venues, budget) for each Byzantine count, and of the least spend
 * that moved the served price by the target.
 *
 * Spec (YAML): see `sim/README.md` §Sweep spec.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { loadScenario, ScenarioError } from './scenario/load.ts';
import type { Scenario } from './scenario/schema.ts';
import { runScenario, startSharedChain } from './runner.ts';
import { heatMap } from './report/svg.ts';
import { esc } from './report/svg.ts';

export const SWEEPS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'sweeps');

export const SweepSpecSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'expected a lower-case slug'),
  /** Library scenario name or path: market, oracle and settlement come from it; its attacks are replaced. */
  base: z.string().min(1),
  durationSec: z.number().int().positive().optional(),
  direction: z.enum(['up', 'down']).default('up'),
  /** Target move of each attacked venue, percent. */
  movePct: z.number().positive().default(50),
  attackFromSec: z.number().nonnegative().default(120),
  budgetsUsd: z.array(z.number().positive()).min(1),
  venuesAttacked: z.array(z.number().int().min(1)).min(1),
  byzantineNodes: z.array(z.number().int().min(0)).min(1),
  /** "Cost to move the served price by this much" in the second heat map. */
  targetDeviationPct: z.number().positive().default(1),
});
export type SweepSpec = z.output<typeof SweepSpecSchema>;

export interface SweepCell {
  budgetUsd: number;
  venues: number;
  byzantine: number;
  spendUsd: number;
  maxDeviationPct: number;
  verdict: string;
  pays: boolean;
  profitUsd: number;
  liquidations: number;
  wallMs: number;
}

export interface SweepResult {
  spec: SweepSpec;
  seed: number;
  cells: SweepCell[];
  /** Least spend that moved the served price by ≥ target, per (byzantine, venues); null: never. */
  costToMove: { byzantine: number; venues: number; spendUsd: number | null }[];
  wallMs: number;
}

export function loadSweepSpec(nameOrPath: string): SweepSpec {
  const file = [nameOrPath, join(SWEEPS_DIR, `${nameOrPath}.yaml`)].find((f) => /\.ya?ml$|\.json$/.test(f) && existsSync(f));
  if (!file) throw new ScenarioError('scenario_not_found', `sweep "${nameOrPath}": no such file or sweep in ${SWEEPS_DIR}`);
  const raw = parseYaml(readFileSync(file, 'utf8')) as unknown;
  const r = SweepSpecSchema.safeParse(raw);
  if (!r.success) throw new ScenarioError('scenario_invalid', `sweep ${file}: ${r.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`).join('; ')}`);
  return r.data;
}

export function sweepScenario(base: Scenario, spec: SweepSpec, budget: number, venues: number, byz: number): Scenario {
  const ids = base.market.venues.map((v) => v.id).slice(0, venues);
  const duration = spec.durationSec ?? base.durationSec;
  const attacks: Scenario['attacks'] = [
    { kind: base.settlement.futures ? 'liquidation-hunt' : 'pump', venues: ids, direction: spec.direction, movePct: spec.movePct, fromSec: spec.attackFromSec, toSec: duration, rampSec: 60, budgetUsd: budget } as Scenario['attacks'][number],
  ];
  if (!base.settlement.futures) (attacks[0] as { kind: string }).kind = spec.direction === 'up' ? 'pump' : 'crash';
  if (byz > 0) attacks.push({ kind: 'byzantine', nodes: byz, strategy: 'extreme', factor: spec.direction === 'up' ? 1 + spec.movePct / 100 : 1 - Math.min(spec.movePct, 99) / 100, fromSec: spec.attackFromSec, toSec: duration });
  return { ...base, name: `${spec.name}-b${budget}-v${venues}-k${byz}`, durationSec: duration, attacks, expect: {} };
}

export async function runSweep(spec: SweepSpec, opts: { seed?: number; onProgress?: (done: number, total: number, label: string) => void } = {}): Promise<SweepResult> {
  const started = performance.now();
  const base = loadScenario(spec.base);
  const seed = opts.seed ?? base.seed;
  for (const k of spec.byzantineNodes) if (k >= base.oracle.nodes) throw new ScenarioError('scenario_invalid', `sweep ${spec.name}: byzantineNodes ${k} ≥ the base scenario's ${base.oracle.nodes} nodes`);
  for (const v of spec.venuesAttacked) if (v > base.market.venues.length) throw new ScenarioError('scenario_invalid', `sweep ${spec.name}: venuesAttacked ${v} > the base scenario's ${base.market.venues.length} venues`);
  // One anvil for several runs (each deploys its own contracts later in chain time), replaced
  // every RECYCLE_RUNS runs: a long-lived shared anvil was seen to stall after ~20 runs
  // (no pending transaction, the run waiting); a fresh one costs about a second.
  const RECYCLE_RUNS = 8;
  let chain = await startSharedChain();
  let runsOnChain = 0;
  const cells: SweepCell[] = [];
  const total = spec.budgetsUsd.length * spec.venuesAttacked.length * spec.byzantineNodes.length;
  try {
    for (const byz of spec.byzantineNodes) {
      for (const venues of spec.venuesAttacked) {
        for (const budget of spec.budgetsUsd) {
          const s = sweepScenario(base, spec, budget, venues, byz);
          if (runsOnChain >= RECYCLE_RUNS) {
            await chain.anvil.stop();
            chain = await startSharedChain();
            runsOnChain = 0;
          }
          runsOnChain++;
          const r = await runScenario(s, { seed, chain, transport: 'inproc' });
          cells.push({ budgetUsd: budget, venues, byzantine: byz, spendUsd: r.attacker.spendUsd, maxDeviationPct: r.served.maxDeviationPct, verdict: r.verdict, pays: r.attacker.pays, profitUsd: r.attacker.profitUsd, liquidations: r.settlement.liquidations.length, wallMs: r.timing.wallMs });
          opts.onProgress?.(cells.length, total, s.name);
        }
      }
    }
  } finally {
    await chain.anvil.stop();
  }
  const costToMove: SweepResult['costToMove'] = [];
  for (const byz of spec.byzantineNodes) {
    for (const venues of spec.venuesAttacked) {
      const hits = cells.filter((c) => c.byzantine === byz && c.venues === venues && c.maxDeviationPct >= spec.targetDeviationPct);
      costToMove.push({ byzantine: byz, venues, spendUsd: hits.length ? Math.min(...hits.map((c) => c.spendUsd)) : null });
    }
  }
  return { spec, seed, cells, costToMove, wallMs: Math.round(performance.now() - started) };
}

const money = (x: number) => (x >= 1e9 ? `${(x / 1e9).toFixed(1)}B` : x >= 1e6 ? `${(x / 1e6).toFixed(1)}M` : x >= 1e3 ? `${(x / 1e3).toFixed(0)}k` : x.toFixed(0));

export function sweepHeatMaps(r: SweepResult): string[] {
  const maps: string[] = [];
  const rows = r.spec.venuesAttacked.map((v) => `${v} venue${v > 1 ? 's' : ''}`);
  const cols = r.spec.budgetsUsd.map((b) => `$${money(b)}`);
  for (const byz of r.spec.byzantineNodes) {
    const values = r.spec.venuesAttacked.map((v) => r.spec.budgetsUsd.map((b) => r.cells.find((c) => c.byzantine === byz && c.venues === v && c.budgetUsd === b)?.maxDeviationPct ?? null));
    const marks = r.spec.venuesAttacked.map((v) => r.spec.budgetsUsd.map((b) => (r.cells.find((c) => c.byzantine === byz && c.venues === v && c.budgetUsd === b)?.pays ? ' $' : '')));
    maps.push(heatMap({ title: `Max served deviation (%) with ${byz} Byzantine node(s); "$" = the attack paid`, rows, cols, values, marks, unit: '%', xLabel: 'attacker budget (USD, realized loss)', yLabel: 'venues attacked' }));
  }
  const values = r.spec.byzantineNodes.map((k) => r.spec.venuesAttacked.map((v) => r.costToMove.find((c) => c.byzantine === k && c.venues === v)?.spendUsd ?? null));
  maps.push(
    heatMap({
      title: `Least spend (USD) that moved the served price by ≥ ${r.spec.targetDeviationPct} % (– = no budget tried was enough)`,
      rows: r.spec.byzantineNodes.map((k) => `${k} Byzantine`),
      cols: r.spec.venuesAttacked.map((v) => `${v} venue${v > 1 ? 's' : ''}`),
      values,
      unit: 'USD',
      xLabel: 'venues attacked',
      yLabel: 'Byzantine nodes',
    }),
  );
  return maps;
}

export function writeSweepReports(r: SweepResult, dir: string): { json: string; md: string; html: string; svg: string } {
  mkdirSync(dir, { recursive: true });
  const maps = sweepHeatMaps(r);
  const paths = { json: join(dir, 'sweep.json'), md: join(dir, 'sweep.md'), html: join(dir, 'sweep.html'), svg: join(dir, 'heatmap.svg') };
  writeFileSync(paths.json, JSON.stringify(r, null, 2));
  writeFileSync(paths.svg, maps[maps.length - 1]!);
  const md = [
    `# Sweep ${r.spec.name}`,
    '',
    `${r.cells.length} configurations of ${r.spec.base} (seed ${r.seed}) in ${(r.wallMs / 1000).toFixed(0)} s; venues pushed ${r.spec.direction} by up to ${r.spec.movePct} %.`,
    '',
    '| Byzantine | venues | budget | spend | max served deviation % | verdict | liquidations | pays |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...r.cells.map((c) => `| ${c.byzantine} | ${c.venues} | ${money(c.budgetUsd)} | ${money(c.spendUsd)} | ${c.maxDeviationPct.toFixed(3)} | ${c.verdict} | ${c.liquidations} | ${c.pays ? 'yes' : 'no'} |`),
    '',
  ].join('\n');
  writeFileSync(paths.md, md);
  writeFileSync(paths.html, `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Aegis sweep ${esc(r.spec.name)}</title><style>body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto}figure{margin:18px 0}</style></head><body><h1>Sweep ${esc(r.spec.name)}</h1><p>${r.cells.length} configurations of ${esc(r.spec.base)}, seed ${r.seed}, ${(r.wallMs / 1000).toFixed(0)} s.</p>${maps.map((m) => `<figure>${m}</figure>`).join('')}</body></html>\n`);
  return paths;
}
