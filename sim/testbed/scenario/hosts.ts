/**
 * Host names and selectors of a testbed scenario (format in `schema.ts`): which hosts a run
 * has, which region each sits in, and which hosts a selector names. Pure; the loader, the
 * runner and the measures use the same functions so a name means one thing everywhere.
 */
export interface Topology {
  n: number;
  aggregators: number;
  regions: Record<string, { delayMs: number; jitterMs: number }>;
  placement: { nodes?: number[]; aggregators?: string; venues?: string; anvil?: string };
}

export const CORE = 'core';

/** Every host of a run, in start order: anvil, venues, nodes, aggregators. */
export function allHosts(t: Pick<Topology, 'n' | 'aggregators'>): string[] {
  return ['anvil', 'venues', ...Array.from({ length: t.n }, (_, k) => `node${k + 1}`), ...Array.from({ length: t.aggregators }, (_, k) => `agg${k}`)];
}

/** Region of each host (`core` when not placed). */
export function regionOf(t: Topology, host: string): string {
  const names = Object.keys(t.regions);
  const m = /^node(\d+)$/.exec(host);
  if (m && t.placement.nodes) {
    let k = Number(m[1]);
    for (let r = 0; r < t.placement.nodes.length; r++) {
      if (k <= t.placement.nodes[r]!) return names[r] ?? CORE;
      k -= t.placement.nodes[r]!;
    }
    return CORE;
  }
  if (/^agg\d+$/.test(host)) return t.placement.aggregators ?? CORE;
  if (host === 'venues') return t.placement.venues ?? CORE;
  if (host === 'anvil') return t.placement.anvil ?? CORE;
  return CORE;
}

/** One-way delay to the core of a host's region, ms (0 in `core`). */
export function hostDelay(t: Topology, host: string): { delayMs: number; jitterMs: number } {
  return t.regions[regionOf(t, host)] ?? { delayMs: 0, jitterMs: 0 };
}

export class SelectorError extends Error {
  override readonly name = 'SelectorError';
}

/**
 * Hosts named by one selector; throws `SelectorError` with the allowed forms when it names
 * nothing. `active-aggregator` is `agg0` (the schedule's position 0).
 */
export function selectHosts(t: Topology, sel: string): string[] {
  const nodes = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, k) => `node${a + k}`);
  const s = sel.trim();
  let m: RegExpExecArray | null;
  if (s === 'nodes') return nodes(1, t.n);
  if (s === 'aggregators') return Array.from({ length: t.aggregators }, (_, k) => `agg${k}`);
  if (s === 'active-aggregator') return ['agg0'];
  if (s === 'standbys') return Array.from({ length: t.aggregators - 1 }, (_, k) => `agg${k + 1}`);
  if (s === 'venues' || s === 'anvil') return [s];
  if ((m = /^node(\d+)$/.exec(s))) {
    const k = Number(m[1]);
    if (k < 1 || k > t.n) throw new SelectorError(`${s}: no such node; nodes are node1..node${t.n}`);
    return [s];
  }
  if ((m = /^nodes:(\d+)-(\d+)$/.exec(s))) {
    const a = Number(m[1]);
    const b = Number(m[2]);
    if (a < 1 || b > t.n || a > b) throw new SelectorError(`${s}: range outside 1..${t.n} or empty; write nodes:<first>-<last>`);
    return nodes(a, b);
  }
  if ((m = /^agg(\d+)$/.exec(s))) {
    if (Number(m[1]) >= t.aggregators) throw new SelectorError(`${s}: no such aggregator; aggregators are agg0..agg${t.aggregators - 1} (agg0 is active)`);
    return [s];
  }
  if ((m = /^region:([a-z][a-z0-9-]*)$/.exec(s))) {
    if (m[1] !== CORE && !(m[1]! in t.regions)) throw new SelectorError(`${s}: no such region; regions: ${[...Object.keys(t.regions), CORE].join(', ')}`);
    return allHosts(t).filter((h) => regionOf(t, h) === m![1]);
  }
  throw new SelectorError(`${s}: not a host selector; use node<k>, nodes:<a>-<b>, nodes, agg<k>, aggregators, active-aggregator, standbys, venues, anvil or region:<name>`);
}

/** Union of several selectors, in host order, without duplicates. */
export function selectAll(t: Topology, sels: readonly string[]): string[] {
  const want = new Set(sels.flatMap((s) => selectHosts(t, s)));
  return allHosts(t).filter((h) => want.has(h));
}
