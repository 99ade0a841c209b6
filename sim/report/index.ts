/**
 * Reports of a run: the result object as JSON, a Markdown summary, and a self-contained HTML
 * page with inline SVG charts (true vs venue vs on-chain price with breaker events; attacker
 * spend vs the served price's deviation over time).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LiquidationRecord, RunResult } from '../result.ts';
import { esc, lineChart, type Marker, type Series } from './svg.ts';

const COLORS = ['#8e44ad', '#e67e22', '#16a085', '#c0392b', '#2980b9', '#7f8c8d', '#d35400', '#27ae60', '#f1c40f'];
const usd = (x: number) => `$${Math.round(x).toLocaleString('en-US')}`;

export function toJson(r: RunResult): string {
  return JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2);
}

export function toMarkdown(r: RunResult): string {
  const lines: string[] = [];
  lines.push(`# ${r.scenario}: ${r.verdict.toUpperCase()}`, '', r.description.trim(), '');
  if (r.incident) lines.push(`**Shaped on:** ${r.incident.name} (${r.incident.date}). ${r.incident.summary.trim()}`, '', ...r.incident.sources.map((s) => `- <${s}>`), '');
  lines.push(`Seed ${r.seed}, transport ${r.transport}, committee n=${r.committee.n} t=${r.committee.t}, ${r.timing.steps} steps, ${r.served.rounds} rounds, ${(r.timing.wallMs / 1000).toFixed(1)} s wall time.`, '');
  lines.push('## Verdict', '', ...r.reasons.map((x) => `- ${x}`), '');
  if (r.expectations.length) {
    lines.push('| expectation | expected | actual | ok |', '| --- | --- | --- | --- |');
    for (const e of r.expectations) lines.push(`| ${e.field} | ${String(e.expected)} | ${String(e.actual)} | ${e.ok ? 'yes' : '**no**'} |`);
    lines.push('');
  }
  lines.push('## Attacker', '', `| spend (realized loss) | notional traded | gain from settlement | profit | pays |`, '| --- | --- | --- | --- | --- |');
  lines.push(`| ${usd(r.attacker.spendUsd)} | ${usd(r.attacker.notionalUsd)} | ${usd(r.attacker.gainUsd)} | ${usd(r.attacker.profitUsd)} | ${r.attacker.pays ? 'yes' : 'no'} |`, '');
  if (r.attacker.actions.length) {
    lines.push('| t (s) | attacker action | times |', '| --- | --- | --- |');
    for (const a of r.attacker.actions.slice(0, 30)) lines.push(`| ${a.firstSec}${a.lastSec !== a.firstSec ? `–${a.lastSec}` : ''} | ${a.detail} | ${a.count} |`);
    lines.push('');
  }
  lines.push('## Served price', '', `Max deviation of the usable on-chain price from the truth: **${r.served.maxDeviationPct.toFixed(4)} %**${r.served.maxDeviationAtSec !== null ? ` at t=${r.served.maxDeviationAtSec}s` : ''}. Unusable for ${r.served.unusableSec}s${r.served.suspendedSec > 0 ? ` (suspended by the committee for ${r.served.suspendedSec}s)` : ''}; usable but more than ${r.served.tolerancePct} % off the truth for ${r.served.maxUsableOffSec}s in a row at most. Reports accepted: ${r.served.reportsAccepted}; not signed by the committee but accepted: ${r.served.forgedAccepted}.`, '');
  lines.push('## Defences fired', '');
  if (r.defences.length === 0) lines.push('None.', '');
  else {
    lines.push('| first t (s) | last t (s) | defence | detail | times |', '| --- | --- | --- | --- | --- |');
    for (const d of r.defences) lines.push(`| ${d.firstSec} | ${d.lastSec} | ${d.defence} | ${d.detail.replace(/\|/g, '/')} | ${d.count} |`);
    lines.push('');
  }
  if (r.breakerEvents.length) {
    lines.push('Breaker events: ' + r.breakerEvents.map((b) => `${b.event} at t=${b.tSec}s${b.answer !== undefined ? ` (${b.answer})` : ''}`).join('; '), '');
  }
  lines.push('## Settlement', '');
  if (r.settlement.payouts.length) {
    lines.push('| party | deposited | final | net |', '| --- | --- | --- | --- |');
    for (const p of r.settlement.payouts) lines.push(`| ${p.party} | ${usd(p.depositedUsd)} | ${usd(p.finalUsd)} | ${usd(p.netUsd)} |`);
    lines.push('');
  } else lines.push('No settlement contracts in this scenario.', '');
  const judged: Record<LiquidationRecord['judgement'], string> = {
    justified: 'justified by the true price',
    'early within resolution': 'early by less than the oracle\'s resolution (not a breach)',
    'manipulated price': '**on a manipulated price: not justified by the true price**',
    'oracle error': '**on an oracle error: not justified by the true price (no attacker)**',
  };
  for (const l of r.settlement.liquidations) lines.push(`- ${l.trader} liquidated at t=${l.tSec}s at ${l.price} (true ${l.truePrice.toPrecision(6)}, resolution ${l.resolution.pct} %): ${judged[l.judgement]}`);
  if (r.settlement.option) {
    const o = r.settlement.option;
    lines.push(`- option: ${o.outcome}${o.roundPrice !== undefined ? ` on a round at ${o.roundPrice}` : ''}; holder payout ${usd(o.holderPayoutUsd)}, at the true price ${usd(o.honestPayoutUsd)}`);
  }
  lines.push('');
  return lines.join('\n');
}

export function priceChart(r: RunResult): string {
  const venues = Object.keys(r.timeline[0]?.venues ?? {});
  const series: Series[] = [
    ...venues.map((v, i) => ({ name: `venue ${v}`, color: COLORS[i % COLORS.length]!, width: 1, dash: '4,2', points: r.timeline.map((s) => [s.tSec, s.venues[v] ?? null] as [number, number | null]) })),
    { name: 'true price', color: '#000', width: 2, points: r.timeline.map((s) => [s.tSec, s.truth]) },
    { name: 'on-chain (usable)', color: '#1f77b4', width: 2.5, points: r.timeline.map((s) => [s.tSec, s.usable ? s.served : null]) },
  ];
  const ys = r.timeline.flatMap((s) => [s.truth, ...Object.values(s.venues)]).filter((x): x is number => x !== null && x > 0);
  const logY = ys.length > 0 && Math.max(...ys) / Math.min(...ys) > 20;
  const markers: Marker[] = r.breakerEvents.map((b) => ({ x: b.tSec, label: `${b.event} at t=${b.tSec}s`, color: b.event === 'BreakerTripped' ? '#d62728' : b.event.startsWith('CommitteeSuspendedFeed') ? '#ff7f0e' : '#2ca02c' }));
  return lineChart({ title: `${r.scenario}: true vs venue vs on-chain price${logY ? ' (log scale)' : ''}; dashed verticals: breaker and suspension events`, xLabel: 'simulated time (s)', yLabel: 'price (USD)', series, markers, logY });
}

export function spendChart(r: RunResult): string {
  return lineChart({
    title: `${r.scenario}: attacker spend (USD, cumulative) vs usable served deviation (%)`,
    xLabel: 'simulated time (s)',
    yLabel: 'spend in $k  ·  deviation × 1000',
    series: [
      { name: 'attacker spend ($k)', color: '#d62728', width: 2, points: r.timeline.map((s) => [s.tSec, s.spendUsd / 1000]) },
      { name: 'served deviation (% × 1000)', color: '#1f77b4', width: 2, points: r.timeline.map((s) => [s.tSec, s.usable && s.served !== null ? (Math.abs(s.served - s.truth) / s.truth) * 100 * 1000 : null]) },
    ],
  });
}

function mdToHtml(md: string): string {
  // Enough Markdown for our own output: headings, lists, tables, bold.
  const out: string[] = [];
  let table: string[][] | null = null;
  const inline = (s: string) => esc(s).replace(/\*\*(.+?)\*\*/g, '<b>$1</b>').replace(/&lt;(https?:[^&]+)&gt;/g, '<a href="$1">$1</a>');
  const flush = () => {
    if (!table) return;
    const [head, , ...rows] = table;
    out.push(`<table><thead><tr>${(head ?? []).map((c) => `<th>${inline(c)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${inline(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`);
    table = null;
  };
  for (const line of md.split('\n')) {
    if (line.startsWith('|')) {
      (table ??= []).push(line.slice(1, -1).split('|').map((c) => c.trim()));
      continue;
    }
    flush();
    if (line.startsWith('# ')) out.push(`<h1>${inline(line.slice(2))}</h1>`);
    else if (line.startsWith('## ')) out.push(`<h2>${inline(line.slice(3))}</h2>`);
    else if (line.startsWith('- ')) out.push(`<li>${inline(line.slice(2))}</li>`);
    else if (line.trim()) out.push(`<p>${inline(line)}</p>`);
  }
  flush();
  return out.join('\n');
}

export function toHtml(r: RunResult): string {
  const color = r.verdict === 'defended' ? '#2ca02c' : r.verdict === 'degraded' ? '#ff7f0e' : '#d62728';
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Aegis sim: ${esc(r.scenario)} — ${r.verdict}</title>
<style>body{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;color:#222}h1{border-left:8px solid ${color};padding-left:10px}table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px;text-align:left}li{font-size:14px}figure{margin:16px 0}</style></head><body>
${mdToHtml(toMarkdown(r))}
<h2>Charts</h2>
<figure>${priceChart(r)}</figure>
<figure>${spendChart(r)}</figure>
</body></html>
`;
}

/** Writes result.json, report.md and report.html into `dir`; returns the paths. */
export function writeReports(r: RunResult, dir: string): { json: string; md: string; html: string } {
  mkdirSync(dir, { recursive: true });
  const paths = { json: join(dir, 'result.json'), md: join(dir, 'report.md'), html: join(dir, 'report.html') };
  writeFileSync(paths.json, toJson(r));
  writeFileSync(paths.md, toMarkdown(r));
  writeFileSync(paths.html, toHtml(r));
  return paths;
}
