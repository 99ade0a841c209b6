/**
 * The observation of one feed: from raw venue quotes to one price or "no observation".
 *
 * Steps (docs/design.md §Round protocol, step 2):
 *  1. `invalid`: non-finite or non-positive price, bad volume, bad timestamp or one stamped more
 *     than `maxFutureMs` ahead; `duplicate_source`: a venue quoted twice keeps its freshest quote.
 *  2. `stale`: older than `maxAgeMs`. Fewer than `minSources` left → `too_few_sources`.
 *  3. `outlier`: further from the median m than the band
 *     `min(max(k·1.4826·MAD, minBand·m, volatilityMultiplier·volatility·m), maxBand·m)`.
 *     Fewer than `minSources` survivors, or survivors not a strict majority of the fresh quotes
 *     (no consensus around the median) → `sources_disagree`. Never a guess.
 *  4. The price is the median of the survivors, or their volume-weighted median with every
 *     venue's share capped at `capShare` (so wash volume on one venue buys at most that share).
 *
 * Guarantee (checked by property tests): if honest venues are a strict majority of the fresh
 * quotes and agree within `minBandBps`, every honest quote survives, so the answer lies inside
 * the honest range however the others lie; with volume weighting this needs the lying venues'
 * capped shares to total less than one half (`liars × capShare < 1/2`).
 *
 * Pure: no clock, no I/O, no randomness; quotes are put in a canonical order first, so the
 * answer does not depend on the order in which venues answered.
 */
import type { ObservationPolicy } from './policy.ts';
import { MAD_TO_SIGMA, cappedShares, compareStrings, median, medianAbsoluteDeviation, weightedMedian } from './stats.ts';

export interface SourceQuote {
  source: string;
  price: number;
  volume?: number;
  timestampMs: number;
}

export type ExclusionReason = 'invalid' | 'duplicate_source' | 'stale' | 'outlier';
export type NoObservationReason = 'too_few_sources' | 'sources_disagree';

/** What happened to one quote. */
export interface SourceVerdict {
  source: string;
  price: number;
  volume?: number;
  timestampMs: number;
  ageMs: number;
  used: boolean;
  reason?: ExclusionReason;
  /** Why, in words, for excluded quotes. */
  detail?: string;
  /** Signed distance from the fresh median in bps (fresh, valid quotes only). */
  deviationBps?: number;
  /** Share of the total weight this venue carried in the volume-weighted median. */
  weightShare?: number;
}

export interface PriceObservation {
  ok: true;
  feed: string;
  price: number;
  method: 'median' | 'volume_weighted_median';
  /** Set when volume weighting was enabled but could not be applied. */
  methodNote?: string;
  /** Dispersion of the survivors: (max − min) / price in bps, rounded up. */
  spreadBps: number;
  /** Median of the fresh quotes, the centre of the band. */
  freshMedian: number;
  /** Half-width of the acceptance band in bps of the fresh median. */
  bandBps: number;
  sources: SourceVerdict[];
}

export interface NoPriceObservation {
  ok: false;
  feed: string;
  reason: NoObservationReason;
  detail: string;
  sources: SourceVerdict[];
}

export type PriceObservationResult = PriceObservation | NoPriceObservation;

export interface ObserveInput {
  feed: string;
  quotes: readonly SourceQuote[];
  nowMs: number;
  /** A policy validated by `parsePolicy`. */
  policy: ObservationPolicy;
}

/** Filter one feed's quotes and price it, or say why not. */
export function observeFeed({ feed, quotes, nowMs, policy }: ObserveInput): PriceObservationResult {
  const verdicts = [...quotes].sort(compareQuotes).map((q) => toVerdict(q, nowMs));
  markInvalid(verdicts, policy);
  markDuplicates(verdicts);
  for (const v of verdicts) {
    if (v.reason === undefined && isStale(v.ageMs, policy)) exclude(v, 'stale', staleDetail(v.ageMs, policy));
  }
  const fresh = verdicts.filter((v) => v.reason === undefined);
  if (fresh.length < policy.minSources) {
    return noObservation(feed, 'too_few_sources', `${fresh.length} fresh valid sources (${summarize(verdicts)}), need ${policy.minSources}`, verdicts);
  }

  const prices = fresh.map((v) => v.price);
  const center = median(prices);
  const mad = medianAbsoluteDeviation(prices, center);
  const volatilityBand = policy.volatilityMultiplier * (policy.volatilityBps ?? 0);
  const bandBps = Math.min(
    Math.max((policy.madMultiplier * MAD_TO_SIGMA * mad * 10_000) / center, policy.minBandBps, volatilityBand),
    policy.maxBandBps,
  );
  const bandAbs = (center * bandBps) / 10_000;
  for (const v of fresh) {
    v.deviationBps = ((v.price - center) / center) * 10_000;
    if (Math.abs(v.price - center) > bandAbs) {
      exclude(v, 'outlier', `${v.price} is ${v.deviationBps.toFixed(1)} bps from median ${center}, band ±${bandBps.toFixed(1)} bps`);
    }
  }
  const survivors = fresh.filter((v) => v.reason === undefined);
  if (survivors.length < policy.minSources || survivors.length * 2 <= fresh.length) {
    return noObservation(
      feed,
      'sources_disagree',
      `${survivors.length} of ${fresh.length} fresh sources agree within ±${bandBps.toFixed(1)} bps of median ${center}; need ${policy.minSources} and a strict majority`,
      verdicts,
    );
  }

  for (const v of survivors) v.used = true;
  const priced = priceSurvivors(survivors, policy);
  const low = Math.min(...survivors.map((v) => v.price));
  const high = Math.max(...survivors.map((v) => v.price));
  return {
    ok: true,
    feed,
    ...priced,
    spreadBps: Math.max(0, Math.ceil(((high - low) / priced.price) * 10_000 - 1e-9)),
    freshMedian: center,
    bandBps,
    sources: verdicts,
  };
}

function priceSurvivors(
  survivors: SourceVerdict[],
  policy: ObservationPolicy,
): Pick<PriceObservation, 'price' | 'method' | 'methodNote'> {
  const prices = survivors.map((v) => v.price);
  const weighting = policy.volumeWeighting;
  if (!weighting?.enabled) return { price: median(prices), method: 'median' };
  const missing = survivors.filter((v) => v.volume === undefined).map((v) => v.source);
  if (missing.length > 0) {
    return { price: median(prices), method: 'median', methodNote: `volume weighting skipped: no volume from ${missing.join(', ')}` };
  }
  const shares = cappedShares(
    survivors.map((v) => v.volume as number),
    weighting.capShare,
  );
  survivors.forEach((v, i) => (v.weightShare = shares[i]));
  return {
    price: weightedMedian(prices, shares, survivors.map((v) => v.source)),
    method: 'volume_weighted_median',
  };
}

function toVerdict(q: SourceQuote, nowMs: number): SourceVerdict {
  const verdict: SourceVerdict = {
    source: q.source,
    price: q.price,
    timestampMs: q.timestampMs,
    ageMs: nowMs - q.timestampMs,
    used: false,
  };
  if (q.volume !== undefined) verdict.volume = q.volume;
  return verdict;
}

function markInvalid(verdicts: SourceVerdict[], policy: ObservationPolicy): void {
  for (const v of verdicts) {
    const problem = invalidProblem(v, policy);
    if (problem !== undefined) exclude(v, 'invalid', problem);
  }
}

function invalidProblem(v: SourceVerdict, policy: ObservationPolicy): string | undefined {
  return typeof v.source !== 'string' || v.source.length === 0
    ? 'source name is empty'
    : !Number.isFinite(v.price) || v.price <= 0
      ? `price ${v.price} is not a positive finite number`
      : v.volume !== undefined && (!Number.isFinite(v.volume) || v.volume < 0)
        ? `volume ${v.volume} is not a non-negative finite number`
        : !Number.isFinite(v.timestampMs)
          ? `timestamp ${v.timestampMs} is not a finite number`
          : isFromFuture(v.ageMs, policy)
            ? `timestamp is ${-v.ageMs} ms in the future, more than maxFutureMs ${policy.maxFutureMs}`
            : undefined;
}

/*
 * The clock. `nowMs` enters an observation only through each quote's age `nowMs − timestampMs`
 * and the three functions below; `quoteClock` and `atClock` let a caller that prices the same
 * quotes many times (the node, once per request) reuse one observation while no quote changes
 * class, and still report every age and every verdict as of its own `nowMs`.
 */

function isFromFuture(ageMs: number, policy: ObservationPolicy): boolean {
  return -ageMs > policy.maxFutureMs;
}

function isStale(ageMs: number, policy: ObservationPolicy): boolean {
  return ageMs > policy.maxAgeMs;
}

function staleDetail(ageMs: number, policy: ObservationPolicy): string {
  return `age ${ageMs} ms exceeds maxAgeMs ${policy.maxAgeMs}`;
}

/** Which clock-dependent verdict a quote stamped `timestampMs` gets at `nowMs`: 1 too far in the future, 2 stale, 0 neither. */
export function quoteClock(timestampMs: number, nowMs: number, policy: ObservationPolicy): 0 | 1 | 2 {
  const ageMs = nowMs - timestampMs;
  return isFromFuture(ageMs, policy) ? 1 : isStale(ageMs, policy) ? 2 : 0;
}

/**
 * `result` as `observeFeed` would return it at `nowMs` for the same quotes and policy, given that
 * `quoteClock` is the same for every quote at `nowMs` as when `result` was computed: only the
 * ages and the age-quoting details change. `result` is not modified.
 */
export function atClock<R extends PriceObservationResult>(result: R, nowMs: number, policy: ObservationPolicy): R {
  const sources = result.sources.map((old) => {
    const v: SourceVerdict = { ...old, ageMs: nowMs - old.timestampMs };
    if (v.reason === 'stale') v.detail = staleDetail(v.ageMs, policy);
    else if (v.reason === 'invalid') v.detail = invalidProblem(v, policy);
    return v;
  });
  return { ...result, sources };
}

/** Keep each venue's freshest valid quote (verdicts are already in canonical order). */
function markDuplicates(verdicts: SourceVerdict[]): void {
  const kept = new Map<string, SourceVerdict>();
  for (const v of verdicts) {
    if (v.reason !== undefined) continue;
    const first = kept.get(v.source);
    if (first === undefined) kept.set(v.source, v);
    else exclude(v, 'duplicate_source', `${v.source} already quoted at ${first.timestampMs}; only the freshest quote counts`);
  }
}

function exclude(v: SourceVerdict, reason: ExclusionReason, detail: string): void {
  v.reason = reason;
  v.detail = detail;
}

/** Canonical order: by source, then freshest first, then price, then volume (absent first). */
function compareQuotes(a: SourceQuote, b: SourceQuote): number {
  return (
    compareStrings(String(a.source), String(b.source)) ||
    compareNumbers(b.timestampMs, a.timestampMs) ||
    compareNumbers(a.price, b.price) ||
    compareNumbers(a.volume ?? -Infinity, b.volume ?? -Infinity)
  );
}

/** Total order on numbers, NaN last, so sorting garbage is still deterministic. */
function compareNumbers(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number(Number.isNaN(a)) - Number(Number.isNaN(b));
  return a < b ? -1 : a > b ? 1 : 0;
}

function summarize(verdicts: SourceVerdict[]): string {
  const counts = new Map<string, number>();
  for (const v of verdicts) {
    if (v.reason !== undefined) counts.set(v.reason, (counts.get(v.reason) ?? 0) + 1);
  }
  const parts = [...counts].map(([reason, n]) => `${n} ${reason}`);
  return parts.length > 0 ? parts.join(', ') : 'none excluded';
}

function noObservation(feed: string, reason: NoObservationReason, detail: string, sources: SourceVerdict[]): NoPriceObservation {
  return { ok: false, feed, reason, detail: `${feed}: no observation, ${detail}`, sources };
}
