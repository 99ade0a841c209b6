/**
 * Row shapes of `npm run bench -- --json` and the percentile helper every benchmark
 * section uses. Names of ops are part of the output contract (issues name them).
 */
export interface GasRow {
  system: string;
  op: string;
  n: number;
  feeds: number;
  gas: number;
  note?: string;
}

export interface TimingRow {
  op: string;
  n: number;
  feeds: number;
  p50_ms: number;
  p99_ms: number;
  samples: number;
  note?: string;
}

export interface BenchResult {
  gas: GasRow[];
  timing: TimingRow[];
}

/** Nearest-rank percentile of the samples (ms), rounded to 0.01 ms. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return Math.round(sorted[rank]! * 100) / 100;
}

/** Times `fn` `runs` times after `warmup` untimed runs. */
export async function timeIt(runs: number, fn: () => unknown | Promise<unknown>, warmup = 1): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}

export function timingRow(op: string, n: number, feeds: number, samples: number[], note?: string): TimingRow {
  return { op, n, feeds, p50_ms: percentile(samples, 50), p99_ms: percentile(samples, 99), samples: samples.length, ...(note ? { note } : {}) };
}
