/**
 * The user-space delay relay on loopback (no root): byte order kept, added delay at least the
 * configured one in each direction (lower bounds only; no upper timing bounds), per-source
 * tables replaced at run time, half-close forwarded after the queued bytes, counters; and the
 * relay-host process: stdin JSON lines, stats, clean exit on stdin EOF.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { delaysFor, parseDelayTable, releaseTime, startRelay, type Relay } from '../../sim/testbed/relay.ts';

const ROOT = join(import.meta.dirname, '..', '..');

describe('relay pure parts', () => {
  it('releases no earlier than the previous chunk nor now + delay + jitter', () => {
    expect(releaseTime(0, 1000, 50, 10, 0.5)).toBe(1055);
    expect(releaseTime(2000, 1000, 50, 10, 0.5)).toBe(2000);
    expect(releaseTime(0, 1000, 50, 10, 0)).toBe(1050);
  });

  it('picks the source entry, else the default, and the back direction', () => {
    const t = { default: { delayMs: 5 }, bySource: { '198.18.1.1': { delayMs: 30, jitterMs: 2, backDelayMs: 10 } } };
    expect(delaysFor(t, '::ffff:198.18.1.1')).toEqual({ to: [30, 2], back: [10, 2] });
    expect(delaysFor(t, '198.18.1.9')).toEqual({ to: [5, 0], back: [5, 0] });
    expect(delaysFor({}, '1.2.3.4')).toEqual({ to: [0, 0], back: [0, 0] });
  });

  it('checks tables from stdin and names the field', () => {
    expect(() => parseDelayTable({ bySource: { '198.18.1.1': { delayMs: -1 } } })).toThrow('delay table: bySource["198.18.1.1"].delayMs must be a number of ms in 0..600000, got -1');
    expect(() => parseDelayTable({ default: { jitterMs: 1 } })).toThrow('delay table: default.delayMs is missing');
    expect(parseDelayTable({ default: { delayMs: 3 } })).toEqual({ default: { delayMs: 3 } });
  });
});

describe('relay on loopback', () => {
  let echo: Server;
  let echoPort = 0;
  let relay: Relay;
  const open: Socket[] = [];

  beforeAll(async () => {
    // Echo server that tags each reply with the time it received the bytes.
    echo = createServer((s) => {
      s.on('data', (d) => s.write(d));
      s.on('end', () => s.end());
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    echoPort = (echo.address() as { port: number }).port;
    relay = await startRelay({ listenHost: '127.0.0.1', listenPort: 0, targetHost: '127.0.0.1', targetPort: echoPort, table: { bySource: { '127.0.0.1': { delayMs: 120, jitterMs: 40, backDelayMs: 80 } } } });
  });

  afterAll(async () => {
    for (const s of open) s.destroy();
    await relay?.close();
    await new Promise((r) => echo?.close(r));
  });

  async function roundTrip(payloads: string[], gapMs = 0): Promise<{ text: string; elapsedMs: number }> {
    const s = connect({ host: '127.0.0.1', port: relay.port });
    open.push(s);
    await once(s, 'connect');
    const want = payloads.join('').length;
    let got = '';
    const t0 = performance.now();
    const done = new Promise<void>((ok) =>
      s.on('data', (d) => {
        got += d.toString();
        if (got.length >= want) ok();
      }),
    );
    for (const p of payloads) {
      s.write(p);
      if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
    }
    await done;
    const elapsedMs = performance.now() - t0;
    s.end();
    return { text: got, elapsedMs };
  }

  it('keeps byte order under jitter and adds at least delay + back delay', async () => {
    const parts = Array.from({ length: 40 }, (_, i) => `<${i}>`);
    const r = await roundTrip(parts, 3);
    expect(r.text).toBe(parts.join(''));
    expect(r.elapsedMs).toBeGreaterThanOrEqual(120 + 80 - 2); // timers may round down by a ms
    const c = relay.counters();
    expect(c.bytesToService).toBe(parts.join('').length);
    expect(c.bytesToClient).toBe(parts.join('').length);
    expect(c.accepted).toBeGreaterThanOrEqual(1);
  });

  it('applies a replaced table to new chunks', async () => {
    relay.setTable({ default: { delayMs: 300 } });
    const r = await roundTrip(['ping']);
    expect(r.text).toBe('ping');
    expect(r.elapsedMs).toBeGreaterThanOrEqual(600 - 2);
    relay.setTable({});
    const fast = await roundTrip(['x']);
    expect(fast.text).toBe('x');
  });

  it('forwards a half-close after the queued bytes', async () => {
    relay.setTable({ default: { delayMs: 100 } });
    const s = connect({ host: '127.0.0.1', port: relay.port, allowHalfOpen: true });
    open.push(s);
    await once(s, 'connect');
    let got = '';
    s.on('data', (d) => (got += d.toString()));
    s.end('last words');
    await once(s, 'end');
    expect(got).toBe('last words');
  });
});

describe('relay under backpressure', () => {
  it('carries 4 MiB both ways intact with a 64 KiB queue bound', async () => {
    const echo = createServer({ allowHalfOpen: true }, (s) => s.pipe(s));
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    const relay = await startRelay({ listenHost: '127.0.0.1', listenPort: 0, targetHost: '127.0.0.1', targetPort: (echo.address() as { port: number }).port, table: { default: { delayMs: 5, jitterMs: 5 } }, maxQueuedBytes: 64 * 1024 });
    try {
      const data = Buffer.alloc(4 * 1024 * 1024);
      for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >> 11)) & 0xff;
      const s = connect({ host: '127.0.0.1', port: relay.port, allowHalfOpen: true });
      await once(s, 'connect');
      const parts: Buffer[] = [];
      s.on('data', (d: Buffer) => parts.push(d));
      const ended = once(s, 'end');
      s.end(data);
      await ended;
      expect(Buffer.concat(parts).equals(data)).toBe(true);
      s.destroy();
    } finally {
      await relay.close();
      await new Promise((r) => echo.close(r));
    }
  });
});

describe('relay-host process', () => {
  it('takes tables on stdin, prints stats, and exits cleanly on stdin EOF', async () => {
    const echo = createServer((s) => s.pipe(s));
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    const target = (echo.address() as { port: number }).port;
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'sim', 'testbed', 'relay-host.ts'), '--listen', '127.0.0.1:0', '--target', `127.0.0.1:${target}`], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      const lines: Record<string, unknown>[] = [];
      const waiters: (() => void)[] = [];
      createInterface({ input: child.stdout! }).on('line', (l) => {
        lines.push(JSON.parse(l) as Record<string, unknown>);
        for (const w of waiters.splice(0)) w();
      });
      const waitFor = async (event: string, n = 1): Promise<Record<string, unknown>> => {
        for (let i = 0; i < 200; i++) {
          const hits = lines.filter((l) => l.event === event);
          if (hits.length >= n) return hits[n - 1]!;
          await new Promise<void>((r) => {
            waiters.push(r);
            setTimeout(r, 100);
          });
        }
        throw new Error(`relay-host printed no ${event} line`);
      };
      const listening = await waitFor('listening');
      child.stdin!.write(`${JSON.stringify({ table: { default: { delayMs: 150 } } })}\n`);
      await waitFor('table');
      child.stdin!.write('{"table":{"default":{"delayMs":-5}}}\n');
      expect(String((await waitFor('error')).message)).toMatch(/default.delayMs must be a number/);
      const s = connect({ host: '127.0.0.1', port: listening.port as number });
      await once(s, 'connect');
      const t0 = performance.now();
      s.write('hello');
      const [reply] = (await once(s, 'data')) as [Buffer];
      expect(reply.toString()).toBe('hello');
      expect(performance.now() - t0).toBeGreaterThanOrEqual(300 - 2); // 150 ms each way (old table kept after the bad line)
      s.destroy();
      child.stdin!.write('{"cmd":"stats"}\n');
      const stats = await waitFor('stats');
      expect(stats).toMatchObject({ accepted: 1, bytesToService: 5, bytesToClient: 5 });
      child.stdin!.end();
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await new Promise((r) => echo.close(r));
    }
  });
});
