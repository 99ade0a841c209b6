/**
 * A user-space TCP relay that adds one-way delay and jitter per source address (docs/running-over-real-networks.md
 * "Delay and jitter without netem", as toxiproxy's latency toxic). It listens on the address
 * peers use (host:port) and forwards each connection to the service's private port
 * (host:port+1000 by convention) in the same namespace.
 *
 * Each chunk read from one side is written to the other at
 *   release = max(previous release in that direction, now + delay + U[0, jitter])
 * so bytes keep their order and jitter never reorders them, and the added delay is never below
 * the configured one. The client's source address picks the `DelaySpec` (`bySource`, else
 * `default`, else none); `delayMs`/`jitterMs` apply client→service, `backDelayMs`/
 * `backJitterMs` (default: the same) service→client. `setTable` replaces the table at run time;
 * chunks already queued keep their release times. A direction with more than
 * `maxQueuedBytes` waiting, or whose writer is backed up, pauses its reader (bounded memory). Half-closes are forwarded after
 * the queued bytes; an error on either socket destroys both.
 *
 * `sim/testbed/relay-host.ts` runs one relay as a process (inside a host's namespace) and takes
 * tables over stdin as JSON lines.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface DelaySpec {
  delayMs: number;
  jitterMs?: number;
  backDelayMs?: number;
  backJitterMs?: number;
}

export interface DelayTable {
  default?: DelaySpec;
  /** Keyed by the client's IPv4 address. */
  bySource?: Record<string, DelaySpec>;
}

export interface RelayOptions {
  listenHost: string;
  /** 0 picks a free port (tests). */
  listenPort: number;
  targetHost: string;
  targetPort: number;
  table?: DelayTable;
  /** Bytes queued per direction before the reader is paused; default 4 MiB. */
  maxQueuedBytes?: number;
  /** Uniform [0,1) source for jitter; default Math.random. */
  rand?: () => number;
}

export interface RelayCounters {
  accepted: number;
  active: number;
  closed: number;
  targetErrors: number;
  bytesToService: number;
  bytesToClient: number;
  chunksToService: number;
  chunksToClient: number;
  /** Sum of the delays added to chunks (ms), both directions. */
  addedDelayMs: number;
}

export interface Relay {
  host: string;
  port: number;
  setTable(table: DelayTable): void;
  table(): DelayTable;
  counters(): RelayCounters;
  close(): Promise<void>;
}

export class RelayError extends Error {
  override readonly name = 'RelayError';
}

/** Release time of the next chunk in one direction (pure). */
export function releaseTime(prevRelease: number, now: number, delayMs: number, jitterMs: number, u: number): number {
  return Math.max(prevRelease, now + delayMs + jitterMs * u);
}

/** The client→service and service→client delays for a source address (pure). */
export function delaysFor(table: DelayTable, source: string): { to: [number, number]; back: [number, number] } {
  const s = table.bySource?.[normalizeAddr(source)] ?? table.default;
  if (!s) return { to: [0, 0], back: [0, 0] };
  return { to: [s.delayMs, s.jitterMs ?? 0], back: [s.backDelayMs ?? s.delayMs, s.backJitterMs ?? s.jitterMs ?? 0] };
}

export function normalizeAddr(a: string): string {
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

/** Checks a table from the outside world (stdin): throws naming the field and value. */
export function parseDelayTable(v: unknown): DelayTable {
  const spec = (x: unknown, where: string): DelaySpec => {
    if (typeof x !== 'object' || x === null) throw new RelayError(`delay table: ${where} must be an object {delayMs, jitterMs?}, got ${JSON.stringify(x)}`);
    const o = x as Record<string, unknown>;
    const out: DelaySpec = { delayMs: 0 };
    for (const k of ['delayMs', 'jitterMs', 'backDelayMs', 'backJitterMs'] as const) {
      if (o[k] === undefined) continue;
      const n = o[k];
      if (typeof n !== 'number' || !Number.isFinite(n) || n < 0 || n > 600_000) throw new RelayError(`delay table: ${where}.${k} must be a number of ms in 0..600000, got ${JSON.stringify(n)}`);
      out[k] = n;
    }
    if (o.delayMs === undefined) throw new RelayError(`delay table: ${where}.delayMs is missing`);
    return out;
  };
  if (typeof v !== 'object' || v === null) throw new RelayError(`delay table must be an object {default?, bySource?}, got ${JSON.stringify(v)}`);
  const o = v as Record<string, unknown>;
  const t: DelayTable = {};
  if (o.default !== undefined) t.default = spec(o.default, 'default');
  if (o.bySource !== undefined) {
    if (typeof o.bySource !== 'object' || o.bySource === null) throw new RelayError('delay table: bySource must be an object keyed by address');
    t.bySource = {};
    for (const [addr, s] of Object.entries(o.bySource)) t.bySource[addr] = spec(s, `bySource["${addr}"]`);
  }
  return t;
}

/** Pipes `src` into `dst` with each chunk held until its release time. */
function delayedPipe(src: Socket, dst: Socket, delay: () => [number, number], o: { max: number; rand: () => number; count: (bytes: number, added: number) => void }): void {
  const queue: { chunk: Buffer; at: number }[] = [];
  let queued = 0;
  let last = 0;
  let timer: NodeJS.Timeout | undefined;
  let ended = false;
  // The reader is paused while too much waits in the queue or the writer is backed up.
  let blocked = false;
  const write = (chunk: Buffer): void => {
    if (dst.destroyed) return;
    if (!dst.write(chunk) && !blocked) {
      blocked = true;
      dst.once('drain', () => {
        blocked = false;
        maybeResume();
      });
    }
  };
  const maybeResume = (): void => {
    if (queued <= o.max && !blocked && src.isPaused() && !src.destroyed) src.resume();
  };
  const flush = (): void => {
    timer = undefined;
    const now = Date.now();
    while (queue.length > 0 && queue[0]!.at <= now) {
      const { chunk } = queue.shift()!;
      queued -= chunk.length;
      write(chunk);
    }
    maybeResume();
    if (queue.length > 0) timer = setTimeout(flush, Math.max(0, queue[0]!.at - now));
    else if (ended && !dst.destroyed) dst.end();
  };
  src.on('data', (chunk: Buffer) => {
    const now = Date.now();
    const [d, j] = delay();
    const at = releaseTime(last, now, d, j, o.rand());
    last = at;
    o.count(chunk.length, at - now);
    if (at <= now && queue.length === 0) {
      write(chunk);
      if (blocked) src.pause();
      return;
    }
    queue.push({ chunk, at });
    queued += chunk.length;
    if (queued > o.max || blocked) src.pause();
    if (!timer) timer = setTimeout(flush, Math.max(0, queue[0]!.at - now));
  });
  src.on('end', () => {
    ended = true;
    if (queue.length === 0 && !dst.destroyed) dst.end();
  });
  src.on('close', () => {
    if (timer && dst.destroyed) clearTimeout(timer);
  });
}

export function startRelay(opts: RelayOptions): Promise<Relay> {
  let table: DelayTable = opts.table ?? {};
  const rand = opts.rand ?? Math.random;
  const max = opts.maxQueuedBytes ?? 4 * 1024 * 1024;
  const c: RelayCounters = { accepted: 0, active: 0, closed: 0, targetErrors: 0, bytesToService: 0, bytesToClient: 0, chunksToService: 0, chunksToClient: 0, addedDelayMs: 0 };
  const sockets = new Set<Socket>();
  const server: Server = createServer({ allowHalfOpen: true }, (client) => {
    c.accepted++;
    c.active++;
    const source = normalizeAddr(client.remoteAddress ?? '');
    const service = connect({ host: opts.targetHost, port: opts.targetPort, allowHalfOpen: true });
    sockets.add(client);
    sockets.add(service);
    // Counted closed when both sockets are closed; an error on one destroys the other (a
    // clean half-close is forwarded by delayedPipe after the queued bytes instead).
    let open = 2;
    const closed = (): void => {
      if (--open > 0) return;
      c.active--;
      c.closed++;
    };
    service.once('error', () => {
      c.targetErrors++;
      client.destroy();
    });
    client.once('error', () => service.destroy());
    client.once('close', (hadError) => {
      sockets.delete(client);
      if (hadError) service.destroy();
      closed();
    });
    service.once('close', (hadError) => {
      sockets.delete(service);
      if (hadError) client.destroy();
      closed();
    });
    client.setNoDelay(true);
    service.setNoDelay(true);
    delayedPipe(client, service, () => delaysFor(table, source).to, {
      max,
      rand,
      count: (n, added) => {
        c.bytesToService += n;
        c.chunksToService++;
        c.addedDelayMs += added;
      },
    });
    delayedPipe(service, client, () => delaysFor(table, source).back, {
      max,
      rand,
      count: (n, added) => {
        c.bytesToClient += n;
        c.chunksToClient++;
        c.addedDelayMs += added;
      },
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new RelayError(`relay cannot listen on ${opts.listenHost}:${opts.listenPort}: ${err.code ?? err.message}; pick a free port (the service belongs on port+1000)`)),
    );
    server.listen(opts.listenPort, opts.listenHost, () => {
      const a = server.address();
      const port = typeof a === 'object' && a ? a.port : opts.listenPort;
      resolve({
        host: opts.listenHost,
        port,
        setTable: (t) => {
          table = t;
        },
        table: () => table,
        counters: () => ({ ...c }),
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            sockets.clear();
            server.close(() => done());
          }),
      });
    });
  });
}
