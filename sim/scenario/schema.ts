/**
 * The scenario file format (YAML or JSON), validated with zod. Every error names the field
 * path and what is allowed there, e.g.
 *   scenario dai.yaml: attacks.0.kind: expected one of pump, crash, …; got "pmup"
 * The reference with an example is `sim/README.md`.
 */
import { z } from 'zod';
import { SUPPORTED_VENUES, type VenueId } from '../../node/sources/index.ts';

const venueId = z.enum(SUPPORTED_VENUES as unknown as [VenueId, ...VenueId[]]);
const sec = z.number().nonnegative();
const pct = z.number().finite();

const venueFields = {
  depthUsdPerBps: z.number().positive(),
  depthGrowth: z.number().nonnegative(),
  feeBps: z.number().nonnegative().max(100),
  resilienceHalfLifeSec: z.number().nonnegative(),
  noiseBps: z.number().nonnegative(),
  noiseTauSec: z.number().positive(),
  latencyMs: z.number().int().nonnegative().max(60_000),
  volume24hUsd: z.number().positive(),
  outagesPerDay: z.number().nonnegative(),
  outageMeanSec: z.number().positive(),
};
const VENUE_DEFAULTS = {
  depthUsdPerBps: 50_000,
  depthGrowth: 0.5,
  feeBps: 10,
  resilienceHalfLifeSec: 120,
  noiseBps: 3,
  noiseTauSec: 60,
  latencyMs: 0,
  volume24hUsd: 50_000_000,
  outagesPerDay: 0,
  outageMeanSec: 120,
};
/** `market.defaults`: every field defaulted. */
const venueDefaults = Object.fromEntries(Object.entries(venueFields).map(([k, v]) => [k, v.default(VENUE_DEFAULTS[k as keyof typeof VENUE_DEFAULTS] as never)])) as {
  [K in keyof typeof venueFields]: z.ZodDefault<(typeof venueFields)[K]>;
};
/** A venue: its id and per-venue overrides of `market.defaults` (no defaults here, or they would shadow those). */
const venueSchema = z.strictObject({ id: venueId, ...(Object.fromEntries(Object.entries(venueFields).map(([k, v]) => [k, v.optional()])) as { [K in keyof typeof venueFields]: z.ZodOptional<(typeof venueFields)[K]> }) });

const faultSchema = z.strictObject({
  venue: venueId,
  fromSec: sec,
  toSec: sec,
  kind: z.enum(['outage', 'garbage', 'rate_limited', 'stale', 'slow', 'misprice']),
  /** misprice: the venue reports price × factor (Synthetix sKRW: 1000). */
  factor: z.number().positive().optional(),
  ageMs: z.number().int().positive().optional(),
  delayMs: z.number().int().positive().optional(),
});

const moveSchema = z.strictObject({ atSec: sec, rampSec: sec.default(0), factor: z.number().positive(), untilSec: sec.optional() });

const pathSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('gbm'),
    start: z.number().positive(),
    drift: z.number().default(0),
    volatility: z.number().nonnegative().default(0.6),
    jumpsPerDay: z.number().nonnegative().default(0),
    jumpMean: z.number().default(0),
    jumpStd: z.number().nonnegative().default(0.02),
  }),
  z.strictObject({ kind: z.literal('csv'), file: z.string().min(1) }),
]);

const window = { fromSec: sec, toSec: sec };
const venueList = z.union([z.literal('all'), z.array(venueId).min(1)]);

const attackSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.enum(['pump', 'crash']),
    venues: venueList,
    /** Target move of each attacked venue's price, percent (positive). */
    movePct: z.number().positive(),
    ...window,
    rampSec: sec.default(60),
    /** Largest total spend (realized loss) the attacker accepts, USD; omit for unlimited. */
    budgetUsd: z.number().positive().optional(),
  }),
  z.strictObject({ kind: z.literal('wash'), venues: venueList, usdPerDay: z.number().positive(), ...window }),
  z.strictObject({
    kind: z.literal('byzantine'),
    nodes: z.number().int().min(1),
    strategy: z.enum(['extreme', 'bias', 'withhold', 'equivocate']),
    /** extreme: answers × factor (default 10). */
    factor: z.number().positive().optional(),
    /** bias: bps added to the honest answer (default: 95 % of the honest nodes' sanity band). */
    biasBps: z.number().optional(),
    ...window,
  }),
  z.strictObject({
    kind: z.literal('aggregator'),
    mode: z.enum(['forged', 'altered', 'replayed', 'stale', 'equivocate']),
    atSec: z.array(sec).min(1),
    /** forged / altered: the price the attacker wants served, as a move from the truth, percent. */
    movePct: pct.default(-20),
    /** stale: how long a signed report is held back before it is posted. */
    delaySec: sec.default(600),
  }),
  z.strictObject({ kind: z.literal('stolen-shares'), shares: z.number().int().min(1), atSec: z.array(sec).min(1), movePct: pct.default(-20) }),
  z.strictObject({ kind: z.literal('dos-sources'), venues: venueList, behaviour: z.enum(['outage', 'slow', 'rate_limited']).default('outage'), ...window }),
  z.strictObject({ kind: z.literal('dos-nodes'), nodes: z.number().int().min(1), ...window }),
  z.strictObject({
    kind: z.literal('liquidation-hunt'),
    venues: venueList,
    direction: z.enum(['down', 'up']),
    movePct: z.number().positive(),
    ...window,
    rampSec: sec.default(60),
    budgetUsd: z.number().positive().optional(),
  }),
  z.strictObject({
    kind: z.literal('expiry-push'),
    venues: venueList,
    direction: z.enum(['up', 'down']),
    movePct: z.number().positive(),
    /** Seconds before / after the option's expiry the push is held. */
    beforeSec: sec.default(120),
    afterSec: sec.default(300),
    budgetUsd: z.number().positive().optional(),
  }),
]);

const positionSchema = z.strictObject({
  side: z.enum(['long', 'short']),
  /** Position notional at the start price, USD. */
  notionalUsd: z.number().positive(),
  collateralUsd: z.number().positive(),
});

export const ScenarioSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'expected a lower-case slug such as dai-coinbase-spike'),
  description: z.string().min(1),
  /** For incident-shaped scenarios: what happened, with the published numbers and where they come from. */
  incident: z.strictObject({ name: z.string(), date: z.string(), summary: z.string(), sources: z.array(z.url()).min(1) }).optional(),
  seed: z.number().int().nonnegative().default(1),
  durationSec: z.number().int().positive().max(7 * 86_400),
  stepSec: z.number().int().positive().max(3600).default(30),
  transport: z.enum(['inproc', 'http']).default('inproc'),
  feed: z.strictObject({ name: z.string().regex(/^[A-Z0-9]+\/USD$/, 'expected BASE/USD in upper case, such as ETH/USD'), decimals: z.number().int().min(0).max(18).default(8) }),
  market: z.strictObject({
    path: pathSchema,
    moves: z.array(moveSchema).default([]),
    defaults: z.strictObject(venueDefaults).prefault({}),
    venues: z.array(venueSchema).min(1, 'list at least one venue'),
    faults: z.array(faultSchema).default([]),
  }),
  oracle: z
    .strictObject({
      nodes: z.number().int().min(1).max(64).default(7),
      threshold: z.number().int().min(1).optional(),
      roundEverySec: z.number().int().positive().default(60),
      minSources: z.number().int().min(1).default(3),
      maxAgeMs: z.number().int().positive().default(60_000),
      madMultiplier: z.number().positive().default(5),
      minBandBps: z.number().nonnegative().default(50),
      maxBandBps: z.number().positive().default(500),
      sanityBandBps: z.number().positive().max(10_000).default(200),
      volumeCapShare: z.number().gt(0).lte(1).optional(),
      deviationPct: z.number().positive().default(0.5),
      heartbeatSec: z.number().int().positive().default(600),
      hub: z
        .strictObject({
          deviationBps: z.number().int().min(0).max(10_000).default(1000),
          confirmations: z.number().int().min(0).max(255).default(2),
          confirmationTime: z.number().int().nonnegative().default(120),
          maxStaleness: z.number().int().positive().default(3600),
          /** Bounds as prices (in USD); reports outside are skipped, never clamped. */
          minPrice: z.number().positive().optional(),
          maxPrice: z.number().positive().optional(),
        })
        .prefault({}),
    })
    .prefault({}),
  settlement: z
    .strictObject({
      futures: z
        .strictObject({
          maxPriceAgeSec: z.number().int().positive().default(900),
          maxSpreadBps: z.number().int().min(0).max(10_000).default(500),
          initialMarginBps: z.number().int().positive().max(10_000).default(1000),
          maintenanceMarginBps: z.number().int().positive().default(500),
          liquidationBountyBps: z.number().int().nonnegative().default(100),
          /** Smallest position notional and collateral to open with (FuturesMarket risk params). */
          minNotionalUsd: z.number().positive().default(100),
          minCollateralUsd: z.number().positive().default(10),
          /** Most a position can take from the pool, in bps of its opening notional. */
          maxProfitBps: z.number().int().positive().max(1_000_000).default(10_000),
          poolUsd: z.number().positive().default(10_000_000),
          positions: z.array(positionSchema).default([]),
        })
        .optional(),
      option: z
        .strictObject({
          isCall: z.boolean().default(true),
          /** Strike as a percentage of the start price (100 = at the money). */
          strikePct: z.number().positive().default(100),
          /** Payoff cap as a percentage of the start price. */
          widthPct: z.number().positive().default(20),
          /** Units of the underlying. */
          quantity: z.number().positive().default(1000),
          premiumUsd: z.number().nonnegative().default(0),
          expirySec: sec,
          settlementWindowSec: z.number().int().positive().default(600),
          maxSpreadBps: z.number().int().min(0).max(10_000).default(500),
        })
        .optional(),
    })
    .prefault({}),
  attacks: z.array(attackSchema).default([]),
  /** Deviation of the served price from the truth above which the oracle counts as moved. */
  tolerancePct: z.number().positive().default(2),
  expect: z
    .strictObject({
      verdict: z.enum(['defended', 'degraded', 'breached']).optional(),
      maxServedDeviationPct: z.number().nonnegative().optional(),
      liquidations: z.number().int().nonnegative().optional(),
      attackPays: z.boolean().optional(),
      /** `served.maxUsableOffSec` at most this (the longest run of a usable price off the truth by more than `tolerancePct`). */
      maxUsableOffSec: z.number().nonnegative().optional(),
      /** Liquidations the true price alone justified. */
      justifiedLiquidations: z.number().int().nonnegative().optional(),
      /** Whether the committee suspended the feed at some point. */
      suspended: z.boolean().optional(),
      /** Seconds from the nodes losing their observation quorum to the hub serving the feed as suspended, at most. */
      suspendedWithinSec: z.number().nonnegative().optional(),
      /** After a suspension, the feed is active and usable again before the run ends. */
      resumed: z.boolean().optional(),
    })
    .prefault({}),
});

export type Scenario = z.output<typeof ScenarioSchema>;
export type ScenarioInput = z.input<typeof ScenarioSchema>;
export type Attack = Scenario['attacks'][number];
