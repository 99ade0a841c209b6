/**
 * Chain harness: compile (solc-js, cached), start anvil, deploy with ethers v6, measure gas.
 * Used by the contract tests, the demo and the benchmark.
 */
export { compileContracts, compileTestContracts, artifact, testArtifact, CompileError, SOLC_SETTINGS, type Artifact, type CompileOutput, type CompileOptions } from './compile.ts';
export { startAnvil, AnvilError, ANVIL_BIN, ANVIL_KEYS, type Anvil, type AnvilOptions } from './anvil.ts';
export { deploy, attach, iface, type DeployOptions } from './deploy.ts';
