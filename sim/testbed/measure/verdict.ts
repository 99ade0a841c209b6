/**
 * A scenario's `expect` list judged against a run's measures: comparisons over the JSON
 * fields (`roundP50Ms < 900`, `ticksPosted == ticksNeeded`; a null measure fails every
 * comparison but `== null`-free ones it cannot meet, and says so) and the structured checks
 * (`noPostDuring`, `unhealthyNamed`, `refusedByName`). Pure but for reading log files.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { RunMeasures } from './index.ts';
import { COMPARISON, type Expectation, type MeasureName } from '../scenario/schema.ts';

export interface ExpectationResult {
  expect: string;
  ok: boolean;
  actual: string;
}

export interface VerdictContext {
  /** Resolves a scenario's host selectors to host names. */
  select: (sels: readonly string[]) => string[];
  /** Log files by host (every file the host's process wrote, restarts included). */
  logs: Record<string, string[]>;
  /** Extra measures by name (e.g. maxStaleSec) beyond the run's top-level fields. */
}

function measureValue(run: RunMeasures, name: string): number | null {
  if (name === 'doublePosts') return run.details.doublePosts;
  if (name === 'maxStaleSec') return run.details.maxStaleSec;
  if (name === 'maxDeviationSec') return run.details.maxDeviationSec;
  const v = (run as unknown as Record<string, unknown>)[name as MeasureName];
  return typeof v === 'number' ? v : null;
}

function compare(a: number, op: string, b: number): boolean {
  switch (op) {
    case '==':
      return a === b;
    case '!=':
      return a !== b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    default:
      return a >= b;
  }
}

export function judge(expect: readonly Expectation[], run: RunMeasures, ctx: VerdictContext): ExpectationResult[] {
  return expect.map((e) => {
    if (typeof e === 'string') {
      const [, l, op, r] = COMPARISON.exec(e)!;
      const lv = /^-?\d/.test(l!) ? Number(l) : measureValue(run, l!);
      const rv = /^-?\d/.test(r!) ? Number(r) : measureValue(run, r!);
      if (lv === null || rv === null) return { expect: e, ok: false, actual: `${l} = ${lv}, ${r} = ${rv} (null: not measured in this run)` };
      return { expect: e, ok: compare(lv, op!, rv), actual: `${lv} ${op} ${rv}` };
    }
    if ('noPostDuring' in e) {
      const f = run.details.faults.find((x) => x.id === e.noPostDuring);
      const label = `no post during ${e.noPostDuring} (grace ${e.graceSec} s)`;
      if (!f) return { expect: label, ok: false, actual: 'fault never happened' };
      const from = f.fromMs + e.graceSec * 1000;
      const to = f.toMs ?? run.details.window.endMs;
      // By the block that accepted it (a report signed before or during the fault and landed after it is not a post during it).
      const during = run.details.posts.filter((p) => p.blockTime * 1000 >= from && p.blockTime * 1000 < to);
      return { expect: label, ok: during.length === 0, actual: during.length === 0 ? 'none accepted' : `${during.length} accepted (epochs ${during.slice(0, 4).map((p) => `${p.epoch} in block time ${p.blockTime}`).join(', ')})` };
    }
    if ('unhealthyNamed' in e) {
      const u = e.unhealthyNamed;
      const label = `${u.hosts.join(',')} unhealthy during ${u.during} naming /${u.matches}/`;
      const f = run.details.faults.find((x) => x.id === u.during);
      if (!f) return { expect: label, ok: false, actual: 'fault never happened' };
      const hosts = new Set(ctx.select(u.hosts));
      const to = f.toMs ?? run.details.window.endMs;
      const re = new RegExp(u.matches, 'i');
      const hits = run.details.unhealthy.filter((i) => hosts.has(i.host) && i.toMs >= f.fromMs && i.fromMs <= to);
      const named = hits.filter((i) => i.messages.some((m) => re.test(m)));
      return { expect: label, ok: named.length > 0, actual: named.length ? `${named[0]!.host}: ${named[0]!.messages.find((m) => re.test(m))}` : hits.length ? `unhealthy but said: ${hits[0]!.messages.join(' | ')}` : 'healthy throughout' };
    }
    const r = e.refusedByName;
    const label = `${r.hosts.join(',')} refused by name /${r.matches}/`;
    const re = new RegExp(r.matches, 'i');
    for (const h of ctx.select(r.hosts)) {
      for (const file of ctx.logs[h] ?? []) {
        if (!existsSync(file)) continue;
        const line = readFileSync(file, 'utf8').split('\n').find((l) => re.test(l));
        if (line) return { expect: label, ok: true, actual: `${h}: ${line.slice(0, 200)}` };
      }
    }
    return { expect: label, ok: false, actual: 'no such line in their logs' };
  });
}
