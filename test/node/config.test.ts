/**
 * Config validation (errors name the field and the fix), start-up checks (config digest pin,
 * keys against the committee, wrong password), pricing through a conversion feed, and the
 * `aegis node check` command against the venue server.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { parseNodeConfig, type NodeConfigInput } from '../../node/config.ts';
import { NodeError } from '../../node/errors.ts';
import { startNode } from '../../node/start.ts';
import { priceFeeds } from '../../node/pricing.ts';
import type { Snapshot, SourceEntry } from '../../node/poller.ts';
import { setupFixture, type Fixture } from './harness.ts';
import { makeTlsFixture, TLS_SKIP } from '../fixtures/tls.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const run = promisify(execFile);

const minimal = (): NodeConfigInput => ({
  committee: './committee.json',
  keys: { identity: { path: './id.json', passwordEnv: 'ID_PW' }, share: { path: './share.json', passwordFile: './share.pass' } },
  store: './store.sqlite',
  feeds: [
    { name: 'USDT/USD', minSources: 2, sources: [{ venue: 'coinbase' }, { venue: 'kraken' }] },
    { name: 'BTC/USD', minSources: 2, sources: [{ venue: 'coinbase' }, { venue: 'binance' }] },
  ],
});

function configError(patch: (c: any) => void): string {
  const c = minimal() as any;
  patch(c);
  try {
    parseNodeConfig(c, '/etc/aegis/node.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(NodeError);
    return (err as Error).message;
  }
  throw new Error('expected a config error');
}

describe('config validation', () => {
  it('accepts a minimal config, applies defaults and resolves paths against the config directory', () => {
    const c = parseNodeConfig(minimal(), '/etc/aegis/node.yaml');
    expect(c.committee).toBe('/etc/aegis/committee.json');
    expect(c.keys.share.passwordFile).toBe('/etc/aegis/share.pass');
    expect(c.listen).toEqual({ host: '127.0.0.1', port: 7400 });
    expect(c.http).toMatchObject({ requestTimeoutMs: 30_000, headersTimeoutMs: 10_000, keepAliveTimeoutMs: 5_000 });
    expect(c.signer.sanityBandBps).toBe(200);
    const btc = c.feeds.find((f) => f.name === 'BTC/USD')!;
    expect(btc.decimals).toBe(8);
    expect(btc.conversionFeeds).toEqual(['USDT/USD']);
    expect(btc.sources.find((s) => s.venue === 'binance')!.market).toEqual({ symbol: 'BTCUSDT', quote: 'USDT' });
  });

  it.each([
    ['an unknown venue', (c: any) => (c.feeds[0].sources[0].venue = 'binanse'), /feeds\.0\.sources\.0\.venue: unknown venue; use one of binance, coinbase/],
    ['a missing conversion feed', (c: any) => c.feeds.shift(), /feeds\.0\.conversionFeeds: conversion feed USDT\/USD is not configured; add a feed named USDT\/USD/],
    ['a bad feed name', (c: any) => (c.feeds[1].name = 'btc-usd'), /feeds\.1\.name: expected BASE\/QUOTE in upper case/],
    ['a bad cron schedule', (c: any) => (c.poll = { schedule: 'every 5 seconds' }), /poll\.schedule: "every 5 seconds" is not a cron expression.*"\*\/5 \* \* \* \* \*"/],
    ['both password sources', (c: any) => (c.keys.share.passwordEnv = 'X'), /keys\.share: give exactly one of passwordFile or passwordEnv/],
    ['a host name as listen host', (c: any) => (c.listen = { host: 'localhost' }), /listen\.host: "localhost" is not an IP address; give 127\.0\.0\.1 .* or 0\.0\.0\.0 \(IPv4\) \/ :: \(IPv6\) for every interface/],
    ['a missing TLS certificate', (c: any) => (c.listen = { tls: { cert: './tls/node.pem', key: './tls/node.key' } }), /listen\.tls\.cert: cannot read \/etc\/aegis\/tls\/node\.pem \(ENOENT\); give the PEM certificate file, relative to the config file/],
    ['TLS without a key', (c: any) => (c.listen = { tls: { cert: './tls/node.pem' } }), /listen\.tls\.key: /],
    ['headers timeout above the request timeout', (c: any) => (c.http = { requestTimeoutMs: 5000, headersTimeoutMs: 8000 }), /http\.headersTimeoutMs: 8000 exceeds http\.requestTimeoutMs 5000/],
    ['minSources above the sources', (c: any) => (c.feeds[1].minSources = 5), /feeds\.1\.minSources: 5 exceeds the 2 configured sources/],
    ['a duplicate venue', (c: any) => c.feeds[1].sources.push({ venue: 'coinbase' }), /feeds\.1\.sources\.2: venue coinbase is listed twice/],
    ['an unknown field, with the nearest known one', (c: any) => (c.feed = []), /\(top level\): unknown key "feed" \(did you mean "feeds"\?\); allowed here: listen, committee/],
    ['a missing store', (c: any) => delete c.store, /store: /],
  ])('names the field and the fix for %s', (_what, patch, message) => {
    expect(configError(patch)).toMatch(message);
  });
});

describe('listen address and TLS files', () => {
  it.each(['127.0.0.2', '0.0.0.0', '::', '::1', '10.1.2.3'])('accepts the IP literal %s as listen.host', (host) => {
    expect(parseNodeConfig({ ...minimal(), listen: { host } }, '/etc/aegis/node.yaml').listen.host).toBe(host);
  });

  it.skipIf(TLS_SKIP !== undefined)(`resolves listen.tls against the config folder and refuses a key of another certificate${TLS_SKIP ? ` (${TLS_SKIP})` : ''}`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'aegis-node-tls-'));
    try {
      makeTlsFixture(join(dir, 'tls'));
      const ok = parseNodeConfig({ ...minimal(), listen: { host: '0.0.0.0', tls: { cert: './tls/node.pem', key: './tls/node.key' } } }, join(dir, 'node.yaml'));
      expect(ok.listen.tls).toEqual({ cert: join(dir, 'tls/node.pem'), key: join(dir, 'tls/node.key') });
      expect(() => parseNodeConfig({ ...minimal(), listen: { tls: { cert: './tls/node.pem', key: './tls/impostor.key' } } }, join(dir, 'node.yaml'))).toThrow(
        /listen\.tls: the key in .*impostor\.key does not belong to the certificate in .*node\.pem/,
      );
      expect(() => parseNodeConfig({ ...minimal(), listen: { tls: { cert: './tls/node.key', key: './tls/node.key' } } }, join(dir, 'node.yaml'))).toThrow(/listen\.tls\.cert: .*node\.key is not a PEM certificate/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('pricing through a conversion feed', () => {
  const entry = (feed: string, source: string, price: number, quote: string, nowMs: number): SourceEntry => ({
    feed,
    source,
    venue: source as SourceEntry['venue'],
    market: 'M',
    quote: { source, feed, price, receivedAtMs: nowMs, venueTimestampMs: nowMs - 1000, market: 'M', quote },
  });

  it('converts USDT quotes with the observed USDT/USD rate, never at 1.0', () => {
    const cfg = parseNodeConfig(minimal(), '/x/node.yaml');
    const now = 1_700_000_000_000;
    const snapshot: Snapshot = {
      version: 1,
      takenAtMs: now,
      feeds: new Map([
        ['USDT/USD', [entry('USDT/USD', 'coinbase', 0.95, 'USD', now), entry('USDT/USD', 'kraken', 0.95, 'USD', now)]],
        ['BTC/USD', [entry('BTC/USD', 'coinbase', 57_000, 'USD', now), entry('BTC/USD', 'binance', 60_000, 'USDT', now)]],
      ]),
    };
    const views = priceFeeds({ feeds: cfg.feeds, snapshot, nowMs: now });
    const btc = views.get('BTC/USD')!;
    expect(btc.ok).toBe(true);
    if (btc.ok) expect(btc.answer).toBe(5_700_000_000_000n); // 60000 USDT × 0.95 = 57000 USD, agreeing with coinbase
  });

  it('withholds the feed when the conversion rate has no observation', () => {
    const cfg = parseNodeConfig(minimal(), '/x/node.yaml');
    const now = 1_700_000_000_000;
    const snapshot: Snapshot = {
      version: 1,
      takenAtMs: now,
      feeds: new Map([
        ['USDT/USD', [entry('USDT/USD', 'coinbase', 0.95, 'USD', now)]],
        ['BTC/USD', [entry('BTC/USD', 'coinbase', 57_000, 'USD', now), entry('BTC/USD', 'binance', 60_000, 'USDT', now)]],
      ]),
    };
    const btc = priceFeeds({ feeds: cfg.feeds, snapshot, nowMs: now }).get('BTC/USD')!;
    expect(btc.ok).toBe(false);
    if (!btc.ok) {
      expect(btc.reason).toBe('too_few_sources');
      expect(btc.detail).toMatch(/binance \(no_conversion\)/);
    }
  });
});

describe('start-up checks and aegis node check', () => {
  let fx: Fixture;
  beforeAll(async () => {
    fx = await setupFixture();
  });
  afterAll(async () => {
    await fx?.close();
  });

  it('refuses to start on a pinned config digest that the committee file does not give', async () => {
    fx.writeConfig({ configDigest: '0x' + '00'.repeat(32) });
    await expect(startNode(fx.configFile, { logger: pino({ level: 'silent' }), port: 0 })).rejects.toThrow(
      /config digest mismatch: expected 0x0{64}, got 0x[0-9a-f]{64}/,
    );
    fx.writeConfig();
  });

  it('names the keystore and the fix on a wrong password', async () => {
    writeFileSync(join(fx.dir, 'share.pass'), 'not the password\n');
    await expect(startNode(fx.configFile, { logger: pino({ level: 'silent' }), port: 0 })).rejects.toMatchObject({ code: 'wrong_password' });
    writeFileSync(join(fx.dir, 'share.pass'), 'share password\n');
  });

  it('refuses an identity key that is not in the committee', async () => {
    const committee = JSON.parse((await import('node:fs')).readFileSync(join(fx.dir, 'committee.json'), 'utf8'));
    committee.nodes[0].identityKey = '0x' + '33'.repeat(32);
    writeFileSync(join(fx.dir, 'committee-other.json'), JSON.stringify(committee));
    fx.writeConfig({ committee: './committee-other.json' });
    await expect(startNode(fx.configFile, { logger: pino({ level: 'silent' }), port: 0 })).rejects.toThrow(/identity key 0x[0-9a-f]+ is not a node of committee file/);
    fx.writeConfig();
  });

  it('aegis node check prints one row per source and feed with price, age and status', async () => {
    fx.venues.setBehaviour('kraken', { kind: 'garbage' });
    try {
      const out = await run(process.execPath, ['--import', 'tsx', 'scripts/aegis.ts', 'node', 'check', '--config', fx.configFile], {
        cwd: ROOT,
        env: { ...process.env, ...fx.env },
      });
      expect(out.stdout).toMatch(/source.*feed.*market.*price.*age.*status/);
      expect(out.stdout).toMatch(/coinbase.*BTC\/USD.*BTC-USD.*60000.*ok/);
      expect(out.stdout).toMatch(/kraken.*BTC\/USD.*bad_response/);
      expect(out.stdout).toMatch(/3 of 3 feeds priced/);
    } finally {
      fx.venues.setBehaviour('kraken', { kind: 'normal' });
    }
  });
});
