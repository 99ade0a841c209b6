/**
 * The testbed's scenario format (YAML), validated with zod: the network to build (n, t,
 * aggregators, feeds, regions and their one-way delays), how long to run, the faults to
 * inject (each with `at` / `until` seconds from the start of the measured run) and the
 * thresholds the run must meet (`expect`). Design: docs/running-over-real-networks.md ("The testbed").
 *
 * Hosts are named: `node1`…`node<n>`, `agg0` (the active aggregator), `agg1`… (standbys),
 * `venues` (the simulated-venue server), `anvil`. Fault targets are selectors over them:
 *   node3 · nodes:1-10 · nodes (all) · agg1 · aggregators · active-aggregator · venues ·
 *   anvil · region:<name>
 * Regions: every region has a one-way delay to the core (ms, jitter ms); a host in region r
 * reaches a host in region s in d(r) + d(s) (the relay's and netem's semantics, docs/running-over-real-networks.md
 * "Delay and jitter"). The aggregators, the venue server and anvil sit in `core` (0 ms)
 * unless placed elsewhere; nodes are assigned to regions in blocks (`nodes: [11, 10, 10]`).
 *
 * `expect` entries are comparisons `<measure> <op> <number | measure>` over the run's JSON
 * fields (e.g. `ticksPosted == ticksNeeded`, `roundP50Ms < 900`) or structured checks
 * (`noPostDuring`, `unhealthyNamed`, `refusedByName`).
 */
import { z } from 'zod';
import { SUPPORTED_VENUES, type VenueId } from '../../../node/sources/index.ts';

export const MAX_DURATION_SEC = 1800;

const venueId = z.enum(SUPPORTED_VENUES as unknown as [VenueId, ...VenueId[]]);
const sec = z.number().nonnegative().max(MAX_DURATION_SEC);
const ms = z.number().int().nonnegative().max(10_000);
const selector = z.string().min(1);
const selectors = z.array(selector).min(1);

const window = { at: sec, until: sec, id: z.string().min(1).optional() };

/** Rates as tc writes them: 512kbit, 2mbit, 100kbps, 1gbit. */
export const RATE = /^\d+(\.\d+)?(bit|kbit|mbit|gbit|bps|kbps|mbps|gbps)$/;

export const FaultSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('delay'), ...window, hosts: selectors, ms, jitterMs: ms.default(0) }),
  z.strictObject({ kind: z.literal('loss'), ...window, hosts: selectors, pct: z.number().positive().max(100), peers: selectors.optional() }),
  z.strictObject({ kind: z.literal('bandwidth'), ...window, hosts: selectors, rate: z.string().regex(RATE, 'a tc rate such as 512kbit or 2mbit') }),
  z.strictObject({
    kind: z.literal('partition'),
    ...window,
    hosts: selectors,
    /** The other side; default every other host. */
    from: selectors.optional(),
    /** both: nothing crosses; inbound: packets to `hosts` dropped; outbound: packets from `hosts` dropped (requests arrive, answers do not). */
    direction: z.enum(['both', 'inbound', 'outbound']).default('both'),
  }),
  z.strictObject({ kind: z.literal('rpc-outage'), ...window, hosts: selectors.default(['aggregators']) }),
  z.strictObject({ kind: z.literal('venue-outage'), ...window, hosts: selectors }),
  z.strictObject({
    kind: z.literal('kill'),
    at: sec,
    id: z.string().min(1).optional(),
    target: selector,
    /** Restart the same process (same files, same store) this many seconds later; never when absent. */
    restartAfterSec: z.number().positive().max(600).optional(),
  }),
  z.strictObject({
    kind: z.literal('kill-during-sign'),
    ...window,
    /** How many SIGKILLs over [at, until], each at a round's signing phase. */
    count: z.number().int().positive().max(1000),
    hosts: selectors.default(['nodes']),
    /** Milliseconds after the tick's start to kill before any round has signed; later kills aim at the recent rounds' signing phase. */
    offsetMs: z.number().int().nonnegative().max(10_000).default(250),
    restartAfterSec: z.number().positive().max(600).default(1),
  }),
  z.strictObject({
    kind: z.literal('clock'),
    ...window,
    hosts: selectors,
    offsetSec: z.number().min(-3600).max(3600).default(0),
    driftPpm: z.number().min(-100_000).max(100_000).default(0),
  }),
]);
export type Fault = z.output<typeof FaultSchema>;
export type FaultKind = Fault['kind'];
export const FAULT_KINDS = FaultSchema.options.map((o) => o.shape.kind.value) as FaultKind[];

/** Fields a comparison may name (the run's JSON fields and a few details). */
export const MEASURES = [
  'ticksNeeded',
  'ticksPosted',
  'roundP50Ms',
  'roundP99Ms',
  'equivocations',
  'unsignedAccepted',
  'failoverTicks',
  'recoveryTicks',
  'doublePosts',
  'maxStaleSec',
  'maxDeviationSec',
] as const;
export type MeasureName = (typeof MEASURES)[number];
export const OPS = ['==', '!=', '<', '<=', '>', '>='] as const;
export type Op = (typeof OPS)[number];
export const COMPARISON = new RegExp(`^\\s*(\\w+)\\s*(${OPS.map((o) => o.replace(/[<>=!]/g, (c) => `\\${c}`)).join('|')})\\s*(-?\\d+(?:\\.\\d+)?|\\w+)\\s*$`);

export const ExpectSchema = z.union([
  z.string().regex(COMPARISON, 'a comparison "<measure> <op> <number|measure>", e.g. "roundP50Ms < 900"'),
  /** No report accepted while the fault `fault` (its id) is active, after `graceSec` (in-flight rounds). */
  z.strictObject({ noPostDuring: z.string().min(1), graceSec: z.number().nonnegative().max(60).default(5) }),
  /** Some process matching `hosts` reported unhealthy during fault `during` with a message matching `matches` (regex). */
  z.strictObject({ unhealthyNamed: z.strictObject({ hosts: selectors, during: z.string().min(1), matches: z.string().min(1) }) }),
  /** A process matching `hosts` refused by name: its log (or /health) matches `matches` (regex). */
  z.strictObject({ refusedByName: z.strictObject({ hosts: selectors, matches: z.string().min(1) }) }),
]);
export type Expectation = z.output<typeof ExpectSchema>;

export const FeedSchema = z.strictObject({
  name: z.string().min(1).max(31),
  /** Starting true price, USD. */
  start: z.number().positive(),
  /** Annualized volatility of the seeded GBM path. */
  volatility: z.number().nonnegative().max(20).default(0.8),
  deviationPct: z.number().positive().max(100).default(0.5),
  heartbeatSec: z.number().int().positive().max(3600).default(30),
});

export const RegionSchema = z.strictObject({ delayMs: ms, jitterMs: ms.default(0) });

export const TestbedScenarioSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes'),
  description: z.string().min(1),
  n: z.number().int().min(1).max(64),
  /** Default 2f + 1 with f = ⌊(n − 1) / 3⌋. */
  t: z.number().int().min(1).optional(),
  seed: z.number().int().nonnegative().default(1),
  aggregators: z
    .strictObject({
      /** 1 active + (count − 1) standbys. */
      count: z.number().int().min(1).max(4).default(2),
      intervalMs: z.number().int().min(500).max(60_000).default(2000),
      slotMs: z.number().int().min(0).max(30_000).default(700),
      observeTimeoutMs: z.number().int().positive().max(60_000).default(1500),
      signTimeoutMs: z.number().int().positive().max(60_000).default(1500),
      graceMs: z.number().int().nonnegative().max(10_000).default(250),
      /** One chain JSON-RPC request (aggregator chain.rpcTimeoutMs); default 5000 here. The product default, 300 s, leaves an aggregator deaf for minutes after an RPC outage (rpc-outage scenario). */
      rpcTimeoutMs: z.number().int().min(1000).max(600_000).optional(),
    })
    .default({ count: 2, intervalMs: 2000, slotMs: 700, observeTimeoutMs: 1500, signTimeoutMs: 1500, graceMs: 250 }),
  feeds: z.array(FeedSchema).min(1).max(8),
  /** USD-quoted venues by default (a USDT-quoted one needs a USDT/USD conversion feed). */
  venues: z.array(venueId).min(3).default(['coinbase', 'kraken', 'bitstamp']),
  /**
   * The nodes' venue poll schedule (node-cron, with seconds). Every second by default; a large
   * committee on one machine polls less often, or n processes' venue traffic through the
   * relays costs more CPU than the rounds being measured (each node's quotes stay within
   * their freshness limit either way).
   */
  pollSchedule: z.string().regex(/^\S+( \S+){5}$/, 'expected a six-field cron expression with seconds, e.g. "*/5 * * * * *"').optional(),
  /** Seconds measured (after start-up and warm-up); bounded so a run always ends. */
  durationSec: z.number().positive().max(MAX_DURATION_SEC),
  /** Seconds after every process is healthy before measuring starts. */
  warmupSec: z.number().nonnegative().max(120).default(6),
  regions: z.record(z.string().regex(/^[a-z][a-z0-9-]*$/), RegionSchema).default({}),
  placement: z
    .strictObject({
      /** Node counts per region, in region order (blocks: node1… in the first region). */
      nodes: z.array(z.number().int().nonnegative()).optional(),
      aggregators: z.string().optional(),
      venues: z.string().optional(),
      anvil: z.string().optional(),
    })
    .default({}),
  faults: z.array(FaultSchema).default([]),
  expect: z.array(ExpectSchema).default([]),
  /** Usable inside `npm test` (short, few processes). */
  smoke: z.boolean().default(false),
});
export type TestbedScenarioInput = z.input<typeof TestbedScenarioSchema>;
export type ParsedScenario = z.output<typeof TestbedScenarioSchema>;
/** A validated scenario with t resolved and every fault's `until` set. */
export type TestbedScenario = Omit<ParsedScenario, 't' | 'faults'> & { t: number; faults: (Fault & { until: number; id: string })[] };

export function defaultThreshold(n: number): number {
  return 2 * Math.floor((n - 1) / 3) + 1;
}
