/**
 * `aegis chain` and `aegis venues serve` as a person trying Aegis by hand runs them: real
 * processes, read through their printed URLs, stopped with SIGTERM (and nothing left behind).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { JsonRpcProvider } from 'ethers';
import { createSource } from '../../node/sources/index.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** Starts `aegis ARGS`; resolves with the output once `until` matches it. */
function aegis(args: string[], until: RegExp): Promise<{ child: ChildProcess; out: () => string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/aegis.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    let err = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (until.test(out)) done({ child, out: () => out });
    });
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    child.on('exit', (code) => fail(new Error(`aegis ${args.join(' ')} exited ${code} before printing ${until}: ${out}${err}`)));
  });
}
const exit = (c: ChildProcess): Promise<number | null> => new Promise((r) => (c.exitCode !== null ? r(c.exitCode) : c.once('exit', (code) => r(code))));
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('aegis chain / aegis venues serve', () => {
  it('chain: a local chain with funded development accounts, stopped with its anvil on SIGTERM', async () => {
    const { child, out } = await aegis(['chain', '--port', '0', '--chain-id', '4242'], /Ctrl-C stops it/);
    const m = /chain 4242 at (http:\/\/127\.0\.0\.1:\d+) \(anvil pid (\d+)\)/.exec(out())!;
    expect(m).not.toBeNull();
    expect(out()).toContain('0  0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266  10000.0 ETH');
    const provider = new JsonRpcProvider(m[1]!, undefined, { staticNetwork: true });
    try {
      expect((await provider.getNetwork()).chainId).toBe(4242n);
    } finally {
      provider.destroy();
    }
    child.kill('SIGTERM');
    expect(await exit(child)).toBe(0);
    expect(out()).toContain('chain stopped');
    expect(alive(Number(m[2]))).toBe(false);
  });

  it('venues serve: the real formats on 127.0.0.1, read by the node\'s own source adapters', async () => {
    const { child, out } = await aegis(['venues', 'serve', '--port', '0', '--venues', 'binance,kraken', '--feeds', 'BTC/USD=50000', '--volatility', '0'], /Ctrl-C stops them/);
    for (const venue of ['binance', 'kraken'] as const) {
      const baseUrl = new RegExp(`${venue}: \\{ baseUrl: (http://127\\.0\\.0\\.1:\\d+\\S*) \\}`).exec(out())![1]!;
      const quote = await createSource(venue, { baseUrl }).fetch('BTC/USD');
      expect(quote.price).toBeGreaterThan(49_900);
      expect(quote.price).toBeLessThan(50_100);
    }
    child.kill('SIGTERM');
    expect(await exit(child)).toBe(0);
  });

  it('names a bad argument and its fix', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/aegis.ts', 'venues', 'serve', '--feeds', 'BTC-USD'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let err = '';
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    expect(await exit(child)).toBe(1);
    expect(err).toContain('error: --feeds "BTC-USD": expected BASE/QUOTE=START_PRICE, e.g. BTC/USD=60000');
  });
});
