/**
 * Reading scenarios: by name from the library (`sim/scenarios/<name>.yaml`) or by path, YAML
 * or JSON, validated against `ScenarioSchema`. Errors are `ScenarioError` with the file, the
 * field path and what is allowed.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { CodedError } from '../../runtime/coded-error.ts';
import { ScenarioSchema, type Scenario } from './schema.ts';

export const LIBRARY_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'scenarios');

export class ScenarioError extends CodedError<'scenario_not_found' | 'scenario_unreadable' | 'scenario_invalid'> {
  override readonly name = 'ScenarioError';
  constructor(
    code: 'scenario_not_found' | 'scenario_unreadable' | 'scenario_invalid',
    message: string,
    readonly issues: string[] = [],
  ) {
    super(code, message);
  }
}

/** Where a scenario file's field reference lives, and the kinds its fault union takes. */
export interface IssueHints {
  fieldsDoc: string;
  kinds: string;
}

/** One zod issue of a YAML scenario, as "path: what is wrong; got X" (shared by every scenario format). */
export function describeIssue(i: z.core.$ZodIssue, raw: unknown, hints: IssueHints = { fieldsDoc: 'sim/README.md', kinds: 'the documented kinds' }): string {
  const where = i.path.length ? i.path.join('.') : '(top level)';
  let got: unknown = raw;
  for (const k of i.path) got = got && typeof got === 'object' ? (got as Record<PropertyKey, unknown>)[k as PropertyKey] : undefined;
  let msg = i.message;
  if (i.code === 'invalid_value' && 'values' in i) msg = `expected one of ${(i.values as unknown[]).map(String).join(', ')}`;
  if (i.code === 'unrecognized_keys' && 'keys' in i) msg = `unknown field(s) ${(i.keys as string[]).join(', ')}; see ${hints.fieldsDoc} for the allowed fields`;
  if (i.code === 'invalid_union' && 'note' in i && i.note === 'No matching discriminator') msg = `${msg}; "kind" must be one of ${hints.kinds}`;
  const shown = got === undefined || i.code === 'unrecognized_keys' ? '' : `; got ${JSON.stringify(got)?.slice(0, 60)}`;
  return `${where}: ${msg}${shown}`;
}

/** Validate a parsed scenario object; `source` names it in errors. */
export function parseScenario(raw: unknown, source = 'scenario'): Scenario {
  const result = ScenarioSchema.safeParse(raw);
  if (!result.success) {
    const issues = result.error.issues.map((i) => describeIssue(i, raw));
    throw new ScenarioError('scenario_invalid', `scenario ${source}: ${issues.slice(0, 6).join('; ')}`, issues);
  }
  const s = result.data;
  const fail = (field: string, msg: string): never => {
    throw new ScenarioError('scenario_invalid', `scenario ${source}: ${field}: ${msg}`, [`${field}: ${msg}`]);
  };
  const ids = s.market.venues.map((v) => v.id);
  ids.forEach((id, i) => ids.indexOf(id) !== i && fail(`market.venues.${i}.id`, `venue ${id} is listed twice`));
  const t = s.oracle.threshold ?? 2 * Math.floor((s.oracle.nodes - 1) / 3) + 1;
  if (t > s.oracle.nodes || t <= s.oracle.nodes / 2) fail('oracle.threshold', `${t} with ${s.oracle.nodes} nodes: allowed is n/2 < t ≤ n`);
  if (s.oracle.minSources > ids.length) fail('oracle.minSources', `${s.oracle.minSources} exceeds the ${ids.length} venues; allowed is 1..${ids.length}`);
  s.market.faults.forEach((f, i) => {
    if (!ids.includes(f.venue)) fail(`market.faults.${i}.venue`, `${f.venue} is not a venue of this market; allowed: ${ids.join(', ')}`);
    if (f.toSec <= f.fromSec) fail(`market.faults.${i}.toSec`, `must be after fromSec (${f.fromSec})`);
    if (f.kind === 'misprice' && f.factor === undefined) fail(`market.faults.${i}.factor`, 'misprice needs a factor, e.g. 1000');
  });
  s.attacks.forEach((a, i) => {
    if ('venues' in a && a.venues !== 'all') a.venues.forEach((v, k) => !ids.includes(v) && fail(`attacks.${i}.venues.${k}`, `${v} is not a venue of this market; allowed: ${ids.join(', ')} or "all"`));
    if ('fromSec' in a && a.toSec <= a.fromSec) fail(`attacks.${i}.toSec`, `must be after fromSec (${a.fromSec})`);
    if ((a.kind === 'byzantine' || a.kind === 'dos-nodes') && a.nodes > s.oracle.nodes) fail(`attacks.${i}.nodes`, `${a.nodes} exceeds the ${s.oracle.nodes} nodes; allowed is 1..${s.oracle.nodes}`);
    if (a.kind === 'stolen-shares' && a.shares >= t) fail(`attacks.${i}.shares`, `${a.shares} shares reach the threshold t=${t}; this attack models fewer than t (allowed 1..${t - 1})`);
    if (a.kind === 'liquidation-hunt' && !s.settlement.futures) fail(`attacks.${i}`, 'a liquidation hunt needs settlement.futures with positions');
    if (a.kind === 'expiry-push' && !s.settlement.option) fail(`attacks.${i}`, 'an expiry push needs settlement.option');
  });
  if (s.settlement.option && s.settlement.option.expirySec >= s.durationSec) fail('settlement.option.expirySec', `must be before the end of the run (durationSec ${s.durationSec})`);
  return s;
}

/** Parse YAML or JSON text. */
export function parseScenarioText(text: string, source: string): Scenario {
  let raw: unknown;
  try {
    raw = source.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ScenarioError('scenario_invalid', `scenario ${source}: not valid ${source.endsWith('.json') ? 'JSON' : 'YAML'} (${(err as Error).message.split('\n')[0]})`);
  }
  const s = parseScenario(raw, source);
  // CSV paths are relative to the scenario file.
  if (s.market.path.kind === 'csv' && !isAbsolute(s.market.path.file)) s.market.path.file = resolve(dirname(resolve(source)), s.market.path.file);
  return s;
}

/** Library names, sorted. */
export function listScenarios(dir = LIBRARY_DIR): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /\.(ya?ml|json)$/.test(f))
    .map((f) => basename(f, extname(f)))
    .sort();
}

/** A library name or a file path. */
export function loadScenario(nameOrPath: string, dir = LIBRARY_DIR): Scenario {
  const candidates = [nameOrPath, join(dir, `${nameOrPath}.yaml`), join(dir, `${nameOrPath}.yml`), join(dir, `${nameOrPath}.json`)];
  const file = candidates.find((c) => /\.(ya?ml|json)$/.test(c) && existsSync(c));
  if (!file) {
    throw new ScenarioError('scenario_not_found', `scenario "${nameOrPath}": no such library scenario or file; library: ${listScenarios(dir).join(', ') || '(empty)'}`);
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ScenarioError('scenario_unreadable', `scenario ${file}: cannot read it (${(err as Error).message})`);
  }
  return parseScenarioText(text, file);
}
