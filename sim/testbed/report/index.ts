/**
 * Reports of testbed runs (docs/running-over-real-networks.md, "The testbed"): the JSON tools read
 * (`{"runs":[…]}`, one entry per scenario with exactly the fields scenario, n, t,
 * ticksNeeded, ticksPosted, roundP50Ms, roundP99Ms, equivocations, unsignedAccepted,
 * failoverTicks, recoveryTicks, layer, pass — then `details`), a Markdown table of the runs
 * with each one's failed expectations, and an SVG timeline per run in sim/report's style:
 * faults as bands, accepted reports as ticks, unhealthy intervals per process.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { esc } from '../../report/svg.ts';
import type { RunMeasures } from '../measure/index.ts';
import type { ExpectationResult } from '../measure/verdict.ts';

export interface TestbedRun extends RunMeasures {
  pass: boolean;
  expectations: ExpectationResult[];
  /** Where logs, configs and stores are (kept after the run). */
  dir: string;
  mode: 'namespaces' | 'loopback';
  /** Namespaces were aegis-tb-<runId>-*. */
  runId?: string;
  wallMs: number;
  /** Why the run did not happen (then pass is false and the measures are empty). */
  skipped?: string;
  error?: string;
}

const FIELDS = ['scenario', 'n', 't', 'ticksNeeded', 'ticksPosted', 'roundP50Ms', 'roundP99Ms', 'equivocations', 'unsignedAccepted', 'failoverTicks', 'recoveryTicks', 'layer', 'pass'] as const;

/** One run as the JSON entry: the issue's fields first, in order, then details. */
export function runEntry(r: TestbedRun): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of FIELDS) out[f] = r[f];
  out.details = { ...r.details, ticks: undefined, expectations: r.expectations, dir: r.dir, mode: r.mode, runId: r.runId, wallMs: r.wallMs, skipped: r.skipped, error: r.error };
  return out;
}

export function toJson(runs: readonly TestbedRun[]): string {
  return JSON.stringify({ runs: runs.map(runEntry) }, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

const cell = (v: unknown): string => (v === null || v === undefined ? '–' : String(v));

export function toMarkdown(runs: readonly TestbedRun[]): string {
  const lines = ['| scenario | n | t | needed | posted | p50 ms | p99 ms | equiv. | unsigned | failover | recovery | layer | verdict |', '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |'];
  for (const r of runs) {
    lines.push(
      `| ${r.scenario} | ${r.n} | ${r.t} | ${cell(r.ticksNeeded)} | ${cell(r.ticksPosted)} | ${cell(r.roundP50Ms)} | ${cell(r.roundP99Ms)} | ${cell(r.equivocations)} | ${cell(r.unsignedAccepted)} | ${cell(r.failoverTicks)} | ${cell(r.recoveryTicks)} | ${r.layer || '–'} | ${r.skipped ? 'skipped' : r.pass ? 'pass' : '**fail**'} |`,
    );
  }
  lines.push('');
  for (const r of runs) {
    const failed = r.expectations.filter((e) => !e.ok);
    if (r.skipped) lines.push(`- ${r.scenario}: skipped: ${r.skipped}`);
    else if (r.error) lines.push(`- ${r.scenario}: error: ${r.error}`);
    for (const e of failed) lines.push(`- ${r.scenario}: \`${e.expect}\` failed (${e.actual.replace(/\|/g, '/')})`);
  }
  return lines.join('\n') + '\n';
}

const W = 880;
const M = { l: 110, r: 20, t: 28 };
const FAULT_COLORS: Record<string, string> = {
  delay: '#f5cba7',
  loss: '#f9e79f',
  bandwidth: '#d6eaf8',
  partition: '#f5b7b1',
  'rpc-outage': '#d7bde2',
  'venue-outage': '#d5f5e3',
  kill: '#e6b0aa',
  'kill-during-sign': '#fadbd8',
  clock: '#e8daef',
};

/**
 * Timeline of one run: x is seconds from the measured start; one band row per fault, a row
 * of accepted reports (colored by aggregator), a row of ticks that needed a post but got
 * none, and one row per process that was ever unhealthy (red where it was).
 */
export function timelineSvg(r: TestbedRun): string {
  const w = r.details.window;
  const x0 = w.startMs;
  const x1 = Math.max(w.endMs, x0 + 1);
  const X = (t: number) => M.l + ((Math.min(Math.max(t, x0), x1) - x0) / (x1 - x0)) * (W - M.l - M.r);
  const procs = [...new Set(r.details.unhealthy.map((u) => u.host))].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const rows = r.details.faults.length + 2 + procs.length;
  const rowH = 18;
  const H = M.t + rows * rowH + 40;
  const out = [`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" role="img" aria-label="${esc(`${r.scenario} timeline`)}">`];
  out.push(`<text x="${M.l}" y="16" font-size="13" font-weight="bold">${esc(`${r.scenario}: faults, accepted reports, unhealthy processes (${r.pass ? 'pass' : 'fail'})`)}</text>`);
  let y = M.t;
  const label = (text: string) => out.push(`<text x="${M.l - 6}" y="${y + 12}" font-size="10" text-anchor="end">${esc(text)}</text>`);
  for (const f of r.details.faults) {
    label(`${f.id} (${f.layer})`);
    const to = f.toMs ?? w.endMs;
    const wd = Math.max(2, X(to) - X(f.fromMs));
    out.push(`<rect x="${X(f.fromMs).toFixed(1)}" y="${y + 2}" width="${wd.toFixed(1)}" height="${rowH - 4}" fill="${FAULT_COLORS[f.kind] ?? '#ddd'}" stroke="#999"><title>${esc(`${f.kind} ${f.hosts.join(',')} ${((f.fromMs - x0) / 1000).toFixed(1)}–${((to - x0) / 1000).toFixed(1)} s${f.detail ? `: ${f.detail}` : ''}`)}</title></rect>`);
    y += rowH;
  }
  label('accepted reports');
  const aggColor = (a: string) => (a === 'agg0' ? '#1f77b4' : a === 'agg1' ? '#ff7f0e' : '#2ca02c');
  for (const p of r.details.posts) {
    const t = Number(p.epoch);
    if (t < x0 || t > x1) continue;
    out.push(`<line x1="${X(t).toFixed(1)}" x2="${X(t).toFixed(1)}" y1="${y + 2}" y2="${y + rowH - 2}" stroke="${aggColor(p.aggregator)}" stroke-width="1.5"><title>${esc(`epoch ${p.epoch} by ${p.aggregator}`)}</title></line>`);
  }
  y += rowH;
  label('missed ticks');
  for (const k of r.details.missedTicks) {
    const t = k * w.intervalMs;
    out.push(`<rect x="${X(t).toFixed(1)}" y="${y + 4}" width="${Math.max(2, X(t + w.intervalMs) - X(t)).toFixed(1)}" height="${rowH - 8}" fill="#d62728"><title>${esc(`tick ${k} needed a post, none accepted`)}</title></rect>`);
  }
  y += rowH;
  for (const h of procs) {
    label(h);
    out.push(`<line x1="${M.l}" x2="${W - M.r}" y1="${y + rowH / 2}" y2="${y + rowH / 2}" stroke="#cfc"/>`);
    for (const u of r.details.unhealthy.filter((i) => i.host === h)) {
      out.push(`<rect x="${X(u.fromMs).toFixed(1)}" y="${y + 3}" width="${Math.max(2, X(u.toMs) - X(u.fromMs)).toFixed(1)}" height="${rowH - 6}" fill="#d62728" opacity="0.75"><title>${esc(`${h} unhealthy ${((u.fromMs - x0) / 1000).toFixed(1)}–${((u.toMs - x0) / 1000).toFixed(1)} s: ${u.messages.join(' | ')}`)}</title></rect>`);
    }
    y += rowH;
  }
  out.push(`<rect x="${M.l}" y="${M.t}" width="${W - M.l - M.r}" height="${y - M.t}" fill="none" stroke="#999"/>`);
  const span = (x1 - x0) / 1000;
  for (let k = 0; k <= 6; k++) {
    const t = x0 + ((x1 - x0) * k) / 6;
    out.push(`<text x="${X(t).toFixed(1)}" y="${y + 14}" font-size="10" text-anchor="middle">${((span * k) / 6).toFixed(0)}</text>`);
  }
  out.push(`<text x="${(W / 2).toFixed(0)}" y="${y + 30}" font-size="11" text-anchor="middle">seconds from the measured start · reports: blue agg0, orange agg1, green others</text>`);
  out.push('</svg>');
  return out.join('');
}

/** Writes result.json, report.md and one `<scenario>.svg` per run into `dir`. */
export function writeTestbedReports(runs: readonly TestbedRun[], dir: string): { json: string; md: string; svgs: string[] } {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, 'result.json');
  const md = join(dir, 'report.md');
  writeFileSync(json, toJson(runs));
  writeFileSync(md, toMarkdown(runs));
  const svgs = runs.filter((r) => !r.skipped).map((r) => {
    const f = join(dir, `${r.scenario}.svg`);
    writeFileSync(f, timelineSvg(r));
    return f;
  });
  return { json, md, svgs };
}
