/**
 * Epochs and the clock (docs/design.md §Epochs and the clock): an epoch is at most the unix
 * millisecond of the round it belongs to. Aggregators take the start of their schedule's tick,
 * nodes refuse an epoch that leads their own clock by more than a tolerance, and the hub
 * refuses one above (block time + its future drift) in milliseconds. One signed report can
 * therefore never take the epoch to a value that no later report can beat (2^64 − 1 would
 * halt every later round: the hub accepts only a higher epoch).
 *
 * Only the upper side is bounded. An epoch far below the clock harms nothing: the hub accepts
 * only an epoch above its last, and a report's age is bounded separately by its observedAt.
 */

/** The epoch aggregator `position` of `of` uses for a round starting at `startMs`: the start
 *  rounded down to a multiple of `of`, plus `position`, so two aggregators never ask nodes to
 *  sign the same epoch and the epoch never leads the tick's start by `of` ms or more. */
export function epochAtMs(startMs: number, position: number, of: number): bigint {
  const m = BigInt(of);
  const start = BigInt(Math.floor(startMs));
  return start - (start % m) + BigInt(position);
}

/** How far `epoch` (unix ms) leads the clock `nowMs`, in ms (≤ 0 when it does not). */
export function epochLeadMs(epoch: bigint, nowMs: number): bigint {
  return epoch - BigInt(Math.floor(nowMs));
}

/** The refusal message when `epoch` leads `nowMs` by more than `maxLeadMs`, else undefined. */
export function epochAheadOfClock(epoch: bigint, nowMs: number, maxLeadMs: number): string | undefined {
  const lead = epochLeadMs(epoch, nowMs);
  if (lead <= BigInt(maxLeadMs)) return undefined;
  return `epoch ${epoch} is ${lead} ms ahead of this node's clock (${new Date(Math.floor(nowMs)).toISOString()}), more than signer.maxEpochLeadMs ${maxLeadMs}; epochs are unix milliseconds at most: check the aggregator's and this node's clocks`;
}
