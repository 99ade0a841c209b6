/**
 * A small, dependency-free SVG line chart for the benchmark's scaling curves (no chart library
 * is installed, and one renderer this size is easier to review than a new dependency).
 *
 *   const svg = svgDocument(960, 420, [lineChart({ x: 0, y: 0, width: 480, height: 420, … })]);
 *
 * Axes are linear or log10; ticks are "nice" (1-2-5 steps for linear, decades with 2 and 5 for
 * log). Series carry a colour and an optional dash pattern; points are marked with circles and
 * the legend sits inside the plot's top-left corner. Output is deterministic text.
 */

export interface Series {
  label: string;
  color: string;
  /** SVG stroke-dasharray, e.g. "6 4". */
  dash?: string;
  points: { x: number; y: number }[];
}

export interface ChartSpec {
  /** Placement of this chart inside the document. */
  x: number;
  y: number;
  width: number;
  height: number;
  title: string;
  xLabel: string;
  yLabel: string;
  xLog?: boolean;
  yLog?: boolean;
  /** Force these x ticks (e.g. the measured committee sizes). */
  xTicks?: number[];
  series: Series[];
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const num = (v: number): string => (Math.round(v * 10) / 10).toString();

/** Compact tick label: 1.5M, 200k, 31. */
export function formatTick(v: number): string {
  const a = Math.abs(v);
  const trim = (x: number): string => (Math.round(x * 10) / 10).toString();
  if (a >= 1e6) return `${trim(v / 1e6)}M`;
  if (a >= 1e3) return `${trim(v / 1e3)}k`;
  return trim(v);
}

function linearTicks(min: number, max: number, target = 6): number[] {
  const span = max - min || Math.abs(max) || 1;
  const raw = span / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function logTicks(min: number, max: number): number[] {
  const out: number[] = [];
  const decades = Math.log10(max) - Math.log10(min);
  const mults = decades > 4 ? [1] : decades > 2 ? [1, 3] : [1, 2, 5];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) {
    for (const m of mults) {
      const v = m * 10 ** e;
      if (v >= min * (1 - 1e-9) && v <= max * (1 + 1e-9)) out.push(v);
    }
  }
  return out;
}

/** Renders one chart as an SVG `<g>` fragment. */
export function lineChart(spec: ChartSpec): string {
  const pad = { left: 64, right: 16, top: 34, bottom: 46 };
  const pw = spec.width - pad.left - pad.right;
  const ph = spec.height - pad.top - pad.bottom;
  const pts = spec.series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  if (pts.length === 0) throw new RangeError(`chart "${spec.title}": no finite points to plot`);
  if (spec.xLog && pts.some((p) => p.x <= 0)) throw new RangeError(`chart "${spec.title}": log x axis needs x > 0`);
  if (spec.yLog && pts.some((p) => p.y <= 0)) throw new RangeError(`chart "${spec.title}": log y axis needs y > 0`);
  let [x0, x1] = [Math.min(...pts.map((p) => p.x)), Math.max(...pts.map((p) => p.x))];
  let [y0, y1] = [Math.min(...pts.map((p) => p.y)), Math.max(...pts.map((p) => p.y))];
  if (spec.yLog) {
    y0 = 10 ** Math.floor(Math.log10(y0));
    y1 = 10 ** Math.ceil(Math.log10(y1));
  } else {
    y0 = 0;
    const t = linearTicks(0, y1);
    y1 = Math.max(y1, t[t.length - 1]!);
  }
  if (!spec.xLog && !spec.xTicks) x0 = Math.min(0, x0);
  if (x0 === x1) [x0, x1] = [x0 - 1, x1 + 1];
  const fx = (v: number): number => spec.x + pad.left + (spec.xLog ? (Math.log10(v) - Math.log10(x0)) / (Math.log10(x1) - Math.log10(x0)) : (v - x0) / (x1 - x0)) * pw;
  const fy = (v: number): number => spec.y + pad.top + ph - (spec.yLog ? (Math.log10(v) - Math.log10(y0)) / (Math.log10(y1) - Math.log10(y0)) : (v - y0) / (y1 - y0)) * ph;
  const xt = spec.xTicks ?? (spec.xLog ? logTicks(x0, x1) : linearTicks(x0, x1));
  const yt = spec.yLog ? logTicks(y0, y1) : linearTicks(y0, y1);
  const o: string[] = [`<g font-family="sans-serif" font-size="11" fill="#222">`];
  o.push(`<text x="${num(spec.x + spec.width / 2)}" y="${num(spec.y + 18)}" text-anchor="middle" font-size="13" font-weight="bold">${esc(spec.title)}</text>`);
  for (const v of yt) {
    const y = fy(v);
    o.push(`<line x1="${num(spec.x + pad.left)}" y1="${num(y)}" x2="${num(spec.x + pad.left + pw)}" y2="${num(y)}" stroke="#e4e4e4"/>`);
    o.push(`<text x="${num(spec.x + pad.left - 6)}" y="${num(y + 4)}" text-anchor="end">${formatTick(v)}</text>`);
  }
  for (const v of xt) {
    const x = fx(v);
    o.push(`<line x1="${num(x)}" y1="${num(spec.y + pad.top)}" x2="${num(x)}" y2="${num(spec.y + pad.top + ph)}" stroke="#f0f0f0"/>`);
    o.push(`<text x="${num(x)}" y="${num(spec.y + pad.top + ph + 16)}" text-anchor="middle">${formatTick(v)}</text>`);
  }
  o.push(`<rect x="${num(spec.x + pad.left)}" y="${num(spec.y + pad.top)}" width="${num(pw)}" height="${num(ph)}" fill="none" stroke="#888"/>`);
  o.push(`<text x="${num(spec.x + pad.left + pw / 2)}" y="${num(spec.y + spec.height - 8)}" text-anchor="middle">${esc(spec.xLabel)}</text>`);
  const ly = spec.y + pad.top + ph / 2;
  o.push(`<text x="${num(spec.x + 14)}" y="${num(ly)}" text-anchor="middle" transform="rotate(-90 ${num(spec.x + 14)} ${num(ly)})">${esc(spec.yLabel)}</text>`);
  for (const s of spec.series) {
    const p = s.points.filter((q) => Number.isFinite(q.x) && Number.isFinite(q.y)).sort((a, b) => a.x - b.x);
    if (p.length === 0) continue;
    const dash = s.dash ? ` stroke-dasharray="${s.dash}"` : '';
    o.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2"${dash} points="${p.map((q) => `${num(fx(q.x))},${num(fy(q.y))}`).join(' ')}"/>`);
    for (const q of p) o.push(`<circle cx="${num(fx(q.x))}" cy="${num(fy(q.y))}" r="3" fill="${s.color}"><title>${esc(`${s.label}: ${formatTick(q.x)} → ${q.y.toLocaleString('en-US')} gas`)}</title></circle>`);
  }
  // Legend, top-left inside the plot.
  const lx = spec.x + pad.left + 10;
  let lyy = spec.y + pad.top + 14;
  const legendH = spec.series.length * 15 + 6;
  o.push(`<rect x="${num(lx - 6)}" y="${num(lyy - 12)}" width="${num(Math.min(pw - 8, 250))}" height="${legendH}" fill="#fff" fill-opacity="0.85" stroke="#ddd"/>`);
  for (const s of spec.series) {
    const dash = s.dash ? ` stroke-dasharray="${s.dash}"` : '';
    o.push(`<line x1="${num(lx)}" y1="${num(lyy - 4)}" x2="${num(lx + 22)}" y2="${num(lyy - 4)}" stroke="${s.color}" stroke-width="2"${dash}/>`);
    o.push(`<text x="${num(lx + 28)}" y="${num(lyy)}">${esc(s.label)}</text>`);
    lyy += 15;
  }
  o.push('</g>');
  return o.join('\n');
}

/** Wraps chart fragments into a standalone SVG document. */
export function svgDocument(width: number, height: number, parts: string[], caption?: string): string {
  const cap = caption ? `\n<text x="8" y="${height - 6}" font-family="sans-serif" font-size="10" fill="#666">${esc(caption)}</text>` : '';
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">\n<rect width="100%" height="100%" fill="#fff"/>\n${parts.join('\n')}${cap}\n</svg>\n`;
}
