/**
 * The aggregator's configuration file (YAML, validated with zod; errors name the field).
 * Relative paths are resolved against the config file's folder. See docs/running-an-aggregator.md §Configuration
 * for the reference.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { committeeDeployments, committeeForDeployment, deploymentLabel, describeZodError, feedId, parseCommittee, selectDeployment, type Committee, type CommitteeDeployment } from '../protocol/index.ts';
import { KeystoreRefSchema, type KeystoreRef } from '../protocol/keystore-ref.ts';
import { ListenHostSchema, readTlsFiles, TlsFilesSchema } from '../protocol/listen.ts';
import { AggregatorError } from './errors.ts';
import type { NodeTlsPin } from './node-transport.ts';
import { assertSchedule } from './schedule.ts';

const Password = z.union([z.strictObject({ file: z.string().min(1) }), z.strictObject({ env: z.string().min(1) })]);

/**
 * A keystore reference: `{ path, passwordFile | passwordEnv }` as in the node's config, or the
 * aggregator's first spelling `{ keyFile, password: { file | env } }`, still read and reported
 * in `warnings` so an operator can move to the shared one.
 */
const Keystore = z.union([
  KeystoreRefSchema,
  z.strictObject({ keyFile: z.string().min(1), password: Password }).transform((o) => ({ path: o.keyFile, ...('file' in o.password ? { passwordFile: o.password.file } : { passwordEnv: o.password.env }), legacy: true as const })),
]);


export const AggregatorConfigSchema = z.strictObject({
  /** Name in logs and metrics. */
  name: z.string().min(1).default('aggregator'),
  committee: z.string().min(1),
  identity: Keystore,
  transmitter: Keystore,
  chain: z.strictObject({
    rpcUrl: z.string().url(),
    /**
     * Which of the committee's hubs this process posts to (docs/design.md §Committee file): a
     * deployment's `name`, or a chain id. Default: the committee file's primary (top-level) hub.
     * One process posts to one hub; run one per chain (docs/running-an-aggregator.md).
     */
    deployment: z.union([z.string().min(1), z.number().int().positive()]).optional(),
    /** The hub address, to pick or to check the deployment; default the chosen deployment's hub. */
    hub: z.string().regex(/^0x[0-9a-fA-F]{40}$/).optional(),
    maxFeePerGasGwei: z.number().positive().default(200),
    priorityFeeGwei: z.number().nonnegative().optional(),
    replaceAfterSec: z.number().positive().default(20),
    feeBumpPct: z.number().min(10).max(200).default(15),
    maxReplacements: z.number().int().nonnegative().default(4),
    confirmTimeoutSec: z.number().positive().default(180),
    /** One JSON-RPC HTTP request (ethers' FetchRequest timeout; its own default of 300 s kept an aggregator stuck for minutes on requests sent during an RPC outage); failures are retried. */
    rpcTimeoutMs: z.number().int().min(1_000).max(600_000).default(10_000),
  }),
  feeds: z
    .array(
      z.strictObject({
        name: z.string().min(1).max(31),
        deviationPct: z.number().positive().max(100).default(0.5),
        heartbeatSec: z.number().int().positive().default(3600),
      }),
    )
    .min(1),
  schedule: z
    .strictObject({
      intervalMs: z.number().int().min(200).default(5000),
      slotMs: z.number().int().min(0).default(2000),
      position: z.number().int().min(0).default(0),
      of: z.number().int().min(1).default(1),
    })
    .default({ intervalMs: 5000, slotMs: 2000, position: 0, of: 1 }),
  round: z
    .strictObject({
      observeTimeoutMs: z.number().int().positive().default(2000),
      signTimeoutMs: z.number().int().positive().default(2000),
      graceMs: z.number().int().nonnegative().default(250),
      maxObservationAgeSec: z.number().int().positive().default(60),
    })
    .default({ observeTimeoutMs: 2000, signTimeoutMs: 2000, graceMs: 250, maxObservationAgeSec: 60 }),
  /**
   * Pull mode: with `signEveryRound`, a round where no feed needs a post still signs a report
   * over every feed with quorum and serves it at `/v1/reports/latest` (not transmitted), so
   * pull consumers get a report at most one tick old instead of one heartbeat old.
   */
  pull: z.strictObject({ signEveryRound: z.boolean().default(false) }).default({ signEveryRound: false }),
  /**
   * How the aggregator reaches its nodes (aggregator/node-transport.ts). Per-request deadlines
   * are `round.observeTimeoutMs` / `signTimeoutMs`; these shape the connections under them.
   */
  nodeTransport: z
    .strictObject({
      /** TCP connect plus TLS handshake of a new connection; unset: bounded only by the round's timeouts. */
      connectTimeoutMs: z.number().int().min(100).max(600_000).optional(),
      /** An idle keep-alive connection is dropped after this; keep it below the nodes' http.keepAliveTimeoutMs. */
      idleMs: z.number().int().min(100).max(600_000).default(4_000),
    })
    .prefault({}),
  listen: z
    .strictObject({
      /** IP literal to bind: 127.0.0.1 (default), an interface address, or 0.0.0.0 / :: for all. */
      host: ListenHostSchema.default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(7600),
      /** Serve the API over TLS from these PEM files (paths relative to this config). */
      tls: TlsFilesSchema.optional(),
    })
    .prefault({}),
  db: z.string().min(1).default('./aggregator.db'),
  /**
   * Round history kept in `db`: the newest `retainRounds` rounds, older ones deleted every
   * `pruneEverySec`. A round row is ~7 KiB at n = 7 (its signed observations, measured by the
   * soak), so the default 20,000 (about 17 hours at a 3 s tick) settles near 150 MiB; the
   * service itself reads only the newest rounds. The reserved epoch lives in its own row and
   * is never pruned, so a restart still never reuses an epoch.
   */
  dbRetention: z
    .strictObject({
      retainRounds: z.number().int().min(1).max(100_000_000).default(20_000),
      pruneEverySec: z.number().int().min(1).max(86_400).default(600),
    })
    .prefault({}),
  log: z.strictObject({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info') }).default({ level: 'info' }),
});
export type AggregatorConfig = z.output<typeof AggregatorConfigSchema>;
export type AggregatorConfigInput = z.input<typeof AggregatorConfigSchema>;

export interface LoadedConfig {
  config: AggregatorConfig;
  /**
   * The committee as the chosen hub sees it (`committeeForDeployment`): that deployment's
   * chainId, hub and configVersion at the top level, so its config digest is that hub's.
   */
  committee: Committee;
  /** The deployment this process posts to. */
  deployment: CommitteeDeployment;
  /** Node base URLs by index, from the committee file. */
  nodeUrls: Map<number, string>;
  /** Certificate pins of the `https://` nodes by index (CA PEM text read, fingerprint normalized). */
  nodeTls: Map<number, NodeTlsPin>;
  hub: string;
  feedIds: string[];
  /** Config spellings still read but superseded, for the operator to update. */
  warnings: string[];
}

function rel(base: string, p: string): string {
  return isAbsolute(p) ? p : resolve(base, p);
}

/** Validates a parsed config object; `baseDir` resolves relative paths. */
export function resolveConfig(raw: unknown, baseDir: string, source = 'config'): LoadedConfig {
  const parsed = AggregatorConfigSchema.safeParse(raw);
  if (!parsed.success) throw new AggregatorError('bad_config', `${source}: ${describeZodError(parsed.error, AggregatorConfigSchema, { max: 8, top: '(top level)' })}`);
  const config = parsed.data;
  config.committee = rel(baseDir, config.committee);
  const warnings: string[] = [];
  for (const field of ['identity', 'transmitter'] as const) {
    const k = config[field] as KeystoreRef & { legacy?: true };
    if (k.legacy) {
      warnings.push(`${source}: ${field}: { keyFile, password } is the old spelling; write { path: ${k.path}, ${k.passwordFile !== undefined ? 'passwordFile' : 'passwordEnv'}: … } as in the node's config`);
      delete k.legacy;
    }
    k.path = rel(baseDir, k.path);
    if (k.passwordFile !== undefined) k.passwordFile = rel(baseDir, k.passwordFile);
  }
  config.db = config.db === ':memory:' ? config.db : rel(baseDir, config.db);
  if (config.listen.tls) {
    config.listen.tls = { cert: rel(baseDir, config.listen.tls.cert), key: rel(baseDir, config.listen.tls.key) };
    try {
      readTlsFiles(config.listen.tls, 'listen.tls');
    } catch (err) {
      throw new AggregatorError('bad_config', `${source}: ${(err as Error).message}`);
    }
  }
  try {
    assertSchedule(config.schedule);
  } catch (err) {
    throw new AggregatorError('bad_config', `${source}: ${(err as Error).message}`);
  }
  let file: Committee;
  try {
    file = parseCommittee(JSON.parse(readFileSync(config.committee, 'utf8')));
  } catch (err) {
    const msg = err instanceof z.ZodError ? describeZodError(err) : (err as Error).message;
    throw new AggregatorError('bad_config', `committee file ${config.committee}: ${msg}`);
  }
  let deployment: CommitteeDeployment;
  try {
    const d = config.chain.deployment;
    const byChain = typeof d === 'number' || (typeof d === 'string' && /^\d+$/.test(d));
    deployment = selectDeployment(file, { ...(d !== undefined ? (byChain ? { chainId: BigInt(d) } : { name: String(d) }) : {}), ...(config.chain.hub !== undefined ? { hub: config.chain.hub } : {}) });
  } catch (err) {
    if (config.chain.deployment === undefined && !committeeDeployments(file).some((d) => d.hub.toLowerCase() === config.chain.hub?.toLowerCase())) {
      const hubs = committeeDeployments(file).map((d) => (file.deployments?.length ? deploymentLabel(d) : d.hub)).join(', ');
      throw new AggregatorError('bad_config', `${source}: chain.hub ${config.chain.hub} differs from the committee file's hub ${hubs}; the config digest binds the committee to the hubs its file lists (fix chain.hub, or add the hub under "deployments")`);
    }
    const fields = [config.chain.deployment !== undefined ? `chain.deployment ${config.chain.deployment}` : '', config.chain.hub !== undefined ? `chain.hub ${config.chain.hub}` : ''].filter(Boolean).join(', ');
    throw new AggregatorError('bad_config', `${source}: ${fields}: ${(err as Error).message}; each hub has its own config digest, so the aggregator posts to a hub the committee file lists`);
  }
  const committee = committeeForDeployment(file, deployment);
  const nodeUrls = new Map<number, string>();
  const nodeTls = new Map<number, NodeTlsPin>();
  for (const n of committee.nodes) {
    const where = `committee file ${config.committee}: node ${n.index}`;
    if (!n.url) throw new AggregatorError('bad_config', `${where} has no url; add "url": "http://<address>:<port>" (or https:// with a "tls" pin) for every node`);
    const protocol = new URL(n.url).protocol;
    if (protocol !== 'http:' && protocol !== 'https:') throw new AggregatorError('bad_config', `${where} url ${n.url}: expected an http:// or https:// URL`);
    if (protocol === 'https:' && !n.tls) {
      throw new AggregatorError('bad_config', `${where} url ${n.url} is https but the node has no "tls" pin; add "tls": { "ca": "<PEM file or text>" } and/or { "certSha256": "<fingerprint>" } to node ${n.index} (the aggregator trusts only the pinned certificate)`);
    }
    if (protocol === 'http:' && n.tls) throw new AggregatorError('bad_config', `${where} has a "tls" pin but url ${n.url} is plain http; use https://… (or remove "tls")`);
    nodeUrls.set(n.index, n.url);
    if (n.tls) nodeTls.set(n.index, pinOf(n.tls, dirname(config.committee), `${where}: tls`));
  }
  const hub = committee.hub;
  const seen = new Set<string>();
  const feedIds = config.feeds.map((f) => {
    let id: string;
    try {
      id = feedId(f.name).toLowerCase();
    } catch (err) {
      throw new AggregatorError('bad_config', `${source}: feeds: ${(err as Error).message}`);
    }
    if (seen.has(id)) throw new AggregatorError('bad_config', `${source}: feeds: ${f.name} listed twice`);
    seen.add(id);
    return id;
  });
  return { config, committee, deployment, nodeUrls, nodeTls, hub, feedIds, warnings };
}

/** A committee file's `tls` pin, ready for the transport: `ca` read when it is a path, checked as PEM certificates. */
function pinOf(tls: { ca?: string | undefined; certSha256?: string | undefined }, committeeDir: string, where: string): NodeTlsPin {
  const pin: NodeTlsPin = {};
  if (tls.ca !== undefined) {
    let pem = tls.ca;
    if (!pem.trimStart().startsWith('-----BEGIN')) {
      const file = rel(committeeDir, pem);
      try {
        pem = readFileSync(file, 'utf8');
      } catch (err) {
        throw new AggregatorError('bad_config', `${where}.ca: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); give a PEM file path relative to the committee file, or the PEM text itself`);
      }
    }
    const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    if (blocks.length === 0) throw new AggregatorError('bad_config', `${where}.ca: no PEM certificate in it; give the CA (or the node's self-signed) certificate, starting with -----BEGIN CERTIFICATE-----`);
    for (const b of blocks) {
      try {
        new X509Certificate(b);
      } catch (err) {
        throw new AggregatorError('bad_config', `${where}.ca: a certificate does not parse (${(err as Error).message}); give the PEM file as the node's operator sent it`);
      }
    }
    pin.ca = pem;
  }
  if (tls.certSha256 !== undefined) pin.certSha256 = tls.certSha256.replace(/:/g, '').toLowerCase();
  return pin;
}

export function loadConfig(file: string): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new AggregatorError('bad_config', `config ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new AggregatorError('bad_config', `config ${file}: not valid YAML (${(err as Error).message})`);
  }
  return resolveConfig(raw, dirname(resolve(file)), `config ${file}`);
}
