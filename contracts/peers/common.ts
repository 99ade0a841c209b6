/**
 * Shared pieces of the peer drivers: deterministic committee keys, deployment from an
 * artifact, sending with an explicit gas limit, and the error type.
 *
 * Every update is sent with an explicit, generous gas limit: Chainlink's forwarder catches a
 * failing receiver call and still succeeds, so a gas estimate could settle on a limit where the
 * delivery silently failed. Drivers check delivery themselves (events and read-back).
 */
import { ContractFactory, Contract, Wallet, keccak256, toUtf8Bytes, type Signer, type TransactionReceipt } from 'ethers';

/** Gas limit of every measured transaction (the bench anvil runs with a 1e9 block gas limit). */
export const UPDATE_GAS_LIMIT = 900_000_000n;

/**
 * Calldata bound per transaction. Mainnet mempools (geth `txMaxSize`, reth) refuse transactions
 * over 128 KiB, and anvil's HTTP endpoint refuses multi-megabyte requests, so an update whose
 * calldata is larger is split into several transactions; its gas is their sum (each pays the
 * 21,000 base) and the row's note says how many.
 */
export const MAX_TX_DATA_BYTES = 120_000;

export class PeerError extends Error {
  override readonly name = 'PeerError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** `count` deterministic, distinct signer wallets for `label` (bench-only keys, never funded). */
export function committeeWallets(label: string, count: number): Wallet[] {
  return Array.from({ length: count }, (_, i) => new Wallet(keccak256(toUtf8Bytes(`aegis-bench/${label}/${i}`))));
}

export async function deployArtifact(signer: Signer, a: { abi: unknown[]; bytecode: string }, args: unknown[] = []): Promise<Contract> {
  const factory = new ContractFactory(a.abi as never, a.bytecode, signer);
  const c = await factory.deploy(...args);
  await c.waitForDeployment();
  return new Contract(await c.getAddress(), a.abi as never, signer);
}

/** Sends `data` to `to` and returns the mined receipt; throws PeerError if it reverted. */
export async function sendRaw(signer: Signer, to: string, data: string, what: string): Promise<TransactionReceipt> {
  const bytes = (data.length - 2) / 2;
  if (bytes > MAX_TX_DATA_BYTES) throw new PeerError('peer_tx_too_large', `${what}: ${bytes} bytes of calldata exceed ${MAX_TX_DATA_BYTES}; split the update`);
  const tx = await signer.sendTransaction({ to, data, gasLimit: UPDATE_GAS_LIMIT });
  const receipt = await tx.wait().catch((err: Error) => {
    throw new PeerError('peer_update_reverted', `${what}: transaction reverted (${err.message.slice(0, 300)})`);
  });
  if (!receipt || receipt.status !== 1) throw new PeerError('peer_update_reverted', `${what}: transaction ${tx.hash} reverted`);
  return receipt;
}

/** The deterministic test price of feed `i` at update `step` (8 decimals, moves every step). */
export function testAnswer(feed: number, step: number, signer = 0): bigint {
  return 6_000_000_000_000n + BigInt(feed) * 1_000_000n + BigInt(step) * 10_000n + BigInt(signer);
}
