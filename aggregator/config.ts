/**
 * The aggregator's configuration file (YAML, validated with zod; errors name the field).
 * Relative paths are resolved against the config file's folder. See the README, "Running an aggregator"
 * for the reference.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { describeZodError, feedId, parseCommittee, type Committee } from '../protocol/index.ts';
import { AggregatorError } from './errors.ts';
import { assertSchedule } from './schedule.ts';

const Password = z.union([z.strictObject({ file: z.string().min(1) }), z.strictObject({ env: z.string().min(1) })]);

const Loopback = z
  .string()
  .url()
  .refine((u) => ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(u).hostname), 'must be a loopback URL (127.0.0.1) in this deployment');

export const AggregatorConfigSchema = z.strictObject({
  /** Name in logs and metrics. */
  name: z.string().min(1).default('aggregator'),
  committee: z.string().min(1),
  identity: z.strictObject({ keyFile: z.string().min(1), password: Password }),
  transmitter: z.strictObject({ keyFile: z.string().min(1), password: Password }),
  chain: z.strictObject({
    rpcUrl: z.string().url(),
    /** Default: the committee file's hub. */
    hub: z.string().regex(/^0x[0-9a-fA-F]{40}$/).optional(),
    maxFeePerGasGwei: z.number().positive().default(200),
    priorityFeeGwei: z.number().nonnegative().optional(),
    replaceAfterSec: z.number().positive().default(20),
    feeBumpPct: z.number().min(10).max(200).default(15),
    maxReplacements: z.number().int().nonnegative().default(4),
    confirmTimeoutSec: z.number().positive().default(180),
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
  listen: z.strictObject({ port: z.number().int().min(0).max(65535) }).default({ port: 7600 }),
  db: z.string().min(1).default('./aggregator.db'),
  log: z.strictObject({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info') }).default({ level: 'info' }),
});
export type AggregatorConfig = z.output<typeof AggregatorConfigSchema>;
export type AggregatorConfigInput = z.input<typeof AggregatorConfigSchema>;

export interface LoadedConfig {
  config: AggregatorConfig;
  committee: Committee;
  /** Node base URLs by index, from the committee file. */
  nodeUrls: Map<number, string>;
  hub: string;
  feedIds: string[];
}

function rel(base: string, p: string): string {
  return isAbsolute(p) ? p : resolve(base, p);
}

/** Validates a parsed config object; `baseDir` resolves relative paths. */
export function resolveConfig(raw: unknown, baseDir: string, source = 'config'): LoadedConfig {
  const parsed = AggregatorConfigSchema.safeParse(raw);
  if (!parsed.success) throw new AggregatorError('bad_config', `${source}: ${describeZodError(parsed.error)}`);
  const config = parsed.data;
  config.committee = rel(baseDir, config.committee);
  config.identity.keyFile = rel(baseDir, config.identity.keyFile);
  config.transmitter.keyFile = rel(baseDir, config.transmitter.keyFile);
  for (const p of [config.identity.password, config.transmitter.password]) if ('file' in p) p.file = rel(baseDir, p.file);
  config.db = config.db === ':memory:' ? config.db : rel(baseDir, config.db);
  try {
    assertSchedule(config.schedule);
  } catch (err) {
    throw new AggregatorError('bad_config', `${source}: ${(err as Error).message}`);
  }
  let committee: Committee;
  try {
    committee = parseCommittee(JSON.parse(readFileSync(config.committee, 'utf8')));
  } catch (err) {
    const msg = err instanceof z.ZodError ? describeZodError(err) : (err as Error).message;
    throw new AggregatorError('bad_config', `committee file ${config.committee}: ${msg}`);
  }
  const nodeUrls = new Map<number, string>();
  for (const n of committee.nodes) {
    if (!n.url) throw new AggregatorError('bad_config', `committee file ${config.committee}: node ${n.index} has no url; add "url": "http://127.0.0.1:<port>" for every node`);
    const ok = Loopback.safeParse(n.url);
    if (!ok.success) throw new AggregatorError('bad_config', `committee file ${config.committee}: node ${n.index} url ${n.url}: ${ok.error.issues[0]?.message}`);
    nodeUrls.set(n.index, n.url);
  }
  const hub = config.chain.hub ?? committee.hub;
  if (hub.toLowerCase() !== committee.hub.toLowerCase()) {
    throw new AggregatorError('bad_config', `${source}: chain.hub ${hub} differs from the committee file's hub ${committee.hub}; the config digest binds the committee to one hub`);
  }
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
  return { config, committee, nodeUrls, hub, feedIds };
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
