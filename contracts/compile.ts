/**
 * Compiles the Solidity sources with solc-js (the npm `solc` package; no native solc exists
 * here), in two sets that never mix:
 *
 * - the product (`compileContracts`): every source under `contracts/src/**` (the hub, its
 *   interfaces in `src/interfaces/`, the adapters, the settlement contracts, the libraries).
 *   `npm run compile` builds it, the ABIs in `contracts/abi/` and the gas rows come from it.
 * - the test set (`compileTestContracts`, `testArtifact`): contracts that only ever run on a
 *   dev chain, i.e. the test kit in `contracts/test/` (hostile tokens and consumers, mock feeds)
 *   and the mocks in `contracts/mock/` that the simulator deploys too (its collateral token).
 *   Their imports of product interfaces (`../src/interfaces/…`) resolve through the import
 *   callback; the output keeps only the test set's own contracts, so a product contract is
 *   always deployed from the product compile.
 *
 * Both use the same compiler settings. Deterministic: sources are sorted, settings are fixed,
 * metadata carries no bytecode hash. Artifacts are cached in `.cache/solc/<key>.json` (product)
 * and `.cache/solc-test/<key>.json` (test set), where the key hashes the compiler version, the
 * settings, every source file (the test set's key covers the product sources it may import)
 * and the versions of the packages imports resolve into (`@openzeppelin/contracts`,
 * `@chainlink/contracts`), so repeated test runs do not recompile. Concurrent callers (vitest
 * workers) take a lock directory; the loser waits for the winner's artifacts.
 *
 * Imports: relative imports resolve inside `contracts/` (source unit names are paths relative
 * to it, e.g. `src/AegisHub.sol`, `test/HostileConsumer.sol`); `@scope/pkg/...` resolves from
 * `node_modules` in the import callback.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

/** Repository root (the folder holding `package.json`). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** The product sources. */
export const SOURCES_DIR = join(ROOT, 'contracts', 'src');
/** The test set: contracts deployed only on dev chains (test kit, then the simulator's mocks). */
export const TEST_SOURCE_DIRS = [join(ROOT, 'contracts', 'test'), join(ROOT, 'contracts', 'mock')] as const;
export const CACHE_DIR = join(ROOT, '.cache', 'solc');
export const TEST_CACHE_DIR = join(ROOT, '.cache', 'solc-test');

export interface Artifact {
  contractName: string;
  sourceName: string;
  abi: unknown[];
  /** Creation bytecode, 0x-prefixed. */
  bytecode: string;
  /** Runtime bytecode, 0x-prefixed (immutables as zero bytes). */
  deployedBytecode: string;
  /** Where the constructor writes each immutable into the runtime code: byte offsets and lengths. */
  immutableReferences?: Record<string, { start: number; length: number }[]>;
}

export interface CompileOutput {
  solcVersion: string;
  cacheKey: string;
  /** By contract name; names defined in two files are only reachable as `source:Name`. */
  contracts: Record<string, Artifact>;
}

export interface CompileOptions {
  /** Extra sources (unit name → content), e.g. test-only contracts. */
  extraSources?: Record<string, string>;
  /** Ignore the cache and recompile. */
  force?: boolean;
}

export class CompileError extends Error {
  override readonly name = 'CompileError';
  readonly code = 'compile_failed';
}

/** Fixed compiler settings. Changing anything here changes the cache key. */
export const SOLC_SETTINGS = {
  evmVersion: 'prague',
  viaIR: true,
  optimizer: { enabled: true, runs: 10_000 },
  metadata: { bytecodeHash: 'none', appendCBOR: false },
  outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object', 'evm.deployedBytecode.immutableReferences'] } },
} as const;

const IMPORT_PACKAGES = ['@openzeppelin/contracts', '@chainlink/contracts'];

function listSol(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) out.push(...listSol(p));
    else if (entry.endsWith('.sol')) out.push(p);
  }
  return out;
}

/** Source unit names are paths relative to `contracts/`, e.g. `src/AegisHub.sol`. */
function readSources(dirs: readonly string[]): Record<string, string> {
  const sources: Record<string, string> = {};
  for (const dir of dirs) {
    for (const file of listSol(dir)) {
      sources[relative(join(ROOT, 'contracts'), file).split(sep).join('/')] = readFileSync(file, 'utf8');
    }
  }
  return sources;
}

function packageVersion(name: string): string {
  try {
    return JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version as string;
  } catch {
    return 'absent';
  }
}

/** solc's import callback: `@scope/pkg/…` from `node_modules`, anything else inside `contracts/`. */
export function findImport(path: string): { contents: string } | { error: string } {
  const candidates = [join(ROOT, 'node_modules', path), join(ROOT, 'contracts', path)];
  for (const c of candidates) {
    if (existsSync(c)) return { contents: readFileSync(c, 'utf8') };
  }
  return { error: `import ${path}: not found in node_modules or contracts/; install the package or fix the path` };
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Last output per cache folder (the product and the test set each keep theirs). */
const memo = new Map<string, { key: string; out: CompileOutput }>();

/** Compiles (or loads from cache) all product contracts. Throws `CompileError` with solc's messages. */
export function compileContracts(opts: CompileOptions = {}): CompileOutput {
  return compileSet({ sources: { ...readSources([SOURCES_DIR]), ...(opts.extraSources ?? {}) }, cacheDir: CACHE_DIR, force: opts.force });
}

/**
 * Compiles (or loads from cache) the test set: `contracts/test/**` and `contracts/mock/**`
 * (plus `extraSources`). The output holds only the contracts defined in those sources; product
 * contracts come from `compileContracts()`.
 */
export function compileTestContracts(opts: CompileOptions = {}): CompileOutput {
  const sources = { ...readSources(TEST_SOURCE_DIRS), ...(opts.extraSources ?? {}) };
  return compileSet({ sources, cacheDir: TEST_CACHE_DIR, force: opts.force, keyExtra: readSources([SOURCES_DIR]), entriesOnly: true });
}

interface CompileSet {
  /** Entry sources (unit name → content); only their contracts are kept. */
  sources: Record<string, string>;
  cacheDir: string;
  force?: boolean | undefined;
  /** Sources the entries may import (hashed into the key, not compiled unless imported). */
  keyExtra?: Record<string, string>;
  /** Keep only the contracts of `sources`, not those of the files they import. */
  entriesOnly?: boolean;
}

function compileSet(set: CompileSet): CompileOutput {
  const solc = require('solc') as { version(): string; compile(input: string, cb: { import: typeof findImport }): string };
  const { sources, cacheDir } = set;
  const version = solc.version();
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ version, settings: SOLC_SETTINGS, deps: IMPORT_PACKAGES.map((p) => [p, packageVersion(p)]) }));
  for (const name of Object.keys(sources).sort()) hash.update(`\0${name}\0${sources[name]}`);
  if (set.keyExtra) for (const name of Object.keys(set.keyExtra).sort()) hash.update(`\0import:${name}\0${set.keyExtra[name]}`);
  const key = hash.digest('hex').slice(0, 32);
  const memoed = memo.get(cacheDir);
  if (!set.force && memoed?.key === key) return memoed.out;

  const file = join(cacheDir, `${key}.json`);
  const lock = join(cacheDir, `${key}.lock`);
  mkdirSync(cacheDir, { recursive: true });
  if (!set.force) {
    // Another worker may be compiling the same sources: wait for it (stale after 5 minutes).
    for (;;) {
      if (existsSync(file)) {
        const out = JSON.parse(readFileSync(file, 'utf8')) as CompileOutput;
        memo.set(cacheDir, { key, out });
        return out;
      }
      try {
        mkdirSync(lock);
        break;
      } catch {
        const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? 0);
        if (age > 300_000) rmSync(lock, { recursive: true, force: true });
        else sleep(250);
      }
    }
  }
  try {
    const input = {
      language: 'Solidity',
      sources: Object.fromEntries(Object.keys(sources).sort().map((n) => [n, { content: sources[n] }])),
      settings: SOLC_SETTINGS,
    };
    const raw = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport })) as {
      errors?: { severity: string; formattedMessage: string }[];
      contracts?: Record<string, Record<string, { abi: unknown[]; evm: { bytecode: { object: string }; deployedBytecode: { object: string; immutableReferences?: Record<string, { start: number; length: number }[]> } } }>>;
    };
    const errors = (raw.errors ?? []).filter((e) => e.severity === 'error');
    if (errors.length > 0) throw new CompileError(`solc ${version}: ${errors.length} error(s)\n${errors.map((e) => e.formattedMessage).join('\n')}`);
    const contracts: Record<string, Artifact> = {};
    const seen = new Map<string, number>();
    for (const [sourceName, byName] of Object.entries(raw.contracts ?? {})) {
      if (set.entriesOnly && !(sourceName in sources)) continue;
      for (const [contractName, c] of Object.entries(byName)) {
        const art: Artifact = {
          contractName,
          sourceName,
          abi: c.abi,
          bytecode: `0x${c.evm.bytecode.object}`,
          deployedBytecode: `0x${c.evm.deployedBytecode.object}`,
          ...(c.evm.deployedBytecode.immutableReferences && Object.keys(c.evm.deployedBytecode.immutableReferences).length ? { immutableReferences: c.evm.deployedBytecode.immutableReferences } : {}),
        };
        contracts[`${sourceName}:${contractName}`] = art;
        seen.set(contractName, (seen.get(contractName) ?? 0) + 1);
        contracts[contractName] = art;
      }
    }
    for (const [name, count] of seen) if (count > 1) delete contracts[name];
    const out: CompileOutput = { solcVersion: version, cacheKey: key, contracts };
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(out));
    renameSync(tmp, file);
    memo.set(cacheDir, { key, out });
    return out;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** One artifact by name (`Name` or `src/File.sol:Name`); throws naming the known contracts. */
export function artifact(name: string, out: CompileOutput = compileContracts()): Artifact {
  const a = out.contracts[name];
  if (!a) {
    const known = Object.keys(out.contracts).filter((k) => !k.includes(':')).sort().join(', ');
    throw new CompileError(`contract ${name}: not among the compiled contracts (${known}); check the name or use "src/File.sol:${name}"`);
  }
  return a;
}

/**
 * One artifact of the test set (`contracts/test`, `contracts/mock`) by name; throws naming the
 * test contracts, and pointing at `artifact()` when `name` is a product contract.
 */
export function testArtifact(name: string, out: CompileOutput = compileTestContracts()): Artifact {
  const a = out.contracts[name];
  if (!a) {
    const known = Object.keys(out.contracts).filter((k) => !k.includes(':')).sort().join(', ');
    throw new CompileError(`contract ${name}: not among the test contracts of contracts/test and contracts/mock (${known}); a product contract comes from artifact(), a new test contract goes into contracts/test`);
  }
  return a;
}
