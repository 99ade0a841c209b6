/**
 * Small SVG renderers (no chart library is a dependency): a multi-series line chart with
 * event markers, a scatter of spend vs effect, and a heat map. Output is a self-contained
 * `<svg>` string with escaped text.
 */
export const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export interface Series {
  name: string;
  color: string;
  points: [number, number | null][];
  dash?: string;
  width?: number;
}

export interface Marker {
  x: number;
  label: string;
  color: string;
}

const W = 880;
const H = 320;
const M = { l: 70, r: 20, t: 24, b: 40 };

function ticks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const step = (hi - lo) / n;
  return Array.from({ length: n + 1 }, (_, i) => lo + i * step);
}

const fmt = (v: number): string => (Math.abs(v) >= 1000 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(3) : v.toPrecision(4));

export function lineChart(opts: { title: string; xLabel: string; yLabel: string; series: Series[]; markers?: Marker[]; logY?: boolean }): string {
  const all = opts.series.flatMap((s) => s.points.filter((p): p is [number, number] => p[1] !== null && Number.isFinite(p[1])));
  if (all.length === 0) return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="60"><text x="10" y="30">${esc(opts.title)}: no data</text></svg>`;
  const tf = (y: number) => (opts.logY ? Math.log10(Math.max(y, 1e-12)) : y);
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => tf(p[1]));
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs) || x0 + 1;
  let y0 = Math.min(...ys);
  let y1 = Math.max(...ys);
  const pad = (y1 - y0 || Math.abs(y1) * 0.01 || 1) * 0.08;
  y0 -= pad;
  y1 += pad;
  const X = (x: number) => M.l + ((x - x0) / (x1 - x0 || 1)) * (W - M.l - M.r);
  const Y = (y: number) => H - M.b - ((tf(y) - y0) / (y1 - y0)) * (H - M.t - M.b);
  const out: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H + 20 * Math.ceil(opts.series.length / 4)}" width="${W}" role="img" aria-label="${esc(opts.title)}">`];
  out.push(`<text x="${M.l}" y="16" font-size="13" font-weight="bold">${esc(opts.title)}</text>`);
  for (const v of ticks(y0, y1)) {
    const y = H - M.b - ((v - y0) / (y1 - y0)) * (H - M.t - M.b);
    out.push(`<line x1="${M.l}" x2="${W - M.r}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#eee"/><text x="${M.l - 6}" y="${(y + 4).toFixed(1)}" font-size="10" text-anchor="end">${esc(fmt(opts.logY ? 10 ** v : v))}</text>`);
  }
  for (const v of ticks(x0, x1, 6)) out.push(`<text x="${X(v).toFixed(1)}" y="${H - M.b + 14}" font-size="10" text-anchor="middle">${esc(fmt(v))}</text>`);
  out.push(`<text x="${(W / 2).toFixed(0)}" y="${H - 6}" font-size="11" text-anchor="middle">${esc(opts.xLabel)}</text>`);
  out.push(`<text x="12" y="${(H / 2).toFixed(0)}" font-size="11" transform="rotate(-90 12 ${(H / 2).toFixed(0)})" text-anchor="middle">${esc(opts.yLabel)}</text>`);
  out.push(`<rect x="${M.l}" y="${M.t}" width="${W - M.l - M.r}" height="${H - M.t - M.b}" fill="none" stroke="#999"/>`);
  for (const m of opts.markers ?? []) {
    const x = X(m.x).toFixed(1);
    out.push(`<line x1="${x}" x2="${x}" y1="${M.t}" y2="${H - M.b}" stroke="${m.color}" stroke-dasharray="3,3"><title>${esc(m.label)}</title></line>`);
  }
  for (const s of opts.series) {
    let d = '';
    let pen = false;
    for (const [x, y] of s.points) {
      if (y === null || !Number.isFinite(y)) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${X(x).toFixed(1)},${Y(y).toFixed(1)}`;
      pen = true;
    }
    out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="${s.width ?? 1.5}"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}><title>${esc(s.name)}</title></path>`);
  }
  opts.series.forEach((s, i) => {
    const lx = M.l + (i % 4) * 200;
    const ly = H + 8 + Math.floor(i / 4) * 18;
    out.push(`<line x1="${lx}" x2="${lx + 18}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/><text x="${lx + 22}" y="${ly + 4}" font-size="11">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('');
}

/** Heat map: rows × columns of values, colored from green (0) to red (max); cells may carry a mark. */
export function heatMap(opts: { title: string; rows: string[]; cols: string[]; values: (number | null)[][]; marks?: string[][]; unit: string; xLabel: string; yLabel: string }): string {
  const cw = Math.max(48, Math.floor(640 / Math.max(1, opts.cols.length)));
  const ch = 30;
  const l = 120;
  const t = 34;
  const w = l + cw * opts.cols.length + 20;
  const h = t + ch * opts.rows.length + 44;
  const vals = opts.values.flat().filter((v): v is number => v !== null && Number.isFinite(v));
  const max = Math.max(1e-9, ...vals);
  const color = (v: number) => {
    const f = Math.min(1, Math.sqrt(v / max));
    return `rgb(${Math.round(40 + 215 * f)},${Math.round(170 - 130 * f)},${Math.round(70 - 30 * f)})`;
  };
  const out = [`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${w} ${h}" width="${w}" role="img" aria-label="${esc(opts.title)}">`, `<text x="${l}" y="16" font-size="13" font-weight="bold">${esc(opts.title)}</text>`];
  opts.rows.forEach((r, i) => out.push(`<text x="${l - 6}" y="${t + i * ch + 19}" font-size="11" text-anchor="end">${esc(r)}</text>`));
  opts.cols.forEach((c, j) => out.push(`<text x="${l + j * cw + cw / 2}" y="${t + opts.rows.length * ch + 14}" font-size="10" text-anchor="middle">${esc(c)}</text>`));
  opts.values.forEach((row, i) =>
    row.forEach((v, j) => {
      const x = l + j * cw;
      const y = t + i * ch;
      const mark = opts.marks?.[i]?.[j] ?? '';
      out.push(`<rect x="${x}" y="${y}" width="${cw - 2}" height="${ch - 2}" fill="${v === null ? '#ccc' : color(v)}"><title>${esc(`${opts.rows[i]} / ${opts.cols[j]}: ${v === null ? 'n/a' : fmt(v)} ${opts.unit} ${mark}`)}</title></rect>`);
      out.push(`<text x="${x + cw / 2 - 1}" y="${y + 18}" font-size="10" text-anchor="middle" fill="#fff">${esc(v === null ? '–' : fmt(v))}${esc(mark)}</text>`);
    }),
  );
  out.push(`<text x="${l + (cw * opts.cols.length) / 2}" y="${h - 8}" font-size="11" text-anchor="middle">${esc(opts.xLabel)}</text>`);
  out.push(`<text x="10" y="${t - 8}" font-size="11">${esc(opts.yLabel)}</text>`);
  out.push('</svg>');
  return out.join('');
}
