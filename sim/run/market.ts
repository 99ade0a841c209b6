/**
 * The run's market: the scenario's venues (defaults merged with per-venue overrides), the true
 * path, the scripted faults and the attackers' DoS windows, and the venues served to the nodes
 * in process or over HTTP (docs/simulator.md, the order-book model; sim/market).
 *
 * Everything random forks from the run's seed by label (`path`, `market`), so a seed fixes the
 * path, the noise and the outages.
 */
import { VENUE_SPECS, type VenueId } from '../../node/sources/index.ts';
import { createVenueResponder, startVenueServer } from '../venues/index.ts';
import { SimMarket, csvPath, gbmPath, serveInProcess, type Rng, type TruePath, type VenueFault, type VenueSpec } from '../market/index.ts';
import type { Scenario } from '../scenario/schema.ts';

/** An attack's venue list: `all` is every venue of the market. */
export const attackedVenues = (v: 'all' | VenueId[], venueIds: readonly VenueId[]): VenueId[] => (v === 'all' ? [...venueIds] : v);

/** Every venue of the scenario, `market.defaults` overridden by the venue's own fields that are set. */
export function venueSpecs(m: Scenario['market']): VenueSpec[] {
  return m.venues.map((v) => {
    const d = { ...m.defaults, ...Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined)) } as typeof m.defaults & { id: VenueId };
    return {
      id: v.id,
      book: { depthUsdPerBps: d.depthUsdPerBps, depthGrowth: d.depthGrowth, feeBps: d.feeBps, resilienceHalfLifeSec: d.resilienceHalfLifeSec },
      noiseBps: d.noiseBps,
      noiseTauSec: d.noiseTauSec,
      latencyMs: d.latencyMs,
      volume24hUsd: d.volume24hUsd,
      outagesPerDay: d.outagesPerDay,
      outageMeanSec: d.outageMeanSec,
    };
  });
}

/**
 * The scripted venue faults: the market's own (`cause: market`, with their default factor, age
 * or delay), then each `dos-sources` attack on each venue it names (`cause: attacker`).
 */
export function venueFaults(s: Pick<Scenario, 'market' | 'attacks'>): VenueFault[] {
  const venueIds = s.market.venues.map((v) => v.id);
  const faults: VenueFault[] = s.market.faults.map((f) => ({
    venue: f.venue,
    fromSec: f.fromSec,
    toSec: f.toSec,
    cause: 'market',
    behaviour:
      f.kind === 'misprice'
        ? { kind: 'misprice', factor: f.factor ?? 1000 }
        : f.kind === 'stale'
          ? { kind: 'stale', ageMs: f.ageMs ?? 300_000 }
          : f.kind === 'slow'
            ? { kind: 'slow', delayMs: f.delayMs ?? 5_000 }
            : { kind: f.kind },
  }));
  for (const a of s.attacks) {
    if (a.kind !== 'dos-sources') continue;
    for (const v of attackedVenues(a.venues, venueIds)) {
      faults.push({ venue: v, fromSec: a.fromSec, toSec: a.toSec, cause: 'attacker', behaviour: a.behaviour === 'slow' ? { kind: 'slow', delayMs: 10_000 } : { kind: a.behaviour } });
    }
  }
  return faults;
}

export interface RunMarket {
  venueIds: VenueId[];
  venues: VenueSpec[];
  path: TruePath;
  market: SimMarket;
  /** The true price at t = 0 (positions and the option are sized with it). */
  startPrice: number;
  /** The noisiest venue's noise, bps: part of the oracle's resolution (sim/result.ts, Verdict). */
  venueNoiseBps: number;
}

/** The scenario's market, seeded by `rng`. */
export function buildMarket(s: Scenario, rng: Rng): RunMarket {
  const venueIds = s.market.venues.map((v) => v.id);
  const venues = venueSpecs(s.market);
  const path = s.market.path.kind === 'gbm' ? gbmPath(s.market.path, s.durationSec, Math.min(s.stepSec, 10), rng.fork('path'), s.market.moves) : csvPath(s.market.path.file, s.market.moves);
  const faults = venueFaults(s);
  const market = new SimMarket(path, venues, rng.fork('market'), faults);
  return { venueIds, venues, path, market, startPrice: path.at(0), venueNoiseBps: Math.max(...venues.map((v) => v.noiseBps)) };
}

/** Each venue's market symbol for the feed (the venue's default market of the feed's base against USD). */
export function venueSymbols(feedName: string, venueIds: readonly VenueId[]): Partial<Record<VenueId, Record<string, { symbol: string; quote: string }>>> {
  const symbols: Partial<Record<VenueId, Record<string, { symbol: string; quote: string }>>> = {};
  const [base] = feedName.split('/') as [string];
  for (const v of venueIds) symbols[v] = { [feedName]: { symbol: VENUE_SPECS[v].defaultMarket(base, 'USD').symbol, quote: 'USD' } };
  return symbols;
}

export interface ServedVenues {
  setBehaviour: (v: VenueId, b: ReturnType<SimMarket['behaviour']>) => void;
  urlOf: (v: VenueId) => string;
}

/**
 * Serves the market's venues in their real formats, over HTTP on 127.0.0.1 or in process (the
 * same responder either way, so both transports give the same run). `cleanup` gets the stop.
 */
export async function serveVenues(
  transport: 'inproc' | 'http',
  x: { feedName: string; venueIds: VenueId[]; market: SimMarket; now: () => number },
  cleanup: (() => Promise<void> | void)[],
): Promise<ServedVenues> {
  const symbols = venueSymbols(x.feedName, x.venueIds);
  const serverOpts = { feeds: [x.feedName], venues: x.venueIds, symbols, price: (venue: VenueId) => x.market.tick(venue), now: x.now };
  if (transport === 'http') {
    const srv = await startVenueServer(serverOpts);
    cleanup.push(() => srv.close());
    return { setBehaviour: (v, b) => srv.setBehaviour(v, b), urlOf: (v) => srv.url(v) };
  }
  const responder = createVenueResponder(serverOpts);
  const ip = serveInProcess(responder);
  cleanup.push(() => ip.close());
  return { setBehaviour: (v, b) => responder.setBehaviour(v, b), urlOf: (v) => ip.url(v) };
}
