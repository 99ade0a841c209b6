/**
 * The true price: what the asset is worth when nobody manipulates anything. Either geometric
 * Brownian motion with Poisson jumps (Merton), drawn on a fixed time grid from a seeded stream,
 * or a replayed CSV of `time,price` rows (time in seconds from the start, or ISO dates),
 * linearly interpolated. Scripted moves (a de-peg, a crash) multiply the path, so an incident
 * can be shaped on top of random noise.
 */
import { readFileSync } from 'node:fs';
import { Rng } from './rng.ts';

export interface GbmSpec {
  kind: 'gbm';
  start: number;
  /** Annualized drift and volatility (0.6 = 60 %/yr). */
  drift: number;
  volatility: number;
  /** Expected jumps per day, mean and standard deviation of the log jump. */
  jumpsPerDay: number;
  jumpMean: number;
  jumpStd: number;
}

export interface CsvSpec {
  kind: 'csv';
  file: string;
}

/** Multiply the path by `factor` between `from` and `to`, ramped linearly over `rampSec` at each end. */
export interface ScriptedMove {
  atSec: number;
  /** Seconds until the full factor is reached. */
  rampSec: number;
  factor: number;
  /** When the move ends (the factor ramps back to 1 over `rampSec`); omit to keep it. */
  untilSec?: number;
}

export interface TruePath {
  /** True price at `tSec` seconds from the start (clamped to the path's range). */
  at(tSec: number): number;
  readonly stepSec: number;
}

const YEAR_S = 365 * 86_400;

export function gbmPath(spec: GbmSpec, durationSec: number, stepSec: number, rng: Rng, moves: readonly ScriptedMove[] = []): TruePath {
  const n = Math.ceil(durationSec / stepSec) + 2;
  const dt = stepSec / YEAR_S;
  const prices = new Float64Array(n);
  let logP = Math.log(spec.start);
  const lambda = (spec.jumpsPerDay * stepSec) / 86_400;
  for (let i = 0; i < n; i++) {
    prices[i] = Math.exp(logP);
    const jumps = rng.poisson(lambda);
    let jump = 0;
    for (let j = 0; j < jumps; j++) jump += spec.jumpMean + spec.jumpStd * rng.normal();
    logP += (spec.drift - 0.5 * spec.volatility ** 2) * dt + spec.volatility * Math.sqrt(dt) * rng.normal() + jump;
  }
  return withMoves(interpolated(prices, stepSec), moves);
}

export function csvPath(file: string, moves: readonly ScriptedMove[] = []): TruePath {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new TypeError(`market.path.file: cannot read ${file} (${(err as Error).message}); give a CSV of time,price rows`);
  }
  const rows: [number, number][] = [];
  let t0: number | undefined;
  text.split(/\r?\n/).forEach((line, i) => {
    const trimmed = line.trim();
    if (!trimmed || trimmed.startsWith('#')) return;
    const [a, b] = trimmed.split(',').map((x) => x.trim());
    if (i === 0 && b !== undefined && Number.isNaN(Number(b))) return; // header
    const price = Number(b);
    let t = Number(a);
    if (Number.isNaN(t)) t = Date.parse(a ?? '') / 1000;
    if (!Number.isFinite(t) || !Number.isFinite(price) || price <= 0) throw new TypeError(`market.path.file ${file}, line ${i + 1}: expected "time,price" with a positive price, got "${trimmed}"`);
    t0 ??= t;
    rows.push([t - t0, price]);
  });
  if (rows.length < 2) throw new TypeError(`market.path.file ${file}: needs at least two rows of time,price`);
  rows.sort((x, y) => x[0] - y[0]);
  const at = (tSec: number): number => {
    if (tSec <= rows[0]![0]) return rows[0]![1];
    for (let i = 1; i < rows.length; i++) {
      const [t1, p1] = rows[i]!;
      if (tSec <= t1) {
        const [t0_, p0] = rows[i - 1]!;
        return p0 + ((p1 - p0) * (tSec - t0_)) / (t1 - t0_ || 1);
      }
    }
    return rows[rows.length - 1]![1];
  };
  return withMoves({ at, stepSec: 1 }, moves);
}

function interpolated(prices: Float64Array, stepSec: number): TruePath {
  return {
    stepSec,
    at(tSec) {
      const x = Math.max(0, tSec / stepSec);
      const i = Math.min(prices.length - 2, Math.floor(x));
      const f = Math.min(1, x - i);
      return prices[i]! * (1 - f) + prices[i + 1]! * f;
    },
  };
}

/** The multiplier of the scripted moves at `tSec`. */
export function moveFactor(moves: readonly ScriptedMove[], tSec: number): number {
  let f = 1;
  for (const m of moves) {
    if (tSec < m.atSec) continue;
    const ramp = m.rampSec > 0 ? Math.min(1, (tSec - m.atSec) / m.rampSec) : 1;
    let w = ramp;
    if (m.untilSec !== undefined && tSec >= m.untilSec) w = m.rampSec > 0 ? Math.max(0, 1 - (tSec - m.untilSec) / m.rampSec) : 0;
    // Geometric ramp: a 0.01× crash passes through 0.1× halfway, as a real collapse does.
    f *= Math.exp(Math.log(m.factor) * w);
  }
  return f;
}

function withMoves(p: TruePath, moves: readonly ScriptedMove[]): TruePath {
  if (moves.length === 0) return p;
  return { stepSec: p.stepSec, at: (t) => p.at(t) * moveFactor(moves, t) };
}
