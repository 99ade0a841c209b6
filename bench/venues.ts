/**
 * The benchmarks' simulated exchanges (`observe` and `round` sections of `npm run bench`):
 * five USD venues quoting every feed at a fixed level per feed, with a small per-venue offset
 * and a slow drift, so the sources agree and the answer moves without ever tripping a filter;
 * and the production node files that price every feed from them.
 */
import type { VenueId } from '../node/sources/index.ts';
import { startVenueServer, type VenueServer } from '../sim/venues/index.ts';
import { writeNodeFiles, type NodeFilesOptions } from '../sim/devnet/devnet.ts';

export const BENCH_VENUES: VenueId[] = ['coinbase', 'kraken', 'bitstamp', 'gemini', 'bitfinex'];

export function startBenchVenues(feeds: readonly string[]): Promise<VenueServer> {
  const base = new Map(feeds.map((name, k) => [name, 100 + 7 * k]));
  return startVenueServer({
    feeds: [...feeds],
    venues: BENCH_VENUES,
    price: (venue, feed, nowMs) => {
      const p = base.get(feed);
      if (p === undefined) return undefined;
      const drift = 1 + 0.001 * Math.sin(nowMs / 60_000);
      return { price: p * drift * (1 + (BENCH_VENUES.indexOf(venue) - 2) * 0.0001), volume: 250 };
    },
  });
}

/** A benchmark node's config and keystores: every feed from every bench venue, logs off, any port. */
export function writeBenchNodeFiles(o: Omit<NodeFilesOptions, 'venues' | 'venueUrl' | 'port' | 'logLevel'> & { venueServer: VenueServer }): Promise<string> {
  const { venueServer, ...rest } = o;
  return writeNodeFiles({ ...rest, port: 0, venues: BENCH_VENUES, venueUrl: (v) => venueServer.url(v), logLevel: 'silent' });
}
