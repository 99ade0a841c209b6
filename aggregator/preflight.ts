/**
 * `aegis aggregator check-config` against the chain: what `start` would find out only when the
 * first round fails. Each check is a line an operator can act on (the thing, the value, the
 * fix); nothing is sent, nothing needs a password (the transmitter address is read from the
 * keystore's public `address` field).
 */
import { readFileSync } from 'node:fs';
import { Contract, FetchRequest, formatEther, getAddress, JsonRpcProvider, Network } from 'ethers';
import { committeeConfigDigest } from '../protocol/committee.ts';
import { HUB_ABI } from './chain/hub-abi.ts';
import type { LoadedConfig } from './config.ts';

export interface PreflightCheck {
  name: string;
  ok: boolean;
  detail: string;
}

/** The transmitter's address from its Ethereum JSON keystore, without decrypting it. */
export function keystoreAddress(file: string): string | undefined {
  try {
    const a = (JSON.parse(readFileSync(file, 'utf8')) as { address?: unknown }).address;
    return typeof a === 'string' && /^(0x)?[0-9a-fA-F]{40}$/.test(a) ? getAddress(a.startsWith('0x') ? a : `0x${a}`) : undefined;
  } catch {
    return undefined;
  }
}

/** Asks the chain whether this config can run: chain id, hub code, committee digest, feeds, gas money. */
export async function preflight(loaded: LoadedConfig, o: { minBalanceWei?: bigint } = {}): Promise<PreflightCheck[]> {
  const c = loaded.config;
  const checks: PreflightCheck[] = [];
  const add = (name: string, ok: boolean, detail: string): boolean => {
    checks.push({ name, ok, detail });
    return ok;
  };
  const req = new FetchRequest(c.chain.rpcUrl);
  req.timeout = c.chain.rpcTimeoutMs;
  const provider = new JsonRpcProvider(req, undefined, { staticNetwork: Network.from(loaded.committee.chainId), batchMaxCount: 1 });
  try {
    let chainId: bigint;
    try {
      chainId = BigInt((await provider.send('eth_chainId', [])) as string);
    } catch (err) {
      add('rpc', false, `chain.rpcUrl ${c.chain.rpcUrl}: no answer (${(err as Error).message.split('\n')[0]}); check the URL and that the node is up`);
      return checks;
    }
    if (!add('chainId', chainId === BigInt(loaded.committee.chainId), chainId === BigInt(loaded.committee.chainId) ? `${chainId}` : `the RPC serves chain ${chainId}, the committee file says ${loaded.committee.chainId}; point chain.rpcUrl at chain ${loaded.committee.chainId}`)) return checks;
    const code = await provider.getCode(loaded.hub);
    if (!add('hub', code !== '0x', code !== '0x' ? `${loaded.hub} has code (${(code.length - 2) / 2} bytes)` : `no contract at ${loaded.hub} on chain ${chainId}; deploy the hub or fix "hub" in the committee file`)) return checks;
    const hub = new Contract(loaded.hub, HUB_ABI, provider);
    const expected = committeeConfigDigest(loaded.committee).toLowerCase();
    let onChain: string;
    try {
      onChain = String(await hub.getFunction('configDigest').staticCall()).toLowerCase();
    } catch (err) {
      add('configDigest', false, `${loaded.hub} does not answer configDigest() (${(err as Error).message.split('\n')[0]}); is it an Aegis hub?`);
      return checks;
    }
    add(
      'configDigest',
      onChain === expected,
      onChain === expected
        ? `${expected} (committee version ${loaded.committee.configVersion})`
        : `the hub has ${onChain}, the committee file gives ${expected}; use the committee file the hub was deployed or last rotated with (configVersion ${loaded.committee.configVersion} in the file)`,
    );
    for (const [k, f] of c.feeds.entries()) {
      const id = loaded.feedIds[k]!;
      const [, , , roundId, status] = (await hub.getFunction('tryRead').staticCall(id)) as [bigint, bigint, bigint, bigint, bigint];
      add(`feed ${f.name}`, status !== 0n, status !== 0n ? `on the hub (round ${roundId}, status ${Number(status)})` : `feed ${f.name} (${id}) is not on the hub; add it with the hub's addFeed (guardian) or remove it from "feeds"`);
    }
    const address = keystoreAddress(c.transmitter.path);
    if (address === undefined) {
      add('transmitter', false, `transmitter.path ${c.transmitter.path}: no address in the keystore; create it with \`aegis aggregator keys create\``);
    } else {
      const balance = await provider.getBalance(address);
      const min = o.minBalanceWei ?? 1n;
      add('transmitter', balance >= min, balance >= min ? `${address} holds ${formatEther(balance)} ETH` : `${address} holds ${formatEther(balance)} ETH; fund it before starting (every post costs gas)`);
    }
    return checks;
  } finally {
    provider.destroy();
  }
}
