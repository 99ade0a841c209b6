/**
 * Deterministic deployment through the deterministic-deployment proxy that most EVM chains
 * already have at 0x4e59b44847b379578588920ca78fbf26c0b4956c (Arachnid's; anvil ships it in
 * its genesis). The proxy takes `salt ‖ initcode` as calldata and CREATE2s it, so a contract's
 * address depends only on the salt and its init code: the same hub for the same committee has
 * the same address on every chain. On a chain without the proxy it is deployed first with its
 * one-time, keyless pre-EIP-155 transaction (the same bytes on every chain).
 */
import { concat, getAddress, getBytes, getCreate2Address, hexlify, keccak256, parseEther, zeroPadValue, type Provider, type Signer, type TransactionReceipt } from 'ethers';
import { CodedError } from '../../runtime/coded-error.ts';
import type { Artifact } from '../compile.ts';

export const DETERMINISTIC_DEPLOYER = '0x4e59b44847b379578588920ca78fbf26c0b4956c';
/** The keyless account that signed DEPLOYER_TX: it must hold 0.01 ETH (100 gwei × 100,000 gas). */
export const DEPLOYER_SIGNER = '0x3fab184622dc19b6109349b94811493bf2a45362';
export const DEPLOYER_TX =
  '0xf8a58085174876e800830186a08080b853604580600e600039806000f350fe7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe03601600081602082378035828234f58015156039578182fd5b8082525050506014600cf31ba02222222222222222222222222222222222222222222222222222222222222222a02222222222222222222222222222222222222222222222222222222222222222';
export const DEPLOYER_FUNDING = parseEther('0.01');

export class DeployError extends CodedError<'no_proxy' | 'proxy_deploy_failed' | 'deploy_failed' | 'code_mismatch' | 'address_mismatch'> {
  override readonly name = 'DeployError';
}

/** The CREATE2 address of `initCode` with `salt` through the proxy. */
export function deterministicAddress(salt: string, initCode: string): string {
  return getCreate2Address(DETERMINISTIC_DEPLOYER, zeroPadValue(salt, 32), keccak256(initCode));
}

/**
 * Makes sure the proxy exists: if the chain lacks it, funds the keyless signer from `funder`
 * and broadcasts the proxy's own transaction. Returns whether it had to deploy it.
 */
export async function ensureDeployer(provider: Provider, funder: Signer, confirmations: number, say: (line: string) => void = () => undefined): Promise<boolean> {
  if ((await provider.getCode(DETERMINISTIC_DEPLOYER)) !== '0x') return false;
  say(`no deterministic-deployment proxy at ${DETERMINISTIC_DEPLOYER} on this chain: deploying it with its keyless transaction`);
  const missing = DEPLOYER_FUNDING - (await provider.getBalance(DEPLOYER_SIGNER));
  if (missing > 0n) await (await funder.sendTransaction({ to: DEPLOYER_SIGNER, value: missing })).wait(confirmations);
  let receipt: TransactionReceipt | null;
  try {
    const hash = (await (provider as unknown as { send(m: string, p: unknown[]): Promise<string> }).send('eth_sendRawTransaction', [DEPLOYER_TX])) as string;
    receipt = await provider.waitForTransaction(hash, confirmations, 120_000);
  } catch (err) {
    throw new DeployError(
      'proxy_deploy_failed',
      `deterministic-deployment proxy: the keyless deployment transaction was refused (${(err as Error).message.split('\n')[0]}); the chain must accept pre-EIP-155 transactions for it (e.g. geth --rpc.allow-unprotected-txs, anvil accepts them), or deploy the proxy by other means`,
    );
  }
  if (!receipt || receipt.status !== 1 || (await provider.getCode(DETERMINISTIC_DEPLOYER)) === '0x') {
    throw new DeployError('proxy_deploy_failed', `deterministic-deployment proxy: its transaction ${receipt?.hash ?? '?'} did not create ${DETERMINISTIC_DEPLOYER}`);
  }
  return true;
}

export interface DeterministicResult {
  address: string;
  /** Undefined when the contract was already there (the call is idempotent). */
  receipt?: TransactionReceipt;
}

/** Deploys `initCode` at its deterministic address (or finds it there); waits `confirmations`. */
export async function deployDeterministic(signer: Signer, initCode: string, salt: string, confirmations: number): Promise<DeterministicResult> {
  const provider = signer.provider!;
  const address = deterministicAddress(salt, initCode);
  if ((await provider.getCode(address)) !== '0x') return { address };
  if ((await provider.getCode(DETERMINISTIC_DEPLOYER)) === '0x') throw new DeployError('no_proxy', `no deterministic-deployment proxy at ${DETERMINISTIC_DEPLOYER}; run ensureDeployer first`);
  const data = concat([zeroPadValue(salt, 32), initCode]);
  // A 30 % margin on the estimate: nested CREATEs under the 63/64 rule leave an exact
  // estimate no room (the aggregator's transmitter pads the same way).
  const estimate = await provider.estimateGas({ from: await signer.getAddress(), to: DETERMINISTIC_DEPLOYER, data });
  const blockLimit = (await provider.getBlock('latest'))?.gasLimit ?? estimate;
  const padded = (estimate * 13n) / 10n;
  const tx = await signer.sendTransaction({ to: DETERMINISTIC_DEPLOYER, data, gasLimit: padded < blockLimit ? padded : blockLimit });
  const receipt = await tx.wait(confirmations);
  // The code at the receipt's block: a provider may answer a repeated `latest` query from cache.
  if (!receipt || receipt.status !== 1 || (await provider.getCode(address, receipt.blockNumber)) === '0x') {
    throw new DeployError('deploy_failed', `CREATE2 of ${address} through ${DETERMINISTIC_DEPLOYER} failed (tx ${tx.hash}); the constructor reverted or the gas ran out`);
  }
  return { address: getAddress(address), receipt };
}

/**
 * Checks the runtime code at `address` equals the local build's `deployedBytecode` byte for
 * byte, except at the immutables' offsets (which the constructor fills in; their values are
 * returned for the caller to check by meaning). Throws `code_mismatch` naming the first
 * differing byte.
 */
export async function verifyDeployedCode(provider: Provider, address: string, build: Pick<Artifact, 'deployedBytecode' | 'immutableReferences'>, what: string): Promise<{ codeHash: string; immutables: string[] }> {
  const onChain = getBytes(await provider.getCode(address));
  const expected = getBytes(build.deployedBytecode);
  const immutables: string[] = [];
  if (onChain.length === expected.length) {
    for (const refs of Object.values(build.immutableReferences ?? {})) {
      for (const { start, length } of refs) expected.set(onChain.subarray(start, start + length), start);
      const first = refs[0];
      if (first) immutables.push(hexlify(onChain.subarray(first.start, first.start + first.length)));
    }
  }
  let i = 0;
  while (i < Math.min(onChain.length, expected.length) && onChain[i] === expected[i]) i++;
  if (i < onChain.length || i < expected.length) {
    throw new DeployError(
      'code_mismatch',
      `${what} at ${address}: the code on chain (${onChain.length} bytes) differs from the local build (${expected.length} bytes) from byte ${i}; build with the pinned compiler and settings (npm ci; npm run compile) or check that the address is the one you deployed`,
    );
  }
  return { codeHash: keccak256(onChain), immutables };
}
