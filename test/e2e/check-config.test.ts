/**
 * `aegis aggregator check-config` asks the chain what `start` would only find out when the
 * first round fails: the hub's committee digest, the feeds, the transmitter's gas money, the
 * chain id and the RPC itself. Against a real devnet (anvil, hub, nodes).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '../../aggregator/config.ts';
import { preflight } from '../../aggregator/preflight.ts';
import { startAggregator } from '../../aggregator/start.ts';
import { createServer } from 'node:net';
import { freePort, setupNetwork, type E2eNetwork } from './harness.ts';

const ROOT = resolve(import.meta.dirname, '../..');
let net: E2eNetwork;

beforeAll(async () => {
  net = await setupNetwork({ n: 4, t: 3 });
});
afterAll(async () => {
  await net?.close();
});

const failed = (checks: { name: string; ok: boolean; detail: string }[]) => checks.filter((c) => !c.ok);

describe('aggregator check-config against the chain', () => {
  it('passes a config the hub serves, naming the digest, each feed and the balance', async () => {
    const checks = await preflight(loadConfig(net.aggregatorConfig(0)));
    expect(failed(checks)).toEqual([]);
    expect(checks.map((c) => c.name)).toEqual(['chainId', 'hub', 'configDigest', 'feed BTC/USD', 'feed ETH/USD', 'transmitter']);
    expect(checks.find((c) => c.name === 'configDigest')!.detail).toContain(net.configDigest.toLowerCase());
  });

  it('fails a committee file the hub does not have, a feed not on the hub, and an unfunded transmitter', async () => {
    const committee = JSON.parse(readFileSync(net.committeeFile, 'utf8')) as { configVersion: number };
    const other = join(net.dir, 'committee-v-next.json');
    writeFileSync(other, JSON.stringify({ ...committee, configVersion: committee.configVersion + 1 }));
    const file = net.aggregatorConfig(0, {
      committee: other,
      feeds: [{ name: 'BTC/USD', deviationPct: 0.5, heartbeatSec: 1 }, { name: 'DOGE/USD', deviationPct: 0.5, heartbeatSec: 1 }],
    });
    const address = net.transmitterAddress(0);
    const before = (await net.anvil.provider.send('eth_getBalance', [address, 'latest'])) as string;
    await net.anvil.provider.send('anvil_setBalance', [address, '0x0']);
    try {
      const bad = failed(await preflight(loadConfig(file)));
      expect(bad.map((c) => c.name)).toEqual(['configDigest', 'feed DOGE/USD', 'transmitter']);
      expect(bad[0]!.detail).toMatch(/the hub has 0x[0-9a-f]{64}, the committee file gives 0x[0-9a-f]{64}; use the committee file/);
      expect(bad[1]!.detail).toContain('is not on the hub');
      expect(bad[2]!.detail).toContain(`${address} holds 0.0 ETH; fund it`);
    } finally {
      await net.anvil.provider.send('anvil_setBalance', [address, before]);
    }
  });

  it('names an RPC that does not answer, and the CLI exits 1 with the failing line', async () => {
    const port = await freePort();
    const file = net.aggregatorConfig(0, { chain: { rpcUrl: `http://127.0.0.1:${port}`, rpcTimeoutMs: 2000, maxFeePerGasGwei: 100, replaceAfterSec: 10 } });
    const bad = failed(await preflight(loadConfig(file)));
    expect(bad.map((c) => c.name)).toEqual(['rpc']);
    expect(bad[0]!.detail).toContain(`chain.rpcUrl http://127.0.0.1:${port}: no answer`);
    const run = promisify(execFile);
    const err = await run(process.execPath, ['--import', 'tsx', 'scripts/aegis.ts', 'aggregator', 'check-config', '-c', file], { cwd: ROOT }).then(
      () => undefined,
      (e: { code: number; stdout: string }) => e,
    );
    expect(err?.code).toBe(1);
    expect(err?.stdout).toMatch(/^ok {3}files: 4 nodes, t=3/m);
    expect(err?.stdout).toMatch(/^FAIL rpc: chain\.rpcUrl/m);
    // A config that cannot be read: one line in the node's error form, exit 1.
    const missing = await run(process.execPath, ['--import', 'tsx', 'scripts/aegis.ts', 'aggregator', 'check-config', '-c', join(net.dir, 'nope.yaml')], { cwd: ROOT }).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(missing?.code).toBe(1);
    expect(missing?.stderr).toBe(`error (bad_config): config ${join(net.dir, 'nope.yaml')}: cannot read it (ENOENT)\n`);
  });

  it('start refuses a listen port that is taken instead of running without its API', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
    const port = (taken.address() as { port: number }).port;
    try {
      const file = net.aggregatorConfig(0, { listen: { port } });
      await expect(startAggregator(file, { run: false })).rejects.toThrow(`cannot listen on 127.0.0.1:${port} (EADDRINUSE: the port is taken); pick a free port in listen.port`);
    } finally {
      await new Promise((r) => taken.close(r));
    }
  });
});
