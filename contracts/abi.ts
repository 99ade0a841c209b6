/**
 * The ABIs the TypeScript side uses, generated from the compiled artifacts into
 * `contracts/abi/<Name>.json` by `npm run compile` and committed, so the aggregator, the
 * simulator and the dashboard never need the compiler at run time and can never drift from
 * the contracts: test/contracts/abi-generated.test.ts fails when a file differs from a fresh
 * compile (fix: `npm run compile`).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InterfaceAbi } from 'ethers';
import { ROOT, type CompileOutput } from './compile.ts';

export const ABI_DIR = join(ROOT, 'contracts', 'abi');

/** The deployable product contracts whose ABIs are generated. */
export const ABI_CONTRACTS = ['AegisHub', 'AegisAggregatorV3', 'AegisAggregatorV3Strict', 'AegisAggregatorV3Factory', 'FuturesMarket', 'EuropeanOption'] as const;
export type AbiContract = (typeof ABI_CONTRACTS)[number];

/** The generated ABI of `name` (read once per process). */
const cache = new Map<string, InterfaceAbi>();
export function abiOf(name: AbiContract): InterfaceAbi {
  let abi = cache.get(name);
  if (!abi) {
    const file = join(ABI_DIR, `${name}.json`);
    try {
      abi = JSON.parse(readFileSync(file, 'utf8')) as InterfaceAbi;
    } catch (err) {
      throw new Error(`${file}: cannot read the generated ABI (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); run npm run compile`);
    }
    cache.set(name, abi);
  }
  return abi;
}

/** The file text of `name`'s ABI in a compile output (stable: solc's order, two-space JSON). */
export function abiText(out: CompileOutput, name: AbiContract): string {
  const a = out.contracts[name];
  if (!a) throw new Error(`contract ${name}: not in the compile output`);
  return `${JSON.stringify(a.abi, null, 2)}\n`;
}

/** Writes every generated ABI; returns the files that changed. */
export function writeAbis(out: CompileOutput): string[] {
  mkdirSync(ABI_DIR, { recursive: true });
  const changed: string[] = [];
  for (const name of ABI_CONTRACTS) {
    const file = join(ABI_DIR, `${name}.json`);
    const text = abiText(out, name);
    let old = '';
    try {
      old = readFileSync(file, 'utf8');
    } catch {
      /* new */
    }
    if (old !== text) {
      writeFileSync(file, text);
      changed.push(file);
    }
  }
  return changed;
}
