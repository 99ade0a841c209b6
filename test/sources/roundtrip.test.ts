/**
 * The venue simulator against the production adapters: every venue, served in its own format at
 * its own path, reads back as the configured price; each simulated failure reaches the adapter
 * as the error kind the observation step acts on; after a venue's own rate-limit answer no
 * source asks it again inside the wait it asked for (the simulator counts any such request).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SUPPORTED_VENUES, SourceError, convertQuote, createSource, type VenueId } from '../../node/sources/index.ts';
import { startVenueServer, type VenueServer } from '../../sim/venues/index.ts';

const FEEDS = ['BTC/USD', 'ETH/USD', 'DOGE/USD', 'USDT/USD'];
/** A distinct price per venue and feed, so a mix-up between venues or feeds shows. */
function priceOf(venue: VenueId, feed: string): { price: number; volume: number } {
  const base = { 'BTC/USD': 97_000, 'ETH/USD': 3_480, 'DOGE/USD': 0.1234, 'USDT/USD': 0.9996 }[feed] ?? 1;
  const i = SUPPORTED_VENUES.indexOf(venue);
  return { price: Number((base * (1 + i / 10_000)).toPrecision(6)), volume: 1000 + i };
}

let sim: VenueServer;
beforeAll(async () => {
  sim = await startVenueServer({
    feeds: FEEDS,
    price: (venue, feed) => (feed === 'USDT/USD' && ['binance', 'okx', 'bybit', 'kucoin'].includes(venue) ? undefined : priceOf(venue, feed)),
  });
});
afterAll(async () => {
  // No source is requested again within the cool-down a venue asked for.
  expect(sim.violations()).toEqual([]);
  await sim.close();
});

async function rejection(p: Promise<unknown>): Promise<SourceError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SourceError);
  return err as SourceError;
}

describe.each(SUPPORTED_VENUES.map((v) => [v]))('%s through the venue simulator', (venue) => {
  const source = (timeoutMs = 2_000) => createSource(venue, { baseUrl: sim.url(venue), retries: 0, timeoutMs });

  it('reads the configured price for every feed', async () => {
    sim.setBehaviour(venue, { kind: 'normal' });
    const s = source();
    for (const feed of ['BTC/USD', 'ETH/USD', 'DOGE/USD']) {
      const q = await s.fetch(feed);
      expect(q).toMatchObject({ source: venue, feed, price: priceOf(venue, feed).price, volume: priceOf(venue, feed).volume });
      expect(q.market).toBe(s.market(feed)?.symbol);
    }
  });

  it.each([
    [{ kind: 'outage' } as const, 'http'],
    [{ kind: 'garbage' } as const, 'bad_response'],
    [{ kind: 'rate_limited', retryAfterS: 600 } as const, 'rate_limited'],
    [{ kind: 'slow', delayMs: 2_000 } as const, 'timeout'],
  ])('maps %o to %s', async (behaviour, kind) => {
    sim.setBehaviour(venue, behaviour);
    try {
      // Only the slow venue needs a short timeout; the others answer at once (a short one would
      // turn a loaded machine's slow answer into a timeout).
      expect((await rejection(source(behaviour.kind === 'slow' ? 100 : 2_000).fetch('BTC/USD'))).kind).toBe(kind);
    } finally {
      sim.setBehaviour(venue, { kind: 'normal' });
    }
  });
});

describe('rate limits through the simulator', () => {
  it.each(SUPPORTED_VENUES.map((v) => [v]))('%s: after its own rate-limit answer, the source does not ask again inside the wait', async (venue) => {
    const s = createSource(venue, { baseUrl: sim.url(venue), retries: 2, backoffBaseMs: 1, backoffMaxMs: 2, maxRetryAfterMs: 0 });
    sim.setBehaviour(venue, { kind: 'rate_limited' });
    try {
      const before = sim.requests(venue);
      expect((await rejection(s.fetch('BTC/USD'))).kind).toBe('rate_limited');
      for (let i = 0; i < 3; i++) expect((await rejection(s.fetch('BTC/USD'))).kind).toBe('cooling_down');
      expect(sim.requests(venue) - before).toBe(1);
    } finally {
      sim.setBehaviour(venue, { kind: 'normal' });
    }
  });
});

describe('simulator scenarios', () => {
  it('a frozen venue clock is rejected as stale where the venue reports time', async () => {
    sim.setBehaviour('okx', { kind: 'stale', ageMs: 120_000 });
    try {
      expect((await rejection(createSource('okx', { baseUrl: sim.url('okx'), retries: 0 }).fetch('BTC/USD'))).kind).toBe('stale');
    } finally {
      sim.setBehaviour('okx', { kind: 'normal' });
    }
  });

  it('a USDT market converts to USD with a USD venue pricing USDT/USD', async () => {
    const rate = (await createSource('kraken', { baseUrl: sim.url('kraken') }).fetch('USDT/USD')).price;
    const q = convertQuote(await createSource('binance', { baseUrl: sim.url('binance') }).fetch('BTC/USD'), { 'USDT/USD': rate });
    expect(q.quote).toBe('USD');
    expect(q.price).toBeCloseTo(priceOf('binance', 'BTC/USD').price * priceOf('kraken', 'USDT/USD').price, 6);
  });

  it('an unlisted market gets the venue\'s own unknown-symbol answer', async () => {
    const err = await rejection(createSource('bybit', { baseUrl: sim.url('bybit') }).fetch('USDT/USD'));
    expect(err.message).toMatch(/Not supported symbols \(retCode 10001\)/);
  });
});
