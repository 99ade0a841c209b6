/**
 * Typed errors of the DKG and resharing ceremony. Every error carries a stable `code` and,
 * where it applies, the phase it happened in; messages name the phase, the participant and
 * what the operator should do, e.g.
 * `dkg phase "finalize": only 4 qualified dealers (1, 2, 3, 4), need t=5; …`.
 */

/** Phases of a ceremony, in order. */
export type DkgPhase = 'deal' | 'complaints' | 'responses' | 'finalize';

export type DkgErrorCode =
  /** The ceremony description is malformed or inconsistent (indices, keys, thresholds). */
  | 'bad_ceremony'
  /** The local keys are not listed in the ceremony. */
  | 'not_a_participant'
  /** A local key does not match the one listed for this participant. */
  | 'key_mismatch'
  /** Resharing: the local current share does not match the previous committee's public share. */
  | 'share_mismatch'
  /** A method was called in a status that does not allow it. */
  | 'bad_transition'
  /** A phase was closed before its deadline with messages still missing. */
  | 'phase_open'
  /** Fewer qualified dealers than the ceremony needs. */
  | 'too_few_qualified'
  /** Resharing produced a different group key (a bug or a forged previous committee). */
  | 'group_key_changed'
  /** A message failed its schema or its checks. */
  | 'bad_message'
  /** A transcript does not re-verify. */
  | 'bad_transcript'
  /** The summed share is zero (probability ~2^-255); run a new ceremony. */
  | 'zero_share'
  /** The driver or operator aborted the ceremony. */
  | 'aborted';

export class DkgError extends Error {
  override readonly name = 'DkgError';
  constructor(
    readonly code: DkgErrorCode,
    message: string,
    readonly phase?: DkgPhase,
  ) {
    super(phase ? `dkg phase "${phase}": ${message}` : `dkg: ${message}`);
  }
}

/** Why a dealer left the qualified set; `reason` is the operator-facing sentence. */
export type DisqualificationCode =
  | 'absent'
  | 'bad_deal'
  | 'too_many_complaints'
  | 'unanswered_complaint'
  | 'bad_response';

export interface Disqualification {
  dealer: number;
  code: DisqualificationCode;
  phase: DkgPhase;
  reason: string;
}

/** A message that was not accepted (bad signature, unknown sender, wrong ceremony, …). */
export interface RejectedMessage {
  phase: DkgPhase;
  /** The claimed sender index, when the message got that far. */
  from?: number;
  reason: string;
}
