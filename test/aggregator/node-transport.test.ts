import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NodeConnectionError, nodeHttpTransport } from '../../aggregator/node-transport.ts';
import { listenOn, type Listening } from '../../protocol/listen.ts';
import { makeTlsFixture, pem, TLS_SKIP, type TlsFixture } from '../fixtures/tls.ts';

/** A loopback server that records what it received and the connections it accepted. */
async function recordingServer(handle: (req: IncomingMessage, body: Buffer, res: import('node:http').ServerResponse) => void): Promise<{ url: string; server: Server; connections: () => number }> {
  let connections = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, Buffer.concat(chunks), res));
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, connections: () => connections };
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

describe('aggregator node transport (node:http, keep-alive)', () => {
  it('sends the exact body and headers, returns status and text, and reuses one connection', async () => {
    const seen: { method?: string; headers: IncomingMessage['headers']; body: Buffer }[] = [];
    const srv = await recordingServer((req, body, res) => {
      seen.push({ method: req.method, headers: req.headers, body });
      res.writeHead(req.url === '/refuse' ? 409 : 200, { 'content-type': 'application/json' }).end(JSON.stringify({ echo: body.length, text: 'π' }));
    });
    servers.push(srv.server);
    const post = nodeHttpTransport();
    try {
      const body = new TextEncoder().encode('{"a":"ü"}');
      const signal = new AbortController().signal;
      const first = await post(`${srv.url}/v1/sign`, { headers: { 'content-type': 'application/json', 'x-aegis-key': 'ab' }, body, signal });
      const second = await post(`${srv.url}/refuse`, { headers: {}, body, signal });
      expect(first).toEqual({ status: 200, text: JSON.stringify({ echo: body.length, text: 'π' }) });
      expect(second.status).toBe(409);
      expect(seen[0]).toMatchObject({ method: 'POST', headers: { 'content-type': 'application/json', 'x-aegis-key': 'ab', 'content-length': String(body.length) } });
      expect(new Uint8Array(seen[0]!.body)).toEqual(body);
      expect(srv.connections()).toBe(1);
    } finally {
      post.close();
    }
  });

  it('ends the request when the signal aborts, and rejects with the reason', async () => {
    let closed!: () => void;
    const serverSawClose = new Promise<void>((r) => (closed = r));
    const srv = await recordingServer((req) => req.socket.on('close', closed)); // never answers
    servers.push(srv.server);
    const post = nodeHttpTransport();
    try {
      const ac = new AbortController();
      const pending = post(`${srv.url}/v1/sign`, { headers: {}, body: new Uint8Array([1]), signal: ac.signal });
      setTimeout(() => ac.abort(new Error('round over')), 50);
      await expect(pending).rejects.toThrow('round over');
      await serverSawClose;
      await expect(post(`${srv.url}/x`, { headers: {}, body: new Uint8Array(), signal: AbortSignal.abort(new Error('already')) })).rejects.toThrow('already');
    } finally {
      post.close();
    }
  });

  it('rejects when nothing listens', async () => {
    const post = nodeHttpTransport();
    try {
      await expect(post('http://127.0.0.1:1/v1/observe', { headers: {}, body: new Uint8Array(), signal: new AbortController().signal })).rejects.toThrow(/ECONNREFUSED/);
    } finally {
      post.close();
    }
  });

  it('drops an idle connection after idleMs and opens a new one for the next request', async () => {
    const srv = await recordingServer((_req, _body, res) => res.end('{}'));
    servers.push(srv.server);
    const post = nodeHttpTransport({ idleMs: 50 });
    try {
      const signal = new AbortController().signal;
      await post(`${srv.url}/a`, { headers: {}, body: new Uint8Array(), signal });
      await new Promise((r) => setTimeout(r, 200));
      await post(`${srv.url}/b`, { headers: {}, body: new Uint8Array(), signal });
      expect(srv.connections()).toBe(2);
    } finally {
      post.close();
    }
  });
});

describe.skipIf(TLS_SKIP !== undefined)(`aggregator node transport over TLS, pinned per node${TLS_SKIP ? ` (${TLS_SKIP})` : ''}`, () => {
  let dir: string;
  let tls: TlsFixture;
  const open: Listening[] = [];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'aegis-transport-tls-'));
    tls = makeTlsFixture(dir);
  });
  afterAll(async () => {
    for (const l of open.splice(0)) {
      l.server.closeAllConnections();
      await new Promise((r) => l.server.close(r));
    }
    rmSync(dir, { recursive: true, force: true });
  });

  /** A TLS server answering `{}` that counts the requests it received. */
  async function tlsServer(cert: string, key: string): Promise<{ url: string; requests: () => number }> {
    let requests = 0;
    const l = await listenOn(
      (req, res) => {
        requests++;
        req.resume();
        req.on('end', () => res.end('{}'));
      },
      { host: '127.0.0.1', port: 0, tls: { cert: pem(cert), key: pem(key) } },
    );
    open.push(l);
    return { url: l.url, requests: () => requests };
  }
  const body = new Uint8Array([1, 2, 3]);
  const signal = new AbortController().signal;

  it('posts to a node whose certificate chains to the pinned CA, or matches the pinned fingerprint, over one kept-alive connection', async () => {
    const node = await tlsServer(tls.cert, tls.key);
    const transport = nodeHttpTransport();
    try {
      expect(node.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const byCa = transport.forNode(node.url, { ca: pem(tls.ca) });
      expect(await byCa(`${node.url}/v1/observe`, { headers: {}, body, signal })).toEqual({ status: 200, text: '{}' });
      expect(await byCa(`${node.url}/v1/sign`, { headers: {}, body, signal })).toEqual({ status: 200, text: '{}' });
      const byBoth = transport.forNode(node.url, { ca: pem(tls.ca), certSha256: tls.certSha256 });
      expect((await byBoth(`${node.url}/v1/observe`, { headers: {}, body, signal })).status).toBe(200);
      expect(node.requests()).toBe(3);
      // the plain-http path is the transport itself, whatever the pins of other nodes
      expect(transport.forNode('http://127.0.0.1:1')).toBe(transport);
    } finally {
      transport.close();
    }
  });

  it('refuses a node presenting another certificate (tls_pin_mismatch) before sending it a byte of the request', async () => {
    const impostor = await tlsServer(tls.impostorCert, tls.impostorKey);
    const transport = nodeHttpTransport();
    try {
      const byCa = transport.forNode(impostor.url, { ca: pem(tls.ca) });
      const err1 = await byCa(`${impostor.url}/v1/observe`, { headers: {}, body, signal }).catch((e: unknown) => e);
      expect(err1).toBeInstanceOf(NodeConnectionError);
      expect(err1).toMatchObject({ code: 'tls_pin_mismatch', message: expect.stringMatching(/certificate refused \(DEPTH_ZERO_SELF_SIGNED_CERT.*against the pinned tls\.ca/) });
      // the impostor's certificate as CA, so the chain verifies: the fingerprint still refuses it
      const byPrint = transport.forNode(impostor.url, { ca: pem(tls.impostorCert), certSha256: tls.certSha256 });
      const err2 = await byPrint(`${impostor.url}/v1/observe`, { headers: {}, body, signal }).catch((e: unknown) => e);
      expect(err2).toMatchObject({ name: 'NodeConnectionError', code: 'tls_pin_mismatch', message: expect.stringMatching(/\(subject impostor\) is not the pinned tls\.certSha256/) });
      expect(impostor.requests()).toBe(0);
    } finally {
      transport.close();
    }
  });

  it('names a plain-http server at an https URL (tls_handshake_failed) and a connection that never completes (connect_timeout)', async () => {
    const plain = await recordingServer((_req, _body, res) => res.end('{}'));
    servers.push(plain.server);
    const silent = createNetServer(() => undefined); // accepts TCP, never answers the TLS hello
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const transport = nodeHttpTransport({ connectTimeoutMs: 200 });
    try {
      const httpsUrl = plain.url.replace('http:', 'https:');
      const err = await transport.forNode(httpsUrl, { ca: pem(tls.ca) })(`${httpsUrl}/v1/observe`, { headers: {}, body, signal }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'tls_handshake_failed', message: expect.stringMatching(/check that the node serves TLS \(listen\.tls in its config\)/) });
      const silentUrl = `https://127.0.0.1:${(silent.address() as AddressInfo).port}`;
      const t0 = Date.now();
      const slow = await transport.forNode(silentUrl, { ca: pem(tls.ca) })(`${silentUrl}/v1/observe`, { headers: {}, body, signal }).catch((e: unknown) => e);
      expect(slow).toMatchObject({ code: 'connect_timeout', message: expect.stringMatching(/within nodeTransport\.connectTimeoutMs 200 ms \(TCP and TLS handshake\)/) });
      expect(Date.now() - t0).toBeLessThan(2_000);
      // plain http with a connect timeout still works, on the transport's shared agent
      expect((await transport(`${plain.url}/x`, { headers: {}, body, signal })).status).toBe(200);
    } finally {
      transport.close();
      silent.close();
    }
  });
});
