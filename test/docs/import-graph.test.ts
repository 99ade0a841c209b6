/**
 * The import graph keeps the layout of docs/design.md §Components: no circular import anywhere in
 * the product folders, `protocol/` imports nothing outside itself, `runtime/` (the process
 * plumbing every part shares) imports only itself and `protocol/`, `node/` and `aggregator/`
 * never import each other (they meet only through `protocol/`), and no product folder imports
 * the benchmarks (`bench/`) or the test kit (`testkit/`). The graph is madge's, built from the
 * TypeScript sources with the repository's tsconfig, type-only imports included.
 */
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import madge from 'madge';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const FOLDERS = ['node', 'aggregator', 'protocol', 'runtime', 'sim', 'contracts', 'scripts', 'bench', 'testkit'];
/** What ships and runs in production; `sim/` (the demo) and `scripts/` may use the test kit. */
const PRODUCT = ['node', 'aggregator', 'protocol', 'contracts'];
const NOT_PRODUCT = ['bench', 'testkit'];

type Graph = Record<string, string[]>;

/** Imports that break a layout rule, as `from → to` lines. */
function layoutViolations(graph: Graph): string[] {
  const top = (file: string) => file.split('/')[0]!;
  const out: string[] = [];
  for (const [from, deps] of Object.entries(graph)) {
    for (const to of deps) {
      const a = top(from);
      const b = top(to);
      if (a === 'protocol' && b !== 'protocol') out.push(`${from} → ${to}: protocol/ must import nothing outside itself`);
      if (a === 'runtime' && b !== 'runtime' && b !== 'protocol') out.push(`${from} → ${to}: runtime/ imports only runtime/ and protocol/ (it is plumbing every process shares)`);
      if ((a === 'node' && b === 'aggregator') || (a === 'aggregator' && b === 'node')) {
        out.push(`${from} → ${to}: node/ and aggregator/ never import each other; share it through protocol/`);
      }
      if (PRODUCT.includes(a) && NOT_PRODUCT.includes(b)) {
        out.push(`${from} → ${to}: product code (${a}/) never imports ${b}/; move what both need into the product folder`);
      }
    }
  }
  return out;
}

describe('import graph of the product folders', () => {
  let graph: Graph;
  let circular: string[][];
  let skipped: string[];

  beforeAll(async () => {
    const res = await madge(FOLDERS.map((f) => join(ROOT, f)), {
      baseDir: ROOT,
      fileExtensions: ['ts'],
      tsConfig: join(ROOT, 'tsconfig.json'),
    });
    graph = res.obj();
    circular = res.circular();
    skipped = res.warnings().skipped;
  }, 120_000);

  it('covers every product folder and resolves every relative import', () => {
    // A resolver that found nothing would pass the checks below vacuously.
    expect(Object.keys(graph).length).toBeGreaterThan(150);
    for (const f of FOLDERS) expect(Object.keys(graph).some((k) => k.startsWith(`${f}/`)), f).toBe(true);
    const edges = Object.values(graph).reduce((n, deps) => n + deps.length, 0);
    expect(edges).toBeGreaterThan(300);
    expect(skipped.filter((s) => s.startsWith('.')), 'relative imports madge could not resolve').toEqual([]);
  });

  it('has no circular import', () => {
    expect(circular.map((c) => c.join(' → '))).toEqual([]);
  });

  it('protocol/ imports only protocol/, runtime/ only runtime/ and protocol/, node/ and aggregator/ never import each other, no product folder imports bench/ or testkit/', () => {
    expect(layoutViolations(graph)).toEqual([]);
  });

  it('the layout check names a violating import', () => {
    // The checker itself can fail: a graph with each forbidden edge is reported edge by edge.
    const bad = layoutViolations({
      'protocol/a.ts': ['protocol/b.ts', 'node/x.ts'],
      'node/y.ts': ['aggregator/z.ts', 'protocol/a.ts'],
      'aggregator/z.ts': ['node/y.ts'],
      'sim/s.ts': ['node/y.ts', 'aggregator/z.ts'],
      'runtime/r.ts': ['runtime/q.ts', 'protocol/a.ts', 'node/y.ts'],
      'node/w.ts': ['runtime/r.ts'],
    });
    expect(bad).toHaveLength(4);
    expect(bad[0]).toMatch(/^protocol\/a\.ts → node\/x\.ts: protocol\/ must import nothing outside itself/);
    expect(bad[3]).toBe('runtime/r.ts → node/y.ts: runtime/ imports only runtime/ and protocol/ (it is plumbing every process shares)');
  });

  it('the layout check names a product import of bench/ or testkit/', () => {
    // Benchmarks and test kits import the product, never the reverse; sim/ and scripts/ may use them.
    const bad = layoutViolations({
      'aggregator/a.ts': ['testkit/reference-node/node.ts'],
      'contracts/c.ts': ['bench/gas.ts'],
      'node/n.ts': ['bench/stats.ts'],
      'bench/round.ts': ['node/start.ts', 'aggregator/round/engine.ts', 'testkit/node-workers.ts'],
      'testkit/reference-node/http.ts': ['aggregator/server.ts'],
      'sim/devnet/demo.ts': ['testkit/reference-node/node.ts'],
      'scripts/bench.ts': ['bench/gas.ts'],
    });
    expect(bad).toEqual([
      'aggregator/a.ts → testkit/reference-node/node.ts: product code (aggregator/) never imports testkit/; move what both need into the product folder',
      'contracts/c.ts → bench/gas.ts: product code (contracts/) never imports bench/; move what both need into the product folder',
      'node/n.ts → bench/stats.ts: product code (node/) never imports bench/; move what both need into the product folder',
    ]);
  });
});
