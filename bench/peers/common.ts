/**
 * Shared pieces of the peer drivers: deterministic committee keys, deployment from an
 * artifact, sending with an explicit gas limit, and the error type.
 *
 * Every update is sent with an explicit, generous gas limit: Chainlink's forwarder catches a
 * failing receiver call and still succeeds, so a gas estimate could settle on a limit where the
 * delivery silently failed. Drivers check delivery themselves (events and read-back).
 */
import { ContractFactory, Contract, Wallet, keccak256, toUtf8Bytes, type JsonRpcProvider, type Signer } from 'ethers';

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

/** The parts of a receipt the drivers read. */
export interface PeerReceipt {
  hash: string;
  status: number;
  gasUsed: bigint;
  logs: { address: string; topics: string[]; data: string }[];
}

/**
 * Sends `data` to `to` from the signer's (unlocked) anvil account and returns the mined receipt;
 * throws PeerError if it reverted.
 *
 * Why not `signer.sendTransaction` + `tx.wait()`: ethers converts every request and response
 * through its JavaScript UTF-8 codec, which for a 120 kB multicall and a receipt with thousands
 * of logs cost more than building and signing the update (about a quarter of the API3 rows'
 * time). The node's own `fetch` and `JSON.parse` send the same `eth_sendTransaction` (anvil
 * assigns the nonce and mines it: automine) with the same explicit gas limit.
 */
export async function sendRaw(signer: Signer, to: string, data: string, what: string): Promise<PeerReceipt> {
  const bytes = (data.length - 2) / 2;
  if (bytes > MAX_TX_DATA_BYTES) throw new PeerError('peer_tx_too_large', `${what}: ${bytes} bytes of calldata exceed ${MAX_TX_DATA_BYTES}; split the update`);
  const url = rpcUrl(signer);
  const from = await signer.getAddress();
  const hash = (await rpc(url, 'eth_sendTransaction', [{ from, to, data, gas: '0x' + UPDATE_GAS_LIMIT.toString(16) }], what)) as string;
  type RawReceipt = { status: string; gasUsed: string; logs: PeerReceipt['logs'] };
  const receipt = async (): Promise<RawReceipt | null> => (await rpc(url, 'eth_getTransactionReceipt', [hash], what)) as RawReceipt | null;
  let raw = await receipt();
  for (let tries = 1; !raw; tries++) {
    if (tries > 500) throw new PeerError('peer_update_unmined', `${what}: transaction ${hash} not mined after 500 receipt polls; is anvil automining?`);
    await new Promise((r) => setTimeout(r, 10));
    raw = await receipt();
  }
  if (Number(raw.status) !== 1) throw new PeerError('peer_update_reverted', `${what}: transaction ${hash} reverted (gasUsed ${BigInt(raw.gasUsed)})`);
  return { hash, status: 1, gasUsed: BigInt(raw.gasUsed), logs: raw.logs };
}

/** The JSON-RPC endpoint behind an ethers JSON-RPC signer (anvil's URL). */
function rpcUrl(signer: Signer): string {
  const provider = signer.provider as JsonRpcProvider | null;
  if (!provider || typeof provider._getConnection !== 'function') {
    throw new PeerError('peer_bad_signer', 'sendRaw: the signer must be a JsonRpcSigner of an anvil JsonRpcProvider (anvil.signer(i))');
  }
  return provider._getConnection().url;
}

let rpcId = 0;
async function rpc(url: string, method: string, params: unknown[], what: string): Promise<unknown> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: ++rpcId, method, params }) });
  const body = (await res.json()) as { result?: unknown; error?: { message: string; data?: unknown } };
  if (body.error) {
    const code = method === 'eth_sendTransaction' ? 'peer_update_reverted' : 'peer_rpc_failed';
    throw new PeerError(code, `${what}: ${method} failed (${body.error.message.slice(0, 300)})`);
  }
  return body.result;
}

/** The deterministic test price of feed `i` at update `step` (8 decimals, moves every step). */
export function testAnswer(feed: number, step: number, signer = 0): bigint {
  return 6_000_000_000_000n + BigInt(feed) * 1_000_000n + BigInt(step) * 10_000n + BigInt(signer);
}
