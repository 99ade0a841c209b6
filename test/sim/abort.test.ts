/**
 * The simulator never leaves anvil running: a run aborted mid-way (what a test timeout does
 * through vitest's signal), a run that fails mid-way, and `aegis sim run` ended by SIGTERM or
 * SIGINT all stop the anvil they started, checked by its PID.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { parseScenario } from '../../sim/scenario/load.ts';
import { liveSimChains, runScenario, stopSimChains } from '../../sim/runner.ts';

const SCENARIO = {
  name: 'abort-me',
  description: 'a short quiet market, stopped early',
  seed: 7,
  durationSec: 600,
  stepSec: 30,
  feed: { name: 'ETH/USD' },
  market: { path: { kind: 'gbm', start: 3000, volatility: 0.5 }, venues: [{ id: 'binance' }, { id: 'coinbase' }, { id: 'kraken' }] },
  oracle: { nodes: 4 },
};

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

/** PIDs of the anvil processes among `pid`'s children (Linux /proc). */
function anvilChildren(pid: number): number[] {
  const out: number[] = [];
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    const kids = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
    for (const k of kids ? kids.split(/\s+/).map(Number) : []) {
      try {
        if (readFileSync(`/proc/${k}/comm`, 'utf8').trim() === 'anvil') out.push(k);
      } catch {
        // exited meanwhile
      }
    }
  }
  return out;
}

afterEach(stopSimChains);

describe('sim runner stops its anvil on every exit path', () => {
  it('aborted mid-way: rejects with the abort reason and the anvil PID is gone', async () => {
    const controller = new AbortController();
    const pids: number[] = [];
    const run = runScenario(parseScenario(SCENARIO), {
      signal: controller.signal,
      onProgress: (done) => {
        if (done !== 3) return;
        pids.push(...liveSimChains().map((a) => a.pid));
        controller.abort(new Error('test timeout stand-in'));
      },
    });
    await expect(run).rejects.toThrow('test timeout stand-in');
    expect(pids).toHaveLength(1);
    expect(alive(pids[0]!)).toBe(false);
    expect(liveSimChains()).toEqual([]);
  }, 120_000);

  it('failing mid-way: rejects with the failure and the anvil PID is gone', async () => {
    const pids: number[] = [];
    const run = runScenario(parseScenario(SCENARIO), {
      onProgress: (done) => {
        if (done !== 2) return;
        pids.push(...liveSimChains().map((a) => a.pid));
        throw new Error('step 2 failed');
      },
    });
    await expect(run).rejects.toThrow('step 2 failed');
    expect(pids).toHaveLength(1);
    expect(alive(pids[0]!)).toBe(false);
    expect(liveSimChains()).toEqual([]);
  }, 120_000);

  it('already aborted: rejects before starting anything', async () => {
    await expect(runScenario(parseScenario(SCENARIO), { signal: AbortSignal.abort(new Error('too late')) })).rejects.toThrow('too late');
    expect(liveSimChains()).toEqual([]);
  });
});

describe('aegis sim run ended by a signal', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aegis-sim-signal-'));
  const file = join(dir, 'abort-me.json');
  writeFileSync(file, JSON.stringify({ ...SCENARIO, durationSec: 7200 }));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const [sig, code] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
    it(`${sig}: exits ${code} and its anvil PID is gone`, async () => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/aegis.ts', 'sim', 'run', file, '--out', join(dir, 'out')], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
      const exited = new Promise<number | null>((res) => child.once('exit', (c) => res(c)));
      try {
        let anvil: number | undefined;
        for (const until = Date.now() + 60_000; anvil === undefined; ) {
          if (child.exitCode !== null || Date.now() > until) throw new Error(`no anvil under aegis sim run (exit ${child.exitCode}): ${stderr}`);
          anvil = anvilChildren(child.pid!)[0];
          await new Promise((r) => setTimeout(r, 100));
        }
        await new Promise((r) => setTimeout(r, 1_500)); // into the deployment / first steps
        child.kill(sig);
        expect(await exited).toBe(code);
        expect(stderr).toContain(`interrupted by ${sig}; the simulator's anvil is stopped`);
        expect(alive(anvil)).toBe(false);
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    }, 120_000);
  }
});
