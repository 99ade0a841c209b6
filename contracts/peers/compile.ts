/**
 * Compiles the incumbents' contracts straight from their npm packages (never copied into this
 * repository) with the compiler version and settings their own build uses, for the side-by-side
 * gas benchmark (contracts/peers/bench.ts).
 *
 * Why not `contracts/compile.ts`: that harness compiles all of `contracts/src` with one solc
 * (0.8.30, Prague, via-IR). Chainlink's `DataFeedsCache` pins `pragma solidity 0.8.26` and
 * Chainlink builds its contracts with per-product Foundry profiles (`optimizer_runs`,
 * `evm_version = 'paris'`), so the peers need their own compiler instance and settings. The
 * import-resolution idea is the same (node_modules lookup in solc-js's import callback), plus
 * the versioned OpenZeppelin paths Chainlink uses, mapped the way Chainlink's own
 * `remappings.txt` maps them:
 *
 *   `@openzeppelin/contracts@5.0.2/…` → `node_modules/@openzeppelin/contracts-5.0.2/…`
 *
 * Artifacts are cached in `.cache/solc/peers-<key>.json`; the key hashes the compiler version,
 * the settings, the entry sources and the versions of the packages imports resolve into.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ROOT } from '../compile.ts';

const require = createRequire(import.meta.url);

export const PEERS_CACHE_DIR = join(ROOT, '.cache', 'solc');

/** Compiler packages installed under npm aliases (package.json devDependencies). */
export type SolcPackage = 'solc' | 'solc-0.8.26';

export interface PeerArtifact {
  contractName: string;
  sourceName: string;
  abi: unknown[];
  bytecode: string;
}

export interface PeerCompileJob {
  /** For messages and the cache file name. */
  label: string;
  solc: SolcPackage;
  /**
   * Entry source units. A unit name that is an import path (`@chainlink/contracts/src/…`) is
   * read from node_modules; a local file is given as `{ path }` (relative to the repo root).
   */
  entries: (string | { unit: string; path: string })[];
  optimizerRuns: number;
  evmVersion: string;
  viaIR?: boolean;
}

export class PeerCompileError extends Error {
  override readonly name = 'PeerCompileError';
  readonly code = 'peer_compile_failed';
}

/** Packages whose versions enter the cache key (imports resolve into them). */
const KEY_PACKAGES = [
  '@chainlink/contracts',
  '@redstone-finance/evm-connector',
  '@openzeppelin/contracts',
  '@openzeppelin/contracts-4.8.3',
  '@openzeppelin/contracts-5.0.2',
];

function packageVersion(name: string): string {
  try {
    return JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version as string;
  } catch {
    return 'absent';
  }
}

/** `@openzeppelin/contracts@5.0.2/x.sol` → `@openzeppelin/contracts-5.0.2/x.sol` (Chainlink's remapping). */
export function mapImportPath(path: string): string {
  const m = /^@openzeppelin\/(contracts(?:-upgradeable)?)@(\d+\.\d+\.\d+)\/(.*)$/.exec(path);
  return m ? `@openzeppelin/${m[1]}-${m[2]}/${m[3]}` : path;
}

export function findPeerImport(path: string): { contents: string } | { error: string } {
  const mapped = mapImportPath(path);
  const candidates = [join(ROOT, 'node_modules', mapped), join(ROOT, 'contracts', mapped)];
  for (const c of candidates) if (existsSync(c)) return { contents: readFileSync(c, 'utf8') };
  return {
    error: `import ${path}${mapped !== path ? ` (mapped to ${mapped})` : ''}: not in node_modules; run npm ci (the versioned OpenZeppelin aliases come with @chainlink/contracts)`,
  };
}

const memo = new Map<string, Record<string, PeerArtifact>>();

/** Compiles (or loads from cache) one job; returns artifacts by contract name. */
export function compilePeer(job: PeerCompileJob): Record<string, PeerArtifact> {
  const solc = require(job.solc) as { version(): string; compile(input: string, cb: { import: typeof findPeerImport }): string };
  const version = solc.version();
  const sources: Record<string, { content: string }> = {};
  for (const e of job.entries) {
    if (typeof e === 'string') {
      const found = findPeerImport(e);
      if ('error' in found) throw new PeerCompileError(`${job.label}: ${found.error}`);
      sources[e] = { content: found.contents };
    } else {
      sources[e.unit] = { content: readFileSync(join(ROOT, e.path), 'utf8') };
    }
  }
  const settings = {
    evmVersion: job.evmVersion,
    viaIR: job.viaIR ?? false,
    optimizer: { enabled: true, runs: job.optimizerRuns },
    metadata: { bytecodeHash: 'none', appendCBOR: false },
    outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
  };
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ version, settings, deps: KEY_PACKAGES.map((p) => [p, packageVersion(p)]) }));
  for (const name of Object.keys(sources).sort()) hash.update(`\0${name}\0${sources[name]!.content}`);
  const key = hash.digest('hex').slice(0, 32);
  const cached = memo.get(key);
  if (cached) return cached;
  const file = join(PEERS_CACHE_DIR, `peers-${job.label}-${key}.json`);
  if (existsSync(file)) {
    const out = JSON.parse(readFileSync(file, 'utf8')) as Record<string, PeerArtifact>;
    memo.set(key, out);
    return out;
  }
  const raw = JSON.parse(solc.compile(JSON.stringify({ language: 'Solidity', sources, settings }), { import: findPeerImport })) as {
    errors?: { severity: string; formattedMessage: string }[];
    contracts?: Record<string, Record<string, { abi: unknown[]; evm: { bytecode: { object: string } } }>>;
  };
  const errors = (raw.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length > 0) {
    throw new PeerCompileError(`${job.label}: solc ${version}: ${errors.length} error(s)\n${errors.map((e) => e.formattedMessage).join('\n')}`);
  }
  const out: Record<string, PeerArtifact> = {};
  for (const [sourceName, byName] of Object.entries(raw.contracts ?? {})) {
    for (const [contractName, c] of Object.entries(byName)) {
      if (!c.evm.bytecode.object) continue; // interfaces and abstract contracts
      out[contractName] = { contractName, sourceName, abi: c.abi, bytecode: `0x${c.evm.bytecode.object}` };
    }
  }
  mkdirSync(PEERS_CACHE_DIR, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(out));
  renameSync(tmp, file);
  memo.set(key, out);
  return out;
}

export function peerArtifact(arts: Record<string, PeerArtifact>, name: string, label: string): PeerArtifact {
  const a = arts[name];
  if (!a) throw new PeerCompileError(`${label}: contract ${name} not among ${Object.keys(arts).sort().join(', ')}`);
  return a;
}

// -- The jobs, mirroring each product's own build --------------------------------------------

/**
 * Chainlink `[profile.keystone]` in `@chainlink/contracts/foundry.toml`: optimizer 1,000,000
 * runs, EVM paris (its solc 0.8.24 is not installed; the pragma `^0.8.19` accepts 0.8.26).
 */
export function compileKeystoneForwarder(): Record<string, PeerArtifact> {
  return compilePeer({
    label: 'keystone',
    solc: 'solc-0.8.26',
    entries: ['@chainlink/contracts/src/v0.8/keystone/KeystoneForwarder.sol'],
    optimizerRuns: 1_000_000,
    evmVersion: 'paris',
  });
}

/** Chainlink `[profile.data-feeds]`: solc 0.8.26 (pinned), optimizer 10,000 runs, EVM paris. */
export function compileDataFeedsCache(): Record<string, PeerArtifact> {
  return compilePeer({
    label: 'data-feeds',
    solc: 'solc-0.8.26',
    entries: ['@chainlink/contracts/src/v0.8/data-feeds/DataFeedsCache.sol'],
    optimizerRuns: 10_000,
    evmVersion: 'paris',
  });
}

/**
 * Our thin RedStone consumer (`contracts/src/peers/RedstonePeerConsumer.sol`) over the package's
 * `RedstoneConsumerNumericBase`. Compiled like RedStone's own hardhat build of its samples
 * (legacy pipeline, optimizer on) with the project's solc and today's EVM.
 */
export function compileRedstoneConsumer(): Record<string, PeerArtifact> {
  return compilePeer({
    label: 'redstone',
    solc: 'solc',
    entries: [{ unit: 'src/peers/RedstonePeerConsumer.sol', path: 'contracts/src/peers/RedstonePeerConsumer.sol' }],
    optimizerRuns: 1_000,
    evmVersion: 'prague',
  });
}
