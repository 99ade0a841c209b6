/**
 * The slice of the hub's ABI the aggregator uses (transmit, state views) and every custom
 * error the hub and its read side declare, as human-readable fragments mirroring
 * `contracts/src/IAegisHub.sol` and `contracts/src/interfaces/IAegisFeeds.sol`. Kept here so an
 * aggregator never needs the Solidity compiler at run time; `test/aggregator` checks it
 * against the compiled hub's ABI.
 */
import { Interface } from 'ethers';
import { REPORT_TUPLE_ABI } from '../../protocol/index.ts';

export const HUB_ABI = [
  `function transmit(${REPORT_TUPLE_ABI} report, bytes signature)`,
  `function verifyReport(${REPORT_TUPLE_ABI} report, bytes signature) view returns (bytes32)`,
  'function latestEpoch() view returns (uint64)',
  'function configDigest() view returns (bytes32)',
  'function feedIds() view returns (bytes32[])',
  'function paused() view returns (bool)',
  'function tryRead(bytes32 feedId) view returns (int256 answer, uint256 observedAt, uint256 spreadBps, uint256 roundId, uint8 status)',
  'function read(bytes32 feedId, uint256 maxAge) view returns (int256 answer, uint256 observedAt, uint256 spreadBps, uint256 roundId)',
  'function latestRoundId(bytes32 feedId) view returns (uint256)',
  'event ReportAccepted(address indexed transmitter, uint64 indexed epoch, uint64 observedAt)',
  'event FeedUpdated(bytes32 indexed feedId, uint256 roundId, int256 answer)',
  'event FeedSkipped(bytes32 indexed feedId, uint8 reason)',
  'event CommitteeSuspendedFeed(bytes32 indexed feedId, uint32 reason)',
  'event FeedResumed(bytes32 indexed feedId, uint256 roundId, int256 answer)',
  // -- Errors (IAegisHub) --
  'error NotGuardian(address caller, address guardian)',
  'error HubIsPaused()',
  'error ConfigDigestMismatch(bytes32 given, bytes32 current)',
  'error EpochNotAboveLast(uint64 given, uint64 last)',
  'error ReportLengthMismatch(uint256 feedIds, uint256 answers, uint256 spreadBps)',
  'error EmptyReport()',
  'error ObservedAtInFuture(uint64 observedAt, uint256 latestAllowed)',
  'error SignatureMalformed(uint256 length, uint256 expected)',
  'error SignatureAtInfinity()',
  'error SignatureInvalid(bytes32 message)',
  'error FeedAlreadyExists(bytes32 feedId)',
  'error TooManyFeeds(uint256 count, uint256 max)',
  'error InvalidBounds(int96 minAnswer, int96 maxAnswer)',
  'error InvalidMaxStaleness(uint32 maxStaleness)',
  'error InvalidBreaker(uint16 deviationBps, uint8 confirmations)',
  'error HistoryCapacityFixed(uint16 given, uint16 current)',
  'error InvalidCommittee(uint16 n, uint16 t)',
  'error InvalidGroupPublicKey()',
  'error BreakerNotTripped(bytes32 feedId)',
  'error CandidateOutOfBounds(bytes32 feedId, int256 candidate, int96 minAnswer, int96 maxAnswer)',
  'error ZeroGuardian()',
  'error InvalidClockBound(string name, uint256 given, uint256 max)',
  'error EpochAheadOfClock(uint64 epoch, uint256 latestAllowed)',
  'error ReportTooOld(uint64 observedAt, uint256 oldestAllowed)',
  'error FeedNotUpdated(bytes32 feedId, uint256 servedObservedAt, uint64 reportObservedAt)',
  'error InsufficientGasForVerification(uint256 gasLeft, uint256 needed)',
  // -- Errors (libs: BLS verification, code blob) --
  'error BlsInsufficientGas(uint256 gasLeft, uint256 needed)',
  'error BlsPrecompileFailed(address precompile)',
  'error BlsSignatureAtInfinity()',
  'error BlsSignatureLength(uint256 given, uint256 expected)',
  'error CodeBlobWriteFailed(uint256 length)',
  // -- Errors (IAegisFeeds) --
  'error FeedUnknown(bytes32 feedId)',
  'error FeedTripped(bytes32 feedId)',
  'error FeedPaused(bytes32 feedId)',
  'error FeedStale(bytes32 feedId, uint256 age, uint256 maxAge)',
  'error FeedSuspended(bytes32 feedId, uint32 reason, uint256 suspendedAt)',
  'error RoundNotFound(bytes32 feedId, uint256 roundId)',
] as const;

export const hubInterface = new Interface(HUB_ABI as unknown as string[]);

/** IAegisFeeds.FeedStatus in declaration order. */
export const FEED_STATUS = ['unknown', 'active', 'tripped', 'paused', 'stale', 'suspended'] as const;

export interface DecodedRevert {
  name: string;
  args: Record<string, string>;
  /** "EpochNotAboveLast(given=12, last=12)". */
  text: string;
}

/** Decodes hub revert data by error name; null when the data is not a hub error. */
export function decodeHubError(data: string | null | undefined): DecodedRevert | null {
  if (!data || data === '0x') return null;
  try {
    const e = hubInterface.parseError(data);
    if (!e) return null;
    const args: Record<string, string> = {};
    e.fragment.inputs.forEach((input, k) => {
      args[input.name || String(k)] = String(e.args[k]);
    });
    return { name: e.name, args, text: `${e.name}(${Object.entries(args).map(([k, v]) => `${k}=${v}`).join(', ')})` };
  } catch {
    return null;
  }
}

/** Reverts that mean "someone else already moved the chain past this report": expected when several aggregators run. */
export const SUPERSEDED_ERRORS = new Set(['EpochNotAboveLast']);
