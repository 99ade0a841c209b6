/**
 * The observation policy of one feed and its validation.
 *
 * The policy is operator configuration, so it is checked once with zod and every mistake names
 * the field, the value and the fix. `parsePolicy` is the only way a policy enters `observeFeed`.
 */
import { z } from 'zod';
import { ObserveError } from './errors.ts';

const bps = z.number().finite().nonnegative();

export const observationPolicySchema = z
  .object({
    /** A quote older than this (now − venue timestamp) is dropped as `stale`. */
    maxAgeMs: z.number().int().positive(),
    /** A quote stamped further than this in the future is dropped as `invalid` (clock skew). */
    maxFutureMs: z.number().int().nonnegative().default(5_000),
    /** Minimum number of agreeing sources for an answer. */
    minSources: z.number().int().min(1),
    /** k in k·1.4826·MAD. */
    madMultiplier: z.number().finite().positive(),
    /** The band around the median is never narrower than this. */
    minBandBps: bps,
    /** The band around the median is never wider than this. */
    maxBandBps: bps.positive(),
    /** Recent realized volatility (see `realizedVolatilityBps`); widens the band. */
    volatilityBps: bps.optional(),
    /** The band is at least `volatilityMultiplier × volatilityBps`. */
    volatilityMultiplier: z.number().finite().nonnegative().default(3),
    volumeWeighting: z
      .object({
        enabled: z.boolean(),
        /** Largest share of the total weight any single venue may carry, in (0, 1]. */
        capShare: z.number().gt(0).lte(1),
      })
      .optional(),
  })
  .strict()
  .refine((p) => p.maxBandBps >= p.minBandBps, {
    message: 'maxBandBps must be at least minBandBps',
    path: ['maxBandBps'],
  })
  .refine((p) => !p.volumeWeighting?.enabled || p.volumeWeighting.capShare * p.minSources >= 1 - 1e-9, {
    message: 'capShare × minSources must be at least 1, or the cap cannot hold; raise minSources or capShare',
    path: ['volumeWeighting', 'capShare'],
  });

/** A policy as written by the operator (defaults not yet applied). */
export type ObservationPolicyInput = z.input<typeof observationPolicySchema>;
/** A validated policy with defaults applied. */
export type ObservationPolicy = z.output<typeof observationPolicySchema>;

/** Validate a policy; throws `ObserveError('invalid_policy')` naming each bad field. */
export function parsePolicy(input: unknown, feed = 'feed'): ObservationPolicy {
  const result = observationPolicySchema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues
    .map((issue) => `${issue.path.join('.') || '(policy)'}: ${issue.message}`)
    .join('; ');
  throw new ObserveError('invalid_policy', `observation policy of ${feed} is invalid: ${problems}; fix these fields in the feed's config`);
}
