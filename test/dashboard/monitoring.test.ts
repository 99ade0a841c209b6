/**
 * The operator's monitoring kit in monitoring/: the alert rules pass `promtool test rules`
 * (Debian's prometheus package), and every metric the rules and the Grafana dashboard query is
 * one the code really registers (node/metrics.ts, aggregator/metrics.ts, prom-client's process
 * metrics under their prefixes), so a renamed metric breaks this test, not an operator's night.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { AggregatorMetrics } from '../../aggregator/metrics.ts';
import { NodeMetrics } from '../../node/metrics.ts';
import { REQUIRE_BROWSER, ROOT } from './browser.ts';

const MONITORING = join(ROOT, 'monitoring');
const PROMTOOL = [process.env.AEGIS_PROMTOOL, '/usr/bin/promtool'].find((p): p is string => Boolean(p) && existsSync(p!));
const NO_PROMTOOL = 'no promtool at /usr/bin/promtool (nor AEGIS_PROMTOOL): install it with `apt-get install -y prometheus` (Debian)';
if (!PROMTOOL) {
  if (REQUIRE_BROWSER) throw new Error(`AEGIS_REQUIRE_BROWSER_TESTS=1 but the alert-rule tests cannot run: ${NO_PROMTOOL}`);
  console.warn(`skipping promtool test rules: ${NO_PROMTOOL}`);
}

/** Every series name the two registries expose (histograms as _bucket, _sum, _count), with process metrics. */
async function exportedNames(): Promise<Set<string>> {
  const node = new NodeMetrics(() => 1);
  const agg = new AggregatorMetrics();
  node.collectProcessMetrics();
  agg.collectProcessMetrics();
  const names = new Set<string>(['up']);
  for (const reg of [node.registry, agg.registry]) {
    for (const m of await reg.getMetricsAsJSON()) {
      if (String(m.type) === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(m.name + s);
      else if (String(m.type) === 'summary') for (const s of ['', '_sum', '_count']) names.add(m.name + s);
      else names.add(m.name);
    }
  }
  node.close();
  agg.close();
  return names;
}

/** Metric names in a PromQL expression: identifiers not followed by `(` that are not keywords, labels or functions. */
export function metricNamesIn(expr: string): string[] {
  const noStrings = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/\{[^}]*\}/g, '{}');
  const keywords = new Set(['sum', 'min', 'max', 'avg', 'count', 'group', 'stddev', 'stdvar', 'topk', 'bottomk', 'quantile', 'count_values', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset', 'le', 'instance', 'feed', 'source', 'reason', 'status', 'node', 'code', 'phase', 'kind', 'outcome', 'job']);
  const out: string[] = [];
  for (const m of noStrings.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const after = noStrings.slice(m.index! + m[0].length).trimStart();
    if (after.startsWith('(')) continue;
    if (keywords.has(m[0])) continue;
    if (/^\d/.test(m[0]) || /^e\d+$/.test(m[0])) continue;
    const before = noStrings.slice(0, m.index!);
    if (/\d$/.test(before)) continue; // exponent of a number like 1e17
    out.push(m[0]);
  }
  return out;
}

function ruleExprs(): { name: string; expr: string }[] {
  const doc = parse(readFileSync(join(MONITORING, 'aegis-alerts.yml'), 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] };
  return doc.groups.flatMap((g) => g.rules.map((r) => ({ name: r.alert, expr: String(r.expr) })));
}

function grafanaExprs(): { name: string; expr: string }[] {
  const dash = JSON.parse(readFileSync(join(MONITORING, 'grafana-aegis.json'), 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[]; templating: { list: { name: string; query?: string }[] } };
  const out = dash.panels.flatMap((p) => p.targets.map((t) => ({ name: p.title, expr: t.expr })));
  for (const v of dash.templating.list) if (v.query?.startsWith('label_values(')) out.push({ name: `variable ${v.name}`, expr: v.query.replace(/^label_values\(([^,]+),.*$/, '$1') });
  return out;
}

describe('monitoring kit', () => {
  it('finds the metric names in PromQL (and only those)', () => {
    expect(metricNamesIn('sum by (instance, reason) (increase(aegis_node_signatures_refused_total{job="x", reason=~"a|b"}[10m])) > 0')).toEqual(['aegis_node_signatures_refused_total']);
    expect(metricNamesIn('aegis_x < 1e17 and on (instance) up == 0')).toEqual(['aegis_x', 'up']);
    expect(metricNamesIn('histogram_quantile(0.95, sum by (le) (rate(foo_bucket[5m])))')).toEqual(['foo_bucket']);
  });

  it('the alert rules cover what an operator is woken for', () => {
    const names = ruleExprs().map((r) => r.name);
    for (const want of ['AegisNodeDown', 'AegisQuorumLost', 'AegisFeedStale', 'AegisFeedSuspended', 'AegisFeedPaused', 'AegisBreakerTripped', 'AegisSourceCircuitOpen', 'AegisSigningStoreRefused', 'AegisTransmitterBalanceLow', 'AegisStandbyTookOver']) {
      expect(names).toContain(want);
    }
  });

  it('every query of the rules and the Grafana dashboard names a metric the code registers', async () => {
    const exported = await exportedNames();
    const all = [...ruleExprs(), ...grafanaExprs()];
    expect(all.length).toBeGreaterThan(20);
    const unknown: string[] = [];
    for (const { name, expr } of all) {
      const used = metricNamesIn(expr);
      if (used.length === 0) unknown.push(`${name}: no metric in ${expr}`);
      for (const m of used) if (!exported.has(m)) unknown.push(`${name}: ${m} is not registered by node/metrics.ts or aggregator/metrics.ts`);
    }
    expect(unknown).toEqual([]);
  });

  it.skipIf(!PROMTOOL)('promtool check rules and test rules pass', () => {
    execFileSync(PROMTOOL!, ['check', 'rules', 'aegis-alerts.yml'], { cwd: MONITORING, stdio: 'pipe' });
    const r = spawnSync(PROMTOOL!, ['test', 'rules', 'aegis-alerts.test.yml'], { cwd: MONITORING, encoding: 'utf8' });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/SUCCESS/);
  });
});
