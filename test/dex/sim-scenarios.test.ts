/**
 * The DEX scenario library (`sim/scenarios/dex/`) against a real Uniswap v3 pool on anvil and
 * the node's pricing: every scenario meets the expectations in its file, and the attacker's
 * spend measured from the real swaps matches the constant-product closed form for the same
 * pool. The two bars run through the CLI as a user runs them (`aegis sim run … --json`).
 * Slow (a minute or two): every scenario mines a block per 12 s of its run.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { findDexScenario, listDexScenarios, loadDexScenario } from '../../sim/dex/scenario.ts';
import { closedFormPushUsd, closedFormRoundTripUsd, runDexScenario, type DexRunResult } from '../../sim/dex/runner.ts';
import { findDexSweep, loadDexSweep, runDexSweep } from '../../sim/dex/sweep.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const run = promisify(execFile);
const out = mkdtempSync(join(tmpdir(), 'aegis-dex-cli-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

async function cli(name: string): Promise<DexRunResult> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'scripts/aegis.ts', 'sim', 'run', name, '--json', '--out', out], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(stdout) as DexRunResult;
}

describe('the bars, through aegis sim run --json', () => {
  it('dex-single-block-manipulation: a 10x spot swapped back in one block moves the served price < 0.1 %', async () => {
    const r = await cli('dex-single-block-manipulation');
    expect(r.attacker.maxSpotMovePct).toBeGreaterThan(899);
    expect(r.served.maxDeviationPct).toBeLessThan(0.1);
    expect(r.expectations.every((e) => e.ok)).toBe(true);
  }, 180_000);

  it('dex-twap-hold: a 30-minute TWAP held 20 % off costs what the constant-product closed form says, within 5 %', async () => {
    const r = await cli('dex-twap-hold');
    expect(r.served.twapMaxDeviationPct).toBeGreaterThan(19.9);
    expect(r.attacker.pushes).toBe(150);
    expect(r.attacker.closedFormUsd).not.toBeNull();
    expect(Math.abs(r.attacker.spendUsd / r.attacker.closedFormUsd! - 1)).toBeLessThan(0.05);
    expect(r.served.maxDeviationPct).toBeLessThan(0.5);
  }, 240_000);
});

describe.each(listDexScenarios().filter((n) => !['dex-single-block-manipulation', 'dex-twap-hold'].includes(n)).map((n) => [n]))('DEX library scenario %s', (name) => {
  it('meets the expectations in its file', async ({ signal }) => {
    const r = await runDexScenario(loadDexScenario(findDexScenario(name)!), { signal });
    expect(r.expectations.filter((e) => !e.ok)).toEqual([]);
    expect(r.expectations.length).toBeGreaterThan(0);
  }, 240_000);
});

describe('DEX sweep (pool size × hold)', () => {
  it('dex-smoke: the TWAP moves by the held share of the window, geometrically, and the cost scales with the pool and the hold', async ({ signal }) => {
    const spec = loadDexSweep(findDexSweep('dex-smoke')!);
    const r = await runDexSweep(spec, { signal });
    expect(r.cells).toHaveLength(4);
    for (const c of r.cells) {
      // Held from fromSec for holdSec of a 1800 s window, 20 % up: 1.2^(hold/1800) − 1.
      expect(Math.abs(c.twapMaxDeviationPct / ((1.2 ** (c.holdSec / 1800) - 1) * 100) - 1)).toBeLessThan(0.05);
      expect(Math.abs(c.spendUsd / c.closedFormUsd! - 1)).toBeLessThan(0.05);
    }
    const at = (l: number, h: number) => r.cells.find((c) => c.liquidityUsd === l && c.holdSec === h)!;
    expect(at(10_000_000, 120).spendUsd / at(1_000_000, 120).spendUsd).toBeCloseTo(10, 0);
    expect(at(1_000_000, 120).spendUsd).toBeGreaterThan(at(1_000_000, 36).spendUsd * 3);
    expect(r.costToMove).toEqual([
      { liquidityUsd: 1_000_000, spendUsd: at(1_000_000, 120).spendUsd },
      { liquidityUsd: 10_000_000, spendUsd: at(10_000_000, 120).spendUsd },
    ]);
  }, 240_000);
});

describe('closed forms', () => {
  it('a push and its round trip on a constant-product curve', () => {
    // 1.21x on a 1M quote reserve: √F = 1.1, path loss 1M·0.01/1.1, input 100k quote.
    expect(closedFormPushUsd(1_000_000, 1.21, 0)).toBeCloseTo(10_000 / 1.1, 6);
    expect(closedFormPushUsd(1_000_000, 1.21, 0.003)).toBeCloseTo(10_000 / 1.1 + (100_000 * 0.003) / 0.997, 6);
    // Down by the same factor: the same path loss, the fee on the base sold (1/√F − 1 of the reserve).
    expect(closedFormPushUsd(1_000_000, 1 / 1.21, 0)).toBeCloseTo(10_000 / 1.1, 6);
    expect(closedFormRoundTripUsd(1_000_000, 1.21, 0)).toBe(0);
  });
});
