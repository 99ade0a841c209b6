/**
 * Processes of the testbed (docs/running-over-real-networks.md, "The testbed"): a command started inside a host's network
 * namespace (`ip netns exec NS env K=V… cmd args…`; `ip` and `env` exec into the command, so the
 * PID held is the process that serves), with its own environment, one log file per process
 * (stdout and stderr, appended across restarts with a header line), optional libfaketime, and
 * stop / kill / restart by PID. Without `ns` the command runs in the current namespace (tests
 * without root).
 *
 * Public API (stable; the scenario runner builds on it):
 *   startProcess(spec: ProcessSpec): Promise<TestbedProcess>
 *     TestbedProcess: name, spec, pid, running, exitCode, exited (promise of this incarnation),
 *       stop(graceMs = 5000)   SIGTERM, then SIGKILL after graceMs; resolves when gone
 *       kill()                 SIGKILL; resolves when gone
 *       restart()              stop() if running, then the same spec again (new pid)
 *       send(line)             a line on stdin (spec.stdin === 'pipe')
 *       onLine(cb)             every stdout line of every incarnation
 *   faketimeEnv(spec: FaketimeSpec): Record<string, string>      (pure)
 *   faketimeSpecString(spec): string e.g. "+2.000s x1.0001"       (pure)
 *   waitForHealth(url, { timeoutMs, intervalMs, fetch }): Promise<HealthResult>
 *       bounded polling until a 2xx; pass `testbed.fetch` for a URL on a host's address (the
 *       root namespace has no route to the testbed, on purpose)
 *   stopAll(): Promise<void>   stops every process started here (the testbed calls it)
 *
 * libfaketime (Debian package `libfaketime`): `LD_PRELOAD=LIBFAKETIME_PATH` and
 * `FAKETIME="<offset>s[ x<rate>]"`, e.g. "+2s", "-2s", "+0s x1.001" (rate: the clock runs 1.001×
 * real speed from the process's first clock read; "x" needs an offset before it, and the
 * decimal point is '.', the C locale that Node runs in: "x1,5" was read as x1 here).
 * `FAKETIME_DONT_FAKE_MONOTONIC=1`: only CLOCK_REALTIME (Date.now, what a skewed host's
 * NTP-less wall clock changes) is faked; CLOCK_MONOTONIC, which libuv reads for timers,
 * setTimeout and performance.now, stays real. Checked on Node 20 here: with a rate of 1.5 and
 * monotonic faked too, a setTimeout(2000) fired after ≈1.3 real seconds (timers and timeouts of
 * the process change, not only its idea of the date); with the flag it fired after 2.0 s while
 * Date.now advanced 3.0 s. `FAKETIME_NO_CACHE` is left unset: the cache only governs how often
 * libfaketime re-reads a spec from a file (faketimerc / FAKETIME_TIMESTAMP_FILE); our spec is
 * in the environment, fixed for the process's life, and NO_CACHE=1 would re-parse it on every
 * clock call (Node reads the clock on every event-loop turn). A new skew = restart with a new
 * spec.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';

export const LIBFAKETIME_PATH = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';

export interface FaketimeSpec {
  /** Wall-clock offset in ms (positive: ahead). */
  offsetMs?: number;
  /** Clock rate (1 = real speed; 1.0001 gains 0.1 ms per second). */
  rate?: number;
}

export interface ProcessSpec {
  /** Label in logs and errors. */
  name: string;
  /** Network namespace to run in; omit to run here. */
  ns?: string;
  cmd: string;
  args?: string[];
  /** Added to (not replacing) this process's environment. */
  env?: Record<string, string>;
  cwd?: string;
  logFile: string;
  faketime?: FaketimeSpec;
  /** 'pipe' to `send()` lines (the relay); default 'ignore'. */
  stdin?: 'pipe' | 'ignore';
}

export interface TestbedProcess {
  readonly name: string;
  readonly spec: ProcessSpec;
  readonly pid: number;
  readonly running: boolean;
  readonly exitCode: number | null;
  /** Resolves with the exit code (null: killed by a signal) of the current incarnation. */
  readonly exited: Promise<number | null>;
  stop(graceMs?: number): Promise<void>;
  kill(): Promise<void>;
  restart(): Promise<void>;
  send(line: string): void;
  onLine(cb: (line: string) => void): void;
}

export class TestbedProcessError extends Error {
  override readonly name = 'TestbedProcessError';
}

function fmtNum(n: number): string {
  return n.toFixed(6).replace(/0+$/, '').replace(/\.$/, '');
}

/** libfaketime's FAKETIME value for an offset and rate (pure). */
export function faketimeSpecString(s: FaketimeSpec): string {
  const off = s.offsetMs ?? 0;
  if (!Number.isFinite(off)) throw new TestbedProcessError(`faketime: offsetMs ${off} is not a finite number of ms`);
  let out = `${off < 0 ? '-' : '+'}${fmtNum(Math.abs(off) / 1000)}s`;
  if (s.rate !== undefined && s.rate !== 1) {
    if (!(s.rate > 0) || !Number.isFinite(s.rate)) throw new TestbedProcessError(`faketime: rate ${s.rate} must be a positive number (1 = real speed)`);
    out += ` x${fmtNum(s.rate)}`;
  }
  return out;
}

/** The environment that makes a process see the skewed clock (pure). */
export function faketimeEnv(s: FaketimeSpec, lib = LIBFAKETIME_PATH): Record<string, string> {
  return { LD_PRELOAD: lib, FAKETIME: faketimeSpecString(s), FAKETIME_DONT_FAKE_MONOTONIC: '1' };
}

/** argv of the spawned command: ip netns exec NS env K=V… cmd args… (pure). */
export function processArgv(spec: ProcessSpec): string[] {
  const extra = spec.faketime ? faketimeEnv(spec.faketime) : {};
  const envArgs = Object.entries({ ...spec.env, ...extra }).map(([k, v]) => `${k}=${v}`);
  const inner = [spec.cmd, ...(spec.args ?? [])];
  if (spec.ns) return ['ip', 'netns', 'exec', spec.ns, 'env', ...envArgs, ...inner];
  return envArgs.length > 0 ? ['env', ...envArgs, ...inner] : inner;
}

const live = new Set<ChildProcess>();
let hooked = false;
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const c of live) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });
}

const all = new Set<TestbedProcess>();

export async function startProcess(spec: ProcessSpec): Promise<TestbedProcess> {
  if (spec.faketime && !existsSync(LIBFAKETIME_PATH)) throw new TestbedProcessError(`process ${spec.name}: libfaketime not found at ${LIBFAKETIME_PATH}: apt-get install libfaketime`);
  mkdirSync(dirname(spec.logFile), { recursive: true });
  hookExit();
  const listeners: ((line: string) => void)[] = [];
  let child!: ChildProcess;
  let exited!: Promise<number | null>;
  let log: WriteStream | undefined;

  const launch = async (): Promise<void> => {
    const argv = processArgv(spec);
    log = createWriteStream(spec.logFile, { flags: 'a' });
    child = spawn(argv[0]!, argv.slice(1), { cwd: spec.cwd, stdio: [spec.stdin ?? 'ignore', 'pipe', 'pipe'], env: process.env });
    live.add(child);
    const c = child;
    const l = log;
    // Resolves once the process exited, its output is drained (its pipes closed, or 2 s passed:
    // a descendant may hold them) and the log file is flushed and closed.
    const closed = new Promise<void>((r) => c.once('close', () => r()));
    exited = new Promise((done) =>
      c.once('exit', (code) => {
        live.delete(c);
        let timer: NodeJS.Timeout | undefined;
        void Promise.race([closed, new Promise<void>((r) => (timer = setTimeout(r, 2000)))]).then(() => {
          clearTimeout(timer);
          c.stdout?.unpipe(l);
          c.stderr?.unpipe(l);
          l.end(`--- ${new Date().toISOString()} ${spec.name} pid ${c.pid} exited ${code ?? c.signalCode} ---\n`, () => done(code));
        });
      }),
    );
    c.stdout!.pipe(l, { end: false });
    c.stderr!.pipe(l, { end: false });
    createInterface({ input: c.stdout! }).on('line', (line) => {
      for (const cb of listeners) cb(line);
    });
    c.stdin?.on('error', () => undefined);
    await new Promise<void>((ok, fail) => {
      c.once('spawn', () => ok());
      c.once('error', (err: NodeJS.ErrnoException) => fail(new TestbedProcessError(`process ${spec.name}: cannot start \`${argv.join(' ')}\`: ${err.code ?? err.message}; ${err.code === 'ENOENT' ? `install ${argv[0]} (ip: apt-get install iproute2)` : 'check the command'}`)));
    });
    l.write(`--- ${new Date().toISOString()} ${spec.name} pid ${c.pid}: ${argv.join(' ')} ---\n`);
  };

  const isRunning = (): boolean => child.exitCode === null && child.signalCode === null;
  const stop = async (graceMs = 5000): Promise<void> => {
    if (!isRunning()) return;
    child.kill('SIGTERM');
    const c = child;
    const timer = setTimeout(() => c.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  await launch();
  const handle: TestbedProcess = {
    name: spec.name,
    spec,
    get pid() {
      return child.pid!;
    },
    get running() {
      return isRunning();
    },
    get exitCode() {
      return child.exitCode;
    },
    get exited() {
      return exited;
    },
    stop,
    kill: async () => {
      if (!isRunning()) return;
      child.kill('SIGKILL');
      await exited;
    },
    restart: async () => {
      await stop();
      await launch();
    },
    send: (line) => {
      if (!child.stdin || child.stdin.destroyed) throw new TestbedProcessError(`process ${spec.name}: stdin is not a pipe or is closed: start it with stdin: 'pipe'`);
      child.stdin.write(line.endsWith('\n') ? line : `${line}\n`);
    },
    onLine: (cb) => void listeners.push(cb),
  };
  all.add(handle);
  return handle;
}

/** Stops every process started by this module (SIGTERM, then SIGKILL after `graceMs`). */
export async function stopAll(graceMs = 3000): Promise<void> {
  await Promise.all([...all].map((p) => p.stop(graceMs).catch(() => undefined)));
}

export interface HealthResult {
  ok: boolean;
  attempts: number;
  status?: number;
  error?: string;
}

/**
 * Polls `url` until it answers 2xx or `timeoutMs` passes (bounded: at most
 * ceil(timeoutMs / intervalMs) + 1 attempts). Never throws; `ok` says which.
 */
export async function waitForHealth(url: string, o: { timeoutMs?: number; intervalMs?: number; fetch?: (url: string, init?: RequestInit) => Promise<Response> } = {}): Promise<HealthResult> {
  const timeoutMs = o.timeoutMs ?? 20_000;
  const intervalMs = o.intervalMs ?? 250;
  const f = o.fetch ?? fetch;
  const maxAttempts = Math.ceil(timeoutMs / intervalMs) + 1;
  const deadline = Date.now() + timeoutMs;
  let last: HealthResult = { ok: false, attempts: 0 };
  for (let i = 1; i <= maxAttempts; i++) {
    try {
      const r = await f(url, { signal: AbortSignal.timeout(Math.max(500, Math.min(intervalMs * 4, 5000))) });
      await r.arrayBuffer().catch(() => undefined);
      last = { ok: r.ok, attempts: i, status: r.status };
      if (r.ok) return last;
    } catch (err) {
      last = { ok: false, attempts: i, error: (err as Error).message };
    }
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  return last;
}
