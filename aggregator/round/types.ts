/**
 * What one round produced: the signed report (or why there is none), who took part, who was
 * excluded and why, the feeds left out, and the time spent in each phase. Stored per round
 * and served over HTTP; every field is plain data.
 */
import type { AggregateResult, Report, SignedObservation } from '../../protocol/index.ts';

export type RoundPhase = 'observe' | 'sign';

export interface Exclusion {
  index: number;
  phase: RoundPhase;
  /** Stable code: `timeout`, `unreachable`, `bad_observation_signature`, `bad_partial`, a node refusal code, … */
  code: string;
  reason: string;
}

export interface RoundTimings {
  /** Observations requested → all answers in (or cut off). */
  observeMs: number;
  /** Medians, policy, report encoding. */
  buildMs: number;
  /** Partials requested → a verified group signature from the first t (or, when one of those was bad, all answers in or cut off). */
  signMs: number;
  /** Batch verification of every partial that came in (with bisection when a batch fails); off the latency path when the first t verified. */
  verifyMs: number;
  /** Lagrange combination and the group-signature check. */
  combineMs: number;
  /** Observations requested → verified group signature (or failure). */
  totalMs: number;
}

export type RoundStatus = 'signed' | 'nothing_to_post' | 'failed';

export type RoundFailureCode = 'too_few_observations' | 'no_feed_quorum' | 'too_few_partials' | 'group_signature_invalid' | 'aborted';

export interface SignedReport {
  report: Report;
  /** ABI-encoded report (`encodeReport`): what `transmit` and pull-mode consumers take. */
  encoded: string;
  /** 32-byte message the committee signed, hex. */
  message: string;
  /** Group signature, 48-byte compressed G1, hex. */
  signature: string;
  /** Group signature in the 96-byte x ‖ y form `transmit` takes, hex. */
  signatureEvm: string;
  /** The signed observations the report was built from (they hash to `observationsRoot`). */
  observations: SignedObservation[];
}

export interface RoundResult {
  epoch: bigint;
  configDigest: string;
  status: RoundStatus;
  failure?: { code: RoundFailureCode; message: string };
  /** Feeds the round observed. */
  feedIds: string[];
  /** Medians of every feed that reached t observations, before the posting policy chose. */
  candidates: AggregateResult['feeds'];
  /** Feeds left out (no quorum, or not needing a post), with the reason. */
  skipped: { feedId: string; reason: string }[];
  /** Node indices with a valid observation / a valid partial. */
  participants: { observed: number[]; signed: number[] };
  excluded: Exclusion[];
  signed?: SignedReport;
  timings: RoundTimings;
  startedAt: number;
  /**
   * Set when the sign phase ended on the first t partials (docs/design.md §Round protocol):
   * settles once the other nodes answered or were cut off, having set `participants.signed`
   * to every valid partial and added the sign phase's exclusions (which it returns) to
   * `excluded`.
   */
  rest?: Promise<Exclusion[]>;
}
