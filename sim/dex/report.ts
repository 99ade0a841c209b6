/**
 * The DEX run's report: `result.json` (the result object) and `report.html` with the price
 * chart (true price, the pool's spot at the end of each block, the pool source's TWAP and the
 * served price) and the run's reasons and expectations.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { esc, lineChart } from '../report/svg.ts';
import type { DexRunResult } from './runner.ts';

export function writeDexReport(r: DexRunResult, dir: string): { json: string; html: string } {
  mkdirSync(dir, { recursive: true });
  const pts = (f: (s: DexRunResult['timeline'][number]) => number | null): [number, number | null][] => r.timeline.map((s) => [s.tSec, f(s)]);
  const spread = Math.max(...r.timeline.map((s) => s.spot / s.truth), ...r.timeline.map((s) => s.truth / s.spot));
  const chart = lineChart({
    title: `${r.scenario}: prices per block`,
    xLabel: 'time (s)',
    yLabel: 'price (USDC)',
    logY: spread > 3,
    series: [
      { name: 'pool spot (end of block)', color: '#c0392b', points: pts((s) => s.spot), width: 1 },
      { name: 'pool TWAP (the source)', color: '#e67e22', points: pts((s) => s.twap) },
      { name: 'served', color: '#2471a3', points: pts((s) => s.served), width: 2 },
      { name: 'true price', color: '#333', points: pts((s) => s.truth), dash: '4 3' },
    ],
  });
  const rows = (items: [string, string][]) => items.map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(v)}</td></tr>`).join('');
  const usd = (v: number | null) => (v === null ? '–' : `${Math.round(v).toLocaleString('en-US')} USD`);
  const html = [
    `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${esc(r.scenario)}</title></head><body>`,
    `<h1>${esc(r.scenario)}: ${esc(r.verdict)}</h1><p>${esc(r.description)}</p>`,
    r.incident ? `<p><b>Shaped on:</b> ${esc(r.incident.name)} (${esc(r.incident.date)}). ${esc(r.incident.summary)} ${r.incident.sources.map((s) => `<a href="${esc(s)}">${esc(s)}</a>`).join(' ')}</p>` : '',
    chart,
    '<table>',
    rows([
      ['attacker spend (real swaps)', usd(r.attacker.spendUsd)],
      ['closed form (constant product)', usd(r.attacker.closedFormUsd)],
      ['pushes', String(r.attacker.pushes)],
      ['largest spot move inside a block', `${r.attacker.maxSpotMovePct.toFixed(2)} %`],
      ['pool TWAP, largest deviation', `${r.served.twapMaxDeviationPct.toFixed(4)} %`],
      ['served, largest deviation', `${r.served.maxDeviationPct.toFixed(4)} %`],
      ['pool', `${r.pool.address}, ${usd(r.pool.liquidityUsd)}, fee ${r.pool.feeTier / 10_000} %, window ${r.pool.windowS} s`],
    ]),
    '</table><h2>Why</h2><ul>',
    ...r.reasons.map((x) => `<li>${esc(x)}</li>`),
    '</ul><h2>Expectations</h2><ul>',
    ...r.expectations.map((e) => `<li>${e.ok ? 'met' : 'NOT met'}: ${esc(e.field)} expected ${esc(String(e.expected))}, got ${esc(String(e.actual))}</li>`),
    '</ul></body></html>',
  ].join('');
  const json = join(dir, 'result.json');
  const page = join(dir, 'report.html');
  writeFileSync(json, `${JSON.stringify(r, null, 2)}\n`);
  writeFileSync(page, html);
  return { json, html: page };
}
