/**
 * `hub.yaml`: the desired state of a hub, one file a feed operator reviews (docs/governance.md,
 * "Changing a live network"). Prices are written in the feed's units (decimal strings) and
 * converted with its `decimals`; durations in seconds; the breaker as a percentage.
 *
 *   hub: "0x…"            # the deployed hub
 *   chainId: 1
 *   guardian: "0x…"       # optional: hand the guardian role over (applied last)
 *   paused: false         # optional: the hub-wide pause
 *   factory: "0x…"        # the adapter factory, when feeds list adapters
 *   defaults: { decimals: 8, maxStalenessSec: 3600, … }   # optional, for every feed
 *   feeds:
 *     - name: BTC/USD     # feed id = the name as bytes32 (protocol/report.ts feedId)
 *       description: BTC / USD
 *       minAnswer: "1"    # in price units: 1 USD
 *       maxAnswer: "10000000"
 *       breaker: { deviationPct: 10, confirmations: 2, confirmationTimeSec: 60 }
 *       adapters: [lenient, { strict: { maxAgeSec: 3600 } }]
 */
import { readFileSync } from 'node:fs';
import { parseUnits } from 'ethers';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { describeZodError } from '../../protocol/messages.ts';
import { feedId } from '../../protocol/report.ts';
import { CodedError } from '../../runtime/coded-error.ts';
import type { FeedConfig } from '../hub.ts';

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'expected a 0x-prefixed 20-byte address');
const price = z.union([z.string().regex(/^-?\d+(\.\d+)?$/, 'expected a decimal number as a string, e.g. "0.01"'), z.number()]).transform(String);
const seconds = (max: number) => z.number().int().min(0).max(max);

const Breaker = z.strictObject({
  /** Deviation from the served answer that trips the breaker, percent (0: no breaker). */
  deviationPct: z.number().min(0).max(655.35),
  confirmations: z.number().int().min(0).max(255).default(2),
  confirmationTimeSec: seconds(16_777_215).default(60),
});
const Adapter = z.union([z.literal('lenient'), z.strictObject({ strict: z.strictObject({ maxAgeSec: seconds(4_294_967_295) }) })]);

const FeedFields = {
  description: z.string().min(1).max(128).optional(),
  decimals: z.number().int().min(0).max(36).optional(),
  minAnswer: price.optional(),
  maxAnswer: price.optional(),
  maxStalenessSec: seconds(4_294_967_295).optional(),
  heartbeatSec: seconds(4_294_967_295).optional(),
  breaker: Breaker.optional(),
  historyCapacity: z.number().int().min(1).max(65_535).optional(),
  paused: z.boolean().optional(),
  adapters: z.array(Adapter).max(4).optional(),
};

export const HubConfigSchema = z.strictObject({
  hub: address,
  chainId: z.number().int().positive(),
  guardian: address.optional(),
  paused: z.boolean().optional(),
  factory: address.optional(),
  defaults: z.strictObject({ ...FeedFields }).optional(),
  feeds: z.array(z.strictObject({ name: z.string().min(1).max(32), ...FeedFields })).max(700),
});
export type HubConfigInput = z.input<typeof HubConfigSchema>;

/** One feed as the hub should have it. */
export interface DesiredFeed {
  name: string;
  id: string;
  config: FeedConfig;
  paused: boolean;
  adapters: ({ kind: 'lenient' } | { kind: 'strict'; maxAgeSec: number })[];
}

export interface DesiredHub {
  hub: string;
  chainId: number;
  guardian?: string;
  paused?: boolean;
  factory?: string;
  feeds: DesiredFeed[];
}

export class HubConfigError extends CodedError<'bad_hub_config'> {
  override readonly name = 'HubConfigError';
  constructor(message: string) {
    super('bad_hub_config', message);
  }
}

const DEFAULTS = { decimals: 8, minAnswer: '0.00000001', maxAnswer: '1000000000', maxStalenessSec: 3600, heartbeatSec: 3600, historyCapacity: 32, breaker: { deviationPct: 10, confirmations: 2, confirmationTimeSec: 60 } };

/** Validates a parsed hub.yaml (errors name the field and, for a typo, the nearest one). */
export function resolveHubConfig(raw: unknown, source = 'hub config'): DesiredHub {
  const parsed = HubConfigSchema.safeParse(raw);
  if (!parsed.success) throw new HubConfigError(`${source}: ${describeZodError(parsed.error, HubConfigSchema, { max: 8, top: '(top level)' })}`);
  const c = parsed.data;
  const seen = new Set<string>();
  const feeds = c.feeds.map((f, i): DesiredFeed => {
    const where = `${source}: feeds.${i} (${f.name})`;
    let id: string;
    try {
      id = feedId(f.name).toLowerCase();
    } catch (err) {
      throw new HubConfigError(`${where}: ${(err as Error).message}`);
    }
    if (seen.has(id)) throw new HubConfigError(`${where}: listed twice; merge the two entries`);
    seen.add(id);
    const d = { ...DEFAULTS, ...(c.defaults ?? {}), ...Object.fromEntries(Object.entries(f).filter(([, v]) => v !== undefined)) } as typeof DEFAULTS & { description?: string; paused?: boolean; adapters?: z.output<typeof Adapter>[] };
    const units = (v: string, field: string): bigint => {
      try {
        return parseUnits(v, d.decimals);
      } catch {
        throw new HubConfigError(`${where}: ${field} ${v} has more than ${d.decimals} decimals`);
      }
    };
    const minAnswer = units(String(d.minAnswer), 'minAnswer');
    const maxAnswer = units(String(d.maxAnswer), 'maxAnswer');
    const INT96 = (1n << 95n) - 1n;
    if (minAnswer >= maxAnswer) throw new HubConfigError(`${where}: minAnswer ${d.minAnswer} must be below maxAnswer ${d.maxAnswer}`);
    if (maxAnswer > INT96 || minAnswer < -INT96 - 1n) throw new HubConfigError(`${where}: bounds must fit int96 at ${d.decimals} decimals`);
    if (d.maxStalenessSec === 0) throw new HubConfigError(`${where}: maxStalenessSec must be above 0`);
    const deviationBps = Math.round(d.breaker.deviationPct * 100);
    if (deviationBps > 0 && d.breaker.confirmations === 0) throw new HubConfigError(`${where}: breaker.confirmations must be at least 1 when deviationPct is set (0 would never release a tripped feed)`);
    return {
      name: f.name,
      id,
      config: {
        minAnswer,
        maxAnswer,
        maxStaleness: d.maxStalenessSec,
        heartbeat: d.heartbeatSec,
        deviationBps,
        confirmations: d.breaker.confirmations,
        confirmationTime: d.breaker.confirmationTimeSec,
        historyCapacity: d.historyCapacity,
        decimals: d.decimals,
        description: d.description ?? f.name.replace('/', ' / '),
      },
      paused: d.paused ?? false,
      adapters: (d.adapters ?? []).map((a) => (a === 'lenient' ? { kind: 'lenient' as const } : { kind: 'strict' as const, maxAgeSec: a.strict.maxAgeSec })),
    };
  });
  if (feeds.some((f) => f.adapters.length) && !c.factory) throw new HubConfigError(`${source}: feeds list adapters but "factory" is not set; give the adapter factory's address (aegis hub deploy prints it)`);
  return { hub: c.hub, chainId: c.chainId, feeds, ...(c.guardian ? { guardian: c.guardian } : {}), ...(c.paused !== undefined ? { paused: c.paused } : {}), ...(c.factory ? { factory: c.factory } : {}) };
}

export function loadHubConfig(file: string): DesiredHub {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new HubConfigError(`hub config ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `not valid YAML (${(err as Error).message.split('\n')[0]})`}`);
  }
  return resolveHubConfig(raw, `hub config ${file}`);
}
