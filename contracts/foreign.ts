/**
 * Compiles other people's contracts (Aave v3, Chainlink's 0.6 proxies, code copied from a
 * vendor's documentation, the incumbents' oracles) straight from their npm packages with THEIR
 * compiler version and settings, never copied into this repository: for the consumer tests —
 * the proof that protocols read Aegis unchanged is only worth something if their code is built
 * the way they build it — and for the side-by-side gas benchmark (`bench/peers/compile.ts`
 * holds its jobs), whose comparison is only fair on the peers' own builds.
 *
 *   const out = compileForeign({ label: 'aave-v3', solc: 'solc-0.8.10', entries: ['@aave/core-v3/contracts/misc/AaveOracle.sol'], optimizerRuns: 100_000, evmVersion: 'berlin' });
 *   deployForeign(signer, foreignArtifact(out, 'AaveOracle'), [...args]);
 *
 * Why not `contracts/compile.ts`: that harness compiles every product source with one solc
 * (the project's, via-IR, Prague) into one cache entry; a foreign job must not change the
 * product's output (the hub's gas rows are measured from it). Entry units that are import paths
 * are read from node_modules and keep their package path as the unit name, so their relative
 * imports resolve inside the package through solc-js's import callback, which also maps
 * Chainlink's versioned OpenZeppelin paths the way Chainlink's own `remappings.txt` does
 * (`mapImportPath`). Libraries with external functions (Aave's logic libraries) come back with
 * their link references; `linkBytecode` fills them in.
 *
 * Artifacts are cached in `.cache/solc/foreign-<label>-<key>.json`; the key hashes the compiler
 * version, the settings, the entry sources and the versions of the packages imports resolve into.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ContractFactory, Contract, type Signer } from 'ethers';
import { ROOT } from './compile.ts';

const require = createRequire(import.meta.url);

const CACHE_DIR = join(ROOT, '.cache', 'solc');

/** Compiler packages installed under npm aliases (package.json). */
export type ForeignSolc = 'solc' | 'solc-0.6.6' | 'solc-0.8.10' | 'solc-0.8.26';

export interface ForeignArtifact {
  contractName: string;
  sourceName: string;
  abi: unknown[];
  /** Creation bytecode, 0x-prefixed; may hold `__$…$__` library placeholders (see linkReferences). */
  bytecode: string;
  /** sourceName → library name → byte offsets of 20-byte placeholders in the creation code. */
  linkReferences: Record<string, Record<string, { start: number; length: number }[]>>;
}

export interface ForeignJob {
  /** For messages and the cache file name. */
  label: string;
  solc: ForeignSolc;
  /**
   * Entry units: an import path (`@aave/core-v3/contracts/…`) read from node_modules, or
   * `{ unit, content }` for a source given as text (e.g. a documentation snippet).
   */
  entries: (string | { unit: string; content: string })[];
  optimizerRuns: number;
  evmVersion: string;
  /**
   * No metadata hash and no CBOR tail, as the peers' gas builds set it: the bytecode then depends
   * only on the sources and settings, not on the paths they were compiled from.
   */
  bareBytecode?: boolean;
  /**
   * The npm packages the job's imports resolve into; their versions enter the cache key, so an
   * upgraded package is recompiled. Default: the consumer tests' (`CONSUMER_PACKAGES`).
   */
  packages?: readonly string[];
}

export class ForeignCompileError extends Error {
  override readonly name = 'ForeignCompileError';
  readonly code = 'foreign_compile_failed';
}

/** Packages the consumer tests' imports resolve into (the default of `ForeignJob.packages`). */
export const CONSUMER_PACKAGES: readonly string[] = ['@aave/core-v3', '@chainlink/contracts', '@chainlink/contracts-0.8'];

function packageVersion(name: string): string {
  try {
    return JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version as string;
  } catch {
    return 'absent';
  }
}

/** `@openzeppelin/contracts@5.0.2/x.sol` → `@openzeppelin/contracts-5.0.2/x.sol` (Chainlink's remapping onto the npm aliases). */
export function mapImportPath(path: string): string {
  const m = /^@openzeppelin\/(contracts(?:-upgradeable)?)@(\d+\.\d+\.\d+)\/(.*)$/.exec(path);
  return m ? `@openzeppelin/${m[1]}-${m[2]}/${m[3]}` : path;
}

function findImport(path: string): { contents: string } | { error: string } {
  const mapped = mapImportPath(path);
  const file = join(ROOT, 'node_modules', mapped);
  if (existsSync(file)) return { contents: readFileSync(file, 'utf8') };
  return {
    error: `import ${path}${mapped !== path ? ` (mapped to ${mapped}; the versioned OpenZeppelin aliases come with @chainlink/contracts)` : ''}: not in node_modules; run npm ci, or check the path against the package's layout`,
  };
}

const memo = new Map<string, Record<string, ForeignArtifact>>();

/** Compiles (or loads from cache) one job; returns artifacts by contract name (deployable ones only). */
export function compileForeign(job: ForeignJob): Record<string, ForeignArtifact> {
  let solc: { version(): string; compile(input: string, cb: { import: typeof findImport }): string };
  try {
    solc = require(job.solc) as typeof solc;
  } catch (err) {
    throw new ForeignCompileError(`${job.label}: compiler package ${job.solc} is not installed (${(err as Error).message}); it is an npm alias in package.json, run npm ci`);
  }
  const version = solc.version();
  const sources: Record<string, { content: string }> = {};
  for (const e of job.entries) {
    if (typeof e === 'string') {
      const found = findImport(e);
      if ('error' in found) throw new ForeignCompileError(`${job.label}: ${found.error}`);
      sources[e] = { content: found.contents };
    } else {
      sources[e.unit] = { content: e.content };
    }
  }
  // Key order is part of the cache key: settings a job leaves out are absent, not defaulted.
  const settings = {
    evmVersion: job.evmVersion,
    optimizer: { enabled: true, runs: job.optimizerRuns },
    ...(job.bareBytecode ? { metadata: { bytecodeHash: 'none', appendCBOR: false } } : {}),
    outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.bytecode.linkReferences'] } },
  };
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ version, settings, deps: (job.packages ?? CONSUMER_PACKAGES).map((p) => [p, packageVersion(p)]) }));
  for (const name of Object.keys(sources).sort()) hash.update(`\0${name}\0${sources[name]!.content}`);
  const key = hash.digest('hex').slice(0, 32);
  const cached = memo.get(key);
  if (cached) return cached;
  const file = join(CACHE_DIR, `foreign-${job.label}-${key}.json`);
  if (existsSync(file)) {
    const out = JSON.parse(readFileSync(file, 'utf8')) as Record<string, ForeignArtifact>;
    memo.set(key, out);
    return out;
  }
  const raw = JSON.parse(solc.compile(JSON.stringify({ language: 'Solidity', sources, settings }), { import: findImport })) as {
    errors?: { severity: string; formattedMessage: string }[];
    contracts?: Record<string, Record<string, { abi: unknown[]; evm: { bytecode: { object: string; linkReferences?: ForeignArtifact['linkReferences'] } } }>>;
  };
  const errors = (raw.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length > 0) {
    throw new ForeignCompileError(`${job.label}: solc ${version}: ${errors.length} error(s)\n${errors.map((e) => e.formattedMessage).join('\n')}`);
  }
  const out: Record<string, ForeignArtifact> = {};
  for (const [sourceName, byName] of Object.entries(raw.contracts ?? {})) {
    for (const [contractName, c] of Object.entries(byName)) {
      if (!c.evm.bytecode.object) continue; // interfaces and abstract contracts
      out[contractName] = { contractName, sourceName, abi: c.abi, bytecode: `0x${c.evm.bytecode.object}`, linkReferences: c.evm.bytecode.linkReferences ?? {} };
    }
  }
  mkdirSync(CACHE_DIR, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(out));
  renameSync(tmp, file);
  memo.set(key, out);
  return out;
}

/** One artifact by contract name; throws naming the ones the job produced. */
export function foreignArtifact(arts: Record<string, ForeignArtifact>, name: string): ForeignArtifact {
  const a = arts[name];
  if (!a) throw new ForeignCompileError(`contract ${name}: not among the compiled contracts (${Object.keys(arts).sort().join(', ')}); add its source to the job's entries`);
  return a;
}

/** The creation code with every library placeholder replaced by its address from `libraries` (by library name). */
export function linkBytecode(a: ForeignArtifact, libraries: Record<string, string>): string {
  let code = a.bytecode.slice(2);
  for (const [source, libs] of Object.entries(a.linkReferences)) {
    for (const [lib, refs] of Object.entries(libs)) {
      const address = libraries[lib];
      if (!address) throw new ForeignCompileError(`${a.contractName}: library ${source}:${lib} is not linked; deploy it and pass its address`);
      const hex = address.toLowerCase().replace(/^0x/, '');
      for (const { start, length } of refs) code = code.slice(0, start * 2) + hex + code.slice((start + length) * 2);
    }
  }
  return `0x${code}`;
}

/** Deploys a foreign artifact (linked with `libraries` if it needs them); resolves once mined. */
export async function deployForeign(signer: Signer, a: ForeignArtifact, args: unknown[] = [], libraries: Record<string, string> = {}): Promise<Contract> {
  const factory = new ContractFactory(a.abi as never, linkBytecode(a, libraries), signer);
  const c = await factory.deploy(...args);
  await c.waitForDeployment();
  return new Contract(await c.getAddress(), a.abi as never, signer);
}
