/**
 * The aggregation rule both the aggregator (to build a report) and every node (to check it
 * before signing) apply to the same signed observations, so it must be deterministic and
 * shared: per feed, the median of the answers present, provided at least `t` nodes answered.
 *
 * - Median: the element at index ⌊k/2⌋ of the sorted answers (for even k the upper middle,
 *   as in OCR). With at most f < k/2 Byzantine answers it lies within the honest range.
 * - spreadBps: the range of the answers after trimming max(⌊(k−1)/3⌋, ⌊(t−1)/2⌋) from each
 *   end, relative to the median, rounded up. Trimming keeps Byzantine nodes from inflating it
 *   (a consumer that requires a low spread must not be denied service by a minority of liars).
 *   The trim must cover the liars the quorum tolerates whatever the number k of answers: with
 *   k ≥ t answers the median tolerates ⌊(t−1)/2⌋ liars, and trimming only ⌊(k−1)/3⌋ (which is
 *   f only when all n = 3f+1 answered) let f liars set the spread as soon as one honest node
 *   was missing. Every value left after the trim is bracketed by honest answers, so the spread
 *   is at most the honest range; with exactly t answers it can be 0 (only the median is left).
 * - Suspension (docs/suspension.md): a feed with fewer than t answers but at least t signed
 *   "no observation" entries becomes a suspension entry (answer `SUSPENDED_ANSWER`, spreadBps
 *   the reason code most of those nodes gave, the lowest code on a tie). Since t > n/2, t
 *   absent entries and t answers cannot both exist for one feed: no set of nodes smaller than t
 *   can suspend a feed that t nodes price, and an aggregator that leaves answers out cannot turn
 *   them into absences (every absence is a node's own signature). A feed with neither is
 *   skipped, as before.
 */
import { SUSPENDED_ANSWER, feedName, suspendReasonName, type Report } from './report.ts';
import { observationsRoot, observersBitmap, type FeedObservation, type Observation } from './observation.ts';

const U32_MAX = 0xffffffffn;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

const ascending = (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0);

export function medianOf(values: readonly bigint[]): bigint {
  if (values.length === 0) throw new RangeError('median: no values');
  return [...values].sort(ascending)[values.length >> 1]!;
}

/** The spread of `values` (k ≥ t of them) around `median`, with the committee threshold `t`. */
export function spreadBpsOf(values: readonly bigint[], median: bigint, t: number): number {
  const sorted = [...values].sort(ascending);
  const trim = trimOf(sorted.length, t);
  return spreadOf(sorted[trim]!, sorted[sorted.length - 1 - trim]!, median);
}

/** How many of k answers (k ≥ t) are trimmed from each end before the spread is taken. */
export function trimOf(k: number, t: number): number {
  return Math.min(Math.max(Math.floor((k - 1) / 3), Math.floor((t - 1) / 2)), Math.floor((k - 1) / 2));
}

/** (hi − lo) / |median| in bps, rounded up, capped at uint32. */
function spreadOf(lo: bigint, hi: bigint, median: bigint): number {
  const abs = median < 0n ? -median : median;
  if (abs === 0n) return hi === lo ? 0 : Number(U32_MAX);
  const bps = ((hi - lo) * 10_000n + abs - 1n) / abs;
  return Number(bps > U32_MAX ? U32_MAX : bps);
}

export interface FeedAggregate {
  feedId: string;
  answer: bigint;
  spreadBps: number;
  /** Node indices whose answer for this feed went into the median (for a suspension: whose signed absence). */
  contributors: number[];
  /** Set for a suspension entry: the reason code (also in `spreadBps`); `answer` is `SUSPENDED_ANSWER`. */
  suspendReason?: number;
}

export interface AggregateResult {
  feeds: FeedAggregate[];
  /** Feeds left out of the report, with the reason. */
  skipped: { feedId: string; reason: string }[];
}

/**
 * Per requested feed, the median over the observations that carry an answer for it; feeds
 * with fewer than `t` answers are skipped with a reason.
 */
export function aggregateFeeds(observations: readonly Observation[], feedIds: readonly string[], t: number): AggregateResult {
  const feeds: FeedAggregate[] = [];
  const skipped: AggregateResult['skipped'] = [];
  // Per observation, the position of its first entry per feed id (what a linear `find` would
  // return), so the lookup is O(1) instead of O(feeds). The observations of a round cover the
  // same feed list (decoded against one list they even share the id strings), so the positions
  // are built once and reused while the next observation's ids are the same: every node
  // rebuilds every feed of 31 observations each round.
  const positions: Map<string, number>[] = [];
  let lastFeeds: readonly FeedObservation[] | undefined;
  for (const o of observations) {
    if (lastFeeds === undefined || !sameIds(lastFeeds, o.feeds)) {
      const m = new Map<string, number>();
      o.feeds.forEach((f, p) => {
        const k = f.feedId.toLowerCase();
        if (!m.has(k)) m.set(k, p);
      });
      positions.push(m);
      lastFeeds = o.feeds;
    } else {
      positions.push(positions[positions.length - 1]!);
    }
  }
  // Reused per feed: answers that are all safe integers (8-decimal prices are) sort as doubles,
  // natively and exactly; any other answer set sorts as BigInts.
  const small = new Float64Array(observations.length);
  for (const id of feedIds) {
    const answers: bigint[] = [];
    const contributors: number[] = [];
    const absent: number[] = [];
    const codes: number[] = [];
    const key = id.toLowerCase();
    let map: Map<string, number> | undefined;
    let at: number | undefined;
    let safe = true;
    let ordered = true;
    for (const [k, o] of observations.entries()) {
      if (positions[k] !== map) {
        map = positions[k]!;
        at = map.get(key);
      }
      const answer = at === undefined ? null : o.feeds[at]!.answer;
      if (answer !== null) {
        if (safe && (answer > MAX_SAFE || answer < -MAX_SAFE)) safe = false;
        if (contributors.length > 0 && contributors[contributors.length - 1]! > o.nodeIndex) ordered = false;
        answers.push(answer);
        contributors.push(o.nodeIndex);
      } else if (at !== undefined) {
        absent.push(o.nodeIndex);
        codes.push(o.feeds[at]!.reasonCode ?? 0);
      }
    }
    if (answers.length < t && absent.length >= t) {
      const reason = modeOf(codes);
      feeds.push({ feedId: id, answer: SUSPENDED_ANSWER, spreadBps: reason, contributors: absent.sort((a, b) => a - b), suspendReason: reason });
      continue;
    }
    if (answers.length < t) {
      skipped.push({ feedId: id, reason: `${safeName(id)}: ${answers.length} node(s) observed it, need t=${t}` });
      continue;
    }
    // One sort for both the median and the spread (every node rebuilds every feed each round).
    const k = answers.length;
    const trim = trimOf(k, t);
    let answer: bigint;
    let spreadBps: number;
    if (safe) {
      const view = small.subarray(0, k);
      for (let i = 0; i < k; i++) view[i] = Number(answers[i]!);
      view.sort();
      answer = BigInt(view[k >> 1]!);
      spreadBps = spreadOf(BigInt(view[trim]!), BigInt(view[k - 1 - trim]!), answer);
    } else {
      const sorted = answers.sort(ascending);
      answer = sorted[k >> 1]!;
      spreadBps = spreadOf(sorted[trim]!, sorted[k - 1 - trim]!, answer);
    }
    feeds.push({ feedId: id, answer, spreadBps, contributors: ordered ? contributors : contributors.sort((a, b) => a - b) });
  }
  return { feeds, skipped };
}

/** The nodes whose answers went into any of these medians. A loop, not `flatMap`: V8's generic flatMap over 100 feeds × 31 nodes cost more than the medians. */
export function contributorsOf(feeds: readonly FeedAggregate[]): Set<number> {
  const out = new Set<number>();
  for (const f of feeds) for (const i of f.contributors) out.add(i);
  return out;
}

/** The most frequent code, the lowest on a tie. */
function modeOf(codes: readonly number[]): number {
  const counts = new Map<number, number>();
  for (const c of codes) counts.set(c, (counts.get(c) ?? 0) + 1);
  let best = 0;
  let bestCount = -1;
  for (const [c, k] of [...counts].sort((a, b) => a[0] - b[0])) {
    if (k > bestCount) {
      best = c;
      bestCount = k;
    }
  }
  return best;
}

/** "suspended (too_few_sources)" or the price, for logs. */
export function describeAggregate(f: FeedAggregate): string {
  return f.suspendReason !== undefined ? `suspended (${suspendReasonName(f.suspendReason)})` : f.answer.toString();
}

function sameIds(a: readonly FeedObservation[], b: readonly FeedObservation[]): boolean {
  if (a.length !== b.length) return false;
  for (let p = 0; p < a.length; p++) if (a[p]!.feedId !== b[p]!.feedId) return false;
  return true;
}

function safeName(id: string): string {
  try {
    return feedName(id);
  } catch {
    return id;
  }
}

/**
 * The report for an epoch from a set of observations: medians per feed, the median
 * observation time, the observers bitmap and the observations root. Returns the skipped
 * feeds too; `report` is null when no feed reached `t` answers.
 */
export function buildReport(
  configDigest: string,
  epoch: bigint,
  observations: readonly Observation[],
  feedIds: readonly string[],
  t: number,
): { report: Report | null; aggregate: AggregateResult } {
  const aggregate = aggregateFeeds(observations, feedIds, t);
  if (aggregate.feeds.length === 0) return { report: null, aggregate };
  const contributors = contributorsOf(aggregate.feeds);
  const used = observations.filter((o) => contributors.has(o.nodeIndex));
  return {
    aggregate,
    report: {
      configDigest,
      epoch,
      observedAt: medianOf(used.map((o) => o.observedAt)),
      observationsRoot: observationsRoot(used),
      observers: observersBitmap([...contributors]),
      feedIds: aggregate.feeds.map((f) => f.feedId),
      answers: aggregate.feeds.map((f) => f.answer),
      spreadBps: aggregate.feeds.map((f) => f.spreadBps),
    },
  };
}
