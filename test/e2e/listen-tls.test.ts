/**
 * Processes that could live on separate machines, on loopback: three real nodes (t = 2) and an
 * aggregator, each bound to another address. Node 1 listens on 127.0.0.2 (Linux routes all of
 * 127/8 to lo, so it is a real address other than 127.0.0.1, and still loopback: no warning);
 * node 2 on 0.0.0.0, reached at 127.0.0.1 (warned: reachable from other machines); node 3 over
 * TLS with a CA-issued certificate, pinned in the committee file; the aggregator serves its
 * API over TLS on 127.0.0.2. A round goes through all three; then node 3 comes back with an
 * impostor's certificate and is excluded as `tls_pin_mismatch` while the round still signs.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../aggregator/config.ts';
import { startAggregator, type RunningAggregator } from '../../aggregator/start.ts';
import type { TickOutcome } from '../../aggregator/service.ts';
import { startDkgServer } from '../../node/dkg/server.ts';
import { makeTlsFixture, pem, TLS_SKIP, type TlsFixture } from '../fixtures/tls.ts';
import { setupNetwork, sleep, type E2eNetwork } from './harness.ts';

/** A pino logger keeping its JSON lines, to assert what was logged. */
function capture(): { logger: Logger; lines: { level: number; msg: string; url?: string; host?: string }[] } {
  const lines: { level: number; msg: string; url?: string; host?: string }[] = [];
  return { lines, logger: pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) }) };
}
const WARN = 40;
const exposure = (lines: { level: number; msg: string }[]) => lines.filter((l) => l.level === WARN && /is not a loopback address/.test(l.msg));

/** GET over https trusting only `ca`. */
function httpsGet(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, { ca }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

describe.skipIf(TLS_SKIP !== undefined)(`nodes and aggregator on other addresses, over TLS${TLS_SKIP ? ` (${TLS_SKIP})` : ''}`, () => {
  let net: E2eNetwork;
  let agg: RunningAggregator;
  let nodeTls: TlsFixture;
  let aggTls: TlsFixture;
  const nodeLogs = new Map<number, ReturnType<typeof capture>>();
  const aggLog = capture();
  let certs: string;

  async function tick(): Promise<Extract<TickOutcome, { kind: 'round' }>> {
    await sleep(1100); // nodes snapshot every second; a newer observedAt makes the heartbeat due
    const out = await agg.service.tick();
    if (out.kind !== 'round') throw new Error(`expected a round, got ${out.kind}`);
    return out;
  }

  beforeAll(async () => {
    certs = mkdtempSync(join(tmpdir(), 'aegis-e2e-tls-'));
    nodeTls = makeTlsFixture(join(certs, 'node3'), ['127.0.0.1']);
    aggTls = makeTlsFixture(join(certs, 'agg'), ['127.0.0.2']);
    // node 3 reads listen.tls from these copies, so the test can swap in the impostor's pair
    copyFileSync(nodeTls.cert, join(certs, 'node3', 'serving.pem'));
    copyFileSync(nodeTls.key, join(certs, 'node3', 'serving.key'));
    net = await setupNetwork({
      n: 3,
      t: 2,
      listen: (i) =>
        i === 1
          ? { host: '127.0.0.2' }
          : i === 2
            ? { host: '0.0.0.0', urlHost: '127.0.0.1' }
            : { host: '127.0.0.1', tls: { cert: join(certs, 'node3', 'serving.pem'), key: join(certs, 'node3', 'serving.key') }, pin: { ca: nodeTls.ca } },
      nodeLogger: (i) => {
        const c = capture();
        nodeLogs.set(i, c);
        return c.logger;
      },
    });
    const file = net.aggregatorConfig(0, { listen: { host: '127.0.0.2', port: 0, tls: { cert: aggTls.cert, key: aggTls.key } } });
    agg = await startAggregator(loadConfig(file), { run: false, logger: aggLog.logger });
  }, 120_000);

  afterAll(async () => {
    await agg?.stop();
    await net?.close();
    if (certs) rmSync(certs, { recursive: true, force: true });
  });

  it('runs a round through a node on 127.0.0.2, a node bound to 0.0.0.0 and a pinned TLS node, and serves the aggregator API over TLS on 127.0.0.2', async () => {
    const out = await tick();
    expect(out.round.status).toBe('signed');
    expect(out.round.participants.observed).toEqual([1, 2, 3]);
    expect(out.transmission?.status).toBe('accepted');

    expect(agg.url).toMatch(/^https:\/\/127\.0\.0\.2:\d+$/);
    const rounds = await httpsGet(`${agg.url}/v1/rounds?limit=1`, pem(aggTls.ca));
    expect(rounds.status).toBe(200);
    expect(JSON.parse(rounds.body).rounds[0].epoch).toBe(out.round.epoch.toString());
    expect(aggLog.lines.some((l) => l.msg === `aggregator listening on ${agg.url}`)).toBe(true);
    expect(exposure(aggLog.lines)).toEqual([]);

    // the URL each node logs carries its configured host; only 0.0.0.0 is warned about
    expect(nodeLogs.get(1)!.lines.find((l) => /listening on/.test(l.msg))!.url).toMatch(/^http:\/\/127\.0\.0\.2:\d+$/);
    expect(nodeLogs.get(3)!.lines.find((l) => /listening on/.test(l.msg))!.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(exposure(nodeLogs.get(1)!.lines)).toEqual([]);
    expect(exposure(nodeLogs.get(3)!.lines)).toEqual([]);
    const [warning] = exposure(nodeLogs.get(2)!.lines);
    expect(warning?.msg).toMatch(/^listen\.host 0\.0\.0\.0 is not a loopback address: the node API at http:\/\/0\.0\.0\.0:\d+ is reachable from other machines; serve it over TLS \(listen\.tls: \{ cert, key \}\) and let only .* through a firewall to this port$/);
  });

  it('excludes a node presenting a certificate other than the pinned one (tls_pin_mismatch), and the round still signs', async () => {
    copyFileSync(nodeTls.impostorCert, join(nodeTls.cert, '..', 'serving.pem'));
    copyFileSync(nodeTls.impostorKey, join(nodeTls.cert, '..', 'serving.key'));
    await net.startNode(3);
    const out = await tick();
    expect(out.round.status).toBe('signed');
    expect(out.round.participants.observed).toEqual([1, 2]);
    const ex = out.round.excluded.find((e) => e.index === 3);
    expect(ex).toMatchObject({ phase: 'observe', code: 'tls_pin_mismatch' });
    expect(ex!.reason).toMatch(/^node 3: observe failed: node 3 \(https:\/\/127\.0\.0\.1:\d+\/v1\/observe\): request failed \(certificate refused \(DEPTH_ZERO_SELF_SIGNED_CERT: self-signed certificate\) against the pinned tls\.ca; .*update the node's tls in the committee file\)$/);
    expect(out.transmission?.status).toBe('accepted');
  });

  it('warns about an aggregator and a DKG-only server bound to 0.0.0.0, both reached at 127.0.0.1', async () => {
    const log = capture();
    const wide = await startAggregator(loadConfig(net.aggregatorConfig(1, { listen: { host: '0.0.0.0', port: 0 } })), { run: false, logger: log.logger });
    try {
      expect(wide.url).toMatch(/^http:\/\/0\.0\.0\.0:\d+$/);
      expect((await fetch(`http://127.0.0.1:${wide.http.port}/v1/health`)).status).toBeLessThan(600);
      expect(exposure(log.lines)[0]?.msg).toMatch(/^listen\.host 0\.0\.0\.0 is not a loopback address: the aggregator API at http:\/\/0\.0\.0\.0:\d+ is reachable from other machines; serve it over TLS/);
    } finally {
      await wide.stop();
    }
    const dkgLog = capture();
    const dkg = await startDkgServer(join(net.dir, 'node1', 'node.yaml'), { host: '0.0.0.0', port: 0, logger: dkgLog.logger });
    try {
      expect(dkg.url).toMatch(/^http:\/\/0\.0\.0\.0:\d+$/);
      const res = await fetch(`http://127.0.0.1:${dkg.port}/v1/health`);
      expect(await res.json()).toMatchObject({ status: 'ok', dkgOnly: true });
      expect(exposure(dkgLog.lines)[0]?.msg).toMatch(/^--host 0\.0\.0\.0 is not a loopback address: the DKG ceremony API at http:\/\/0\.0\.0\.0:\d+ is reachable from other machines/);
    } finally {
      await dkg.close();
    }
    await expect(startDkgServer(join(net.dir, 'node1', 'node.yaml'), { host: 'node1.example', port: 0 })).rejects.toThrow(/--host: "node1\.example" is not an IP address/);
  });
});
