/**
 * Reading testbed scenarios: by name from the library (`sim/testbed/scenarios/<name>.yaml`)
 * or by path, validated against `TestbedScenarioSchema`, then checked across fields (t
 * against n, selectors against the hosts, windows against the duration, expectations
 * against the measures and fault ids). Every error names the field path and the fix:
 *   scenario quorum-edge.yaml: faults.1.hosts.0: nodes:1-40: range outside 1..31 or empty; …
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { describeIssue } from '../../scenario/load.ts';
import { selectHosts, SelectorError, type Topology } from './hosts.ts';
import { COMPARISON, MEASURES, TestbedScenarioSchema, defaultThreshold, type TestbedScenario } from './schema.ts';

export const TESTBED_LIBRARY_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'scenarios');

export class TestbedScenarioError extends Error {
  override readonly name = 'TestbedScenarioError';
  constructor(
    readonly code: 'scenario_not_found' | 'scenario_unreadable' | 'scenario_invalid',
    message: string,
    readonly issues: string[] = [],
  ) {
    super(message);
  }
}

const HINTS = {
  fieldsDoc: 'sim/testbed/scenario/schema.ts',
  kinds: 'delay, loss, bandwidth, partition, rpc-outage, venue-outage, kill, kill-during-sign, clock',
};

/** Validate a parsed scenario object; `source` names it in errors. */
export function parseTestbedScenario(raw: unknown, source = 'scenario'): TestbedScenario {
  const result = TestbedScenarioSchema.safeParse(raw);
  if (!result.success) {
    const issues = result.error.issues.map((i) => describeIssue(i, raw, HINTS));
    throw new TestbedScenarioError('scenario_invalid', `scenario ${source}: ${issues.slice(0, 6).join('; ')}`, issues);
  }
  const s = result.data;
  const fail = (field: string, msg: string): never => {
    throw new TestbedScenarioError('scenario_invalid', `scenario ${source}: ${field}: ${msg}`, [`${field}: ${msg}`]);
  };
  const t = s.t ?? defaultThreshold(s.n);
  if (t > s.n || t <= s.n / 2) fail('t', `${t} with n=${s.n}: allowed is n/2 < t ≤ n (default 2f+1 = ${defaultThreshold(s.n)})`);
  const regions = Object.keys(s.regions);
  if (s.placement.nodes) {
    if (s.placement.nodes.length !== regions.length) fail('placement.nodes', `${s.placement.nodes.length} counts for ${regions.length} regions (${regions.join(', ') || 'none'}); give one count per region, in order`);
    const sum = s.placement.nodes.reduce((a, b) => a + b, 0);
    if (sum !== s.n) fail('placement.nodes', `counts add up to ${sum}, not n=${s.n}`);
  }
  for (const k of ['aggregators', 'venues', 'anvil'] as const) {
    const r = s.placement[k];
    if (r !== undefined && r !== 'core' && !regions.includes(r)) fail(`placement.${k}`, `${r} is not a region; allowed: core, ${regions.join(', ')}`);
  }
  if (s.aggregators.count > 1 && (s.aggregators.count - 1) * s.aggregators.slotMs >= s.aggregators.intervalMs) {
    fail('aggregators.slotMs', `${s.aggregators.count - 1} standbys × slotMs ${s.aggregators.slotMs} must be below intervalMs ${s.aggregators.intervalMs}, or the last standby never acts within a tick`);
  }
  const topo: Topology = { n: s.n, aggregators: s.aggregators.count, regions: s.regions, placement: s.placement };
  const checkSel = (field: string, sels: readonly string[] | undefined) =>
    sels?.forEach((sel, k) => {
      try {
        if (selectHosts(topo, sel).length === 0) fail(`${field}.${k}`, `${sel} names no host`);
      } catch (err) {
        if (err instanceof SelectorError) fail(`${field}.${k}`, err.message);
        throw err;
      }
    });
  const ids = new Set<string>();
  const faults = s.faults.map((f, i) => {
    const field = `faults.${i}`;
    const until = f.kind === 'kill' ? f.at + (f.restartAfterSec ?? 0) : f.until;
    if (f.kind !== 'kill' && f.until <= f.at) fail(`${field}.until`, `must be after at (${f.at})`);
    if (until > s.durationSec) fail(f.kind === 'kill' ? `${field}.restartAfterSec` : `${field}.until`, `ends at ${until} s, after the run (durationSec ${s.durationSec}); shorten it or lengthen the run`);
    if (f.at >= s.durationSec) fail(`${field}.at`, `${f.at} s is not within the run (durationSec ${s.durationSec})`);
    const id = f.id ?? `${f.kind}#${i}`;
    if (ids.has(id)) fail(`${field}.id`, `${id} is used twice; fault ids must be unique`);
    ids.add(id);
    if (f.kind === 'kill') {
      checkSel(`${field}.target`, [f.target]);
      if (f.target === 'venues') fail(`${field}.target`, 'the venue server is not killed; use venue-outage');
    } else {
      checkSel(`${field}.hosts`, f.hosts);
      if (f.kind === 'loss' || f.kind === 'partition') checkSel(`${field}.${f.kind === 'loss' ? 'peers' : 'from'}`, f.kind === 'loss' ? f.peers : f.from);
    }
    if (f.kind === 'kill-during-sign') {
      const ticks = Math.floor(((f.until - f.at) * 1000) / s.aggregators.intervalMs);
      if (f.count > ticks * selectCount(topo, f.hosts)) fail(`${field}.count`, `${f.count} kills do not fit in ${ticks} ticks of ${f.hosts.join(',')}; widen [at, until] or lower count`);
    }
    if (f.kind === 'clock' && f.offsetSec === 0 && f.driftPpm === 0) fail(`${field}`, 'a clock fault needs offsetSec and/or driftPpm');
    if (f.kind === 'clock' && f.at !== 0) fail(`${field}.at`, 'a clock skew is set when the process starts (libfaketime reads it at exec); use at: 0 (and until: durationSec)');
    return { ...f, until, id };
  });
  const clocked = new Map<string, string>();
  s.faults.forEach((f, i) => {
    if (f.kind !== 'clock') return;
    for (const h of f.hosts.flatMap((x) => selectHosts(topo, x))) {
      if (clocked.has(h)) fail(`faults.${i}.hosts`, `${h} already has a clock fault (${clocked.get(h)}); a process has one clock`);
      clocked.set(h, `faults.${i}`);
    }
  });
  s.expect.forEach((e, i) => {
    const field = `expect.${i}`;
    if (typeof e === 'string') {
      const m = COMPARISON.exec(e)!;
      for (const side of [m[1]!, m[3]!]) {
        if (/^-?\d/.test(side)) continue;
        if (!(MEASURES as readonly string[]).includes(side)) fail(field, `${side} is not a measure; allowed: ${MEASURES.join(', ')}`);
      }
      return;
    }
    if ('noPostDuring' in e && !ids.has(e.noPostDuring)) fail(`${field}.noPostDuring`, `no fault has id ${e.noPostDuring}; ids: ${[...ids].join(', ') || '(none)'}`);
    if ('unhealthyNamed' in e) {
      if (!ids.has(e.unhealthyNamed.during)) fail(`${field}.unhealthyNamed.during`, `no fault has id ${e.unhealthyNamed.during}; ids: ${[...ids].join(', ') || '(none)'}`);
      checkSel(`${field}.unhealthyNamed.hosts`, e.unhealthyNamed.hosts);
      checkRegex(`${field}.unhealthyNamed.matches`, e.unhealthyNamed.matches, fail);
    }
    if ('refusedByName' in e) {
      checkSel(`${field}.refusedByName.hosts`, e.refusedByName.hosts);
      checkRegex(`${field}.refusedByName.matches`, e.refusedByName.matches, fail);
    }
  });
  return { ...s, t, faults };
}

function selectCount(t: Topology, sels: readonly string[]): number {
  return new Set(sels.flatMap((x) => selectHosts(t, x))).size;
}

function checkRegex(field: string, re: string, fail: (f: string, m: string) => never): void {
  try {
    new RegExp(re);
  } catch (err) {
    fail(field, `not a regular expression (${(err as Error).message})`);
  }
}

/** Parse YAML (or JSON) text. */
export function parseTestbedScenarioText(text: string, source: string): TestbedScenario {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new TestbedScenarioError('scenario_invalid', `scenario ${source}: not valid YAML (${(err as Error).message.split('\n')[0]})`);
  }
  return parseTestbedScenario(raw, source);
}

/** Library names, sorted. */
export function listTestbedScenarios(dir = TESTBED_LIBRARY_DIR): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => basename(f, extname(f)))
    .sort();
}

/** A library name or a file path. */
export function loadTestbedScenario(nameOrPath: string, dir = TESTBED_LIBRARY_DIR): TestbedScenario {
  const candidates = [nameOrPath, join(dir, `${nameOrPath}.yaml`), join(dir, `${nameOrPath}.yml`)];
  const file = candidates.find((c) => /\.ya?ml$/.test(c) && existsSync(c));
  if (!file) throw new TestbedScenarioError('scenario_not_found', `scenario "${nameOrPath}": no such library scenario or file; library: ${listTestbedScenarios(dir).join(', ') || '(empty)'}`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new TestbedScenarioError('scenario_unreadable', `scenario ${file}: cannot read it (${(err as Error).message})`);
  }
  const s = parseTestbedScenarioText(text, basename(file));
  if (s.name !== basename(file, extname(file))) throw new TestbedScenarioError('scenario_invalid', `scenario ${basename(file)}: name: ${s.name} differs from the file name; name the file ${s.name}.yaml`);
  return s;
}
