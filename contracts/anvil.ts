/**
 * Starts a local anvil (the binary shipped in the npm package `@foundry-rs/anvil`) on a free
 * loopback port, waits until it answers JSON-RPC, and stops exactly that process: `stop()`
 * kills its PID, and a process `exit` hook kills it too if the caller forgot. Default
 * hardfork is anvil's latest (mainnet rules: EIP-2537 BLS12-381 precompiles).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { JsonRpcProvider, Network, Wallet, type JsonRpcSigner } from 'ethers';
import { CodedError } from '../runtime/coded-error.ts';
import { ROOT } from './compile.ts';

export const ANVIL_BIN = join(ROOT, 'node_modules', '@foundry-rs', 'anvil-linux-amd64', 'bin', 'anvil');

/** Anvil's default mnemonic keys (public test keys, funded with 10,000 ETH on anvil only). */
export const ANVIL_KEYS = [
  '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
  '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
  '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a',
  '0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6',
] as const;

export interface AnvilOptions {
  /** Port to listen on; default 0 (the OS picks a free one). */
  port?: number;
  /** Chain id; default 31337. */
  chainId?: number;
  /** Seconds between blocks; default automine. */
  blockTime?: number;
  /** Hardfork name; default anvil's latest. */
  hardfork?: string;
  /** Block gas limit; default anvil's. */
  gasLimit?: bigint;
  /** Extra command-line arguments. */
  args?: string[];
  /** Milliseconds to wait for readiness; default 20,000. */
  timeoutMs?: number;
}

export interface Anvil {
  url: string;
  port: number;
  pid: number;
  chainId: number;
  provider: JsonRpcProvider;
  /** Unlocked anvil account `i` as a JSON-RPC signer. */
  signer(i?: number): Promise<JsonRpcSigner>;
  /** A local wallet for anvil account `i` (0..3), connected to `provider`. */
  wallet(i?: number): Wallet;
  /** Sets the next block's timestamp (and mines nothing). */
  setNextTimestamp(ts: bigint | number): Promise<void>;
  /** Advances time by `seconds` and mines a block. */
  increaseTime(seconds: number): Promise<void>;
  /** Latest block timestamp. */
  now(): Promise<bigint>;
  /** Kills the process started here and waits for it to exit. Idempotent. */
  stop(): Promise<void>;
}

export class AnvilError extends CodedError<'anvil_failed'> {
  override readonly name = 'AnvilError';
  constructor(message: string) {
    super('anvil_failed', message);
  }
}

const running = new Set<ChildProcess>();
let hooked = false;
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const c of running) if (c.pid !== undefined && c.exitCode === null) c.kill('SIGKILL');
  });
}

export async function startAnvil(opts: AnvilOptions = {}): Promise<Anvil> {
  if (!existsSync(ANVIL_BIN)) throw new AnvilError(`anvil binary not found at ${ANVIL_BIN}: run npm ci (devDependency @foundry-rs/anvil)`);
  const chainId = opts.chainId ?? 31337;
  const args = ['--host', '127.0.0.1', '--port', String(opts.port ?? 0), '--chain-id', String(chainId)];
  if (opts.blockTime !== undefined) args.push('--block-time', String(opts.blockTime));
  if (opts.hardfork) args.push('--hardfork', opts.hardfork);
  if (opts.gasLimit !== undefined) args.push('--gas-limit', String(opts.gasLimit));
  args.push(...(opts.args ?? []));
  if (!existsSync(ANVIL_BIN)) {
    throw new AnvilError(`anvil is not installed at ${ANVIL_BIN}: it comes with the @foundry-rs/anvil package, a development dependency; run npm install in the Aegis checkout (an installed CLI serves nodes and aggregators, not local chains)`);
  }
  const child = spawn(ANVIL_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  hookExit();
  running.add(child);
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  const stopChild = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    }
    running.delete(child);
  };

  let log = '';
  const port = await new Promise<number>((res, rej) => {
    const timer = setTimeout(() => rej(new AnvilError(`anvil did not report a listening port within ${opts.timeoutMs ?? 20_000} ms; output: ${log.slice(-500)}`)), opts.timeoutMs ?? 20_000);
    const onData = (buf: Buffer): void => {
      log += buf.toString();
      const m = /Listening on 127\.0\.0\.1:(\d+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        child.stdout!.resume(); // keep draining so anvil never blocks on a full pipe
        res(Number(m[1]));
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (b: Buffer) => (log += b.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      rej(new AnvilError(`anvil exited with code ${code} before listening; output: ${log.slice(-500)}`));
    });
  }).catch(async (err) => {
    await stopChild();
    throw err;
  });

  const url = `http://127.0.0.1:${port}`;
  const network = Network.from(chainId);
  const provider = new JsonRpcProvider(url, network, { staticNetwork: network, pollingInterval: 20, cacheTimeout: -1 });
  // anvil's estimate is exact for the block it simulates, but a read of a price's age costs a
  // few more gas once the next block's time has moved past its observedAt, so an unpadded
  // estimate runs out of gas now and then. Wallets pad it; so does the aggregator's transmitter.
  // The padding never passes the block's gas limit: a call that needs most of a block (a Uniswap
  // pool growing its observation ring) would otherwise be refused as "intrinsic gas too high".
  const estimate = provider.estimateGas.bind(provider);
  let blockGasLimit: bigint | undefined = opts.gasLimit;
  provider.estimateGas = async (tx) => {
    const exact = await estimate(tx);
    blockGasLimit ??= (await provider.getBlock('latest'))?.gasLimit;
    const padded = (exact * 5n) / 4n;
    return blockGasLimit !== undefined && padded > blockGasLimit ? (exact > blockGasLimit ? exact : blockGasLimit) : padded;
  };
  try {
    const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
    for (;;) {
      try {
        await provider.send('eth_chainId', []);
        break;
      } catch (err) {
        if (Date.now() > deadline) throw new AnvilError(`anvil at ${url} did not answer eth_chainId: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  } catch (err) {
    provider.destroy();
    await stopChild();
    throw err;
  }

  return {
    url,
    port,
    pid: child.pid!,
    chainId,
    provider,
    signer: (i = 0) => provider.getSigner(i),
    wallet: (i = 0) => {
      const key = ANVIL_KEYS[i];
      if (!key) throw new AnvilError(`anvil wallet ${i}: only 0..${ANVIL_KEYS.length - 1} are available; use signer(i) for more`);
      return new Wallet(key, provider);
    },
    setNextTimestamp: async (ts) => {
      await provider.send('evm_setNextBlockTimestamp', [Number(ts)]);
    },
    increaseTime: async (seconds) => {
      await provider.send('evm_increaseTime', [seconds]);
      await provider.send('evm_mine', []);
    },
    now: async () => BigInt((await provider.getBlock('latest'))!.timestamp),
    stop: async () => {
      provider.destroy();
      await stopChild();
    },
  };
}
