/**
 * Compiles every Solidity source under `contracts/src/**` with solc-js (the npm `solc`
 * package; no native solc exists here). Deterministic: sources are sorted, settings are fixed,
 * metadata carries no bytecode hash. Artifacts are cached in `.cache/solc/<key>.json`, where
 * the key hashes the compiler version, the settings, every source file and the versions of
 * the packages imports resolve into (`@openzeppelin/contracts`, `@chainlink/contracts`), so
 * repeated test runs do not recompile. Concurrent callers (vitest workers) take a lock
 * directory; the loser waits for the winner's artifacts.
 *
 * Imports: relative imports resolve inside `contracts/src`; `@scope/pkg/...` resolves from
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
export const SOURCES_DIR = join(ROOT, 'contracts', 'src');
export const CACHE_DIR = join(ROOT, '.cache', 'solc');

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
function readSources(): Record<string, string> {
  const sources: Record<string, string> = {};
  for (const file of listSol(SOURCES_DIR)) {
    sources[relative(join(ROOT, 'contracts'), file).split(sep).join('/')] = readFileSync(file, 'utf8');
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

function findImport(path: string): { contents: string } | { error: string } {
  const candidates = [join(ROOT, 'node_modules', path), join(ROOT, 'contracts', path)];
  for (const c of candidates) {
    if (existsSync(c)) return { contents: readFileSync(c, 'utf8') };
  }
  return { error: `import ${path}: not found in node_modules or contracts/; install the package or fix the path` };
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

let memo: { key: string; out: CompileOutput } | undefined;

/** Compiles (or loads from cache) all contracts. Throws `CompileError` with solc's messages. */
export function compileContracts(opts: CompileOptions = {}): CompileOutput {
  const solc = require('solc') as { version(): string; compile(input: string, cb: { import: typeof findImport }): string };
  const sources = { ...readSources(), ...(opts.extraSources ?? {}) };
  const version = solc.version();
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ version, settings: SOLC_SETTINGS, deps: IMPORT_PACKAGES.map((p) => [p, packageVersion(p)]) }));
  for (const name of Object.keys(sources).sort()) hash.update(`\0${name}\0${sources[name]}`);
  const key = hash.digest('hex').slice(0, 32);
  if (!opts.force && memo?.key === key) return memo.out;

  const file = join(CACHE_DIR, `${key}.json`);
  const lock = join(CACHE_DIR, `${key}.lock`);
  mkdirSync(CACHE_DIR, { recursive: true });
  if (!opts.force) {
    // Another worker may be compiling the same sources: wait for it (stale after 5 minutes).
    for (;;) {
      if (existsSync(file)) {
        const out = JSON.parse(readFileSync(file, 'utf8')) as CompileOutput;
        memo = { key, out };
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
    memo = { key, out };
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
