/**
 * Processes without namespaces (no root needed): log file per process with start/exit lines,
 * SIGTERM then SIGKILL by PID, restart with the same spec, stdin lines, bounded /health
 * polling, and libfaketime on a real Node process (offset, and a rate with the monotonic clock
 * left real). Without libfaketime the clock tests skip with one line, unless
 * AEGIS_REQUIRE_ROOT_TESTS=1 (CI installs the Debian package libfaketime).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LIBFAKETIME_PATH, startProcess, waitForHealth, type TestbedProcess } from '../../sim/testbed/proc.ts';

const dir = mkdtempSync(join(tmpdir(), 'aegis-proc-'));
const started: TestbedProcess[] = [];
afterAll(async () => {
  for (const p of started) await p.kill();
  rmSync(dir, { recursive: true, force: true });
});

async function node(name: string, script: string, extra: Partial<Parameters<typeof startProcess>[0]> = {}): Promise<TestbedProcess> {
  const p = await startProcess({ name, cmd: process.execPath, args: ['-e', script], logFile: join(dir, `${name}.log`), ...extra });
  started.push(p);
  return p;
}

function firstLine(p: TestbedProcess): Promise<string> {
  return new Promise((ok) => p.onLine(ok));
}

describe('processes', () => {
  it('stops with SIGTERM, escalates to SIGKILL, restarts with a new pid, and logs each incarnation', async () => {
    // Ignores SIGTERM: stop() must escalate after the grace period.
    const p = await node('stubborn', "process.on('SIGTERM',()=>console.log('term ignored'));console.log('ready');setInterval(()=>{},1000)");
    await firstLine(p);
    const pid = p.pid;
    await p.stop(300);
    expect(p.running).toBe(false);
    await p.restart();
    expect(p.pid).not.toBe(pid);
    expect(p.running).toBe(true);
    await p.kill();
    const log = readFileSync(p.spec.logFile, 'utf8');
    expect(log.match(/^--- .* stubborn pid \d+: /gm)?.length).toBe(2);
    expect(log).toContain('term ignored');
    expect(log).toMatch(/exited SIGKILL ---/);
  });

  it('sends stdin lines to a piped process', async () => {
    const p = await node('echo', "require('readline').createInterface({input:process.stdin}).on('line',l=>console.log('got '+l))", { stdin: 'pipe' });
    const line = firstLine(p);
    p.send('hello');
    expect(await line).toBe('got hello');
    await p.stop();
  });

  it('polls /health a bounded number of times', async () => {
    let calls = 0;
    const srv = createServer((q, r) => {
      calls++;
      r.statusCode = calls < 3 ? 503 : 200;
      r.end();
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as { port: number }).port;
    const ok = await waitForHealth(`http://127.0.0.1:${port}/health`, { timeoutMs: 5000, intervalMs: 50 });
    expect(ok).toMatchObject({ ok: true, attempts: 3, status: 200 });
    await new Promise((r) => srv.close(r));
    const down = await waitForHealth(`http://127.0.0.1:${port}/health`, { timeoutMs: 200, intervalMs: 50 });
    expect(down.ok).toBe(false);
    expect(down.attempts).toBeLessThanOrEqual(5);
  });
});

const haveFaketime = existsSync(LIBFAKETIME_PATH);
const required = process.env.AEGIS_REQUIRE_ROOT_TESTS === '1';
if (!haveFaketime && !required) console.log(`test/testbed/proc.test.ts clock tests skipped: ${LIBFAKETIME_PATH} missing (apt-get install libfaketime)`);

describe.runIf(haveFaketime || required)('libfaketime on a Node process', () => {
  it('shifts Date.now by the offset', async () => {
    const before = Date.now();
    const p = await node('ahead', 'console.log(Date.now())', { faketime: { offsetMs: 4000 } });
    const seen = Number(await firstLine(p));
    // Offset plus the child's start-up time (positive, under a few seconds on a loaded machine).
    expect(seen - before).toBeGreaterThan(4000 - 200);
    expect(seen - before).toBeLessThan(4000 + 3000);
  });

  it('runs the wall clock at the rate while timers and performance.now stay real', async () => {
    const script = 'const w=Date.now(),m=performance.now();setTimeout(()=>console.log(JSON.stringify({wall:Date.now()-w,mono:performance.now()-m})),1000)';
    const p = await node('fast', script, { faketime: { rate: 2 } });
    const { wall, mono } = JSON.parse(await firstLine(p)) as { wall: number; mono: number };
    expect(mono).toBeGreaterThanOrEqual(999); // the timer waited a real second (monotonic not faked)
    expect(wall / mono).toBeGreaterThan(1.8); // the wall clock ran twice as fast
    expect(wall / mono).toBeLessThan(2.2);
  });
});
