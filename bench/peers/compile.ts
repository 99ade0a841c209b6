/**
 * The incumbents' contracts for the side-by-side gas benchmark (`bench/peers.ts`), compiled by
 * `compileForeign` (contracts/foreign.ts) straight from their npm packages with the compiler
 * version and settings their own build uses.
 *
 * Why not `contracts/compile.ts`: that harness compiles all of `contracts/src` with one solc
 * (0.8.30, Prague, via-IR). Chainlink's `DataFeedsCache` pins `pragma solidity 0.8.26` and
 * Chainlink builds its contracts with per-product Foundry profiles (`optimizer_runs`,
 * `evm_version = 'paris'`), so the peers need their own compiler instance and settings.
 * Chainlink's versioned OpenZeppelin imports are mapped the way its `remappings.txt` maps them:
 *
 *   `@openzeppelin/contracts@5.0.2/…` → `node_modules/@openzeppelin/contracts-5.0.2/…`
 *
 * Every job builds bare bytecode (no metadata hash) and keys its cache on the packages below.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../contracts/compile.ts';
import { compileForeign, type ForeignArtifact } from '../../contracts/foreign.ts';

/** Packages the peers' imports resolve into; their versions enter the cache key. */
const PEER_PACKAGES = ['@chainlink/contracts', '@redstone-finance/evm-connector', '@openzeppelin/contracts', '@openzeppelin/contracts-4.8.3', '@openzeppelin/contracts-5.0.2'];

// -- The jobs, mirroring each product's own build --------------------------------------------

/**
 * Chainlink `[profile.keystone]` in `@chainlink/contracts/foundry.toml`: optimizer 1,000,000
 * runs, EVM paris (its solc 0.8.24 is not installed; the pragma `^0.8.19` accepts 0.8.26).
 */
export function compileKeystoneForwarder(): Record<string, ForeignArtifact> {
  return compileForeign({
    label: 'keystone',
    solc: 'solc-0.8.26',
    entries: ['@chainlink/contracts/src/v0.8/keystone/KeystoneForwarder.sol'],
    optimizerRuns: 1_000_000,
    evmVersion: 'paris',
    bareBytecode: true,
    packages: PEER_PACKAGES,
  });
}

/** Chainlink `[profile.data-feeds]`: solc 0.8.26 (pinned), optimizer 10,000 runs, EVM paris. */
export function compileDataFeedsCache(): Record<string, ForeignArtifact> {
  return compileForeign({
    label: 'data-feeds',
    solc: 'solc-0.8.26',
    entries: ['@chainlink/contracts/src/v0.8/data-feeds/DataFeedsCache.sol'],
    optimizerRuns: 10_000,
    evmVersion: 'paris',
    bareBytecode: true,
    packages: PEER_PACKAGES,
  });
}

/**
 * Our thin RedStone consumer (`bench/peers/RedstonePeerConsumer.sol`, outside the product compile) over the package's
 * `RedstoneConsumerNumericBase`. Compiled like RedStone's own hardhat build of its samples
 * (legacy pipeline, optimizer on) with the project's solc and today's EVM.
 */
export function compileRedstoneConsumer(): Record<string, ForeignArtifact> {
  return compileForeign({
    label: 'redstone',
    solc: 'solc',
    entries: [{ unit: 'src/peers/RedstonePeerConsumer.sol', content: readFileSync(join(ROOT, 'bench/peers/RedstonePeerConsumer.sol'), 'utf8') }],
    optimizerRuns: 1_000,
    evmVersion: 'prague',
    bareBytecode: true,
    packages: PEER_PACKAGES,
  });
}
