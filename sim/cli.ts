/**
 * `aegis sim …`: run a scenario, run a sweep, list the library. Progress goes to stderr; with
 * `--json` the result object is the only thing on stdout.
 */
import type { Command } from 'commander';
import { join, resolve } from 'node:path';
import Table from 'cli-table3';
import { listScenarios, loadScenario, ScenarioError } from './scenario/load.ts';
import { runScenario } from './runner.ts';
import { toJson, writeReports } from './report/index.ts';
import { loadSweepSpec, runSweep, writeSweepReports } from './sweep.ts';

function progress(label: string): (done: number, total: number, what?: string) => void {
  const tty = process.stderr.isTTY;
  let last = -1;
  return (done, total, what) => {
    const pct = Math.floor((done / total) * 100);
    if (pct === last && done !== total) return;
    last = pct;
    const width = 30;
    const filled = Math.round((done / total) * width);
    const line = `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(pct).padStart(3)}% ${what ?? `${done}/${total}`}`;
    if (tty) process.stderr.write(`\r${line}${done === total ? '\n' : ''}`);
    else if (pct % 10 === 0 || done === total) process.stderr.write(`${line}\n`);
  };
}

function fail(err: unknown): never {
  const msg = err instanceof Error ? err.message : String(err);
  process.stderr.write(`aegis sim: ${msg}\n`);
  process.exit(err instanceof ScenarioError ? 2 : 1);
}

export function registerSimCommands(program: Command): void {
  const sim = program.command('sim').description('attack simulator: scenarios against the real node, aggregator and contracts');

  sim
    .command('list')
    .description('list the library scenarios, one a line')
    .action(() => {
      for (const name of listScenarios()) {
        try {
          const s = loadScenario(name);
          process.stdout.write(`${name}\t${s.description.replace(/\s+/g, ' ').trim().slice(0, 110)}\n`);
        } catch (err) {
          process.stdout.write(`${name}\t(invalid: ${(err as Error).message.slice(0, 100)})\n`);
        }
      }
    });

  sim
    .command('run')
    .description('run one scenario (library name or file path)')
    .argument('<scenario>', 'library name (see `aegis sim list`) or path to a .yaml/.json file')
    .option('--seed <n>', 'seed (default: the scenario\'s)', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new Error(`--seed: expected a non-negative integer, got "${v}"`);
      return n;
    })
    .option('--out <dir>', 'report folder', 'sim-out')
    .option('--transport <mode>', 'inproc or http (default: the scenario\'s)')
    .option('--json', 'print the result object on stdout')
    .action(async (name: string, o: { seed?: number; out: string; transport?: string; json?: boolean }) => {
      try {
        if (o.transport !== undefined && o.transport !== 'inproc' && o.transport !== 'http') throw new ScenarioError('scenario_invalid', `--transport: expected inproc or http, got "${o.transport}"`);
        const s = loadScenario(name);
        const r = await runScenario(s, { ...(o.seed !== undefined ? { seed: o.seed } : {}), ...(o.transport ? { transport: o.transport as 'inproc' | 'http' } : {}), onProgress: progress(s.name) });
        const dir = resolve(o.out, s.name);
        const paths = writeReports(r, dir);
        if (o.json) process.stdout.write(`${toJson(r)}\n`);
        else {
          const t = new Table({ head: ['scenario', 'verdict', 'spend USD', 'max served dev %', 'liquidations', 'defences fired', 'wall s'] });
          t.push([r.scenario, r.verdict, Math.round(r.attacker.spendUsd).toLocaleString('en-US'), r.served.maxDeviationPct.toFixed(4), r.settlement.liquidations.length, r.defences.length, (r.timing.wallMs / 1000).toFixed(1)]);
          process.stdout.write(`${t.toString()}\n${r.reasons.map((x) => `  ${x}`).join('\n')}\nreports: ${paths.html}\n`);
        }
        const failed = r.expectations.filter((e) => !e.ok);
        if (failed.length) {
          process.stderr.write(`expectation(s) not met: ${failed.map((e) => `${e.field} expected ${String(e.expected)}, got ${String(e.actual)}`).join('; ')}\n`);
          process.exitCode = 3;
        }
      } catch (err) {
        fail(err);
      }
    });

  sim
    .command('sweep')
    .description('run a sweep spec (budget × venues attacked × Byzantine nodes) and draw heat maps')
    .argument('<spec>', 'sweep name in sim/sweeps or a path to a .yaml file')
    .option('--seed <n>', 'seed for every configuration', (v) => Number(v))
    .option('--out <dir>', 'report folder', 'sim-out')
    .option('--json', 'print the sweep result on stdout')
    .action(async (specName: string, o: { seed?: number; out: string; json?: boolean }) => {
      try {
        const spec = loadSweepSpec(specName);
        const r = await runSweep(spec, { ...(o.seed !== undefined ? { seed: o.seed } : {}), onProgress: progress(`sweep ${spec.name}`) });
        const paths = writeSweepReports(r, join(resolve(o.out), `sweep-${spec.name}`));
        if (o.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
        else process.stdout.write(`${r.cells.length} configurations in ${(r.wallMs / 1000).toFixed(0)} s; heat maps: ${paths.html}\n`);
      } catch (err) {
        fail(err);
      }
    });
}
