/**
 * A loopback HTTP server that answers recorded venue responses, so adapter tests go through a
 * real socket and the real axios stack instead of a mocked client.
 *
 * Responses are queued per test; the last one repeats once the queue is down to it. Every
 * request is recorded (path with query) so tests can check what the adapter asked for.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export interface RecordedResponse {
  status: number;
  headers?: Record<string, string>;
  /** JSON value, or a string sent as-is (HTML pages). */
  body: unknown;
  /** Delay before answering, for timeout tests. */
  delayMs?: number;
}

export interface Fixture extends RecordedResponse {
  request: string;
  expect: Record<string, unknown> & { feed: string; kind?: string };
}

export const FIXTURE_DIR = join(import.meta.dirname, '..', 'fixtures', 'exchanges');

/** All fixtures of a venue, by file name without `.json`. */
export function loadFixtures(venue: string): Record<string, Fixture> {
  const out: Record<string, Fixture> = {};
  for (const file of readdirSync(join(FIXTURE_DIR, venue))) {
    if (file.endsWith('.json')) out[file.slice(0, -5)] = JSON.parse(readFileSync(join(FIXTURE_DIR, venue, file), 'utf8')) as Fixture;
  }
  return out;
}

export interface FixtureServer {
  url: string;
  /** Replace the queue of answers. */
  serve(...responses: RecordedResponse[]): void;
  /** Requests received since the last `serve`. */
  requests: string[];
  close(): Promise<void>;
}

export async function startFixtureServer(): Promise<FixtureServer> {
  let queue: RecordedResponse[] = [];
  const state = { requests: [] as string[] };
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createServer((req, res) => {
    state.requests.push(req.url ?? '');
    const next = queue.length > 1 ? queue.shift() : queue[0];
    if (!next) {
      res.writeHead(500).end('fixture server: nothing queued');
      return;
    }
    const send = () => {
      const text = typeof next.body === 'string' ? next.body : JSON.stringify(next.body);
      const type = typeof next.body === 'string' ? 'text/html; charset=utf-8' : 'application/json';
      if (!res.destroyed) res.writeHead(next.status, { 'content-type': type, ...next.headers }).end(text);
    };
    if (next.delayMs) {
      const t = setTimeout(() => {
        timers.delete(t);
        send();
      }, next.delayMs);
      timers.add(t);
    } else send();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    serve(...responses) {
      queue = responses;
      state.requests.length = 0;
    },
    get requests() {
      return state.requests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
