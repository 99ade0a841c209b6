/**
 * Every library scenario's verdict and expectations (the `expect` block of its file), run
 * against the real parts, and its reports (JSON, Markdown, HTML) free of `undefined`: every
 * defence and reason names its cause. Slow (minutes): the whole library on anvil.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { listScenarios, loadScenario } from '../../sim/scenario/load.ts';
import { runScenario, stopSimChains } from '../../sim/runner.ts';
import { toHtml, toJson, toMarkdown } from '../../sim/report/index.ts';

// Runs get the test's signal, so a timeout stops them and their anvil; anything left is stopped here.
afterEach(stopSimChains);

/** Paths of every `undefined` value (JSON would drop them silently) and every string saying "undefined". */
function undefinedPaths(x: unknown, path = 'result'): string[] {
  if (x === undefined) return [path];
  if (typeof x === 'string') return x.includes('undefined') ? [`${path}: ${JSON.stringify(x.slice(0, 120))}`] : [];
  if (Array.isArray(x)) return x.flatMap((v, k) => undefinedPaths(v, `${path}[${k}]`));
  if (x !== null && typeof x === 'object') return Object.entries(x).flatMap(([k, v]) => undefinedPaths(v, `${path}.${k}`));
  return [];
}

describe.each(listScenarios().map((n) => [n]))('library scenario %s', (name) => {
  it('meets the expectations in its file, and its reports name every cause (no undefined)', async ({ signal }) => {
    const s = loadScenario(name);
    const r = await runScenario(s, { signal });
    const failed = r.expectations.filter((e) => !e.ok).map((e) => `${e.field}: expected ${String(e.expected)}, got ${String(e.actual)} (${r.reasons.join('; ')})`);
    expect(failed).toEqual([]);
    if (s.expect.verdict) expect(r.verdict).toBe(s.expect.verdict);
    // A forged or altered report must never be accepted, whatever the scenario.
    expect(r.served.forgedAccepted).toBe(0);
    expect(undefinedPaths(r)).toEqual([]);
    for (const [format, text] of [['json', toJson(r)], ['markdown', toMarkdown(r)], ['html', toHtml(r)]] as const) {
      expect(text.includes('undefined'), `${format} report of ${name} says "undefined"`).toBe(false);
    }
  }, 300_000);
});
