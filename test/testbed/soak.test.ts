/**
 * The soak (`npm run soak`): the pure parts (fault schedule, warm-up rule, growth verdict,
 * metrics parsing) always; a 45-second soak through the CLI in network namespaces when root
 * is available, checking the JSON shape and that every sample source (/proc, /metrics, the
 * SQLite files) delivered. Without root the run is skipped with the reason printed; with
 * AEGIS_REQUIRE_ROOT_TESTS=1 a skip fails instead.
 */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { canCreateNamespaces, listTestbedNamespaces } from '../../sim/testbed/net/index.ts';
import { judge, metricValue, soakFaults, warmupOf, type Sample } from '../../sim/testbed/soak.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const run = promisify(execFile);
const gate = await canCreateNamespaces();
const required = process.env.AEGIS_REQUIRE_ROOT_TESTS === '1';
if (!gate.ok && !required) console.log(`test/testbed/soak.test.ts: the 45 s soak is skipped: ${gate.reason}`);

const sample = (host: string, tMin: number, rss: number, fds: number, sqlite: number, restarts = 0): Sample => ({
  tMin,
  host,
  kind: host.startsWith('node') ? 'node' : host.startsWith('agg') ? 'aggregator' : 'fixture',
  pid: 100,
  up: true,
  rssBytes: rss,
  fds,
  heapUsedBytes: rss / 4,
  eventLoopP99Ms: 12,
  sqliteBytes: sqlite,
  walBytes: 0,
  restarts,
});

describe('soak: pure parts', () => {
  it('a long run cycles every fault kind and leaves the last tenth (at most 5 min) quiet', () => {
    const f = soakFaults(62 * 60, true);
    expect(new Set(f.map((x) => x.kind))).toEqual(new Set(['kill', 'loss', 'partition']));
    expect(f.filter((x) => x.kind === 'kill' && x.target === 'active-aggregator').map((x) => x.at / 60)).toEqual([2, 22, 42]);
    expect(Math.max(...f.map((x) => x.until))).toBeLessThanOrEqual(57 * 60);
    expect(f.every((x) => x.until > x.at)).toBe(true);
    expect(soakFaults(62 * 60, false).some((x) => x.kind === 'loss' || x.kind === 'partition')).toBe(false);
  });

  it('warm-up: 10 minutes, or the first third of runs under 20 minutes', () => {
    expect(warmupOf(3600)).toEqual({ sec: 600, rule: 'first 10 minutes' });
    expect(warmupOf(180).sec).toBe(60);
  });

  it('growth compares the median of the first samples after the warm-up with that of the last; 10 % or more fails, naming the metric', () => {
    const s: Sample[] = [];
    for (let m = 0; m <= 30; m += 1) {
      s.push(sample('node1', m, 100e6 + (m < 10 ? m * 5e6 : 0), 30, 200e3));
      s.push(sample('agg0', m, 100e6, 40, 100e3 + m * 10e3)); // a store growing without end
      s.push(sample('anvil', m, 50e6 + m * 10e6, 20, 0));
    }
    const v = judge(s, 10);
    const node1 = v.processes.find((p) => p.name === 'node1')!;
    expect(node1).toMatchObject({ rssGrowthPct: 0, fdGrowthPct: 0, sqliteGrowthPct: 0, pass: true });
    const agg0 = v.processes.find((p) => p.name === 'agg0')!;
    // 21 judged samples, windows of 3: medians 210 kB (minutes 10–12) and 390 kB (28–30).
    expect(agg0.sqliteGrowthPct).toBe(85.7);
    expect(agg0.pass).toBe(false);
    expect(agg0.why).toMatch(/sqliteGrowthPct 85.7 % >= 10 %/);
    expect(v.fixtures.map((p) => p.name)).toEqual(['anvil']); // fixtures are reported, not judged
    expect(v.processes.map((p) => p.name)).toEqual(['node1', 'agg0']);
  });

  it('one sample caught holding a round\'s connections does not fail a process; descriptors that keep growing do', () => {
    const s: Sample[] = [];
    for (let m = 0; m <= 60; m += 1) {
      s.push(sample('agg1', m, 100e6, m === 60 ? 37 : 30, 100e3)); // a standby that took over the last tick
      s.push(sample('agg0', m, 100e6, 30 + Math.floor(m / 5), 100e3)); // one descriptor leaked every 5 minutes
    }
    const v = judge(s, 10);
    expect(v.processes.find((p) => p.name === 'agg1')).toMatchObject({ fdGrowthPct: 0, pass: true });
    const agg0 = v.processes.find((p) => p.name === 'agg0')!;
    expect(agg0.pass).toBe(false);
    expect(agg0.why).toMatch(/fdGrowthPct 28.1 % >= 10 %/); // medians 32 (minutes 10–14) and 41 (56–60)
  });

  it('reads prefixed prom-client process metrics, with or without labels', () => {
    const text = '# HELP x\naegis_node_nodejs_heap_size_used_bytes 12345\naegis_aggregator_nodejs_eventloop_lag_p99_seconds{aggregator="agg0"} 0.0125\n';
    expect(metricValue(text, '_nodejs_heap_size_used_bytes')).toBe(12345);
    expect(metricValue(text, '_nodejs_eventloop_lag_p99_seconds')).toBe(0.0125);
    expect(metricValue(text, '_nope')).toBeNull();
  });
});

describe.runIf(!gate.ok && required)('root environment (AEGIS_REQUIRE_ROOT_TESTS=1)', () => {
  it('is available', () => {
    throw new Error(`AEGIS_REQUIRE_ROOT_TESTS=1 but the soak cannot run here: ${gate.reason}`);
  });
});

describe.runIf(gate.ok)('soak: a 45 s run in network namespaces', () => {
  it('prints the JSON with every process sampled from /proc, /metrics and its SQLite files, writes the charts, leaves no namespace', async () => {
    const out = mkdtempSync(join(tmpdir(), 'aegis-soak-test-'));
    try {
      let stdout: string;
      try {
        ({ stdout } = await run(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'soak.ts'), '--seconds', '45', '--sample-sec', '5', '--json', '--out', out, '--mode', 'namespaces'], { cwd: ROOT, maxBuffer: 16 << 20, timeout: 170_000 }));
      } catch (err) {
        // Exit 1 is a growth verdict (45 s never settles); the JSON is still printed.
        const e = err as { code?: number; stdout?: string; stderr?: string };
        if (e.code !== 1) throw new Error(`soak exited ${e.code}: ${e.stderr?.split('\n').slice(-8).join('\n')}`);
        stdout = e.stdout!;
      }
      const r = JSON.parse(stdout);
      expect(Object.keys(r).slice(0, 3)).toEqual(['minutes', 'processes', 'pass']);
      expect(r.minutes).toBe(0.75);
      expect(typeof r.pass).toBe('boolean');
      expect(r.mode).toBe('namespaces');
      expect(r.warmup.rule).toMatch(/first third/);
      expect(r.run.error).toBeUndefined();
      expect(r.run.equivocations).toBe(0);
      expect(r.processes.map((p: { name: string }) => p.name)).toEqual(['node1', 'node2', 'node3', 'node4', 'node5', 'node6', 'node7', 'agg0', 'agg1']);
      for (const p of r.processes) {
        expect(Object.keys(p).slice(0, 4)).toEqual(['name', 'rssGrowthPct', 'fdGrowthPct', 'sqliteGrowthPct']);
        for (const k of ['rssGrowthPct', 'fdGrowthPct', 'sqliteGrowthPct']) expect(typeof p[k], `${p.name}.${k}`).toBe('number');
      }
      const samples: Sample[] = JSON.parse(readFileSync(join(out, 'samples.json'), 'utf8'));
      // node1 is never restarted: /proc and its files answer at every sample; its /metrics at
      // most (a scrape may time out on a loaded machine), with plausible values.
      const node1 = samples.filter((s) => s.host === 'node1');
      expect(node1.length).toBeGreaterThanOrEqual(8);
      for (const s of node1) {
        expect(s.rssBytes).toBeGreaterThan(20 * 2 ** 20);
        expect(s.fds).toBeGreaterThan(5);
        expect(s.sqliteBytes).toBeGreaterThan(0);
      }
      const scraped = node1.filter((s) => s.heapUsedBytes !== null && s.eventLoopP99Ms !== null);
      expect(scraped.length, JSON.stringify(node1)).toBeGreaterThanOrEqual(node1.length / 2);
      for (const s of scraped) {
        expect(s.heapUsedBytes).toBeGreaterThan(1 * 2 ** 20);
        expect(s.eventLoopP99Ms).toBeGreaterThan(0);
      }
      expect(samples.some((s) => s.host === 'agg0' && s.sqliteBytes! > 0)).toBe(true);
      expect(samples.some((s) => s.host === 'anvil' && s.kind === 'fixture' && s.rssBytes! > 0)).toBe(true);
      for (const f of ['samples.csv', 'table.md', 'result.json', 'soak-rss.svg', 'soak-heap.svg', 'soak-fds.svg', 'soak-eventloop.svg', 'soak-sqlite.svg']) expect(existsSync(join(out, f)), f).toBe(true);
      expect(readFileSync(join(out, 'soak-rss.svg'), 'utf8')).toMatch(/^<svg[\s\S]*node1[\s\S]*<\/svg>$/);
      if (r.run.runId) expect((await listTestbedNamespaces()).filter((ns) => ns.startsWith(`aegis-tb-${r.run.runId}-`))).toEqual([]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 180_000);
});
