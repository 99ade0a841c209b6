/**
 * The testbed's network layer on the real kernel (root): a 3-host testbed, the safety
 * invariants, TCP through the bridge, symmetric and asymmetric partitions and their healing,
 * loss rules (nft ruleset and counters over a bounded number of attempts; no timing asserts),
 * tbf, the relay inside a namespace with a delay profile and /health through the observer,
 * SIGKILL/restart, a libfaketime'd Node process's clock, teardown, and `aegis testbed down`
 * after a crashed run.
 *
 * Without root (or without `ip netns`) it skips with one line; with AEGIS_REQUIRE_ROOT_TESTS=1
 * (CI) that skip is a failure.
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { benchAddresses, canCreateNamespaces, checkSafety, createTestbed, defaultRoutes, detectNetem, listTestbedNamespaces, type Testbed } from '../../sim/testbed/net/index.ts';
import type { TestbedProcess } from '../../sim/testbed/proc.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const gate = await canCreateNamespaces();
const required = process.env.AEGIS_REQUIRE_ROOT_TESTS === '1';
if (!gate.ok && !required) console.log(`test/testbed/net.test.ts skipped: ${gate.reason}`);

describe.runIf(!gate.ok && required)('root environment (AEGIS_REQUIRE_ROOT_TESTS=1)', () => {
  it('is available', () => {
    throw new Error(`AEGIS_REQUIRE_ROOT_TESTS=1 but the testbed cannot run here: ${gate.reason}`);
  });
});

/** Node one-liner run inside a host: TCP connect to addr:port; prints ok | timeout | err CODE. */
function connectScript(addr: string, port: number, timeoutMs: number): string {
  return `const s=require('net').connect(${port},'${addr}');s.setTimeout(${timeoutMs});s.on('connect',()=>{console.log('ok');s.destroy()});s.on('error',e=>console.log('err',e.code));s.on('timeout',()=>{console.log('timeout');s.destroy()})`;
}

describe.runIf(gate.ok)('testbed network layer (root)', () => {
  let tb: Testbed;
  let server: TestbedProcess;
  const PORT = 9000;

  const probe = async (from: string, to: string, timeoutMs = 1500): Promise<string> => (await tb.exec(from, process.execPath, ['-e', connectScript(tb.host(to).addr, PORT, timeoutMs)])).stdout.trim();

  beforeAll(async () => {
    tb = await createTestbed({ hosts: [{ name: 'a', region: 'eu' }, { name: 'b', region: 'us' }, { name: 'c' }], handleSignals: false });
    // A plain TCP server on b and c (port 9000) that answers and closes.
    const srv = (h: string): Promise<TestbedProcess> =>
      tb.start(h, { name: 'tcp', cmd: process.execPath, args: ['-e', `require('net').createServer(s=>{s.on('error',()=>{});s.end('hi')}).listen(${PORT},'${tb.host(h).addr}',()=>console.log('up'))`] });
    server = await srv('b');
    await srv('c');
    // Bounded wait for the listener.
    for (let i = 0; i < 50 && (await probe('c', 'b', 500)) !== 'ok'; i++) await new Promise((r) => setTimeout(r, 100));
  });

  afterAll(async () => {
    await tb?.close();
  });

  it('keeps the safety invariants: no default route in our namespaces, no testbed address in the root namespace', async () => {
    await checkSafety(tb.namespaces());
    for (const ns of tb.namespaces()) {
      expect(defaultRoutes(execFileSync('ip', ['-n', ns, '-j', 'route', 'show', 'default']).toString())).toEqual([]);
      expect(defaultRoutes(execFileSync('ip', ['-n', ns, '-j', '-6', 'route', 'show', 'default']).toString())).toEqual([]);
    }
    expect(benchAddresses(execFileSync('ip', ['-j', 'addr', 'show']).toString())).toEqual([]);
    expect(typeof tb.netem).toBe('boolean');
    expect(tb.delayLayer).toBe(tb.netem ? 'netem' : 'relay');
  });

  it('connects two hosts over TCP through the bridge', async () => {
    expect(await probe('a', 'b')).toBe('ok');
    expect(await probe('a', 'c')).toBe('ok');
  });

  it('a partition blocks the connection and healing restores it', async () => {
    const id = await tb.partition(['a'], ['b']);
    expect(await tb.ruleset('b')).toContain(`ip saddr ${tb.host('a').addr}`);
    expect(await tb.ruleset('a')).toContain(`ip saddr ${tb.host('b').addr}`);
    expect(await probe('a', 'b')).toBe('timeout');
    expect(await probe('a', 'c')).toBe('ok'); // c is not cut
    expect((await tb.dropCounters('b'))[id]).toBeGreaterThan(0);
    await tb.heal(id);
    expect(await tb.ruleset('a')).not.toContain('aegis');
    expect(await tb.ruleset('b')).not.toContain('aegis');
    expect(await probe('a', 'b')).toBe('ok');
  });

  it("an asymmetric cut lets a's SYN reach b but drops b's answer", async () => {
    const id = await tb.partition(['a'], ['b'], 'bToA');
    expect(await tb.ruleset('b')).not.toContain('aegis'); // nothing dropped on the way to b
    expect(await probe('a', 'b')).toBe('timeout');
    const ss = (await tb.exec('b', 'ss', ['-Htan'])).stdout;
    expect(ss).toMatch(new RegExp(`SYN-RECV.*${tb.host('a').addr.replace(/\./g, '\\.')}:`)); // the SYN arrived
    expect((await tb.dropCounters('a'))[id]).toBeGreaterThan(0); // the SYN-ACK did not
    await tb.heal(id);
    expect(await probe('a', 'b')).toBe('ok');
  });

  it('installs and removes loss rules (numgen), dropping packets over a bounded number of attempts', async () => {
    const id = await tb.loss('b', 90, ['a']);
    const rules = await tb.ruleset('b');
    expect(rules).toMatch(new RegExp(`ip saddr ${tb.host('a').addr.replace(/\./g, '\\.')} numgen random mod 100 < 90 counter packets \\d+ bytes \\d+ drop comment "${id}"`));
    expect(await tb.ruleset('a')).toContain('numgen random mod 100 < 90');
    expect(await tb.ruleset('c')).not.toContain('aegis');
    // Five connection attempts (each at least one SYN): P(no drop at 90%) = 1e-5.
    for (let i = 0; i < 5; i++) await probe('a', 'b', 300);
    const drops = ((await tb.dropCounters('a'))[id] ?? 0) + ((await tb.dropCounters('b'))[id] ?? 0);
    expect(drops).toBeGreaterThan(0);
    await tb.heal(id);
    expect(await tb.ruleset('b')).not.toContain('numgen');
    expect(await probe('a', 'b')).toBe('ok');
  });

  it('caps bandwidth with tbf on both veth ends and removes it', async () => {
    const qdisc = async (): Promise<string> => execFileSync('tc', ['-n', tb.host('b').ns, 'qdisc', 'show', 'dev', 'eth0']).toString() + execFileSync('tc', ['-n', tb.plan.bridgeNs, 'qdisc', 'show', 'dev', 'h2']).toString();
    await tb.setBandwidth('b', { rateKbit: 2000 });
    expect((await qdisc()).match(/qdisc tbf/g)?.length).toBe(2);
    expect(await probe('a', 'b')).toBe('ok');
    await tb.setBandwidth('b', null);
    expect(await qdisc()).not.toContain('tbf');
  });

  it('relays with the delay profile, and /health is reachable through the observer', async () => {
    // An HTTP service on b's private port 10100, its relay on 9100.
    await tb.start('b', { name: 'http', cmd: process.execPath, args: ['-e', `require('http').createServer((q,r)=>r.end(q.url==='/health'?'ok':'x')).listen(10100,'${tb.host('b').addr}')`] });
    const relay = await tb.startRelay('b', 9100);
    const health = await tb.waitForHealth('b', 9100, { timeoutMs: 20_000 });
    expect(health.ok).toBe(true);
    if (tb.delayLayer !== 'relay') return; // netem kernels: the delay sits on the veths instead
    expect(await tb.setDelayProfile({ regions: { eu: { delayMs: 100 }, us: { delayMs: 60 } } })).toBe('relay');
    // From a: one request and its answer each carry d(a) + d(b) = 160 ms at least.
    const script = `const t0=Date.now();require('http').get('http://${tb.host('b').addr}:9100/health',r=>{r.resume();r.on('end',()=>console.log(Date.now()-t0))})`;
    const ms = Number((await tb.exec('a', process.execPath, ['-e', script])).stdout.trim());
    expect(ms).toBeGreaterThanOrEqual(2 * 160 - 2);
    const stats = await relay.stats();
    expect(stats.accepted).toBeGreaterThanOrEqual(2);
    expect(stats.addedDelayMs).toBeGreaterThanOrEqual(2 * 160 - 2);
  });

  it('SIGKILLs and restarts a process by PID', async () => {
    const pid = server.pid;
    await server.kill();
    expect(server.running).toBe(false);
    expect(await server.exited).toBeNull(); // killed by a signal
    expect(await probe('a', 'b', 800)).toMatch(/err ECONNREFUSED/);
    await server.restart();
    expect(server.pid).not.toBe(pid);
    let r = '';
    for (let i = 0; i < 50 && (r = await probe('a', 'b', 500)) !== 'ok'; i++) await new Promise((res) => setTimeout(res, 100));
    expect(r).toBe('ok');
  });

  it("a libfaketime'd Node process in a host reads a clock shifted by the offset", async () => {
    const run = async (offsetMs: number): Promise<number> => {
      const p = await tb.start('c', { name: `clock${offsetMs}`, cmd: process.execPath, args: ['-e', 'console.log(JSON.stringify({now: Date.now()}))'], faketime: { offsetMs } });
      let seen: number | undefined;
      p.onLine((l) => (seen ??= (JSON.parse(l) as { now: number }).now));
      const before = Date.now();
      await p.exited;
      expect(seen).toBeDefined();
      return seen! - before;
    };
    // The child's reading happens after its start-up (under a second on a loaded machine), so
    // the skew is the offset plus a small positive start-up time.
    const ahead = await run(5000);
    expect(ahead).toBeGreaterThan(5000 - 200);
    expect(ahead).toBeLessThan(5000 + 3000);
    const behind = await run(-5000);
    expect(behind).toBeLessThan(-5000 + 3000);
    expect(behind).toBeGreaterThan(-5000 - 200);
  });

  it('teardown leaves no namespace of the run', async () => {
    const runId = tb.runId;
    await tb.close();
    expect((await listTestbedNamespaces()).filter((n) => n.startsWith(`aegis-tb-${runId}-`))).toEqual([]);
  });
});

describe.runIf(gate.ok)('testbed teardown paths (root)', () => {
  const aegis = (args: string[]) => spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'aegis.ts'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const runNamespaces = async (runId: string): Promise<string[]> => (await listTestbedNamespaces()).filter((n) => n.startsWith(`aegis-tb-${runId}-`));

  it('removes what it created when creation fails half way', async () => {
    const runId = `d${Math.floor(Math.random() * 0xfff).toString(16).padStart(3, '0')}`;
    // On this kernel (no netem) asking for the netem layer fails after the namespaces exist.
    const netemHere = await detectNetem(runId);
    const err = await createTestbed({ hosts: [{ name: 'x' }], runId, ctl: false, handleSignals: false, delayLayer: netemHere ? 'relay' : 'netem' }).then(
      async (tb) => {
        await tb.close();
        return undefined;
      },
      (e: Error) => e,
    );
    if (!netemHere) expect(err?.message).toMatch(/delayLayer "netem" asked but this kernel has no netem/);
    expect(await runNamespaces(runId)).toEqual([]);
  });

  it('refuses a run id whose namespaces exist, naming them', async () => {
    const runId = `e${Math.floor(Math.random() * 0xfff).toString(16).padStart(3, '0')}`;
    execFileSync('ip', ['netns', 'add', `aegis-tb-${runId}-x`]);
    try {
      await expect(createTestbed({ hosts: [{ name: 'x' }], runId, ctl: false, handleSignals: false })).rejects.toThrow(`testbed run ${runId} already has namespaces (aegis-tb-${runId}-x): run \`aegis testbed down\` or pick another runId`);
    } finally {
      execFileSync('ip', ['netns', 'del', `aegis-tb-${runId}-x`]);
    }
  });

  it('`aegis testbed up` tears down on SIGTERM', async () => {
    const runId = `f${Math.floor(Math.random() * 0xfff).toString(16).padStart(3, '0')}`;
    const child = aegis(['testbed', 'up', '--hosts', '2', '--run-id', runId]);
    try {
      let out = '';
      await new Promise<void>((ok, fail) => {
        const t = setTimeout(() => fail(new Error(`testbed up printed no host list in 60 s: ${out}`)), 60_000);
        child.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('Ctrl-C')) {
            clearTimeout(t);
            ok();
          }
        });
      });
      expect(out).toMatch(new RegExp(`h1\\t198\\.18\\.\\d+\\.1\\taegis-tb-${runId}-h1`));
      expect((await runNamespaces(runId)).length).toBe(4);
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(code).toBe(143);
      expect(await runNamespaces(runId)).toEqual([]);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});

describe.runIf(gate.ok)('aegis testbed down after a crashed run (root)', () => {
  const runId = `c${Math.floor(Math.random() * 0xfff).toString(16).padStart(3, '0')}`;
  afterAll(() => {
    // Whatever happened, nothing of this run stays.
    execFileSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'aegis.ts'), 'testbed', 'down', '--run', runId], { cwd: ROOT });
  });

  it('removes the leftover namespaces and ends the processes inside them', async () => {
    // A controller builds a testbed, starts a long sleeper in a host, and is SIGKILLed (no
    // exit hooks run): the namespaces and the sleeper are left behind.
    const script = `
      import { createTestbed } from ${JSON.stringify(join(ROOT, 'sim', 'testbed', 'net', 'index.ts'))};
      const tb = await createTestbed({ hosts: [{ name: 'x' }, { name: 'y' }], runId: '${runId}', ctl: false, handleSignals: false });
      await tb.start('x', { name: 'sleeper', cmd: 'sleep', args: ['300'] });
      console.log('ready');`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `${script}\nsetInterval(() => undefined, 1000);`], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((ok, fail) => {
      const t = setTimeout(() => fail(new Error('crashed-run controller did not get ready in 60 s')), 60_000);
      child.stdout!.on('data', (d: Buffer) => {
        if (d.toString().includes('ready')) {
          clearTimeout(t);
          ok();
        }
      });
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const left = (await listTestbedNamespaces()).filter((n) => n.startsWith(`aegis-tb-${runId}-`));
    expect(left.sort()).toEqual([`aegis-tb-${runId}-br`, `aegis-tb-${runId}-ctl`, `aegis-tb-${runId}-x`, `aegis-tb-${runId}-y`]);
    const sleepers = execFileSync('ip', ['netns', 'pids', `aegis-tb-${runId}-x`]).toString().trim().split(/\s+/).map(Number);
    expect(sleepers.length).toBe(1);

    const out = execFileSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'aegis.ts'), 'testbed', 'down', '--run', runId], { cwd: ROOT }).toString();
    expect(out).toMatch(/removed 4 namespaces/);
    expect((await listTestbedNamespaces()).filter((n) => n.startsWith(`aegis-tb-${runId}-`))).toEqual([]);
    // The sleeper is gone (or a zombie until its new parent reaps it): bounded wait.
    const state = (): string => {
      try {
        return /^State:\s+(\S)/m.exec(readFileSync(`/proc/${sleepers[0]}/status`, 'utf8'))?.[1] ?? 'gone';
      } catch {
        return 'gone';
      }
    };
    for (let i = 0; i < 50 && !['gone', 'Z'].includes(state()); i++) await new Promise((r) => setTimeout(r, 100));
    expect(['gone', 'Z']).toContain(state());
  });
});
