/**
 * The testbed's scenario format: the library loads and holds the names the issue requires,
 * and invalid files are refused with the field path and the fix.
 */
import { describe, expect, it } from 'vitest';
import { listTestbedScenarios, loadTestbedScenario, parseTestbedScenario, TestbedScenarioError } from '../../sim/testbed/scenario/load.ts';
import { regionOf, selectAll, selectHosts, hostDelay, type Topology } from '../../sim/testbed/scenario/hosts.ts';

const base = {
  name: 'x',
  description: 'd',
  n: 7,
  feeds: [{ name: 'BTC/USD', start: 60000 }],
  durationSec: 60,
};

function refusal(raw: unknown): string {
  try {
    parseTestbedScenario(raw, 'x.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(TestbedScenarioError);
    return (err as Error).message;
  }
  throw new Error('accepted');
}

describe('testbed scenario library', () => {
  const names = listTestbedScenarios();

  it('holds the required names, at least ten full scenarios and two smoke ones, all valid', () => {
    for (const n of ['wan-3-regions-n31', 'aggregator-kill', 'quorum-edge', 'sigkill-during-sign', 'clock-skew']) expect(names).toContain(n);
    const all = names.map((n) => loadTestbedScenario(n));
    expect(all.filter((s) => !s.smoke).length).toBeGreaterThanOrEqual(10);
    expect(all.filter((s) => s.smoke).length).toBeGreaterThanOrEqual(2);
    for (const s of all) expect(s.durationSec).toBeLessThanOrEqual(1800);
  });

  it('wan-3-regions-n31: n=31, t=21, regions 10/60/140 ms, 2 % loss on a third of the nodes', () => {
    const s = loadTestbedScenario('wan-3-regions-n31');
    expect([s.n, s.t]).toEqual([31, 21]);
    expect(Object.values(s.regions).map((r) => r.delayMs)).toEqual([10, 60, 140]);
    const loss = s.faults.find((f) => f.kind === 'loss')!;
    const topo: Topology = { n: s.n, aggregators: s.aggregators.count, regions: s.regions, placement: s.placement };
    expect(loss.kind === 'loss' && loss.pct).toBe(2);
    expect(loss.kind === 'loss' && selectAll(topo, loss.hosts).length).toBe(11);
    expect(s.expect).toContain('ticksPosted == ticksNeeded');
    expect(s.expect).toContain('roundP50Ms < 900');
    expect(hostDelay(topo, 'node31').delayMs).toBe(140);
    expect(regionOf(topo, 'agg0')).toBe('core');
  });

  it('quorum-edge cuts n − t then n − t + 1 nodes; sigkill-during-sign kills 20 times; clock-skew skews every process', () => {
    const q = loadTestbedScenario('quorum-edge');
    const topo: Topology = { n: q.n, aggregators: q.aggregators.count, regions: q.regions, placement: q.placement };
    const cuts = q.faults.filter((f) => f.kind === 'partition').map((f) => (f.kind === 'partition' ? selectAll(topo, f.hosts).length : 0));
    expect(cuts).toEqual([q.n - q.t, q.n - q.t + 1]);
    const k = loadTestbedScenario('sigkill-during-sign').faults[0]!;
    expect(k.kind === 'kill-during-sign' && k.count).toBe(20);
    const c = loadTestbedScenario('clock-skew');
    const ctopo: Topology = { n: c.n, aggregators: c.aggregators.count, regions: c.regions, placement: c.placement };
    const skewed = new Set(c.faults.flatMap((f) => (f.kind === 'clock' ? selectAll(ctopo, f.hosts) : [])));
    expect(skewed.size).toBe(c.n + c.aggregators.count + 2);
  });
});

describe('testbed scenario errors name the field and the fix', () => {
  it.each([
    [{ ...base, t: 3 }, /x\.yaml: t: 3 with n=7: allowed is n\/2 < t ≤ n/],
    [{ ...base, durationSec: 4000 }, /durationSec: .*1800/],
    [{ ...base, faults: [{ kind: 'los', at: 1, until: 2, hosts: ['nodes'] }] }, /faults\.0\.kind: .*delay, loss, bandwidth/],
    [{ ...base, faults: [{ kind: 'loss', at: 1, until: 2, hosts: ['nodes:1-40'], pct: 2 }] }, /faults\.0\.hosts\.0: nodes:1-40: range outside 1\.\.7/],
    [{ ...base, faults: [{ kind: 'loss', at: 5, until: 5, hosts: ['nodes'], pct: 2 }] }, /faults\.0\.until: must be after at \(5\)/],
    [{ ...base, faults: [{ kind: 'loss', at: 5, until: 90, hosts: ['nodes'], pct: 2 }] }, /faults\.0\.until: ends at 90 s, after the run/],
    [{ ...base, faults: [{ kind: 'kill', at: 5, target: 'agg3' }] }, /faults\.0\.target\.0: agg3: no such aggregator; aggregators are agg0\.\.agg1/],
    [{ ...base, faults: [{ kind: 'bandwidth', at: 1, until: 2, hosts: ['nodes'], rate: 'fast' }] }, /faults\.0\.rate: a tc rate such as 512kbit/],
    [{ ...base, faults: [{ kind: 'clock', at: 0, until: 2, hosts: ['node1'] }] }, /faults\.0: a clock fault needs offsetSec/],
    [{ ...base, faults: [{ kind: 'partition', at: 1, until: 2, hosts: ['region:mars'] }] }, /faults\.0\.hosts\.0: region:mars: no such region/],
    [{ ...base, expect: ['latency < 3'] }, /expect\.0: latency is not a measure; allowed: ticksNeeded/],
    [{ ...base, expect: ['roundP50Ms is small'] }, /expect\.0: a comparison/],
    [{ ...base, expect: [{ noPostDuring: 'cut' }] }, /expect\.0\.noPostDuring: no fault has id cut/],
    [{ ...base, regions: { eu: { delayMs: 10 } }, placement: { nodes: [3] } }, /placement\.nodes: counts add up to 3, not n=7/],
    [{ ...base, aggregators: { count: 3, intervalMs: 1000, slotMs: 600 } }, /aggregators\.slotMs: 2 standbys × slotMs 600 must be below intervalMs 1000/],
    [{ ...base, extra: 1 }, /unknown field\(s\) extra/],
    [{ ...base, faults: [{ kind: 'clock', at: 5, until: 60, hosts: ['node1'], offsetSec: 2 }] }, /faults\.0\.at: a clock skew is set when the process starts/],
    [{ ...base, faults: [{ kind: 'clock', at: 0, until: 60, hosts: ['nodes'], offsetSec: 2 }, { kind: 'clock', at: 0, until: 60, hosts: ['node3'], offsetSec: -2 }] }, /faults\.1\.hosts: node3 already has a clock fault \(faults\.0\)/],
  ])('%#', (raw, re) => {
    expect(refusal(raw)).toMatch(re);
  });

  it('a library name that does not exist lists the library', () => {
    expect(() => loadTestbedScenario('nope')).toThrow(/no such library scenario or file; library: .*aggregator-kill/);
  });
});

describe('host selectors', () => {
  const topo: Topology = { n: 6, aggregators: 2, regions: { eu: { delayMs: 10, jitterMs: 0 }, ap: { delayMs: 140, jitterMs: 5 } }, placement: { nodes: [4, 2], anvil: 'eu' } };
  it('names hosts by index, range, role and region', () => {
    expect(selectHosts(topo, 'nodes:2-3')).toEqual(['node2', 'node3']);
    expect(selectHosts(topo, 'active-aggregator')).toEqual(['agg0']);
    expect(selectHosts(topo, 'standbys')).toEqual(['agg1']);
    expect(selectHosts(topo, 'region:ap')).toEqual(['node5', 'node6']);
    expect(selectHosts(topo, 'region:eu')).toEqual(['anvil', 'node1', 'node2', 'node3', 'node4']);
    expect(selectAll(topo, ['node6', 'nodes:1-2', 'node1'])).toEqual(['node1', 'node2', 'node6']);
    expect(() => selectHosts(topo, 'everyone')).toThrow(/not a host selector; use node<k>/);
  });
});
