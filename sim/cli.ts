/**
 * `aegis sim …`: run a scenario, run a sweep, list the library. Progress goes to stderr; with
 * `--json` the result object is the only thing on stdout. SIGINT / SIGTERM during a run or
 * sweep stop it and its anvil, then exit 130 / 143.
 */
import type { Command } from 'commander';
import { join, resolve } from 'node:path';
import Table from 'cli-table3';
import { listScenarios, loadScenario, ScenarioError } from './scenario/load.ts';
import { runScenario, stopSimChains } from './runner.ts';
import { findDexScenario, listDexScenarios, loadDexScenario } from './dex/scenario.ts';
import { runDexScenario } from './dex/runner.ts';
import { writeDexReport } from './dex/report.ts';
import { findDexSweep, loadDexSweep, runDexSweep, writeDexSweepReports } from './dex/sweep.ts';
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

/** The abort reason when a signal ends a run or sweep; exits 128 + the signal's number. */
class SimInterrupted extends Error {
  override readonly name = 'SimInterrupted';
  readonly exitCode: number;
  constructor(readonly signal: 'SIGINT' | 'SIGTERM') {
    super(`interrupted by ${signal}; the simulator's anvil is stopped`);
    this.exitCode = signal === 'SIGINT' ? 130 : 143;
  }
}

/** How long the command may take to wind down after a signal before it exits regardless. */
const SIGNAL_GRACE_MS = 10_000;

/**
 * Until the returned release: SIGINT or SIGTERM aborts `controller` (a run stops and cleans up
 * in its `finally`) and stops every anvil the simulator started (a sweep's shared chain too, so
 * its run fails at once); if the command has not ended after SIGNAL_GRACE_MS it exits anyway
 * (anvil's exit hook kills any chain started meanwhile). Without a handler the signal's
 * default action ends the process without exit hooks, and anvil keeps running.
 */
function abortOnSignal(controller: AbortController): () => void {
  const onSignal = (sig: 'SIGINT' | 'SIGTERM'): void => {
    controller.abort(new SimInterrupted(sig));
    void stopSimChains();
    setTimeout(() => fail(controller.signal.reason), SIGNAL_GRACE_MS).unref();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}

function fail(err: unknown, signal?: AbortSignal): never {
  // After a signal the command fails with whatever the stopped anvil caused: report the signal.
  const e = signal?.aborted ? signal.reason : err;
  process.stderr.write(`aegis sim: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(e instanceof SimInterrupted ? e.exitCode : e instanceof ScenarioError ? 2 : 1);
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
      for (const name of listDexScenarios()) {
        try {
          const s = loadDexScenario(findDexScenario(name)!);
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
      const controller = new AbortController();
      const release = abortOnSignal(controller);
      try {
        if (o.transport !== undefined && o.transport !== 'inproc' && o.transport !== 'http') throw new ScenarioError('scenario_invalid', `--transport: expected inproc or http, got "${o.transport}"`);
        // DEX scenarios (sim/scenarios/dex/): a real Uniswap v3 pool and the node's pricing, sim/dex/runner.ts.
        const dexFile = findDexScenario(name);
        if (dexFile) {
          const d = loadDexScenario(dexFile);
          const r = await runDexScenario(o.seed !== undefined ? { ...d, seed: o.seed } : d, { onProgress: progress(d.name), signal: controller.signal });
          const paths = writeDexReport(r, resolve(o.out, d.name));
          if (o.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
          else {
            const t = new Table({ head: ['scenario', 'verdict', 'spend USD', 'closed form USD', 'max spot move %', 'max TWAP dev %', 'max served dev %', 'wall s'] });
            t.push([r.scenario, r.verdict, Math.round(r.attacker.spendUsd).toLocaleString('en-US'), r.attacker.closedFormUsd === null ? '-' : Math.round(r.attacker.closedFormUsd).toLocaleString('en-US'), r.attacker.maxSpotMovePct.toFixed(1), r.served.twapMaxDeviationPct.toFixed(4), r.served.maxDeviationPct.toFixed(4), (r.timing.wallMs / 1000).toFixed(1)]);
            process.stdout.write(`${t.toString()}\n${r.reasons.map((x) => `  ${x}`).join('\n')}\nreport: ${paths.html}\n`);
          }
          const failed = r.expectations.filter((e) => !e.ok);
          if (failed.length) {
            process.stderr.write(`expectation(s) not met: ${failed.map((e) => `${e.field} expected ${String(e.expected)}, got ${String(e.actual)}`).join('; ')}\n`);
            process.exitCode = 3;
          }
          return;
        }
        const s = loadScenario(name);
        const r = await runScenario(s, { ...(o.seed !== undefined ? { seed: o.seed } : {}), ...(o.transport ? { transport: o.transport as 'inproc' | 'http' } : {}), onProgress: progress(s.name), signal: controller.signal });
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
        fail(err, controller.signal);
      } finally {
        release();
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
      const controller = new AbortController();
      const release = abortOnSignal(controller);
      try {
        // DEX sweeps (sim/sweeps/dex/): pool size × hold on a real Uniswap v3 pool, sim/dex/sweep.ts.
        const dexSweep = findDexSweep(specName);
        if (dexSweep) {
          const spec = loadDexSweep(dexSweep);
          const r = await runDexSweep(spec, { onProgress: progress(`sweep ${spec.name}`), signal: controller.signal });
          const paths = writeDexSweepReports(r, join(resolve(o.out), `sweep-${spec.name}`));
          if (o.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
          else process.stdout.write(`${r.cells.length} configurations in ${(r.wallMs / 1000).toFixed(0)} s; heat maps: ${paths.html}\n`);
          return;
        }
        const spec = loadSweepSpec(specName);
        const r = await runSweep(spec, { ...(o.seed !== undefined ? { seed: o.seed } : {}), onProgress: progress(`sweep ${spec.name}`) });
        const paths = writeSweepReports(r, join(resolve(o.out), `sweep-${spec.name}`));
        if (o.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
        else process.stdout.write(`${r.cells.length} configurations in ${(r.wallMs / 1000).toFixed(0)} s; heat maps: ${paths.html}\n`);
      } catch (err) {
        fail(err, controller.signal);
      } finally {
        release();
      }
    });
}
