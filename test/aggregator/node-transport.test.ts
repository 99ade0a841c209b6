import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeHttpTransport } from '../../aggregator/node-transport.ts';

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
