// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IAegisFeeds} from "./IAegisFeeds.sol";

/// @title IAegisHub
/// @notice The Aegis hub: one committee (threshold-BLS group key), many feeds. Reports signed
///         by any `t` of the committee's `n` nodes move feeds forward; a deviation circuit
///         breaker per feed holds large moves until they are confirmed; the guardian
///         configures feeds, pauses and resolves breakers; the committee rotates itself.
///
///         Report acceptance, whole report (reverts):
///         - `HubIsPaused` while the guardian paused the hub;
///         - `ConfigDigestMismatch` when the report is for another committee, chain or hub;
///         - `EpochNotAboveLast` when the epoch is not above the last accepted one for this
///           configDigest (`updateAndRead` instead does nothing and reads);
///         - `ReportLengthMismatch`, `EmptyReport` for malformed arrays;
///         - `EpochAheadOfClock` when the epoch exceeds (block.timestamp + maxFutureDrift)·1000
///           (epochs are unix milliseconds at most);
///         - `ObservedAtInFuture` when observedAt > block.timestamp + maxFutureDrift;
///         - `ReportTooOld` when observedAt < block.timestamp − maxReportAge;
///         - `SignatureMalformed`, `SignatureAtInfinity`, `SignatureInvalid`.
///         Per feed, skipped with `FeedSkipped(feedId, reason)` (no revert, so racing pushes and
///         pulls, and feeds another hub carries, never break a report): unknown feed, paused
///         feed, observedAt not newer than the feed's last (served or breaker candidate), and
///         answer outside the feed's [minAnswer, maxAnswer] (never served).
///         Suspension (docs/suspension.md): an entry whose answer is `type(int192).min` says the
///         committee cannot price the feed, with the reason code in its spreadBps. It travels
///         in the same signed report under the same digest, epoch, age and observedAt rules as
///         a price: the feed then reads `Suspended` (`read` reverts `FeedSuspended`), and the
///         first later priced entry resumes it through the breaker (served with `FeedResumed`
///         within the limit, else tripped). A suspension clears a tripped breaker: no node
///         confirms its candidate any more.
/// @custom:invariant invariant_served_BoundedMove — a newly served answer differs from the
///         previously served one by at most the feed's `deviationBps` (in force when it is
///         served), unless the guardian accepted it (`BreakerResolved`) or it confirmed the held
///         candidate: at least `confirmations` later accepted reports, each within the limit of
///         the candidate, with increasing observedAt, the served one last, spanning at least
///         `confirmationTime` seconds from the trip.
///         Tested by `invariant_served_BoundedMove` (test/contracts/hub.invariants.test.ts).
/// @custom:invariant invariant_breaker_NoOrderingBypass — no ordering of reports (epochs fresh,
///         equal, stale or replayed; observedAt older, equal or newer) serves a tripping move
///         without that confirmation or the guardian; a tripped feed never reads as its
///         candidate (reads and `updateAndRead` revert `FeedTripped`).
///         Tested by `invariant_breaker_NoOrderingBypass` (test/contracts/hub.invariants.test.ts).
/// @custom:invariant invariant_state_MovesForward — `latestEpoch` never decreases (except by
///         committee rotation, which resets it with the digest); a feed's observedAt and round
///         id never decrease, a new round has a strictly newer observedAt, and round ids are
///         continuous: `getRound(roundId − 1)` is the previous served round while it is in the
///         history ring.
///         Tested by `invariant_state_MovesForward` (test/contracts/hub.invariants.test.ts).
/// @custom:invariant invariant_bounds_NeverServed — every served round (report, confirmation or
///         guardian accept) is inside [minAnswer, maxAnswer] of the configuration in force when
///         it is served; `resolveBreaker(accept)` reverts `CandidateOutOfBounds` for a candidate
///         the bounds exclude since the trip.
///         Tested by `invariant_bounds_NeverServed` (test/contracts/hub.invariants.test.ts).
/// @custom:invariant invariant_guardian_OnlyGuardianConfigures — every guardian function
///         (`addFeed`, `configureFeed`, `setFeedPaused`, `pause`, `unpause`, `resolveBreaker`,
///         `setGuardian`) called by another address reverts `NotGuardian(caller, guardian)` and
///         changes nothing; configuration, pauses, breaker resolutions and the guardian change
///         only in the guardian's own transactions.
///         Tested by `invariant_guardian_OnlyGuardianConfigures` (test/contracts/hub.invariants.test.ts).
/// @custom:invariant invariant_suspension_OnlyCommittee — a feed becomes `Suspended` only by an
///         accepted committee report carrying the suspension entry with a newer observedAt; a
///         suspended feed never reads as a price (`read`, `updateAndRead` revert
///         `FeedSuspended`) until a newer priced entry resumes it.
///         Tested by `invariant_suspension_OnlyCommittee` (test/contracts/hub-suspension.test.ts).
interface IAegisHub is IAegisFeeds {
    // -- Types --

    /// @notice A committee report over several feeds, as signed (see `reportMessage`).
    struct Report {
        bytes32 configDigest;
        uint64 epoch;
        uint64 observedAt;
        bytes32 observationsRoot;
        uint256 observers;
        bytes32[] feedIds;
        int192[] answers;
        uint32[] spreadBps;
    }

    /// @notice A committee: group key (256-byte EIP-2537 G2), size and threshold.
    struct CommitteeConfig {
        bytes groupPublicKey;
        uint16 n;
        uint16 t;
    }

    /// @notice The current committee as stored (the key lives in code, not storage); `blob` is
    ///         the code blob holding digest, key and the transmit-time feed table.
    struct Committee {
        bytes32 configDigest;
        uint64 configVersion;
        uint16 n;
        uint16 t;
        bytes groupPublicKey;
        address blob;
    }

    /// @notice Per-feed configuration (field order follows the storage packing).
    /// @param minAnswer Answers below are never served (skipped).
    /// @param maxAnswer Answers above are never served (skipped).
    /// @param maxStaleness Reads revert `FeedStale` beyond this age (seconds, > 0).
    /// @param heartbeat Seconds after which aggregators post even without deviation (advisory).
    /// @param deviationBps Breaker limit versus the last served answer, in basis points (0 = off).
    /// @param confirmations Later reports within `deviationBps` of the candidate needed to confirm.
    /// @param confirmationTime Minimum seconds the confirming reports must span from the trip.
    /// @param historyCapacity Rounds kept readable by `getRound` (ring; fixed after `addFeed`).
    /// @param decimals Fixed-point decimals of the answers.
    /// @param description Human-readable, e.g. "BTC / USD".
    struct FeedConfig {
        int96 minAnswer;
        int96 maxAnswer;
        uint32 maxStaleness;
        uint32 heartbeat;
        uint16 deviationBps;
        uint8 confirmations;
        uint24 confirmationTime;
        uint16 historyCapacity;
        uint8 decimals;
        string description;
    }

    /// @notice Why a feed of an accepted report was not applied.
    enum SkipReason {
        UnknownFeed,
        FeedPaused,
        NotNewer,
        OutOfBounds
    }

    // -- Errors --

    /// @notice Only the guardian may call this.
    /// @param caller The address that called.
    /// @param guardian The current guardian.
    error NotGuardian(address caller, address guardian);
    /// @notice The guardian paused the hub.
    error HubIsPaused();
    /// @notice The report was signed for another configuration (committee, chain or hub).
    /// @param given The report's configDigest.
    /// @param current The hub's current configDigest.
    error ConfigDigestMismatch(bytes32 given, bytes32 current);
    /// @notice Epochs strictly increase per configDigest.
    /// @param given The report's epoch.
    /// @param last The last accepted epoch for this configDigest.
    error EpochNotAboveLast(uint64 given, uint64 last);
    /// @notice feedIds, answers and spreadBps must have equal lengths.
    /// @param feedIds Length of `feedIds`.
    /// @param answers Length of `answers`.
    /// @param spreadBps Length of `spreadBps`.
    error ReportLengthMismatch(uint256 feedIds, uint256 answers, uint256 spreadBps);
    /// @notice A report carries at least one feed.
    error EmptyReport();
    /// @notice observedAt is later than the latest allowed time (block time + maxFutureDrift).
    /// @param observedAt The report's observedAt (unix seconds).
    /// @param latestAllowed block.timestamp + maxFutureDrift.
    error ObservedAtInFuture(uint64 observedAt, uint256 latestAllowed);
    /// @notice The signature must be 96 bytes (x‖y, 48-byte big-endian each).
    /// @param length The signature's length in bytes.
    /// @param expected The required length (96).
    error SignatureMalformed(uint256 length, uint256 expected);
    /// @notice The signature is the point at infinity.
    error SignatureAtInfinity();
    /// @notice The signature does not verify against the current group key for `message`
    ///         (wrong signer set, wrong message, or a point off the curve / outside G1).
    /// @param message The signed message the check used (`reportMessage` or `rotationMessage`).
    error SignatureInvalid(bytes32 message);
    /// @notice Too little gas left for the pairing check (a starved precompile would look like
    ///         an invalid signature): send the transaction with more gas.
    /// @param gasLeft Gas left before the check.
    /// @param needed Gas the check needs (`BLS.VERIFY_GAS`).
    error InsufficientGasForVerification(uint256 gasLeft, uint256 needed);
    /// @notice The feed id is already configured.
    /// @param feedId The feed id given.
    error FeedAlreadyExists(bytes32 feedId);
    /// @notice The hub's code-stored feed table is full.
    /// @param count Number of feeds the table would hold with the new ones.
    /// @param max The table's capacity (`MAX_FEEDS`).
    error TooManyFeeds(uint256 count, uint256 max);
    /// @notice `addFeeds` got a different number of ids and configurations.
    /// @param feedIds Number of feed ids given.
    /// @param configs Number of configurations given.
    error FeedBatchLengthMismatch(uint256 feedIds, uint256 configs);
    /// @notice minAnswer must be below maxAnswer.
    /// @param minAnswer The minAnswer given.
    /// @param maxAnswer The maxAnswer given.
    error InvalidBounds(int96 minAnswer, int96 maxAnswer);
    /// @notice maxStaleness must be positive.
    /// @param maxStaleness The maxStaleness given (0).
    error InvalidMaxStaleness(uint32 maxStaleness);
    /// @notice An enabled breaker needs at least one confirmation.
    /// @param deviationBps The deviationBps given (nonzero: breaker on).
    /// @param confirmations The confirmations given (0).
    error InvalidBreaker(uint16 deviationBps, uint8 confirmations);
    /// @notice The history ring's size is fixed when the feed is added.
    /// @param given The historyCapacity given.
    /// @param current The feed's historyCapacity, fixed by `addFeed`.
    error HistoryCapacityFixed(uint16 given, uint16 current);
    /// @notice Committee sizes: 1 ≤ n ≤ 256 and n/2 < t ≤ n.
    /// @param n The committee size given.
    /// @param t The threshold given.
    error InvalidCommittee(uint16 n, uint16 t);
    /// @notice The group key is not a valid G2 point in the subgroup, or is infinity.
    error InvalidGroupPublicKey();
    /// @notice The feed's breaker is not tripped; nothing to resolve.
    /// @param feedId The feed.
    error BreakerNotTripped(bytes32 feedId);
    /// @notice The guardian accepted a held candidate that the feed's current bounds exclude
    ///         (they were narrowed after the trip): an answer outside [minAnswer, maxAnswer] is
    ///         never served. Reject the candidate, or widen the bounds first.
    /// @param feedId The feed.
    /// @param candidate The held candidate.
    /// @param minAnswer The feed's current minAnswer.
    /// @param maxAnswer The feed's current maxAnswer.
    error CandidateOutOfBounds(bytes32 feedId, int256 candidate, int96 minAnswer, int96 maxAnswer);
    /// @notice The zero address is not a valid guardian.
    error ZeroGuardian();
    /// @notice A clock bound given at construction is out of range.
    /// @param name "maxFutureDrift" or "maxReportAge".
    /// @param given The value given, in seconds.
    /// @param max The largest value accepted, in seconds (`maxReportAge` must also be > 0).
    error InvalidClockBound(string name, uint256 given, uint256 max);
    /// @notice The report's epoch is ahead of the chain's clock: epochs are unix milliseconds
    ///         at most, so one report cannot take the epoch to a value no later report can beat.
    /// @param epoch The report's epoch.
    /// @param latestAllowed (block.timestamp + maxFutureDrift)·1000.
    error EpochAheadOfClock(uint64 epoch, uint256 latestAllowed);
    /// @notice The report was observed longer ago than `maxReportAge`: fetch a fresh report.
    /// @param observedAt The report's observedAt.
    /// @param oldestAllowed block.timestamp − maxReportAge.
    error ReportTooOld(uint64 observedAt, uint256 oldestAllowed);
    /// @notice `updateAndRead` would return a price older than the report the caller brought
    ///         (a newer report without this feed landed first, or the feed was skipped):
    ///         fetch the latest report and call again.
    /// @param feedId The feed read.
    /// @param servedObservedAt observedAt of the price the hub serves.
    /// @param reportObservedAt observedAt of the caller's report.
    error FeedNotUpdated(bytes32 feedId, uint256 servedObservedAt, uint64 reportObservedAt);

    // -- Events --

    /// @notice A report was accepted (its feeds are reported by `FeedUpdated` / `FeedSkipped`
    ///         / breaker events).
    /// @param transmitter The address that sent the report (`msg.sender`).
    /// @param epoch The report's epoch, now `latestEpoch`.
    /// @param observedAt The report's observedAt (unix seconds), that of every round it served.
    event ReportAccepted(address indexed transmitter, uint64 indexed epoch, uint64 observedAt);
    /// @notice A feed served a new round. Lean on purpose (one word of data, 1,381 gas): the
    ///         round id is `latestRoundId(feedId)` at that block (rounds are continuous) and
    ///         observedAt is the report's (`ReportAccepted` in the same transaction).
    /// @param feedId The feed.
    /// @param answer The served answer.
    event FeedUpdated(bytes32 indexed feedId, int256 answer);
    /// @notice A feed of an accepted report was not applied.
    /// @param feedId The feed.
    /// @param reason Why it was not applied.
    event FeedSkipped(bytes32 indexed feedId, SkipReason reason);
    /// @notice An accepted report suspended the feed (or renewed its suspension).
    /// @param feedId The feed.
    /// @param reason The signed reason code (see `IAegisFeeds.FeedSuspended`); the observation
    ///        time is the report's, in `ReportAccepted`.
    event CommitteeSuspendedFeed(bytes32 indexed feedId, uint32 reason);
    /// @notice A priced entry resumed a suspended feed within the breaker's limit.
    /// @param feedId The feed.
    /// @param roundId The new served round.
    /// @param answer Its answer.
    event FeedResumed(bytes32 indexed feedId, uint256 roundId, int256 answer);
    /// @notice The breaker tripped (or re-tripped to a new candidate); `served` is held.
    /// @param feedId The feed.
    /// @param served The answer still served (held).
    /// @param candidate The new candidate beyond `deviationBps` of it.
    /// @param observedAt The candidate's observedAt (unix seconds).
    event BreakerTripped(bytes32 indexed feedId, int256 served, int256 candidate, uint64 observedAt);
    /// @notice The candidate level held over the configured reports and time and is served.
    /// @param feedId The feed.
    /// @param roundId The new served round.
    /// @param answer Its answer (the confirmed level).
    event BreakerConfirmed(bytes32 indexed feedId, uint256 roundId, int256 answer);
    /// @notice While tripped, an answer within the limit of the held answer arrived and is served.
    /// @param feedId The feed.
    /// @param roundId The new served round.
    /// @param answer Its answer.
    event BreakerCleared(bytes32 indexed feedId, uint256 roundId, int256 answer);
    /// @notice The guardian accepted the candidate, now served.
    /// @param feedId The feed.
    /// @param guardian The guardian who accepted.
    /// @param roundId The new served round.
    /// @param answer Its answer (the candidate).
    event BreakerResolved(bytes32 indexed feedId, address indexed guardian, uint256 roundId, int256 answer);
    /// @notice The guardian rejected the candidate; the held answer stays served.
    /// @param feedId The feed.
    /// @param guardian The guardian who rejected.
    /// @param candidate The discarded candidate.
    event BreakerRejected(bytes32 indexed feedId, address indexed guardian, int256 candidate);
    /// @notice A feed was added.
    /// @param feedId The new feed.
    /// @param guardian The guardian who added it.
    /// @param historyCapacity Its history ring size, fixed from now on.
    event FeedAdded(bytes32 indexed feedId, address indexed guardian, uint16 historyCapacity);
    /// @notice A feed's configuration changed.
    /// @param feedId The feed.
    /// @param guardian The guardian who changed it (the new configuration is `feedConfig(feedId)`).
    event FeedConfigured(bytes32 indexed feedId, address indexed guardian);
    /// @notice The guardian paused or unpaused a feed.
    /// @param feedId The feed.
    /// @param guardian The guardian.
    /// @param paused True when now paused.
    event FeedPauseChanged(bytes32 indexed feedId, address indexed guardian, bool paused);
    /// @notice The guardian paused or unpaused the hub.
    /// @param guardian The guardian.
    /// @param paused True when now paused.
    event HubPauseChanged(address indexed guardian, bool paused);
    /// @notice The committee rotated with the previous committee's threshold signature.
    /// @param previousDigest The previous configDigest (0 at construction).
    /// @param configDigest The new configDigest.
    /// @param caller The address that sent the rotation (the deployer at construction).
    /// @param configVersion The new configuration version (1 at construction, +1 per rotation).
    /// @param n The new committee size.
    /// @param t The new threshold.
    event CommitteeRotated(
        bytes32 indexed previousDigest, bytes32 indexed configDigest, address indexed caller, uint64 configVersion, uint16 n, uint16 t
    );
    /// @notice The guardian role moved.
    /// @param previous The previous guardian.
    /// @param guardian The new guardian.
    event GuardianChanged(address indexed previous, address indexed guardian);

    // -- Reports --

    /// @notice Verifies and applies a report (push mode). See the contract header for what
    ///         reverts and what is skipped.
    /// @param report The report, as the committee signed it.
    /// @param signature The committee's threshold BLS signature over `reportMessage(report)`: a 96-byte G1 point (x‖y, 48-byte big-endian each).
    function transmit(Report calldata report, bytes calldata signature) external;

    /// @notice Pull mode: applies `report` if it is newer than the state (epoch above the
    ///         last), otherwise does nothing; then reads `feedId` exactly like `read`, and
    ///         reverts `FeedNotUpdated` unless the price read is at least as recent as the
    ///         report (observedAt): the caller gets the price it brought, a newer one, or a
    ///         revert, never silently an older one.
    /// @param report The report, as the committee signed it.
    /// @param signature The committee's threshold BLS signature over `reportMessage(report)`: a 96-byte G1 point (x‖y, 48-byte big-endian each).
    /// @param feedId The feed to read.
    /// @param maxAge The caller's maximum age in seconds, as in `read`.
    /// @return answer The answer, as `read` returns it.
    /// @return observedAt Its observation time (unix seconds).
    /// @return spreadBps Its spread in basis points.
    /// @return roundId Its round id.
    function updateAndRead(Report calldata report, bytes calldata signature, bytes32 feedId, uint256 maxAge)
        external
        returns (int256 answer, uint256 observedAt, uint256 spreadBps, uint256 roundId);

    /// @notice Checks digest and signature of `report` without applying it; reverts with the
    ///         same errors as `transmit` and returns the signed message.
    /// @param report The report, as the committee signed it.
    /// @param signature The committee's threshold BLS signature over `reportMessage(report)`: a 96-byte G1 point (x‖y, 48-byte big-endian each).
    /// @return message The signed message (`reportMessage(report)`).
    function verifyReport(Report calldata report, bytes calldata signature) external view returns (bytes32 message);

    /// @notice keccak256(abi.encode("AEGIS_REPORT_V1", configDigest, epoch, observedAt,
    ///         observationsRoot, observers, feedIds, answers, spreadBps)).
    /// @param report The report.
    function reportMessage(Report calldata report) external pure returns (bytes32);

    // -- Committee --

    /// @notice keccak256(abi.encode("AEGIS_CONFIG_V1", block.chainid, address(this),
    ///         configVersion, groupPublicKey, n, t)).
    /// @param configVersion The configuration version (1 for the first committee).
    /// @param groupPublicKey The group key, a 256-byte EIP-2537 G2 point.
    /// @param n The committee size.
    /// @param t The threshold.
    function computeConfigDigest(uint64 configVersion, bytes calldata groupPublicKey, uint16 n, uint16 t)
        external
        view
        returns (bytes32);

    /// @notice The message the current committee signs to hand over to `next`:
    ///         keccak256(abi.encode("AEGIS_ROTATE_V1", currentDigest, nextDigest)), where
    ///         nextDigest is the digest of `next` at configVersion + 1.
    /// @param next The next committee.
    /// @return message The message to sign.
    /// @return nextDigest `next`'s configDigest.
    function rotationMessage(CommitteeConfig calldata next) external view returns (bytes32 message, bytes32 nextDigest);

    /// @notice Replaces the committee, authorised by the current committee's threshold
    ///         signature over `rotationMessage(next)`. Resets the epoch (new digest); round ids
    ///         continue; reports of the old configuration are rejected afterwards.
    /// @param next The next committee.
    /// @param signature The current committee's threshold BLS signature over `rotationMessage(next)` (96 bytes).
    function rotateCommittee(CommitteeConfig calldata next, bytes calldata signature) external;

    /// @notice The current committee.
    function committee() external view returns (Committee memory);

    /// @notice The current configDigest.
    function configDigest() external view returns (bytes32);

    /// @notice The last accepted epoch for the current configDigest.
    function latestEpoch() external view returns (uint64);

    // -- Feeds --

    /// @notice Whether a report carrying `answer` for `feedId` would be served now: the feed
    ///         exists, neither it nor the hub is paused, its breaker is not tripped, the answer
    ///         is within [minAnswer, maxAnswer] and within `deviationBps` of the served answer
    ///         (or it would be the first round). Consumers that take prices from signed reports
    ///         without posting them (settlement proposals) apply the breaker with it.
    /// @param feedId The feed.
    /// @param answer The answer a report carries for it.
    function wouldServe(bytes32 feedId, int256 answer) external view returns (bool);

    /// @notice The feed's configuration; reverts `FeedUnknown`.
    /// @param feedId The feed id: its name as a `bytes32` string, e.g. "ETH/USD".
    function feedConfig(bytes32 feedId) external view returns (FeedConfig memory);

    /// @notice All configured feed ids, in table order.
    function feedIds() external view returns (bytes32[] memory);

    /// @notice The breaker's state: tripped, candidate, its first observedAt, the last
    ///         confirming observedAt and the confirmations counted so far.
    /// @param feedId The feed id: its name as a `bytes32` string, e.g. "ETH/USD".
    /// @return tripped Whether the breaker holds a candidate.
    /// @return candidate The held candidate (0 when not tripped).
    /// @return since The candidate's first observedAt (the trip).
    /// @return lastAt The observedAt of the last confirming report.
    /// @return confirmationsSeen Confirming reports counted so far.
    function breakerState(bytes32 feedId)
        external
        view
        returns (bool tripped, int256 candidate, uint64 since, uint64 lastAt, uint8 confirmationsSeen);

    // -- Guardian --

    /// @notice The guardian: configures feeds, pauses, resolves breakers, hands its role on.
    function guardian() external view returns (address);
    /// @notice Whether the guardian paused the hub (every report then reverts `HubIsPaused`
    ///         and every feed reads as paused: `read` reverts `FeedPaused`).
    function paused() external view returns (bool);
    /// @notice Seconds a report's observedAt may lead block.timestamp (≤ 1 day).
    function maxFutureDrift() external view returns (uint256);
    /// @notice Seconds a report's observedAt may lag block.timestamp at acceptance (≤ 1 day).
    function maxReportAge() external view returns (uint256);

    /// @notice Adds a feed and pre-initialises its history ring (steady-state writes are then
    ///         nonzero to nonzero).
    /// @param feedId The feed id: its name as a `bytes32` string, e.g. "ETH/USD". Not configured yet.
    /// @param config Its configuration (checked: bounds, staleness, breaker).
    function addFeed(bytes32 feedId, FeedConfig calldata config) external;
    /// @notice Adds several feeds in one transaction, each exactly as `addFeed` would (same
    ///         checks, events and history pre-initialisation), rewriting the code-stored feed
    ///         table once instead of once per feed.
    /// @param feedIds The new feeds' ids, none configured yet.
    /// @param configs Their configurations, in the same order.
    function addFeeds(bytes32[] calldata feedIds, FeedConfig[] calldata configs) external;

    /// @notice Changes a feed's configuration (not its history capacity).
    /// @param feedId The feed id: its name as a `bytes32` string, e.g. "ETH/USD".
    /// @param config The new configuration; its historyCapacity must equal the current one.
    function configureFeed(bytes32 feedId, FeedConfig calldata config) external;

    /// @notice Pauses or unpauses one feed: while paused its entries are skipped
    ///         (`FeedSkipped` with `FeedPaused`) and reads revert `FeedPaused`.
    /// @param feedId The feed id: its name as a `bytes32` string, e.g. "ETH/USD".
    /// @param paused True to pause, false to unpause.
    function setFeedPaused(bytes32 feedId, bool paused) external;
    /// @notice Pauses the hub: until `unpause`, every report reverts `HubIsPaused` and every
    ///         feed reads as paused (`read` reverts `FeedPaused`, `tryRead` says `Paused`).
    function pause() external;
    /// @notice Unpauses the hub.
    function unpause() external;

    /// @notice Accepts (serves) or rejects the held candidate of a tripped feed.
    /// @param feedId The feed id: its name as a `bytes32` string, e.g. "ETH/USD".
    /// @param accept True to serve the candidate (within the current bounds), false to discard it.
    function resolveBreaker(bytes32 feedId, bool accept) external;

    /// @notice Hands the guardian role to another address (not the zero address).
    /// @param guardian The new guardian.
    function setGuardian(address guardian) external;
}
