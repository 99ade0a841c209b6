/**
 * The shared request policy, through a real loopback server: retries with backoff, `Retry-After`,
 * what is and is not retried, timeouts, the circuit breaker's open / half-open / closed cycle,
 * staleness and future timestamps, and caller aborts. Delays are kept to tens of milliseconds;
 * nothing here asserts on elapsed time except through the venue's request count.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SUPPORTED_VENUES, SourceError, createSource, type SourceOptions } from '../../node/sources/index.ts';
import { parseRetryAfter } from '../../node/sources/http.ts';
import { loadFixtures, startFixtureServer, type FixtureServer, type RecordedResponse } from './fixture-server.ts';

const binance = loadFixtures('binance');
const OK = binance['btc-usd']!;
const VENUE_TS = 1793620800000 - 850;
const NOW = VENUE_TS + 1000;
const outage: RecordedResponse = { status: 503, body: '<html><body><h1>503 Service Unavailable</h1></body></html>' };

let server: FixtureServer;
beforeAll(async () => {
  server = await startFixtureServer();
});
afterEach(() => {
  // No source is requested again within the cool-down a venue asked for, in any test here.
  expect(server.violations, 'requests inside a wait the venue asked for').toEqual([]);
  server.reset();
});
afterAll(async () => {
  await server.close();
});

function source(opts: SourceOptions = {}) {
  return createSource('binance', { baseUrl: server.url, now: () => NOW, backoffBaseMs: 5, backoffMaxMs: 20, ...opts });
}

async function rejection(p: Promise<unknown>): Promise<SourceError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SourceError);
  return err as SourceError;
}

describe('retries', () => {
  it('retries a 503 and returns the quote once the venue recovers', async () => {
    server.serve(outage, outage, OK);
    const q = await source({ retries: 2 }).fetch('BTC/USD');
    expect(q.price).toBe(97412.18);
    expect(server.requests).toHaveLength(3);
  });

  it('gives up after the retry budget with a message naming the status and the retries', async () => {
    server.serve(outage);
    const err = await rejection(source({ retries: 2 }).fetch('BTC/USD'));
    expect(err.kind).toBe('http');
    expect(err.status).toBe(503);
    expect(err.attempts).toBe(3);
    expect(err.message).toMatch(/^source binance: HTTP 503 .* after 2 retries \(BTC\/USD\); excluded from this round$/);
    expect(server.requests).toHaveLength(3);
  });

  it('does not retry a client error or a garbage body', async () => {
    server.serve(binance['unknown-symbol']!);
    await rejection(source({ retries: 2 }).fetch('FOO/USD'));
    expect(server.requests).toHaveLength(1);
    server.serve({ status: 200, body: '<html>maintenance</html>' });
    expect((await rejection(source({ retries: 2 }).fetch('BTC/USD'))).kind).toBe('bad_response');
    expect(server.requests).toHaveLength(1);
  });

  it('times out a slow venue and retries it', async () => {
    server.serve({ ...OK, delayMs: 300 });
    const err = await rejection(source({ retries: 1, timeoutMs: 50 }).fetch('BTC/USD'));
    expect(err.kind).toBe('timeout');
    expect(err.message).toMatch(/no answer within 50 ms after 1 retry/);
    expect(server.requests).toHaveLength(2);
  });
});

describe('rate limits', () => {
  it('waits out a short Retry-After, then succeeds', async () => {
    server.serve({ ...binance['rate-limited']!, headers: { 'Retry-After': '0.05' }, venueAsksWaitMs: 50 }, OK);
    const q = await source({ retries: 1 }).fetch('BTC/USD');
    expect(q.price).toBe(97412.18);
    expect(server.requests).toHaveLength(2);
  });

  it('does not wait out a long Retry-After: fails at once and cools down for that long', async () => {
    let now = NOW;
    const s = source({ retries: 3, maxRetryAfterMs: 1_000, coolDownMs: 10, now: () => now });
    server.serve(binance['rate-limited']!); // Retry-After: 120
    const err = await rejection(s.fetch('BTC/USD'));
    expect(err.kind).toBe('rate_limited');
    expect(err.retryAfterMs).toBe(120_000);
    expect(err.message).toMatch(/rate limited, HTTP 429 .*wait 120000 ms \(Retry-After\); not asked again for 120000 ms, as the venue asked/);
    expect(server.requests).toHaveLength(1);

    server.serve(OK);
    now += 60_000;
    const cooling = await rejection(s.fetch('BTC/USD'));
    expect(cooling.kind).toBe('cooling_down');
    expect(cooling.retryAfterMs).toBe(60_000);
    expect(server.requests).toHaveLength(0);
  });

  it('reads a rate limit sent inside an HTTP 200 venue payload (Kraken) and does not retry it at once', async () => {
    const kraken = loadFixtures('kraken');
    let now = NOW;
    server.setClock(() => now);
    server.serve(kraken['rate-limited']!, kraken['btc-usd']!, kraken['btc-usd']!.followUp!);
    const s = createSource('kraken', { baseUrl: server.url, backoffBaseMs: 5, retries: 2, now: () => now });
    const err = await rejection(s.fetch('BTC/USD'));
    expect(err.kind).toBe('rate_limited');
    expect(err.message).toMatch(/wait 10000 ms \(Kraken docs/);
    expect(server.requests).toHaveLength(1);
    now += 10_000;
    expect((await s.fetch('BTC/USD')).price).toBe(97409.9);
  });

  it('parses Retry-After as seconds or as an HTTP date', () => {
    expect(parseRetryAfter('3', 0)).toBe(3000);
    expect(parseRetryAfter('Mon, 02 Nov 2026 12:00:10 GMT', Date.UTC(2026, 10, 2, 12, 0, 0))).toBe(10_000);
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
    expect(parseRetryAfter(undefined, 0)).toBeUndefined();
  });
});

const FIXTURE_NOW = 1793620800000 + 1000;
/** Every recorded rate limit of every venue, with the wait the venue asks for (header or documented window). */
const RATE_LIMITS = SUPPORTED_VENUES.flatMap((venue) =>
  Object.entries(loadFixtures(venue))
    .filter(([, fx]) => fx.expect.kind === 'rate_limited')
    .map(([name, fx]) => [`${venue} ${name}`, venue, fx, loadFixtures(venue)['btc-usd']!] as const),
);

describe('rate limits without Retry-After: the wait each venue asks for', () => {
  it.each(RATE_LIMITS)('%s: refused without a request until the wait is over, then asked again', async (_name, venue, limited, ok) => {
    const wait = limited.venueAsksWaitMs!;
    expect(wait).toBeGreaterThan(0);
    // The recorded answers' clock (headers such as Bybit's reset timestamp are absolute).
    const NOW = FIXTURE_NOW;
    let now = NOW;
    server.setClock(() => now);
    const s = createSource(venue, { baseUrl: server.url, now: () => now, retries: 2, backoffBaseMs: 5, backoffMaxMs: 5, maxRetryAfterMs: 0, failureThreshold: 3, coolDownMs: 1_000 });
    server.serve(limited);
    const err = await rejection(s.fetch('BTC/USD'));
    expect(err.kind).toBe('rate_limited');
    expect(err.retryAfterMs).toBe(wait);
    expect(server.requests).toHaveLength(1);

    // Inside the wait: refused by the source itself, below the failure threshold, several times.
    server.serve(ok, ...(ok.followUp ? [ok.followUp] : []));
    for (const at of [1, wait / 2, wait - 1]) {
      now = NOW + at;
      const cooling = await rejection(s.fetch('BTC/USD'));
      expect(cooling.kind).toBe('cooling_down');
      expect(cooling.retryAfterMs).toBe(wait - at);
    }
    expect(server.requests).toHaveLength(0);

    // The wait is over: the venue is asked again and answers.
    now = NOW + wait;
    const trial = await s.fetch('BTC/USD').catch((e: unknown) => e);
    expect(server.requests[0]).toBe(ok.request);
    // The recorded quote is `wait` old by now: a quote, or stale after a long wait; never a refusal.
    expect(trial instanceof SourceError ? trial.kind : 'quote').toMatch(/^(quote|stale)$/);
  });

  it('OKX 50001 (HTTP 503, "try again later") is retried', async () => {
    const okx = loadFixtures('okx');
    server.serve(okx['service-unavailable']!, okx['btc-usd']!);
    const q = await createSource('okx', { baseUrl: server.url, now: () => NOW, retries: 1, backoffBaseMs: 5 }).fetch('BTC/USD');
    expect(q.price).toBeGreaterThan(0);
    expect(server.requests).toHaveLength(2);
  });
});

describe('freshness from the newest trade (Kraken, Bybit, Bitfinex)', () => {
  it.each(['kraken', 'bybit', 'bitfinex'] as const)('%s: a last trade older than the limit is stale, whatever the ticker says', async (venue) => {
    const ok = loadFixtures(venue)['btc-usd']!;
    const tradeMs = ok.expect.venueTimestampMs as number;
    server.serve(ok, ok.followUp!);
    const err = await rejection(createSource(venue, { baseUrl: server.url, now: () => tradeMs + 61_000 }).fetch('BTC/USD'));
    expect(err.kind).toBe('stale');
    expect(err.message).toMatch(/last trade .* is 61000 ms old, limit 60000 ms/);
    expect(server.requests).toEqual([ok.request, ok.followUp!.request]);
  });

  it('Bybit\'s top-level time is not taken as the quote time', async () => {
    const ok = loadFixtures('bybit')['btc-usd']!;
    server.serve(ok, ok.followUp!);
    const q = await createSource('bybit', { baseUrl: server.url, now: () => NOW }).fetch('BTC/USD');
    expect(q.venueTimestampMs).not.toBe((ok.body as { time: number }).time);
    expect(q.venueTimestampMs).toBe(ok.expect.venueTimestampMs);
  });
});

describe('cool-down', () => {
  it('opens after N consecutive failures, refuses without asking the venue, then recovers through a half-open trial', async () => {
    let now = NOW;
    const s = source({ retries: 0, failureThreshold: 3, coolDownMs: 30_000, now: () => now });
    server.serve(outage);
    for (let i = 0; i < 3; i++) expect((await rejection(s.fetch('BTC/USD'))).kind).toBe('http');
    expect(s.health()).toEqual({ state: 'open', consecutiveFailures: 3, openUntilMs: NOW + 30_000 });
    expect(server.requests).toHaveLength(3);

    const cooling = await rejection(s.fetch('BTC/USD'));
    expect(cooling.kind).toBe('cooling_down');
    expect(cooling.message).toBe('source binance: cooling down after 3 consecutive failures, next try in 30000 ms (BTC/USD); excluded from this round');
    expect(server.requests).toHaveLength(3);

    // Cool-down over, venue still down: the one trial fails and the circuit opens again.
    now += 30_000;
    expect((await rejection(s.fetch('BTC/USD'))).kind).toBe('http');
    expect(s.health().state).toBe('open');
    expect(server.requests).toHaveLength(4);

    // Cool-down over, venue back: the trial succeeds and the circuit closes.
    now += 30_000;
    server.serve({ ...OK, body: { ...(OK.body as object), closeTime: now - 100 } });
    const q = await s.fetch('BTC/USD');
    expect(q.price).toBe(97412.18);
    expect(s.health()).toEqual({ state: 'closed', consecutiveFailures: 0 });
  });

  it('a venue that never answers (connection refused) cools down for transportCoolDownMs (3 s), not the 30 s meant for bad answers', async () => {
    const { createServer } = await import('node:net');
    // A port that refuses connections: bound, then closed.
    const probe = createServer();
    const port = await new Promise<number>((ok) => probe.listen(0, '127.0.0.1', () => ok((probe.address() as { port: number }).port)));
    await new Promise<void>((ok) => probe.close(() => ok()));
    let now = NOW;
    const s = createSource('binance', { baseUrl: `http://127.0.0.1:${port}`, now: () => now, retries: 0, failureThreshold: 3, coolDownMs: 30_000 });
    for (let i = 0; i < 3; i++) expect((await rejection(s.fetch('BTC/USD'))).kind).toBe('http');
    expect(s.health()).toEqual({ state: 'open', consecutiveFailures: 3, openUntilMs: NOW + 3_000 });
    expect((await rejection(s.fetch('BTC/USD'))).kind).toBe('cooling_down');
    // After 3 s a trial goes out (and fails again here, opening for another 3 s).
    now += 3_000;
    expect((await rejection(s.fetch('BTC/USD'))).kind).toBe('http');
    expect(s.health()).toMatchObject({ state: 'open', openUntilMs: now + 3_000 });
  });

  it('a success resets the failure count', async () => {
    const s = source({ retries: 0, failureThreshold: 2 });
    server.serve(outage, OK, outage);
    await rejection(s.fetch('BTC/USD'));
    await s.fetch('BTC/USD');
    await rejection(s.fetch('BTC/USD'));
    expect(s.health()).toEqual({ state: 'closed', consecutiveFailures: 1 });
  });
});

describe('staleness', () => {
  it('rejects a venue time older than the limit as stale', async () => {
    server.serve(OK);
    const err = await rejection(source({ now: () => VENUE_TS + 61_000 }).fetch('BTC/USD'));
    expect(err.kind).toBe('stale');
    expect(err.message).toMatch(/venue time 2026-11-02T11:59:59\.150Z is 61000 ms old, limit 60000 ms/);
  });

  it('honours a configured limit', async () => {
    server.serve(OK);
    expect((await rejection(source({ now: () => VENUE_TS + 5_000, maxStalenessMs: 2_000 }).fetch('BTC/USD'))).kind).toBe('stale');
  });

  it('rejects a venue time in the future beyond the clock-skew allowance', async () => {
    server.serve(OK);
    const err = await rejection(source({ now: () => VENUE_TS - 10_000 }).fetch('BTC/USD'));
    expect(err.kind).toBe('bad_response');
    expect(err.message).toMatch(/10000 ms in the future/);
  });
});

describe('configuration and cancellation', () => {
  it('uses configured symbols and reports a malformed feed', async () => {
    server.serve({ ...OK, body: { ...(OK.body as object), symbol: 'BTCUSDC' } });
    const s = source({ symbols: { 'BTC/USD': { symbol: 'BTCUSDC', quote: 'USDC' } } });
    const q = await s.fetch('BTC/USD');
    expect(q).toMatchObject({ market: 'BTCUSDC', quote: 'USDC' });
    expect(server.requests).toEqual(['/api/v3/ticker/24hr?symbol=BTCUSDC']);
    const err = await rejection(s.fetch('btc-usd'));
    expect(err.kind).toBe('unknown_feed');
  });

  it('stops retrying when the caller aborts, without counting a failure', async () => {
    server.serve(outage);
    const s = source({ retries: 5, backoffBaseMs: 200, backoffMaxMs: 200 });
    const ctl = new AbortController();
    const fetching = s.fetch('BTC/USD', ctl.signal);
    setTimeout(() => ctl.abort(), 50);
    const err = await rejection(fetching);
    expect(err.kind).toBe('aborted');
    expect(s.health().consecutiveFailures).toBe(0);
    expect(server.requests).toHaveLength(1);
  });

  it('names the supported venues for an unknown venue', () => {
    expect(() => createSource('mtgox')).toThrow(/unknown venue "mtgox": supported venues are binance, coinbase, kraken/);
  });
});
