/**
 * Distributed key generation and resharing for the Aegis committee (threshold BLS,
 * BLS12-381 min-signature): a Pedersen / joint-Feldman DKG as per-participant state machines,
 * the resharing that keeps the group key across membership and threshold changes, the wire
 * formats, and transcript re-verification. Pure: no I/O, no clock. See README.md here.
 */
export { DkgError, type DkgErrorCode, type DkgPhase, type Disqualification, type DisqualificationCode, type RejectedMessage } from './errors.ts';
export {
  CeremonySchema,
  ComplaintSchema,
  DealSchema,
  DeadlinesSchema,
  ParticipantSchema,
  PreviousCommitteeSchema,
  ResponseSchema,
  TranscriptSchema,
  approvalDigest,
  canonicalJson,
  ceremonyDigest,
  dealersOf,
  fromHex,
  parseCeremony,
  requiredDealers,
  signingBytes,
  toHex,
  transcriptDigest,
  type Ceremony,
  type ComplaintMessage,
  type ComplaintReason,
  type DealMessage,
  type Deadlines,
  type Dealer,
  type MessageKind,
  type Participant,
  type PreviousCommittee,
  type ResponseMessage,
  type Transcript,
  type TranscriptResult,
} from './messages.ts';
export {
  POP_DST,
  buildDeal,
  clearDkgCaches,
  commitmentsHash,
  decryptShare,
  encryptShare,
  popMessage,
  popSign,
  signMessage,
  verifyMessageSignature,
  verifyPops,
  type BuildDealInput,
  type ShareContext,
} from './crypto.ts';
export { DKG_TRANSITIONS, DkgParticipant, DkgStatus, type DkgOutput, type DkgParticipantOptions } from './participant.ts';
export { verifyTranscript, type TranscriptVerification } from './transcript.ts';
/** Small addition to protocol/bls (Horner evaluation of Feldman commitments, weighted sums). */
export { combineCommitments, evalCommitmentsAt } from '../bls/feldman.ts';
