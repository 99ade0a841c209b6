/**
 * The node's configuration: one YAML file, validated with zod at load, every mistake reported
 * with the field path, the value and the fix. Relative paths are resolved against the
 * directory of the config file, so a node directory can be moved as a whole. Secrets
 * (keystore passwords) never sit in the YAML: each is read from a file or an environment
 * variable named there.
 *
 * See docs/running-a-node.md §Config reference for every field and an example.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { validateDetailed } from 'node-cron';
import { describeZodError, feedId } from '../protocol/index.ts';
import { VENUE_SPECS, isVenueId, marketFor, splitFeed, SUPPORTED_VENUES, type DexId, type MarketRef, type VenueId } from './sources/index.ts';
import { parsePolicy, type ObservationPolicy } from './observe/index.ts';
import type { PasswordSource } from './keys/index.ts';
import { NodeError } from './errors.ts';
import { ListenHostSchema, TlsFilesSchema, readTlsFiles } from '../protocol/listen.ts';
import { KeystoreRefSchema } from '../protocol/keystore-ref.ts';

const FEED_NAME = /^[A-Z0-9]+\/[A-Z0-9]+$/;

const secretRef = KeystoreRefSchema;

const sourceSchema = z.strictObject({
  venue: z.string().refine(isVenueId, { message: `unknown venue; use one of ${SUPPORTED_VENUES.join(', ')}` }),
  /** Venue symbol override (`XBTUSD`); by default the venue's usual market for the feed. */
  symbol: z.string().min(1).max(40).optional(),
  /** Quote currency of `symbol` when it differs from the feed's (`USDT` for `BTCUSDT`). */
  quote: z.string().regex(/^[A-Z0-9]+$/, 'expected an upper-case currency code such as USDT').optional(),
  /** Base URL override (a venue mirror, or the venue simulator). */
  baseUrl: z.url({ message: 'expected an http(s) URL such as https://api.binance.com' }).optional(),
});

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'expected a 0x-prefixed 20-byte address');
const digestPin = z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'expected the 0x-prefixed 32-byte config digest');

/**
 * An on-chain source: Uniswap v3 pools read over JSON-RPC, priced by their TWAP (see
 * node/sources/dex/uniswap-v3.ts and docs/sources.md for choosing pools, window and weight).
 */
const dexSourceSchema = z.strictObject({
  dex: z.literal('uniswap-v3'),
  /** Source id in quotes, logs and metrics; default `uniswap-v3`. Give one per pool set when a feed lists several. */
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'expected a lower-case id such as uniswap-v3-eth-usdc').optional(),
  /** JSON-RPC URLs of the chain, tried in order with failover. */
  rpcUrls: z.array(z.url({ message: 'expected an http(s) JSON-RPC URL' })).min(1, 'list at least one RPC URL').max(8),
  /** Pool addresses, hop by hop from baseToken to the quote token (TOKEN/WETH, then WETH/USDC). */
  pools: z.array(address).min(1, 'list at least one pool').max(4),
  /** The token the feed prices. */
  baseToken: address,
  /** The token the last pool prices in; checked when given. */
  quoteToken: address.optional(),
  /** Currency code of the quote token as feeds name it (USDC); default the feed's quote. */
  quote: z.string().regex(/^[A-Z0-9]+$/, 'expected an upper-case currency code such as USDC').optional(),
  /** TWAP window. */
  windowS: z.number().int().min(60).max(86_400).default(1800),
  /** An RPC whose latest block is older than this is skipped. */
  maxBlockAgeS: z.number().int().positive().max(3_600).default(60),
  /** Multiplies the weight (base units an attacker must trade to move the TWAP 1 %) against exchanges' 24 h volume. */
  weightScale: z.number().positive().default(1),
  timeoutMs: z.number().int().positive().max(60_000).optional(),
});

/** A feed source: an exchange (`venue`) or a DEX (`dex`); each checked against its own schema so errors stay specific. */
const anySourceSchema = z.unknown().transform((value, ctx): z.output<typeof sourceSchema> | z.output<typeof dexSourceSchema> => {
  const schema = typeof value === 'object' && value !== null && 'dex' in value ? dexSourceSchema : sourceSchema;
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  for (const issue of r.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path as (string | number)[] });
  return z.NEVER;
});

const feedSchema = z.strictObject({
  name: z.string().regex(FEED_NAME, 'expected BASE/QUOTE in upper case, such as BTC/USD'),
  decimals: z.number().int().min(0).max(36).default(8),
  /** Fewest agreeing sources for an answer. */
  minSources: z.number().int().min(1).default(3),
  /** A quote older than this is stale. */
  maxAgeMs: z.number().int().positive().default(30_000),
  band: z
    .strictObject({
      madMultiplier: z.number().positive().default(5),
      minBandBps: z.number().nonnegative().default(50),
      maxBandBps: z.number().positive().default(500),
      volatilityMultiplier: z.number().nonnegative().default(3),
    })
    .prefault({}),
  /** Volume-weighted median with each venue's share capped at `capShare`. */
  volumeWeighting: z.strictObject({ capShare: z.number().gt(0).lte(1) }).optional(),
  /** Conversion feeds for sources quoted in another currency (`USDT/USD`); by default derived from the sources. */
  conversionFeeds: z.array(z.string().regex(FEED_NAME, 'expected a feed name such as USDT/USD')).optional(),
  /** Per-feed override of `signer.sanityBandBps`. */
  sanityBandBps: z.number().positive().max(10_000).optional(),
  sources: z.array(anySourceSchema).min(1, 'list at least one source'),
});

const venueDefaults = z.strictObject({
  baseUrl: z.url().optional(),
  timeoutMs: z.number().int().positive().max(60_000).optional(),
  retries: z.number().int().min(0).max(5).optional(),
  maxStalenessMs: z.number().int().positive().optional(),
});

/** Signed epochs kept per config digest by default (store.retainRows). */
export const STORE_RETAIN_ROWS = 10_000;
/** Seconds between two prunes of the signing store by default (store.pruneEverySec). */
export const STORE_PRUNE_EVERY_SEC = 600;

export const NodeConfigSchema = z.strictObject({
  listen: z
    .strictObject({
      /** IP literal to bind: 127.0.0.1 (default), an interface address, or 0.0.0.0 / :: for all (see protocol/listen.ts). */
      host: ListenHostSchema.default('127.0.0.1'),
      port: z.number().int().min(0).max(65_535).default(7400),
      /** Serve the API over TLS from these PEM files (paths relative to this config). */
      tls: TlsFilesSchema.optional(),
    })
    .prefault({}),
  /** The committee file (JSON, see protocol/committee.ts). */
  committee: z.string().min(1, 'give the path of the committee file'),
  /**
   * Optional pin: the config digest the hub expects, or a list with one per hub of a committee
   * that serves several (docs/design.md §Committee file). The node refuses to start unless the
   * committee file gives exactly the pinned digests (`configDigestPinMismatch`).
   */
  configDigest: z.union([digestPin, z.array(digestPin).min(1).max(65)]).optional(),
  keys: z.strictObject({
    /** Ed25519 identity key keystore (signs observations). */
    identity: secretRef,
    /** BLS key share keystore (EIP-2335). */
    share: secretRef,
  }),
  /**
   * The anti-equivocation store: its SQLite file, or `{ path, retainRows, pruneEverySec }`.
   * The node keeps the newest `retainRows` signed epochs per config digest (default 10,000:
   * about 5.5 hours at a 2 s tick, far beyond any re-request of an epoch) and prunes older
   * rows every `pruneEverySec`; the highest signed epoch is never pruned (see
   * node/store/signing-store.ts, "Retention").
   */
  store: z.union([
    z.string().min(1, 'give the path of the SQLite signing store'),
    z.strictObject({
      path: z.string().min(1, 'give the path of the SQLite signing store'),
      retainRows: z.number().int().min(1).max(100_000_000).default(STORE_RETAIN_ROWS),
      pruneEverySec: z.number().int().min(1).max(86_400).default(STORE_PRUNE_EVERY_SEC),
    }),
  ]),
  poll: z
    .strictObject({
      /** node-cron expression with seconds: every 5 s by default. */
      schedule: z.string().default('*/5 * * * * *'),
      /** Source requests in flight at once. */
      concurrency: z.number().int().min(1).max(64).default(4),
    })
    .prefault({}),
  signer: z
    .strictObject({
      /** Own view vs report answer: refuse beyond this distance, in bps (200 = 2%). */
      sanityBandBps: z.number().positive().max(10_000).default(200),
      /** Refuse reports whose observedAt is older than this. */
      maxReportAgeS: z.number().int().positive().default(60),
      /** Refuse reports whose observedAt is this far in the future. */
      maxFutureS: z.number().int().nonnegative().default(5),
      /**
       * Refuse observe and sign requests whose epoch (unix ms at most) leads this node's clock
       * by more than this: an epoch far ahead would halt the hub, which accepts only higher ones.
       */
      maxEpochLeadMs: z.number().int().min(1_000).max(600_000).default(30_000),
    })
    .prefault({}),
  http: z
    .strictObject({
      bodyLimitBytes: z.number().int().min(1024).max(16 * 1024 * 1024).default(1024 * 1024),
      /** Largest accepted distance between a request's timestamp and this node's clock. */
      maxSkewMs: z.number().int().positive().max(600_000).default(30_000),
      /** Whole request (headers and body) must arrive within this (node:http `requestTimeout`). */
      requestTimeoutMs: z.number().int().min(1_000).max(600_000).default(30_000),
      /** Request headers must arrive within this (node:http `headersTimeout`); at most requestTimeoutMs. */
      headersTimeoutMs: z.number().int().min(1_000).max(600_000).default(10_000),
      /**
       * An idle keep-alive connection is closed after this (node:http `keepAliveTimeout`). Keep it
       * above the aggregators' `nodeTransport.idleMs`, so they drop a connection before the node does.
       */
      keepAliveTimeoutMs: z.number().int().min(1_000).max(600_000).default(5_000),
    })
    .prefault({}),
  venues: z.partialRecord(z.enum(SUPPORTED_VENUES as unknown as [VenueId, ...VenueId[]]), venueDefaults).default({}),
  feeds: z.array(feedSchema).min(1, 'configure at least one feed'),
  log: z.strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') }).prefault({}),
  /** Key ceremonies (node/dkg): who may drive them, and where the operator's approvals are kept. */
  dkg: z
    .strictObject({
      /**
       * Ed25519 keys (0x-hex) allowed to drive ceremonies on this node. Never the committee's
       * aggregator keys: the node refuses to start when one is listed.
       */
      coordinators: z.array(z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'expected a 0x-prefixed 32-byte Ed25519 public key')).max(16).default([]),
      /** Folder of the operator's ceremony approvals (`aegis dkg approve`); read at every deal. */
      approvals: z.string().min(1).default('./dkg-approvals'),
    })
    .prefault({}),
});

export type NodeConfigInput = z.input<typeof NodeConfigSchema>;
type RawConfig = z.output<typeof NodeConfigSchema>;

/** One source of one feed, resolved: an exchange (venue, market, base URL) or a DEX. */
export type FeedSourceConfig = CexSourceConfig | DexSourceConfig;

export interface CexSourceConfig {
  kind?: 'cex';
  venue: VenueId;
  market: MarketRef;
  baseUrl?: string;
}

export interface DexSourceConfig {
  kind: 'dex';
  venue: DexId;
  /** Source id (unique per feed). */
  id: string;
  market: MarketRef;
  rpcUrls: string[];
  pools: string[];
  baseToken: string;
  quoteToken?: string;
  windowS: number;
  maxBlockAgeMs: number;
  weightScale: number;
  timeoutMs?: number;
}

export interface FeedConfig {
  name: string;
  /** bytes32 feed id. */
  id: string;
  decimals: number;
  policy: ObservationPolicy;
  sources: FeedSourceConfig[];
  /** Conversion feed names this feed's sources need (`USDT/USD`). */
  conversionFeeds: string[];
  sanityBandBps: number;
}

export interface NodeConfig extends Omit<RawConfig, 'feeds' | 'store'> {
  /** The config file it was loaded from (for messages). */
  file: string;
  feeds: FeedConfig[];
  /** Path of the signing store (the `store` string, or `store.path`), resolved. */
  store: string;
  /** Retention of the signing store (defaults when `store` is a plain path). */
  storeRetention?: { retainRows: number; pruneEverySec: number };
}

/** Read, parse and validate a config file. */
export function loadNodeConfig(file: string): NodeConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new NodeError('config_unreadable', `config ${file}: cannot read it (${(err as Error).message}); pass the path of the node's YAML config with --config`, { cause: err });
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new NodeError('config_invalid', `config ${file}: not valid YAML (${(err as Error).message.split('\n')[0]})`, { cause: err });
  }
  return parseNodeConfig(raw, file);
}

/** Validate a config object (paths resolved against `file`'s directory). */
export function parseNodeConfig(raw: unknown, file: string): NodeConfig {
  const result = NodeConfigSchema.safeParse(raw ?? {});
  if (!result.success) {
    throw new NodeError('config_invalid', `config ${file}: ${describeZodError(result.error, NodeConfigSchema, { max: 8, top: '(top level)' })}`);
  }
  const c = result.data;
  const base = dirname(resolve(file));
  const at = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  const fail = (field: string, msg: string): never => {
    throw new NodeError('config_invalid', `config ${file}: ${field}: ${msg}`);
  };

  const names = new Set<string>();
  c.feeds.forEach((f, i) => {
    if (names.has(f.name)) fail(`feeds.${i}.name`, `feed ${f.name} is configured twice; merge the two entries`);
    names.add(f.name);
  });

  const feeds: FeedConfig[] = c.feeds.map((f, i) => {
    const field = `feeds.${i}`;
    const target = splitFeed(f.name)!.quote;
    const sources = f.sources.map((s, k): FeedSourceConfig => {
      if ('dex' in s) {
        const id = s.id ?? s.dex;
        return {
          kind: 'dex', venue: s.dex, id, market: { symbol: `${s.dex}:${s.pools.join('>')}`, quote: s.quote ?? target },
          rpcUrls: s.rpcUrls, pools: s.pools, baseToken: s.baseToken, ...(s.quoteToken !== undefined ? { quoteToken: s.quoteToken } : {}),
          windowS: s.windowS, maxBlockAgeMs: s.maxBlockAgeS * 1000, weightScale: s.weightScale, ...(s.timeoutMs !== undefined ? { timeoutMs: s.timeoutMs } : {}),
        };
      }
      const venue = s.venue as VenueId;
      if (s.quote !== undefined && s.symbol === undefined) fail(`${field}.sources.${k}.quote`, 'quote is only meaningful with symbol; add the venue symbol it belongs to');
      const override = s.symbol === undefined ? undefined : { [f.name]: s.quote === undefined ? s.symbol : { symbol: s.symbol, quote: s.quote } };
      const market = marketFor(VENUE_SPECS[venue], f.name, override)!;
      const baseUrl = s.baseUrl ?? c.venues[venue]?.baseUrl;
      return { venue, market, ...(baseUrl !== undefined ? { baseUrl } : {}) };
    });
    const seen = new Set<string>();
    sources.forEach((s, k) => {
      const key = s.kind === 'dex' ? s.id : s.venue;
      if (seen.has(key)) fail(`${field}.sources.${k}`, s.kind === 'dex' ? `source id ${key} is listed twice for ${f.name}; give each pool source its own id` : `venue ${s.venue} is listed twice for ${f.name}; a venue counts once per feed`);
      seen.add(key);
    });
    const needed = [...new Set(sources.filter((s) => s.market.quote !== target).map((s) => `${s.market.quote}/${target}`))].sort();
    const conversionFeeds = f.conversionFeeds ?? needed;
    for (const n of needed) {
      if (!conversionFeeds.includes(n)) fail(`${field}.conversionFeeds`, `a source of ${f.name} is quoted in ${n.split('/')[0]}: add ${n} to conversionFeeds`);
    }
    for (const n of conversionFeeds) {
      if (!names.has(n)) fail(`${field}.conversionFeeds`, `conversion feed ${n} is not configured; add a feed named ${n} with its own sources`);
      if (n === f.name) fail(`${field}.conversionFeeds`, `${f.name} cannot convert through itself`);
    }
    if (f.minSources > f.sources.length) fail(`${field}.minSources`, `${f.minSources} exceeds the ${f.sources.length} configured sources; add sources or lower minSources`);
    let policy: ObservationPolicy;
    try {
      policy = parsePolicy(
        {
          maxAgeMs: f.maxAgeMs,
          minSources: f.minSources,
          ...f.band,
          ...(f.volumeWeighting ? { volumeWeighting: { enabled: true, capShare: f.volumeWeighting.capShare } } : {}),
        },
        f.name,
      );
    } catch (err) {
      return fail(`${field}`, (err as Error).message);
    }
    return {
      name: f.name,
      id: feedId(f.name),
      decimals: f.decimals,
      policy,
      sources,
      conversionFeeds,
      sanityBandBps: f.sanityBandBps ?? c.signer.sanityBandBps,
    };
  });

  // Conversion feeds are priced first and must not need conversion themselves (no chains, no cycles).
  const byName = new Map(feeds.map((f) => [f.name, f]));
  feeds.forEach((f, i) => {
    for (const n of f.conversionFeeds) {
      if ((byName.get(n)?.conversionFeeds.length ?? 0) > 0) fail(`feeds.${i}.conversionFeeds`, `conversion feed ${n} itself needs conversion; give ${n} sources quoted in ${splitFeed(n)!.quote}`);
    }
  });

  if (c.http.headersTimeoutMs > c.http.requestTimeoutMs) {
    fail('http.headersTimeoutMs', `${c.http.headersTimeoutMs} exceeds http.requestTimeoutMs ${c.http.requestTimeoutMs}; the headers are part of the request: lower headersTimeoutMs or raise requestTimeoutMs`);
  }
  let listen: RawConfig['listen'] = c.listen;
  if (c.listen.tls) {
    listen = { ...c.listen, tls: { cert: at(c.listen.tls.cert), key: at(c.listen.tls.key) } };
    try {
      readTlsFiles(listen.tls!, 'listen.tls');
    } catch (err) {
      throw new NodeError('config_invalid', `config ${file}: ${(err as Error).message}`, { cause: err });
    }
  }

  const cron = validateDetailed(c.poll.schedule);
  if (!cron.valid) {
    fail('poll.schedule', `"${c.poll.schedule}" is not a cron expression (${cron.errors.map((e) => e.message).join('; ')}); with seconds, every 5 s is "*/5 * * * * *"`);
  }

  return {
    ...c,
    file,
    listen,
    committee: at(c.committee),
    store: at(typeof c.store === 'string' ? c.store : c.store.path),
    storeRetention: typeof c.store === 'string' ? { retainRows: STORE_RETAIN_ROWS, pruneEverySec: STORE_PRUNE_EVERY_SEC } : { retainRows: c.store.retainRows, pruneEverySec: c.store.pruneEverySec },
    dkg: { ...c.dkg, approvals: at(c.dkg.approvals) },
    keys: {
      identity: { ...c.keys.identity, path: at(c.keys.identity.path), ...(c.keys.identity.passwordFile ? { passwordFile: at(c.keys.identity.passwordFile) } : {}) },
      share: { ...c.keys.share, path: at(c.keys.share.path), ...(c.keys.share.passwordFile ? { passwordFile: at(c.keys.share.passwordFile) } : {}) },
    },
    feeds,
  };
}

/**
 * The config's `configDigest` pin against the digests the committee file gives (one per hub it
 * serves): with a pin, the two sets must be equal, so a committee file swapped for another, or
 * one that grew a hub the operator did not pin, stops the node. Returns the refusal's message,
 * or undefined when there is no pin or it matches.
 */
export function configDigestPinMismatch(config: Pick<NodeConfig, 'configDigest' | 'committee'>, digests: readonly string[]): string | undefined {
  if (config.configDigest === undefined) return undefined;
  const pinned = [config.configDigest].flat().map((d) => d.toLowerCase());
  const given = digests.map((d) => d.toLowerCase());
  const missing = given.filter((d) => !pinned.includes(d));
  const extra = pinned.filter((d) => !given.includes(d));
  if (missing.length === 0 && extra.length === 0) return undefined;
  const several = pinned.length > 1 || given.length > 1;
  const fix = given.length > 1
    ? `pin every hub's digest (configDigest: [${given.join(', ')}]) once you have checked each against its hub, or use the committee file of the deployed hubs`
    : 'use the committee file of the deployed hub or update configDigest';
  return `config digest mismatch: expected ${pinned.join(', ')}, got ${given.join(', ')} from committee file ${config.committee}${several && extra.length ? ` (pinned but not in the file: ${extra.join(', ')})` : ''}${several && missing.length ? ` (in the file but not pinned: ${missing.join(', ')})` : ''}; ${fix}`;
}

/** Where the keystore password of `ref` comes from, in the form `node/keys` reads. */
export function passwordSource(ref: { passwordFile?: string; passwordEnv?: string }): PasswordSource {
  return ref.passwordFile !== undefined ? { file: ref.passwordFile } : { env: ref.passwordEnv! };
}
