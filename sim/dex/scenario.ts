/**
 * DEX scenario files (`sim/scenarios/dex/<name>.yaml`): a Uniswap v3 pool on the simulator's
 * anvil that feeds the oracle, optional exchanges beside it, and the attacks a pool invites
 * (docs/design.md §Simulation; reference in `docs/sources.md`, "Attacks a pool source resists"):
 *
 * - `single-block`: swap the pool's spot price to `factor`× and back inside one block, as a
 *   flash loan does (bZx 2020, Harvest 2020);
 * - `hold`: keep the spot `movePct` off from `fromSec` to `toSec`, re-pushing every block after
 *   arbitrage pulled it back, or with `blockArbitrage` keeping arbitrage out meanwhile (Inverse
 *   Finance 2022 held a thin pool for a few blocks that way);
 * - `drain`: sell one side until `remainPct` % of the pool's quote token is left and hold it
 *   there (Curve's CRV pools in July 2023).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { SUPPORTED_VENUES, type VenueId } from '../../node/sources/index.ts';
import { ScenarioError } from '../scenario/load.ts';

export const DEX_LIBRARY_DIR = join(import.meta.dirname, '..', 'scenarios', 'dex');

const sec = z.number().nonnegative();

const attackSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('single-block'), atSec: sec, factor: z.number().positive() }),
  z.strictObject({
    kind: z.literal('hold'),
    fromSec: sec,
    toSec: sec,
    movePct: z.number().gt(-99).refine((v) => v !== 0, 'a hold moves the price: give a non-zero movePct'),
    /** The attacker keeps arbitrage out of the pool while it holds (Inverse 2022): no re-pushes needed. */
    blockArbitrage: z.boolean().default(false),
  }),
  z.strictObject({ kind: z.literal('drain'), fromSec: sec, toSec: sec, remainPct: z.number().gt(0).lt(100), blockArbitrage: z.boolean().default(false) }),
]);

export const DexScenarioSchema = z.strictObject({
  name: z.string().regex(/^dex-[a-z0-9-]+$/, 'expected a lower-case slug starting with dex-, such as dex-twap-hold'),
  description: z.string().min(1),
  incident: z.strictObject({ name: z.string(), date: z.string(), summary: z.string(), sources: z.array(z.url()).min(1) }).optional(),
  seed: z.number().int().nonnegative().default(1),
  durationSec: z.number().int().positive().max(86_400),
  /** Block time: one block per step. */
  stepSec: z.number().int().positive().max(600).default(12),
  /** The feed: BASE/USDC, priced from the pool (quote token USDC, 6 decimals). */
  feed: z.strictObject({ name: z.string().regex(/^[A-Z0-9]+\/USDC$/, 'expected BASE/USDC, such as ETH/USDC'), price: z.number().positive() }),
  pool: z
    .strictObject({
      /** Value locked at the start, USD, half in each token, full range (a constant-product curve). */
      liquidityUsd: z.number().positive().default(10_000_000),
      feeTier: z.union([z.literal(500), z.literal(3000), z.literal(10000)]).default(3000),
      baseDecimals: z.number().int().min(0).max(18).default(18),
    })
    .prefault({}),
  oracle: z
    .strictObject({
      windowS: z.number().int().min(60).max(86_400).default(1800),
      /** Exchanges pricing the feed beside the pool (the venue simulator, at the true price). */
      venues: z.array(z.enum(SUPPORTED_VENUES as unknown as [VenueId, ...VenueId[]])).default([]),
      minSources: z.number().int().min(1).default(1),
      volumeCapShare: z.number().gt(0).lte(1).optional(),
    })
    .prefault({}),
  /** Arbitrage pulls the pool back to the true price at every block (before the attacker's swaps), except while an attack blocks it. */
  arbitrage: z.boolean().default(true),
  attacks: z.array(attackSchema).default([]),
  tolerancePct: z.number().positive().default(2),
  expect: z
    .strictObject({
      maxServedDeviationPct: z.number().nonnegative().optional(),
      /** |spendUsd / closedFormUsd − 1| at most this, percent. */
      closedFormWithinPct: z.number().positive().optional(),
      verdict: z.enum(['defended', 'breached']).optional(),
    })
    .prefault({}),
});

export type DexScenario = z.output<typeof DexScenarioSchema>;
export type DexAttack = DexScenario['attacks'][number];

export function listDexScenarios(dir = DEX_LIBRARY_DIR): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => basename(f, extname(f)))
    .sort();
}

/** A DEX library name (`dex-twap-hold`) or a path to a DEX scenario file, or undefined when it is neither. */
export function findDexScenario(nameOrPath: string, dir = DEX_LIBRARY_DIR): string | undefined {
  const candidates = [join(dir, `${nameOrPath}.yaml`), join(dir, `${nameOrPath}.yml`)];
  if (/\.ya?ml$/.test(nameOrPath) && existsSync(nameOrPath) && /^\s*pool:|^\s*name:\s*dex-/m.test(readFileSync(nameOrPath, 'utf8'))) candidates.unshift(nameOrPath);
  return candidates.find((c) => existsSync(c));
}

export function loadDexScenario(file: string): DexScenario {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ScenarioError('scenario_invalid', `scenario ${file}: not valid YAML (${(err as Error).message.split('\n')[0]})`);
  }
  const r = DexScenarioSchema.safeParse(raw);
  if (!r.success) {
    const problems = r.error.issues.slice(0, 6).map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`);
    throw new ScenarioError('scenario_invalid', `scenario ${file}: ${problems.join('; ')} (fields: docs/sources.md, "DEX scenarios")`);
  }
  for (const [i, a] of r.data.attacks.entries()) {
    const end = 'atSec' in a ? a.atSec : a.toSec;
    if ('fromSec' in a && a.fromSec >= a.toSec) throw new ScenarioError('scenario_invalid', `scenario ${file}: attacks.${i}: fromSec ${a.fromSec} must be before toSec ${a.toSec}`);
    if (end > r.data.durationSec) throw new ScenarioError('scenario_invalid', `scenario ${file}: attacks.${i} ends at ${end} s, after the run's ${r.data.durationSec} s; lengthen durationSec`);
  }
  return r.data;
}
