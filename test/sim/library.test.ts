/**
 * Every library scenario's verdict and expectations (the `expect` block of its file), run
 * against the real parts. Slow (minutes): the whole library on anvil.
 */
import { describe, expect, it } from 'vitest';
import { listScenarios, loadScenario } from '../../sim/scenario/load.ts';
import { runScenario } from '../../sim/runner.ts';

describe.each(listScenarios().map((n) => [n]))('library scenario %s', (name) => {
  it('meets the expectations in its file', async () => {
    const s = loadScenario(name);
    const r = await runScenario(s);
    const failed = r.expectations.filter((e) => !e.ok).map((e) => `${e.field}: expected ${String(e.expected)}, got ${String(e.actual)} (${r.reasons.join('; ')})`);
    expect(failed).toEqual([]);
    if (s.expect.verdict) expect(r.verdict).toBe(s.expect.verdict);
    // A forged or altered report must never be accepted, whatever the scenario.
    expect(r.served.forgedAccepted).toBe(0);
  }, 300_000);
});
