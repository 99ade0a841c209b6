/**
 * `aegis node check --record DIR`: every configured source answers once through the production
 * adapters, each raw answer is written as a fixture, and the fixture replays through the
 * adapter (over a real loopback socket, on the recorded clock) to the very quote or error kind
 * the check saw. Recorded here from the venue simulator; on a machine with internet the same
 * command with `--live` records the real venues.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SUPPORTED_VENUES, SourceError, VENUE_SPECS, createSource, marketFor, type VenueId } from '../../node/sources/index.ts';
import { checkSources, checkUrl, queryString } from '../../node/sources/check.ts';
import { startVenueServer, type VenueServer } from '../../sim/venues/index.ts';
import { startFixtureServer, type Fixture, type FixtureServer } from './fixture-server.ts';

let sim: VenueServer;
let replay: FixtureServer;
let dir: string;
beforeAll(async () => {
  sim = await startVenueServer({ feeds: ['BTC/USD', 'ETH/USD'], price: (_v, feed) => ({ price: feed === 'BTC/USD' ? 97_123.45 : 3_456.7, volume: 1234.5 }) });
  replay = await startFixtureServer();
  dir = mkdtempSync(join(tmpdir(), 'aegis-record-'));
});
afterAll(async () => {
  await sim?.close();
  await replay?.close();
  rmSync(dir, { recursive: true, force: true });
});

const input = () => ({
  feeds: ['BTC/USD', 'ETH/USD'].map((name) => ({
    name,
    sources: SUPPORTED_VENUES.map((venue) => ({ venue, market: marketFor(VENUE_SPECS[venue], name)!, baseUrl: sim.url(venue) })),
  })),
  venues: {},
});

describe('aegis node check --record', () => {
  it('records every source, and every recorded fixture replays to the quote or error the check saw', async () => {
    sim.setBehaviour('kucoin', { kind: 'rate_limited' });
    let rows;
    try {
      rows = await checkSources(input(), { recordDir: dir });
    } finally {
      sim.setBehaviour('kucoin', { kind: 'normal' });
    }
    expect(rows).toHaveLength(2 * SUPPORTED_VENUES.length);
    for (const r of rows) {
      expect(r.recorded, `${r.source} ${r.feed}`).toBeDefined();
      expect(r.freshness).toBe(VENUE_SPECS[r.venue as VenueId].freshnessBasis);
      if (r.venue === 'kucoin') expect(r.error?.kind).toBe('rate_limited');
      else expect(r.quote?.price, `${r.source} ${r.feed}: ${r.error?.message}`).toBe(r.feed === 'BTC/USD' ? 97_123.45 : 3_456.7);
    }

    for (const r of rows) {
      const fx = JSON.parse(readFileSync(r.recorded!, 'utf8')) as Fixture;
      expect(fx.source).toMatch(/^recorded from http:\/\/127\.0\.0\.1:\d+\/\w+ at \d{4}-\d\d-\d\dT.* by aegis node check --record$/);
      replay.reset();
      replay.setClock(() => fx.recordedAtMs!);
      replay.serve(fx, ...(fx.followUp ? [fx.followUp] : []));
      const got = await createSource(r.venue as VenueId, { baseUrl: replay.url, now: () => fx.recordedAtMs!, retries: 0, symbols: { [r.feed]: { symbol: r.market, quote: r.quote?.quote ?? marketFor(VENUE_SPECS[r.venue as VenueId], r.feed)!.quote } } })
        .fetch(r.feed)
        .catch((e: unknown) => e);
      if (fx.expect.kind) {
        expect(got).toBeInstanceOf(SourceError);
        expect((got as SourceError).kind).toBe(fx.expect.kind);
        expect(fx.headers?.['gw-ratelimit-reset'], 'the rate-limit header is kept').toBeDefined();
      } else {
        const { kind: _none, ...want } = fx.expect;
        expect(got).toEqual({ ...r.quote, ...want });
      }
      // The replayed adapter asked exactly the recorded paths.
      expect(replay.requests).toEqual(fx.followUp && !fx.expect.kind ? [fx.request, fx.followUp.request] : [fx.request]);
      expect(replay.violations).toEqual([]);
    }
    expect(readdirSync(dir).sort()).toEqual([...SUPPORTED_VENUES].sort());
    expect(readdirSync(join(dir, 'kucoin')).sort()).toEqual(['btc-usd-rate-limited.json', 'eth-usd-rate-limited.json']);
  });

  it('--live asks each venue at its public URL whatever base URL the config gives', () => {
    for (const venue of SUPPORTED_VENUES) {
      expect(checkUrl(venue, 'http://127.0.0.1:1/mirror', true)).toBe(VENUE_SPECS[venue].defaultBaseUrl);
      expect(checkUrl(venue, 'http://127.0.0.1:1/mirror', false)).toBe('http://127.0.0.1:1/mirror');
      expect(VENUE_SPECS[venue].defaultBaseUrl).toMatch(/^https:\/\//);
    }
  });

  it('writes query strings the way the adapters send them', () => {
    expect(queryString({ category: 'spot', symbol: 'BTCUSDT', limit: '1' })).toBe('?category=spot&symbol=BTCUSDT&limit=1');
    expect(queryString({ pair: 'XBT/USD' })).toBe('?pair=XBT%2FUSD');
    expect(queryString(undefined)).toBe('');
  });
});

describe('aegis node check --record, as an operator runs it', () => {
  it('prints what fresh means per venue and writes one fixture per source and feed', async () => {
    const { setupFixture } = await import('../node/harness.ts');
    const { execFile } = await import('node:child_process');
    const { promisify } = await import('node:util');
    const fx = await setupFixture();
    const recordDir = mkdtempSync(join(tmpdir(), 'aegis-record-cli-'));
    try {
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/aegis.ts', 'node', 'check', '--config', fx.configFile, '--record', recordDir], {
        cwd: new URL('../../', import.meta.url).pathname,
        env: { ...process.env, ...fx.env },
      });
      expect(stdout).toMatch(/source.*url.*fresh means/);
      expect(stdout).toMatch(/kraken.*time of the newest trade/);
      expect(stdout).toMatch(/recorded \d+ fixture\(s\) under /);
      const venues = readdirSync(recordDir);
      expect(venues.length).toBeGreaterThan(0);
      for (const v of venues) for (const f of readdirSync(join(recordDir, v))) expect(JSON.parse(readFileSync(join(recordDir, v, f), 'utf8')).expect.feed).toMatch(/^[A-Z]+\/USD$/);
    } finally {
      rmSync(recordDir, { recursive: true, force: true });
      await fx.close();
    }
  }, 120_000);
});
