/**
 * The dashboard's server routes on a real express server, a real anvil and a real SQLite
 * store: the JSON-RPC pass-through forwards reads and refuses anything that writes or signs
 * (the aggregator's RPC may hold a funded account), and the API names what is wrong.
 */
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAnvil, type Anvil } from '../../contracts/anvil.ts';
import { dashboardRoutes, READ_ONLY_METHODS } from '../../aggregator/dashboard/routes.ts';
import { AggregatorMetrics } from '../../aggregator/metrics.ts';
import { RoundStore } from '../../aggregator/store.ts';
import type { AggregatorService } from '../../aggregator/service.ts';
import type { Committee } from '../../protocol/index.ts';

describe('dashboard routes', () => {
  let anvil: Anvil;
  let server: Server;
  let store: RoundStore;
  let metrics: AggregatorMetrics;
  let base: string;

  beforeAll(async () => {
    anvil = await startAnvil();
    store = new RoundStore(':memory:');
    metrics = new AggregatorMetrics();
    const committee = { chainId: 31337n, hub: '0x' + '11'.repeat(20), configVersion: 1n, t: 1, nodes: [{ index: 1 }], aggregators: [] } as unknown as Committee;
    // Only /config reads the service, and only its status(); the rest is the real store and chain.
    const service = { status: () => ({ name: 'test', role: 'active', feeds: [] }) } as unknown as AggregatorService;
    const app = express();
    app.use('/dashboard', dashboardRoutes({ service, store, metrics, dashboard: { provider: anvil.provider, committee, hub: committee.hub, nodeUrls: new Map(), staticDir: join(tmpdir(), 'aegis-no-such-dashboard-dist') } }));
    server = createServer(app);
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const a = server.address();
    base = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}/dashboard`;
  });

  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise<void>((ok) => (server ? server.close(() => ok()) : ok()));
    store?.close();
    metrics?.close();
    await anvil?.stop();
  });

  const rpc = async (body: unknown) => (await fetch(`${base}/api/rpc`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json() as Promise<unknown>;

  it('forwards reads, alone and in batches', async () => {
    expect(await rpc({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] })).toEqual({ jsonrpc: '2.0', id: 1, result: '0x7a69' });
    const batch = (await rpc([
      { jsonrpc: '2.0', id: 1, method: 'eth_blockNumber', params: [] },
      { jsonrpc: '2.0', id: 2, method: 'eth_getBalance', params: [anvil.wallet(0).address, 'latest'] },
    ])) as { id: number; result: string }[];
    expect(batch.map((r) => r.id)).toEqual([1, 2]);
    expect(BigInt(batch[1]!.result)).toBeGreaterThan(0n);
  });

  it('refuses every method that writes, signs or lists accounts, naming the allowed ones', async () => {
    const before = await anvil.provider.getBlockNumber();
    for (const method of ['eth_sendTransaction', 'eth_sendRawTransaction', 'eth_sign', 'personal_sign', 'eth_accounts', 'anvil_setBalance', 'evm_mine', 'debug_traceCall']) {
      const r = (await rpc({ jsonrpc: '2.0', id: 7, method, params: [{ from: anvil.wallet(0).address, to: anvil.wallet(1).address, value: '0x1' }] })) as { error: { code: number; message: string } };
      expect(r.error.code, method).toBe(-32601);
      expect(r.error.message).toContain(`method ${method} is not forwarded`);
      expect(r.error.message).toContain('eth_call');
    }
    expect(await anvil.provider.getBlockNumber()).toBe(before);
    expect(READ_ONLY_METHODS.has('eth_sendRawTransaction')).toBe(false);
  });

  it('refuses batches over 500 calls', async () => {
    const res = await fetch(`${base}/api/rpc`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(Array.from({ length: 501 }, (_, id) => ({ jsonrpc: '2.0', id, method: 'eth_chainId', params: [] }))) });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/batch of 501 calls; at most 500/);
  });

  it('names a bad or unknown epoch, an unknown endpoint and a missing build', async () => {
    const bad = await fetch(`${base}/api/rounds/12x`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/epoch 12x: expected a decimal integer/);
    const none = await fetch(`${base}/api/rounds/123`);
    expect(none.status).toBe(404);
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe('no_round');
    const unknown = await fetch(`${base}/api/nope`);
    expect(unknown.status).toBe(404);
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(503);
    expect(await page.text()).toMatch(/dashboard not built: .* run npm run build:dashboard/);
  });

  it('streams server-sent events to several pages at once', async () => {
    const open = async () => {
      const ac = new AbortController();
      const res = await fetch(`${base}/api/events`, { signal: ac.signal });
      expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
      const reader = res.body!.getReader();
      const first = new TextDecoder().decode((await reader.read()).value);
      return { first, close: () => ac.abort() };
    };
    const a = await open();
    const b = await open();
    expect(a.first).toContain('retry: 1000');
    expect(b.first).toContain('retry: 1000');
    a.close();
    b.close();
  });

  it('serves its config from the committee and the service', async () => {
    const c = (await (await fetch(`${base}/api/config`)).json()) as { mode: string; chainId: string; committee: { n: number; t: number } };
    expect(c).toMatchObject({ mode: 'aggregator', chainId: '31337', committee: { n: 1, t: 1 } });
    const rounds = (await (await fetch(`${base}/api/rounds`)).json()) as { rounds: unknown[] };
    expect(rounds.rounds).toEqual([]);
  });
});
