/**
 * DEX sweeps: one DEX scenario's pool, oracle and market run over a grid of pool size ×
 * how long the attacker holds the pool off, with the attacker's cost from the real swaps of
 * each run. Per configuration: what the attacker spent (and the closed form), how far the
 * pool's TWAP and the served price moved. Outputs a heat map of the served deviation and one
 * of the TWAP deviation per (pool size, hold), and the least spend that moved the served price
 * by the target per pool size: the DEX counterpart of the exchange sweeps (`sim/sweep.ts`).
 *
 * Spec (YAML, `sim/sweeps/dex/<name>.yaml`): `name`, `base` (a DEX library scenario whose
 * attacks are replaced), `movePct`, `fromSec`, `liquidityUsd: [...]`, `holdSec: [...]`,
 * `targetDeviationPct`; fields in `DexSweepSpecSchema`.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { heatMap } from '../report/svg.ts';
import { ScenarioError } from '../scenario/load.ts';
import { runDexScenario } from './runner.ts';
import { findDexScenario, loadDexScenario } from './scenario.ts';

export const DEX_SWEEPS_DIR = join(import.meta.dirname, '..', 'sweeps', 'dex');

export const DexSweepSpecSchema = z.strictObject({
  name: z.string().regex(/^dex-[a-z0-9-]+$/, 'expected a lower-case slug starting with dex-'),
  /** DEX library scenario: pool, oracle and feed come from it; its attacks are replaced by one hold. */
  base: z.string().min(1),
  durationSec: z.number().int().positive().optional(),
  /** The hold's move of the pool's spot, percent (negative: down). */
  movePct: z.number().gt(-99),
  fromSec: z.number().nonnegative().default(120),
  /** Re-push after arbitrage every block (false: the attacker keeps arbitrage out). */
  arbitrage: z.boolean().default(true),
  liquidityUsd: z.array(z.number().positive()).min(1),
  holdSec: z.array(z.number().int().positive()).min(1),
  targetDeviationPct: z.number().positive().default(1),
});
export type DexSweepSpec = z.output<typeof DexSweepSpecSchema>;

export interface DexSweepCell {
  liquidityUsd: number;
  holdSec: number;
  spendUsd: number;
  closedFormUsd: number | null;
  twapMaxDeviationPct: number;
  servedMaxDeviationPct: number;
  verdict: string;
  wallMs: number;
}

export interface DexSweepResult {
  kind: 'dex-sweep';
  spec: DexSweepSpec;
  cells: DexSweepCell[];
  /** Least spend that moved the served price by at least the target, per pool size; null: no hold in the grid did. */
  costToMove: { liquidityUsd: number; spendUsd: number | null }[];
  wallMs: number;
}

export function findDexSweep(nameOrPath: string): string | undefined {
  return [join(DEX_SWEEPS_DIR, `${nameOrPath}.yaml`), nameOrPath].find((c) => /\.ya?ml$/.test(c) && existsSync(c) && /^\s*base:\s*dex-/m.test(readFileSync(c, 'utf8')));
}

export function loadDexSweep(file: string): DexSweepSpec {
  const r = DexSweepSpecSchema.safeParse(parseYaml(readFileSync(file, 'utf8')));
  if (!r.success) throw new ScenarioError('scenario_invalid', `sweep ${file}: ${r.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`).join('; ')}`);
  return r.data;
}

export async function runDexSweep(spec: DexSweepSpec, opts: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {}): Promise<DexSweepResult> {
  const start = performance.now();
  const file = findDexScenario(spec.base);
  if (!file) throw new ScenarioError('scenario_not_found', `sweep ${spec.name}: base "${spec.base}" is not a DEX library scenario`);
  const base = loadDexScenario(file);
  const cells: DexSweepCell[] = [];
  const total = spec.liquidityUsd.length * spec.holdSec.length;
  for (const liquidityUsd of spec.liquidityUsd) {
    for (const holdSec of spec.holdSec) {
      const durationSec = spec.durationSec ?? spec.fromSec + holdSec + 2 * base.stepSec;
      const s = {
        ...base,
        name: `${spec.name}-${liquidityUsd}-${holdSec}`,
        durationSec: Math.max(durationSec, spec.fromSec + holdSec + base.stepSec),
        pool: { ...base.pool, liquidityUsd },
        attacks: [{ kind: 'hold' as const, fromSec: spec.fromSec, toSec: spec.fromSec + holdSec, movePct: spec.movePct, blockArbitrage: !spec.arbitrage }],
        expect: {},
      };
      const r = await runDexScenario(s, opts.signal ? { signal: opts.signal } : {});
      cells.push({
        liquidityUsd,
        holdSec,
        spendUsd: r.attacker.spendUsd,
        closedFormUsd: r.attacker.closedFormUsd,
        twapMaxDeviationPct: r.served.twapMaxDeviationPct,
        servedMaxDeviationPct: r.served.maxDeviationPct,
        verdict: r.verdict,
        wallMs: r.timing.wallMs,
      });
      opts.onProgress?.(cells.length, total);
    }
  }
  const costToMove = spec.liquidityUsd.map((liquidityUsd) => {
    const moved = cells.filter((c) => c.liquidityUsd === liquidityUsd && c.servedMaxDeviationPct >= spec.targetDeviationPct).map((c) => c.spendUsd);
    return { liquidityUsd, spendUsd: moved.length ? Math.min(...moved) : null };
  });
  return { kind: 'dex-sweep', spec, cells, costToMove, wallMs: performance.now() - start };
}

/** `result.json` and `index.html` (two heat maps and the cost table) under `dir`. */
export function writeDexSweepReports(r: DexSweepResult, dir: string): { json: string; html: string } {
  mkdirSync(dir, { recursive: true });
  const rows = r.spec.liquidityUsd.map((l) => `${(l / 1e6).toLocaleString('en-US')} M USD`);
  const cols = r.spec.holdSec.map((h) => `${h} s`);
  const grid = (f: (c: DexSweepCell) => number) => r.spec.liquidityUsd.map((l) => r.spec.holdSec.map((h) => {
    const c = r.cells.find((x) => x.liquidityUsd === l && x.holdSec === h);
    return c ? f(c) : null;
  }));
  const spend = (v: number | null) => (v === null ? 'never' : `${Math.round(v).toLocaleString('en-US')} USD`);
  const html = [
    '<!DOCTYPE html><html><head><meta charset="utf-8"><title>', r.spec.name, '</title></head><body>',
    `<h1>DEX sweep ${r.spec.name}</h1><p>Base ${r.spec.base}; the pool held ${r.spec.movePct} % off from ${r.spec.fromSec} s${r.spec.arbitrage ? ', re-pushed after arbitrage every block' : ', arbitrage kept out'}.</p>`,
    heatMap({ title: 'served price: max deviation from the truth (%)', rows, cols, values: grid((c) => c.servedMaxDeviationPct), unit: '%', xLabel: 'hold', yLabel: 'pool size' }),
    heatMap({ title: 'pool TWAP: max deviation from the truth (%)', rows, cols, values: grid((c) => c.twapMaxDeviationPct), unit: '%', xLabel: 'hold', yLabel: 'pool size' }),
    heatMap({ title: 'attacker spend from the real swaps (USD)', rows, cols, values: grid((c) => c.spendUsd), unit: 'USD', xLabel: 'hold', yLabel: 'pool size' }),
    `<h2>Least spend that moved the served price ≥ ${r.spec.targetDeviationPct} %</h2><table><tr><th>pool</th><th>spend</th></tr>`,
    ...r.costToMove.map((c) => `<tr><td>${(c.liquidityUsd / 1e6).toLocaleString('en-US')} M USD</td><td>${spend(c.spendUsd)}</td></tr>`),
    '</table></body></html>',
  ].join('');
  const json = join(dir, 'result.json');
  const page = join(dir, 'index.html');
  writeFileSync(json, `${JSON.stringify(r, null, 2)}\n`);
  writeFileSync(page, html);
  return { json, html: page };
}
