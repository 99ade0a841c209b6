/**
 * A loopback HTTP server that answers recorded venue responses, so adapter tests go through a
 * real socket and the real axios stack instead of a mocked client.
 *
 * Responses are queued per test; the last one repeats once the queue is down to it. Every
 * request is recorded (path with query) so tests can check what the adapter asked for.
 *
 * A response may say how long the venue asks to be left alone after it (`venueAsksWaitMs`, the
 * wait the venue's headers or documentation give for that refusal). The server then records
 * every request that arrives inside that wait as a violation, on the clock the test gives it
 * (the same clock the source under test runs on); tests assert `violations` is empty, so a
 * source that asks again inside a venue's cool-down fails its test.
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
  /** After this answer the venue asks not to be called for this long (its rate-limit window). */
  venueAsksWaitMs?: number;
}

export interface Fixture extends RecordedResponse {
  request: string;
  /** Where the body's format comes from (venue docs page, SDK test), or `recorded live <date>`. */
  source?: string;
  /** For fixtures written by `aegis node check --record`: when the answer arrived (the replay clock). */
  recordedAtMs?: number;
  /** The second request the adapter makes for this quote (the newest trade, for venues whose ticker has no time). */
  followUp?: RecordedResponse & { request: string };
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
  /** Requests that arrived inside a wait a venue asked for, since the last `reset`. */
  violations: string[];
  /** Forget queue, requests, waits, violations and clock: a fresh venue for the next test. */
  reset(): void;
  /** The clock the wait is measured on; by default the wall clock. */
  setClock(clock: () => number): void;
  close(): Promise<void>;
}

export async function startFixtureServer(): Promise<FixtureServer> {
  let queue: RecordedResponse[] = [];
  const state = { requests: [] as string[], violations: [] as string[], blockedUntil: -Infinity, clock: Date.now as () => number };
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createServer((req, res) => {
    state.requests.push(req.url ?? '');
    const at = state.clock();
    if (at < state.blockedUntil) state.violations.push(`${req.url ?? ''} asked ${state.blockedUntil - at} ms inside the wait the venue asked for`);
    const next = queue.length > 1 ? queue.shift() : queue[0];
    if (next?.venueAsksWaitMs !== undefined) state.blockedUntil = Math.max(state.blockedUntil, at + next.venueAsksWaitMs);
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
    reset() {
      queue = [];
      state.requests.length = 0;
      state.violations.length = 0;
      state.blockedUntil = -Infinity;
      state.clock = Date.now;
    },
    get requests() {
      return state.requests;
    },
    get violations() {
      return state.violations;
    },
    setClock(clock) {
      state.clock = clock;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
