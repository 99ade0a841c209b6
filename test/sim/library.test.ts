/**
 * Every library scenario's verdict and expectations (the `expect` block of its file), run
 * against the real parts. Slow (minutes): the whole library on anvil.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { listScenarios, loadScenario } from '../../sim/scenario/load.ts';
import { runScenario, stopSimChains } from '../../sim/runner.ts';

// Runs get the test's signal, so a timeout stops them and their anvil; anything left is stopped here.
afterEach(stopSimChains);

describe.each(listScenarios().map((n) => [n]))('library scenario %s', (name) => {
  it('meets the expectations in its file', async ({ signal }) => {
    const s = loadScenario(name);
    const r = await runScenario(s, { signal });
    const failed = r.expectations.filter((e) => !e.ok).map((e) => `${e.field}: expected ${String(e.expected)}, got ${String(e.actual)} (${r.reasons.join('; ')})`);
    expect(failed).toEqual([]);
    if (s.expect.verdict) expect(r.verdict).toBe(s.expect.verdict);
    // A forged or altered report must never be accepted, whatever the scenario.
    expect(r.served.forgedAccepted).toBe(0);
  }, 300_000);
});
