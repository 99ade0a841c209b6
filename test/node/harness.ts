/**
 * Shared fixture of the node tests: a dealer-generated committee (n = 4, t = 3) with identity
 * keys, real EIP-2335 keystores for node 1 in a temp dir (identity password from an
 * environment variable, share password from a file), a real venue server on loopback as the
 * price input, and a YAML config pointing at all of it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { stringify } from 'yaml';
import {
  buildReport,
  committeeConfigDigest,
  dealerKeygen,
  feedId,
  parseCommittee,
  scalarToBytes,
  signObservation,
  signRequest,
  type Committee,
  type DealerOutput,
  type FeedObservation,
  type Report,
  type SignedObservation,
} from '../../protocol/index.ts';
import { importBlsShare, importIdentity, type KdfChoice } from '../../node/keys/index.ts';
import { startVenueServer, type VenueServer } from '../../sim/venues/index.ts';
import type { VenueId } from '../../node/sources/index.ts';

export const FEEDS = { BTC: feedId('BTC/USD'), ETH: feedId('ETH/USD'), USDT: feedId('USDT/USD') };
export const TRUE_PRICES: Record<string, number> = { 'BTC/USD': 60_000, 'ETH/USD': 3_000, 'USDT/USD': 0.9998 };
export const IDENTITY_ENV = 'AEGIS_TEST_IDENTITY_PASSWORD';
const KDF: KdfChoice = { function: 'pbkdf2', c: 16 };

const hex0x = (b: Uint8Array) => `0x${bytesToHex(b)}`;

export interface Fixture {
  dir: string;
  dealer: DealerOutput;
  committee: Committee;
  digest: string;
  /** Identity secrets, position i−1 for node i. */
  identities: Uint8Array[];
  aggregatorSecret: Uint8Array;
  venues: VenueServer;
  configFile: string;
  env: Record<string, string>;
  /** Price multiplier applied by the venue server (1 = true prices). */
  setMove(multiplier: number): void;
  writeConfig(overrides?: Record<string, unknown>): string;
  close(): Promise<void>;
}

export async function setupFixture(opts: { port?: number } = {}): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'aegis-node-'));
  const n = 4;
  const t = 3;
  const dealer = dealerKeygen(t, n);
  const identities = Array.from({ length: n }, () => ed25519.utils.randomSecretKey());
  const aggregatorSecret = ed25519.utils.randomSecretKey();
  const committeeJson = {
    chainId: 31337,
    hub: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
    configVersion: 1,
    t,
    groupPublicKey: hex0x(dealer.groupPublicKey),
    nodes: identities.map((id, k) => ({ index: k + 1, identityKey: hex0x(ed25519.getPublicKey(id)), publicShare: hex0x(dealer.publicShares[k]!) })),
    aggregators: [{ identityKey: hex0x(ed25519.getPublicKey(aggregatorSecret)), name: 'test aggregator' }],
  };
  writeFileSync(join(dir, 'committee.json'), JSON.stringify(committeeJson, null, 2));
  const committee = parseCommittee(committeeJson);

  const identityPassword = 'identity password ✓';
  const sharePassword = 'share password';
  await importIdentity(join(dir, 'identity.json'), bytesToHex(identities[0]!), { password: identityPassword, kdf: KDF });
  await importBlsShare(
    join(dir, 'share.json'),
    bytesToHex(scalarToBytes(dealer.shares[0]!.secret)),
    { index: 1, n, t, groupPublicKey: hex0x(dealer.groupPublicKey) },
    { password: sharePassword, kdf: KDF },
  );
  writeFileSync(join(dir, 'share.pass'), `${sharePassword}\n`, { mode: 0o600 });
  const env = { [IDENTITY_ENV]: identityPassword };
  process.env[IDENTITY_ENV] = identityPassword;

  let move = 1;
  const venues = await startVenueServer({
    feeds: ['BTC/USD', 'ETH/USD', 'USDT/USD'],
    price: (_venue, feed, _now, market) => {
      const usd = TRUE_PRICES[feed];
      if (usd === undefined) return undefined;
      const p = feed === 'USDT/USD' ? usd : usd * move;
      return { price: market.quote === 'USDT' && feed !== 'USDT/USD' ? p / TRUE_PRICES['USDT/USD']! : p, volume: 100 };
    },
  });

  const src = (venue: VenueId) => ({ venue, baseUrl: venues.url(venue) });
  const baseConfig = {
    listen: { host: '127.0.0.1', port: opts.port ?? 0 },
    committee: './committee.json',
    keys: {
      identity: { path: './identity.json', passwordEnv: IDENTITY_ENV },
      share: { path: './share.json', passwordFile: './share.pass' },
    },
    store: './signing.sqlite',
    poll: { schedule: '* * * * * *', concurrency: 4 },
    signer: { sanityBandBps: 200, maxReportAgeS: 120, maxFutureS: 5 },
    http: { bodyLimitBytes: 65_536, maxSkewMs: 30_000 },
    venues: { binance: { retries: 0, timeoutMs: 1000 }, okx: { retries: 0, timeoutMs: 1000 } },
    feeds: [
      { name: 'USDT/USD', decimals: 8, minSources: 2, sources: [src('coinbase'), src('kraken'), src('bitstamp')] },
      { name: 'BTC/USD', decimals: 8, minSources: 3, sources: [src('coinbase'), src('kraken'), src('bitstamp'), src('binance'), src('okx')] },
      { name: 'ETH/USD', decimals: 18, minSources: 3, sources: [src('coinbase'), src('kraken'), src('gemini'), src('bybit')] },
    ],
    log: { level: 'silent' },
  };
  const configFile = join(dir, 'node.yaml');
  const writeConfig = (overrides: Record<string, unknown> = {}) => {
    writeFileSync(configFile, stringify({ ...baseConfig, ...overrides }));
    return configFile;
  };
  writeConfig();

  return {
    dir,
    dealer,
    committee,
    digest: committeeConfigDigest(committee).toLowerCase(),
    identities,
    aggregatorSecret,
    venues,
    configFile,
    env,
    setMove: (m) => {
      move = m;
    },
    writeConfig,
    async close() {
      await venues.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** An observation of node `index` signed with its identity key. */
export function observationBy(fx: Fixture, index: number, epoch: bigint, feeds: FeedObservation[], observedAt = BigInt(Math.floor(Date.now() / 1000))): SignedObservation {
  return signObservation({ configDigest: fx.digest, epoch, nodeIndex: index, observedAt, feeds }, fx.identities[index - 1]!);
}

/** The honest report over these observations (throws if no feed reaches t). */
export function reportOf(fx: Fixture, epoch: bigint, observations: SignedObservation[], feedIds: string[]): Report {
  const { report } = buildReport(fx.digest, epoch, observations.map((o) => o.observation), feedIds, fx.committee.t);
  if (!report) throw new Error('no feed reached t');
  return report;
}

/** POST with the aggregator's request signature (or another secret), raw. */
export async function postSigned(url: string, path: string, body: string | Uint8Array, secret: Uint8Array, headers: Record<string, string> = {}): Promise<{ status: number; json: any; sent: Record<string, string> }> {
  const type = typeof body === 'string' ? 'application/json' : 'application/octet-stream';
  const sent = { 'content-type': type, ...signRequest(secret, { method: 'POST', path, body }), ...headers };
  const res = await fetch(`${url}${path}`, { method: 'POST', headers: sent, body: body as string | Uint8Array<ArrayBuffer> });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json, sent };
}

/** Wait until `GET /v1/health` says ready. */
export async function waitReady(url: string, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(`${url}/v1/health`);
      if (res.ok && ((await res.json()) as { ready?: boolean }).ready) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new Error(`node at ${url} not ready within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
