/**
 * The true price paths of a testbed run, deterministic from the scenario's seed and the run's
 * start time `t0Ms`: the venue-server process (venue-host.ts) quotes them (with a fixed small
 * per-venue offset, as the devnet does) and the runner reads the same paths as the truth the
 * measures compare with, without sampling anything across namespaces.
 */
import { Rng, gbmPath, type TruePath } from '../market/index.ts';

export interface TruthFeed {
  name: string;
  start: number;
  volatility: number;
}

export interface TruthPaths {
  /** True price of `feed` at unix ms `tMs` (the path is flat before t0). */
  at(feed: string, tMs: number): number | undefined;
  /** A venue's quote: the truth times (1 + a fixed offset within ±3 bp). */
  quote(venue: string, feed: string, tMs: number): number | undefined;
}

export function truthPaths(feeds: readonly TruthFeed[], seed: number, t0Ms: number, durationSec: number): TruthPaths {
  const rng = new Rng(seed);
  const paths = new Map<string, TruePath>(
    feeds.map((f) => [f.name, gbmPath({ kind: 'gbm', start: f.start, drift: 0, volatility: f.volatility, jumpsPerDay: 0, jumpMean: 0, jumpStd: 0 }, durationSec + 900, 1, rng.fork(`path:${f.name}`))]),
  );
  const noise = new Map<string, number>();
  const at = (feed: string, tMs: number) => paths.get(feed)?.at(Math.max(0, (tMs - t0Ms) / 1000));
  return {
    at,
    quote(venue, feed, tMs) {
      const p = at(feed, tMs);
      if (p === undefined) return undefined;
      const k = `${venue}|${feed}`;
      if (!noise.has(k)) noise.set(k, (new Rng(seed).fork(`noise:${k}`).next() - 0.5) * 0.0006);
      return p * (1 + noise.get(k)!);
    },
  };
}
