// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IAegisHub} from "./interfaces/IAegisHub.sol";
import {IAegisFeeds} from "./interfaces/IAegisFeeds.sol";
import {BLS} from "./libs/BLS.sol";
import {CodeBlob} from "./libs/CodeBlob.sol";
import {Multicall} from "@openzeppelin/contracts/utils/Multicall.sol";

/// @title AegisHub
/// @notice Threshold-BLS price hub: verifies committee reports with one pairing check (gas
///         constant in the committee size), serves feeds with deviation circuit breakers and a
///         bounded history, and rotates its committee only with the current committee's
///         signature. See IAegisHub for the revert-versus-skip rules. `multicall` (OpenZeppelin)
///         runs several of its own calls in one transaction with the caller kept, so a guardian
///         configures many feeds at once (`aegis hub apply`); nothing here is payable, so a
///         batch cannot reuse one msg.value.
/// @dev Storage layout rationale (steady-state `transmit` touches, per report: one hub slot and
///      one cold code blob; per feed: one hot slot and one history slot):
///      - `_hub` (1 slot): blob address ‖ last epoch ‖ paused. Read and written once per report.
///      - Code blob (CodeBlob, rewritten by rotation and feed configuration): configDigest,
///        the 256-byte group key, version/n/t, then one 32-byte word per feed with what
///        transmit needs (bounds, breaker parameters, history capacity). One EXTCODECOPY
///        (2,600 cold) replaces 9 cold SLOADs for the committee and one cold SLOAD per feed.
///      - `_state[feed]` (1 slot): answer int128 ‖ observedAt uint40 ‖ roundId uint32 ‖
///        spreadBps uint32 ‖ flags ‖ table index. Read and written once per feed (5,000).
///      - `_history[feed][roundId % capacity]` (1 slot per round): answer ‖ observedAt ‖
///        spreadBps ‖ marker bit, pre-initialised by `addFeed` so steady-state writes are
///        nonzero → nonzero (5,000 cold).
///      - `_breaker[feed]` (1 slot): candidate ‖ since ‖ lastAt ‖ spread ‖ count; touched only
///        while tripping or tripped.
///      - `_config[feed]`: the full FeedConfig for reads and governance (maxStaleness is in
///        its first slot, so `read` costs two cold SLOADs).
///      Answers are bounded by int96 min/max, so they fit the int128 fields.
contract AegisHub is IAegisHub, Multicall {
    // -- Constants --

    string internal constant CONFIG_DOMAIN = "AEGIS_CONFIG_V1";
    string internal constant REPORT_DOMAIN = "AEGIS_REPORT_V1";
    string internal constant ROTATION_DOMAIN = "AEGIS_ROTATE_V1";

    /// @dev Blob layout: [0,32) digest ‖ [32,288) key ‖ [288,320) meta ‖ [320 + 32·i) feed i.
    uint256 private constant BLOB_KEY = 32;
    uint256 private constant BLOB_META = 288;
    uint256 private constant BLOB_TABLE = 320;
    /// @notice The most feeds one hub holds: the code-stored feed table takes one word per feed
    ///         after the blob's header, within the EIP-170 code size limit.
    uint256 public constant MAX_FEEDS = (CodeBlob.MAX_LENGTH - BLOB_TABLE) / 32;
    /// @notice Upper bound of `maxFutureDrift` and `maxReportAge` (one day). observedAt is
    ///         packed into 40 bits; with the drift bounded, every accepted observedAt stays far
    ///         below 2^40, and no configuration can make the hub accept a report from far
    ///         outside the chain's clock.
    uint256 public constant MAX_CLOCK_BOUND = 1 days;

    /// @dev `_hub` bits.
    uint256 private constant EPOCH_SHIFT = 160;
    uint256 private constant EPOCH_MASK = uint256(type(uint64).max) << EPOCH_SHIFT;
    uint256 private constant HUB_PAUSED = 1 << 224;

    /// @dev `_state` bits: answer [0,128) observedAt [128,168) round [168,200) spread [200,232)
    ///      flags [232,240) index [240,256).
    uint256 private constant S_OBSERVED = 128;
    uint256 private constant S_ROUND = 168;
    uint256 private constant S_SPREAD = 200;
    uint256 private constant S_FLAGS = 232;
    uint256 private constant S_INDEX = 240;
    uint256 private constant F_EXISTS = 1 << S_FLAGS;
    uint256 private constant F_PAUSED = 2 << S_FLAGS;
    uint256 private constant F_TRIPPED = 4 << S_FLAGS;
    /// @dev Suspended by the committee (docs/suspension.md). While set, the state's observedAt
    ///      is the latest suspension's (the ordering point for the next entry) and its spread is
    ///      the reason code; the served round's own observedAt and spread are in the history
    ///      ring (or, with no ring, in `_breaker`), see `_servedRound`. Any flag besides
    ///      F_EXISTS sends a feed off the steady-state path, so suspension adds nothing to it.
    uint256 private constant F_SUSPENDED = 8 << S_FLAGS;
    uint256 private constant S_OBSERVED_MASK = uint256(type(uint40).max) << S_OBSERVED;
    uint256 private constant S_SPREAD_MASK = uint256(type(uint32).max) << S_SPREAD;
    /// @dev The answer of a suspension entry: int192's minimum, outside every int96 bound, so
    ///      the steady-state path's bounds check sends it to `_apply`.
    int256 private constant SUSPENDED_ANSWER = type(int192).min;
    /// @dev Keeps flags and index when a new round is written.
    uint256 private constant S_KEEP = ((1 << 24) - 1) << S_FLAGS;

    /// @dev Feed table word bits: min int96 [0,96) max int96 [96,192) deviationBps [192,208)
    ///      confirmations [208,216) confirmationTime [216,240) historyCapacity [240,256).

    /// @dev `_history` entry: answer [0,128) observedAt [128,168) spread [168,200), bit 255 set.
    uint256 private constant H_MARKER = 1 << 255;

    /// @dev `_breaker` bits: candidate [0,128) since [128,168) lastAt [168,208) spread [208,240)
    ///      count [240,248).

    // -- Immutables --

    /// @inheritdoc IAegisHub
    uint256 public immutable maxFutureDrift;
    /// @inheritdoc IAegisHub
    uint256 public immutable maxReportAge;

    // -- Storage --

    /// @dev blob address ‖ last epoch ‖ paused (see header).
    uint256 private _hub;
    /// @inheritdoc IAegisHub
    address public guardian;
    bytes32[] private _feedList;
    mapping(bytes32 feedId => uint256 packed) private _state;
    mapping(bytes32 feedId => uint256 packed) private _breaker;
    mapping(bytes32 feedId => FeedConfig) private _config;
    mapping(bytes32 feedId => uint256[65536] ring) private _history;

    // -- Modifiers --

    modifier onlyGuardian() {
        if (msg.sender != guardian) revert NotGuardian(msg.sender, guardian);
        _;
    }

    // -- Construction --

    /// @param guardian_ Configures feeds, pauses, resolves breakers (a timelocked multisig).
    /// @param maxFutureDrift_ Seconds a report's observedAt may lead block.timestamp (at most
    ///        `MAX_CLOCK_BOUND`); also bounds epochs, which are unix milliseconds at most.
    /// @param maxReportAge_ Seconds a report's observedAt may lag block.timestamp when it is
    ///        accepted (1 to `MAX_CLOCK_BOUND`).
    /// @param initial The first committee (configVersion 1).
    constructor(address guardian_, uint256 maxFutureDrift_, uint256 maxReportAge_, CommitteeConfig memory initial) {
        if (guardian_ == address(0)) revert ZeroGuardian();
        if (maxFutureDrift_ > MAX_CLOCK_BOUND) revert InvalidClockBound("maxFutureDrift", maxFutureDrift_, MAX_CLOCK_BOUND);
        if (maxReportAge_ == 0 || maxReportAge_ > MAX_CLOCK_BOUND) {
            revert InvalidClockBound("maxReportAge", maxReportAge_, MAX_CLOCK_BOUND);
        }
        _checkCommittee(initial.groupPublicKey, initial.n, initial.t);
        guardian = guardian_;
        maxFutureDrift = maxFutureDrift_;
        maxReportAge = maxReportAge_;
        bytes32 digest = _configDigest(1, initial.groupPublicKey, initial.n, initial.t);
        _hub = uint160(_writeBlob(digest, initial.groupPublicKey, 1, initial.n, initial.t, ""));
        emit GuardianChanged(address(0), guardian_);
        emit CommitteeRotated(bytes32(0), digest, msg.sender, 1, initial.n, initial.t);
    }

    // -- Reports --

    /// @inheritdoc IAegisHub
    function transmit(Report calldata report, bytes calldata signature) external {
        _transmit(report, signature, false);
    }

    /// @inheritdoc IAegisHub
    function updateAndRead(Report calldata report, bytes calldata signature, bytes32 feedId, uint256 maxAge)
        external
        returns (int256 answer, uint256 observedAt, uint256 spreadBps, uint256 roundId)
    {
        _transmit(report, signature, true);
        (answer, observedAt, spreadBps, roundId) = _read(feedId, maxAge);
        // A newer report that omits this feed (or skips it) may have landed first and turned
        // this report into a no-op: the caller then gets a revert, never an older price than
        // the one it brought (docs/design.md §Hub: consumers never pick among signed prices).
        if (observedAt < report.observedAt) revert FeedNotUpdated(feedId, observedAt, report.observedAt);
    }

    /// @inheritdoc IAegisHub
    function verifyReport(Report calldata report, bytes calldata signature) external view returns (bytes32 message) {
        address blob = address(uint160(_hub));
        uint256 header = _loadHeader(blob);
        _checkDigest(report.configDigest, header);
        message = _hashReport(report, report.feedIds, report.answers, report.spreadBps);
        _verifySignature(header, signature, message);
    }

    /// @inheritdoc IAegisHub
    function reportMessage(Report calldata r) public pure returns (bytes32) {
        return _hashReport(r, r.feedIds, r.answers, r.spreadBps);
    }

    // -- Committee --

    /// @inheritdoc IAegisHub
    function computeConfigDigest(uint64 configVersion, bytes calldata groupPublicKey, uint16 n, uint16 t)
        external
        view
        returns (bytes32)
    {
        return _configDigest(configVersion, groupPublicKey, n, t);
    }

    /// @inheritdoc IAegisHub
    function rotationMessage(CommitteeConfig calldata next) public view returns (bytes32 message, bytes32 nextDigest) {
        address blob = address(uint160(_hub));
        uint256 meta = CodeBlob.word(blob, BLOB_META);
        nextDigest = _configDigest(uint64(meta >> 32) + 1, next.groupPublicKey, next.n, next.t);
        message = keccak256(abi.encode(ROTATION_DOMAIN, bytes32(CodeBlob.word(blob, 0)), nextDigest));
    }

    /// @inheritdoc IAegisHub
    function rotateCommittee(CommitteeConfig calldata next, bytes calldata signature) external {
        _checkCommittee(next.groupPublicKey, next.n, next.t);
        uint256 hub = _hub;
        address blob = address(uint160(hub));
        uint256 header = _loadHeader(blob);
        (bytes32 message, bytes32 nextDigest) = rotationMessage(next);
        _verifySignature(header, signature, message);
        bytes32 previous;
        assembly ("memory-safe") {
            previous := mload(header)
        }
        uint64 version = uint64(CodeBlob.word(blob, BLOB_META) >> 32) + 1;
        bytes memory table = CodeBlob.read(blob, BLOB_TABLE, _feedList.length * 32);
        address newBlob = _writeBlob(nextDigest, next.groupPublicKey, version, next.n, next.t, table);
        // New digest: epochs restart; pause state is kept; feed state (round ids) untouched.
        _hub = (hub & HUB_PAUSED) | uint160(newBlob);
        emit CommitteeRotated(previous, nextDigest, msg.sender, version, next.n, next.t);
    }

    /// @inheritdoc IAegisHub
    function committee() external view returns (Committee memory c) {
        address blob = address(uint160(_hub));
        uint256 meta = CodeBlob.word(blob, BLOB_META);
        c.configDigest = bytes32(CodeBlob.word(blob, 0));
        c.configVersion = uint64(meta >> 32);
        c.n = uint16(meta >> 16);
        c.t = uint16(meta);
        c.groupPublicKey = CodeBlob.read(blob, BLOB_KEY, 256);
        c.blob = blob;
    }

    /// @inheritdoc IAegisHub
    function configDigest() external view returns (bytes32) {
        return bytes32(CodeBlob.word(address(uint160(_hub)), 0));
    }

    /// @inheritdoc IAegisHub
    function latestEpoch() external view returns (uint64) {
        return uint64(_hub >> EPOCH_SHIFT);
    }

    // -- Reads (IAegisFeeds) --

    /// @inheritdoc IAegisFeeds
    function read(bytes32 feedId, uint256 maxAge)
        external
        view
        returns (int256 answer, uint256 observedAt, uint256 spreadBps, uint256 roundId)
    {
        return _read(feedId, maxAge);
    }

    /// @inheritdoc IAegisFeeds
    function tryRead(bytes32 feedId)
        external
        view
        returns (int256 answer, uint256 observedAt, uint256 spreadBps, uint256 roundId, FeedStatus status)
    {
        uint256 s = _state[feedId];
        if (s & F_EXISTS == 0) return (0, 0, 0, 0, FeedStatus.Unknown);
        (answer, observedAt, roundId, spreadBps) = _unpackState(s);
        if (s & F_SUSPENDED != 0) (observedAt, spreadBps) = _servedRound(feedId, s, _config[feedId].historyCapacity);
        if (s & F_PAUSED != 0 || _hub & HUB_PAUSED != 0) status = FeedStatus.Paused;
        else if (s & F_SUSPENDED != 0) status = FeedStatus.Suspended;
        else if (s & F_TRIPPED != 0) status = FeedStatus.Tripped;
        else if (roundId == 0 || _age(observedAt) > _config[feedId].maxStaleness) status = FeedStatus.Stale;
        else status = FeedStatus.Active;
    }

    /// @inheritdoc IAegisFeeds
    function getRound(bytes32 feedId, uint256 roundId)
        external
        view
        returns (int256 answer, uint256 observedAt, uint256 spreadBps)
    {
        uint256 s = _state[feedId];
        if (s & F_EXISTS == 0) revert FeedUnknown(feedId);
        uint256 latest = uint32(s >> S_ROUND);
        if (roundId == 0 || roundId > latest) revert RoundNotFound(feedId, roundId);
        if (roundId == latest) {
            (answer, observedAt,, spreadBps) = _unpackState(s);
            if (s & F_SUSPENDED != 0) (observedAt, spreadBps) = _servedRound(feedId, s, _config[feedId].historyCapacity);
            return (answer, observedAt, spreadBps);
        }
        uint256 capacity = _config[feedId].historyCapacity;
        if (latest - roundId >= capacity) revert RoundNotFound(feedId, roundId);
        uint256 h = _history[feedId][roundId % capacity];
        return (int256(int128(uint128(h))), uint40(h >> 128), uint32(h >> 168));
    }

    /// @inheritdoc IAegisFeeds
    function latestRoundId(bytes32 feedId) external view returns (uint256) {
        uint256 s = _state[feedId];
        if (s & F_EXISTS == 0) revert FeedUnknown(feedId);
        return uint32(s >> S_ROUND);
    }

    /// @inheritdoc IAegisFeeds
    function decimals(bytes32 feedId) external view returns (uint8) {
        if (_state[feedId] & F_EXISTS == 0) revert FeedUnknown(feedId);
        return _config[feedId].decimals;
    }

    /// @inheritdoc IAegisFeeds
    function description(bytes32 feedId) external view returns (string memory) {
        if (_state[feedId] & F_EXISTS == 0) revert FeedUnknown(feedId);
        return _config[feedId].description;
    }

    /// @inheritdoc IAegisHub
    function wouldServe(bytes32 feedId, int256 answer) external view returns (bool) {
        uint256 s = _state[feedId];
        if (s & (F_EXISTS | F_PAUSED | F_TRIPPED) != F_EXISTS || _hub & HUB_PAUSED != 0) return false;
        FeedConfig storage config = _config[feedId];
        if (answer < config.minAnswer || answer > config.maxAnswer) return false;
        if (uint32(s >> S_ROUND) == 0) return true;
        return !_deviates(answer, int128(uint128(s)), config.deviationBps);
    }

    /// @inheritdoc IAegisHub
    function feedConfig(bytes32 feedId) external view returns (FeedConfig memory) {
        if (_state[feedId] & F_EXISTS == 0) revert FeedUnknown(feedId);
        return _config[feedId];
    }

    /// @inheritdoc IAegisHub
    function feedIds() external view returns (bytes32[] memory) {
        return _feedList;
    }

    /// @inheritdoc IAegisHub
    function breakerState(bytes32 feedId)
        external
        view
        returns (bool tripped, int256 candidate, uint64 since, uint64 lastAt, uint8 confirmationsSeen)
    {
        uint256 s = _state[feedId];
        if (s & F_EXISTS == 0) revert FeedUnknown(feedId);
        tripped = s & F_TRIPPED != 0;
        if (!tripped) return (false, 0, 0, 0, 0);
        uint256 b = _breaker[feedId];
        return (true, int256(int128(uint128(b))), uint40(b >> 128), uint40(b >> 168), uint8(b >> 240));
    }

    /// @inheritdoc IAegisHub
    function paused() external view returns (bool) {
        return _hub & HUB_PAUSED != 0;
    }

    // -- Guardian --

    /// @inheritdoc IAegisHub
    function addFeed(bytes32 feedId, FeedConfig calldata config) external onlyGuardian {
        uint256 index = _feedList.length;
        if (index >= MAX_FEEDS) revert TooManyFeeds(index + 1, MAX_FEEDS);
        uint256 entry = _storeNewFeed(feedId, config, index);
        _rewriteTable(index, entry);
    }

    /// @inheritdoc IAegisHub
    function addFeeds(bytes32[] calldata feedIds, FeedConfig[] calldata configs) external onlyGuardian {
        uint256 count = feedIds.length;
        if (count != configs.length) revert FeedBatchLengthMismatch(count, configs.length);
        uint256 first = _feedList.length;
        if (first + count > MAX_FEEDS) revert TooManyFeeds(first + count, MAX_FEEDS);
        uint256 hub = _hub;
        // The table grows by one word per feed; the blob is read once and written once.
        bytes memory data = new bytes(BLOB_TABLE + (first + count) * 32);
        bytes memory old = CodeBlob.read(address(uint160(hub)), 0, BLOB_TABLE + first * 32);
        assembly ("memory-safe") {
            mcopy(add(data, 32), add(old, 32), mload(old))
        }
        for (uint256 k = 0; k < count; ++k) {
            uint256 entry = _storeNewFeed(feedIds[k], configs[k], first + k);
            assembly ("memory-safe") {
                mstore(add(add(data, 32), add(BLOB_TABLE, shl(5, add(first, k)))), entry)
            }
        }
        _hub = (hub & ~uint256(type(uint160).max)) | uint160(CodeBlob.write(data));
    }

    /// @inheritdoc IAegisHub
    function configureFeed(bytes32 feedId, FeedConfig calldata config) external onlyGuardian {
        uint256 s = _state[feedId];
        if (s & F_EXISTS == 0) revert FeedUnknown(feedId);
        uint16 capacity = _config[feedId].historyCapacity;
        if (config.historyCapacity != capacity) revert HistoryCapacityFixed(config.historyCapacity, capacity);
        uint256 entry = _checkFeedConfig(config);
        _config[feedId] = config;
        _rewriteTable(s >> S_INDEX, entry);
        emit FeedConfigured(feedId, msg.sender);
    }

    /// @inheritdoc IAegisHub
    function setFeedPaused(bytes32 feedId, bool paused_) external onlyGuardian {
        uint256 s = _state[feedId];
        if (s & F_EXISTS == 0) revert FeedUnknown(feedId);
        _state[feedId] = paused_ ? s | F_PAUSED : s & ~F_PAUSED;
        emit FeedPauseChanged(feedId, msg.sender, paused_);
    }

    /// @inheritdoc IAegisHub
    function pause() external onlyGuardian {
        _hub |= HUB_PAUSED;
        emit HubPauseChanged(msg.sender, true);
    }

    /// @inheritdoc IAegisHub
    function unpause() external onlyGuardian {
        _hub &= ~HUB_PAUSED;
        emit HubPauseChanged(msg.sender, false);
    }

    /// @inheritdoc IAegisHub
    function resolveBreaker(bytes32 feedId, bool accept) external onlyGuardian {
        uint256 s = _state[feedId];
        if (s & F_EXISTS == 0) revert FeedUnknown(feedId);
        if (s & F_TRIPPED == 0) revert BreakerNotTripped(feedId);
        uint256 b = _breaker[feedId];
        int256 candidate = int256(int128(uint128(b)));
        if (accept) {
            FeedConfig storage config = _config[feedId];
            // Bounds may have narrowed since the trip; the candidate was checked against the old ones.
            (int96 minAnswer, int96 maxAnswer) = (config.minAnswer, config.maxAnswer);
            if (candidate < minAnswer || candidate > maxAnswer) {
                revert CandidateOutOfBounds(feedId, candidate, minAnswer, maxAnswer);
            }
            uint256 capacity = config.historyCapacity;
            uint256 round = _serve(feedId, s & ~F_TRIPPED, candidate, uint40(b >> 128), uint32(b >> 208), capacity);
            emit BreakerResolved(feedId, msg.sender, round, candidate);
        } else {
            _state[feedId] = s & ~F_TRIPPED;
            emit BreakerRejected(feedId, msg.sender, candidate);
        }
    }

    /// @inheritdoc IAegisHub
    function setGuardian(address guardian_) external onlyGuardian {
        if (guardian_ == address(0)) revert ZeroGuardian();
        emit GuardianChanged(guardian, guardian_);
        guardian = guardian_;
    }

    // -- Internals: reports --

    /// @dev Checks, verifies and applies a report. In pull mode an epoch at or below the last
    ///      is a no-op (returns false) instead of a revert.
    function _transmit(Report calldata r, bytes calldata signature, bool pull) private returns (bool applied) {
        uint256 hub = _hub;
        if (hub & HUB_PAUSED != 0) revert HubIsPaused();
        address blob = address(uint160(hub));
        uint256 header = _loadHeader(blob);
        _checkDigest(r.configDigest, header);
        uint64 last = uint64(hub >> EPOCH_SHIFT);
        if (r.epoch <= last) {
            if (pull) return false;
            revert EpochNotAboveLast(r.epoch, last);
        }
        uint256 observedAt = r.observedAt;
        // Cannot overflow: block.timestamp and the immutables (≤ MAX_CLOCK_BOUND) are far
        // below 2^200.
        unchecked {
            // Epochs are unix milliseconds at most (docs/design.md §Epochs and the clock): one
            // report cannot move the epoch past the chain's clock, so no signed epoch can halt
            // the hub by taking the last epoch to 2^64 − 1.
            uint256 latestEpoch = (block.timestamp + maxFutureDrift) * 1000;
            if (r.epoch > latestEpoch) revert EpochAheadOfClock(r.epoch, latestEpoch);
            if (observedAt > block.timestamp + maxFutureDrift) {
                revert ObservedAtInFuture(r.observedAt, block.timestamp + maxFutureDrift);
            }
            // A report older than the bound is refused, so a poster cannot keep a stock of
            // signed reports and pick the one that suits it long after they were observed.
            if (observedAt + maxReportAge < block.timestamp) {
                revert ReportTooOld(r.observedAt, block.timestamp - maxReportAge);
            }
        }
        bytes32[] calldata ids = r.feedIds;
        int192[] calldata answers = r.answers;
        uint32[] calldata spreads = r.spreadBps;
        uint256 count = ids.length;
        if (answers.length != count || spreads.length != count) {
            revert ReportLengthMismatch(count, answers.length, spreads.length);
        }
        if (count == 0) revert EmptyReport();
        _verifySignature(header, signature, _hashReport(r, ids, answers, spreads));
        _hub = (hub & ~EPOCH_MASK) | (uint256(r.epoch) << EPOCH_SHIFT);
        emit ReportAccepted(msg.sender, r.epoch, r.observedAt);

        bytes32 updatedTopic = FeedUpdated.selector;
        uint256 keepMask = S_KEEP;
        uint256 marker = H_MARKER;
        for (uint256 i = 0; i < count;) {
            // Steady-state fast path, equivalent to `_apply` when the feed exists, is neither
            // paused nor tripped, the answer is within bounds and the limit (or it is the first
            // round), observedAt is newer and spreadBps fits uint32. Raw calldata words are safe
            // here: a word within the int96 bounds is a valid int192, and anything else takes
            // the slow path, whose ABI decoding rejects malformed values.
            bool done;
            assembly ("memory-safe") {
                let o := shl(5, i)
                let id := calldataload(add(ids.offset, o))
                let a := calldataload(add(answers.offset, o))
                let sp := calldataload(add(spreads.offset, o))
                mstore(0x00, id)
                mstore(0x20, _state.slot)
                let slot := keccak256(0x00, 0x40)
                let st := sload(slot)
                if eq(and(shr(S_FLAGS, st), 0xff), 1) {
                    extcodecopy(blob, 0x00, add(add(BLOB_TABLE, 1), shl(5, shr(S_INDEX, st))), 32)
                    let cfg := mload(0x00)
                    let inBounds := iszero(or(slt(a, signextend(11, cfg)), sgt(a, signextend(11, shr(96, cfg)))))
                    let newer := gt(observedAt, and(shr(S_OBSERVED, st), 0xffffffffff))
                    if and(and(inBounds, newer), lt(sp, 0x100000000)) {
                        let served := signextend(15, st)
                        let diff := sub(a, served)
                        if slt(diff, 0) { diff := sub(0, diff) }
                        let base := served
                        if slt(base, 0) { base := sub(0, base) }
                        let dev := and(shr(192, cfg), 0xffff)
                        let round := and(shr(S_ROUND, st), 0xffffffff)
                        if or(or(iszero(dev), iszero(round)), iszero(gt(mul(diff, 10000), mul(dev, base)))) {
                            round := add(round, 1)
                            let body := or(and(a, 0xffffffffffffffffffffffffffffffff), shl(S_OBSERVED, observedAt))
                            sstore(slot, or(or(and(st, keepMask), body), or(shl(S_ROUND, round), shl(S_SPREAD, sp))))
                            let cap := shr(240, cfg)
                            if cap {
                                mstore(0x00, id) // 0x00 held the table word
                                mstore(0x20, _history.slot)
                                sstore(add(keccak256(0x00, 0x40), mod(round, cap)), or(marker, or(body, shl(168, sp))))
                            }
                            mstore(0x00, a)
                            log2(0x00, 0x20, updatedTopic, id)
                            done := 1
                        }
                    }
                }
            }
            if (!done) _apply(blob, ids[i], answers[i], spreads[i], observedAt);
            // Cannot overflow: i < count ≤ calldata size.
            unchecked {
                ++i;
            }
        }
        return true;
    }

    /// @dev reportMessage without abi.encode's per-element copying: the message encoding is
    ///      built in scratch memory with calldatacopy. Layout of abi.encode("AEGIS_REPORT_V1",
    ///      digest, epoch, observedAt, root, observers, feedIds, answers, spreadBps): 9 head
    ///      words (offsets 0x120 for the string, 0x160 / 0x180+32n / 0x1a0+64n for the arrays),
    ///      the string (length 15 and one data word), then each array as length ‖ elements.
    ///      Field values are copied raw; the ABI decoder validates them where the hub uses them.
    function _hashReport(
        Report calldata r,
        bytes32[] calldata ids,
        int192[] calldata answers,
        uint32[] calldata spreads
    ) private pure returns (bytes32 message) {
        assembly ("memory-safe") {
            let m := mload(0x40) // scratch, not allocated
            let n1 := ids.length
            let n2 := answers.length
            let n3 := spreads.length
            mstore(m, 0x120)
            calldatacopy(add(m, 0x20), r, 0xa0)
            mstore(add(m, 0xc0), 0x160)
            let o2 := add(0x180, shl(5, n1))
            let o3 := add(add(o2, 0x20), shl(5, n2))
            mstore(add(m, 0xe0), o2)
            mstore(add(m, 0x100), o3)
            mstore(add(m, 0x120), 15)
            mstore(add(m, 0x140), "AEGIS_REPORT_V1")
            mstore(add(m, 0x160), n1)
            calldatacopy(add(m, 0x180), ids.offset, shl(5, n1))
            mstore(add(m, o2), n2)
            calldatacopy(add(add(m, o2), 0x20), answers.offset, shl(5, n2))
            mstore(add(m, o3), n3)
            calldatacopy(add(add(m, o3), 0x20), spreads.offset, shl(5, n3))
            message := keccak256(m, add(add(o3, 0x20), shl(5, n3)))
        }
    }

    /// @dev Applies one feed of an accepted report: skip, serve, trip, confirm or clear.
    ///      The steady path (untripped, in bounds, newer, within the limit) is one SLOAD and
    ///      two SSTOREs with slots computed once.
    function _apply(address blob, bytes32 feedId, int256 answer, uint256 spread, uint256 observedAt) private {
        uint256 stateSlot;
        uint256 s;
        assembly ("memory-safe") {
            mstore(0x00, feedId)
            mstore(0x20, _state.slot)
            stateSlot := keccak256(0x00, 0x40)
            s := sload(stateSlot)
        }
        if (s & (F_EXISTS | F_PAUSED) != F_EXISTS) {
            emit FeedSkipped(feedId, s & F_EXISTS == 0 ? SkipReason.UnknownFeed : SkipReason.FeedPaused);
            return;
        }
        uint256 cfg;
        assembly ("memory-safe") {
            extcodecopy(blob, 0x00, add(add(BLOB_TABLE, 1), shl(5, shr(S_INDEX, s))), 32)
            cfg := mload(0x00)
        }
        if (answer == SUSPENDED_ANSWER) {
            _suspend(feedId, stateSlot, s, spread, observedAt, cfg >> 240);
            return;
        }
        if (answer < int96(uint96(cfg)) || answer > int96(uint96(cfg >> 96))) {
            emit FeedSkipped(feedId, SkipReason.OutOfBounds);
            return;
        }
        uint256 deviationBps = uint16(cfg >> 192);
        int256 served = int128(uint128(s));
        if (s & F_SUSPENDED != 0) {
            _resume(feedId, stateSlot, s, answer, observedAt, spread, cfg);
            return;
        }
        if (s & F_TRIPPED == 0) {
            if (observedAt <= uint40(s >> S_OBSERVED)) {
                emit FeedSkipped(feedId, SkipReason.NotNewer);
                return;
            }
            if (deviationBps != 0 && uint32(s >> S_ROUND) != 0 && _deviates(answer, served, deviationBps)) {
                _breaker[feedId] = _packBreaker(answer, observedAt, observedAt, spread, 0);
                _state[feedId] = s | F_TRIPPED;
                emit BreakerTripped(feedId, served, answer, uint64(observedAt));
                return;
            }
            _writeRound(feedId, stateSlot, s, answer, observedAt, spread, cfg >> 240);
            emit FeedUpdated(feedId, answer);
            return;
        }
        // Tripped: the breaker slot is authoritative for ordering and the candidate.
        uint256 b = _breaker[feedId];
        if (observedAt <= uint40(b >> 168)) {
            emit FeedSkipped(feedId, SkipReason.NotNewer);
            return;
        }
        if (!_deviates(answer, served, deviationBps)) {
            uint256 round = _writeRound(feedId, stateSlot, s & ~F_TRIPPED, answer, observedAt, spread, cfg >> 240);
            emit BreakerCleared(feedId, round, answer);
            return;
        }
        int256 candidate = int128(uint128(b));
        if (_deviates(answer, candidate, deviationBps)) {
            _breaker[feedId] = _packBreaker(answer, observedAt, observedAt, spread, 0);
            emit BreakerTripped(feedId, served, answer, uint64(observedAt));
            return;
        }
        uint256 since = uint40(b >> 128);
        // Cannot overflow: the count is at most 255 (saturated below) plus one.
        uint256 seen;
        unchecked {
            seen = uint8(b >> 240) + 1;
        }
        if (seen >= uint8(cfg >> 208) && observedAt - since >= uint24(cfg >> 216)) {
            uint256 round = _writeRound(feedId, stateSlot, s & ~F_TRIPPED, answer, observedAt, spread, cfg >> 240);
            emit BreakerConfirmed(feedId, round, answer);
            return;
        }
        _breaker[feedId] = _packBreaker(candidate, since, observedAt, uint32(b >> 208), seen > 255 ? 255 : seen);
    }

    /// @dev Suspends the feed (or renews its suspension) for an entry observed after the feed's
    ///      last ordering point: the served observedAt, the breaker's last candidate when
    ///      tripped, or the previous suspension. One state write; with no history ring the
    ///      served round's observedAt and spread are kept in `_breaker` (`_servedRound`). A
    ///      tripped breaker is cleared: no node confirms its candidate any more, and the next
    ///      priced entry is judged against the served answer again (`_resume`).
    function _suspend(bytes32 feedId, uint256 stateSlot, uint256 s, uint256 reason, uint256 observedAt, uint256 capacity)
        private
    {
        uint256 last = s & F_TRIPPED != 0 ? uint40(_breaker[feedId] >> 168) : uint40(s >> S_OBSERVED);
        if (observedAt <= last) {
            emit FeedSkipped(feedId, SkipReason.NotNewer);
            return;
        }
        if (capacity == 0 && s & F_SUSPENDED == 0) {
            _breaker[feedId] = (uint256(uint40(s >> S_OBSERVED)) << 128) | (uint256(uint32(s >> S_SPREAD)) << 208);
        }
        uint256 next = (s & ~(F_TRIPPED | S_OBSERVED_MASK | S_SPREAD_MASK)) | F_SUSPENDED | (observedAt << S_OBSERVED)
            | (reason << S_SPREAD);
        assembly ("memory-safe") {
            sstore(stateSlot, next)
        }
        emit CommitteeSuspendedFeed(feedId, uint32(reason));
    }

    /// @dev A priced entry for a suspended feed: newer than the suspension, then the breaker as
    ///      for any move versus the last served answer (served and resumed within the limit or
    ///      on the first round; otherwise tripped, with the served round's own observedAt and
    ///      spread back in the state so reads of the tripped feed show it).
    function _resume(
        bytes32 feedId,
        uint256 stateSlot,
        uint256 s,
        int256 answer,
        uint256 observedAt,
        uint256 spread,
        uint256 cfg
    ) private {
        if (observedAt <= uint40(s >> S_OBSERVED)) {
            emit FeedSkipped(feedId, SkipReason.NotNewer);
            return;
        }
        uint256 deviationBps = uint16(cfg >> 192);
        if (uint32(s >> S_ROUND) != 0 && _deviates(answer, int128(uint128(s)), deviationBps)) {
            (uint256 servedAt, uint256 servedSpread) = _servedRound(feedId, s, cfg >> 240);
            _breaker[feedId] = _packBreaker(answer, observedAt, observedAt, spread, 0);
            _state[feedId] = (s & ~(F_SUSPENDED | S_OBSERVED_MASK | S_SPREAD_MASK)) | F_TRIPPED | (servedAt << S_OBSERVED)
                | (servedSpread << S_SPREAD);
            emit BreakerTripped(feedId, int128(uint128(s)), answer, uint64(observedAt));
            return;
        }
        uint256 round = _writeRound(feedId, stateSlot, s & ~F_SUSPENDED, answer, observedAt, spread, cfg >> 240);
        emit FeedResumed(feedId, round, answer);
    }

    /// @dev The served round's observedAt and spread while the feed is suspended (the state's
    ///      fields hold the suspension's): from the history ring, or `_breaker` without a ring.
    function _servedRound(bytes32 feedId, uint256 s, uint256 capacity)
        private
        view
        returns (uint256 observedAt, uint256 spread)
    {
        uint256 round = uint32(s >> S_ROUND);
        if (round == 0) return (0, 0);
        if (capacity != 0) {
            uint256 h = _history[feedId][round % capacity];
            return (uint40(h >> 128), uint32(h >> 168));
        }
        uint256 b = _breaker[feedId];
        return (uint40(b >> 128), uint32(b >> 208));
    }

    /// @dev Writes a new served round into the hot slot and the history ring; returns its id.
    function _writeRound(
        bytes32 feedId,
        uint256 stateSlot,
        uint256 s,
        int256 answer,
        uint256 observedAt,
        uint256 spread,
        uint256 capacity
    ) private returns (uint256 round) {
        // Cannot overflow: 2^32 rounds per feed is beyond any deployment's lifetime, and the
        // answer is within int96 bounds.
        unchecked {
            round = uint32(s >> S_ROUND) + 1;
        }
        uint256 body = uint256(uint128(int128(answer))) | (observedAt << S_OBSERVED);
        uint256 keep = s & S_KEEP;
        uint256 marker = H_MARKER;
        assembly ("memory-safe") {
            sstore(stateSlot, or(or(keep, body), or(shl(S_ROUND, round), shl(S_SPREAD, spread))))
            if capacity {
                // _history[feedId][round % capacity] (fixed-size array: keccak(feedId ‖ slot) + i)
                mstore(0x00, feedId)
                mstore(0x20, _history.slot)
                sstore(add(keccak256(0x00, 0x40), mod(round, capacity)), or(marker, or(body, shl(168, spread))))
            }
        }
    }

    /// @dev `_writeRound` for callers without the slot at hand (guardian resolution).
    function _serve(bytes32 feedId, uint256 s, int256 answer, uint256 observedAt, uint256 spread, uint256 capacity)
        private
        returns (uint256)
    {
        uint256 stateSlot;
        assembly ("memory-safe") {
            mstore(0x00, feedId)
            mstore(0x20, _state.slot)
            stateSlot := keccak256(0x00, 0x40)
        }
        return _writeRound(feedId, stateSlot, s, answer, observedAt, spread, capacity);
    }

    /// @dev |a − ref| · 10⁴ > limitBps · |ref|; false when the breaker is off (limit 0).
    ///      Values are bounded by int96, so the products cannot overflow.
    function _deviates(int256 a, int256 ref, uint256 limitBps) private pure returns (bool) {
        if (limitBps == 0) return false;
        uint256 diff = a > ref ? uint256(a - ref) : uint256(ref - a);
        uint256 base = ref >= 0 ? uint256(ref) : uint256(-ref);
        return diff * 10_000 > limitBps * base;
    }

    function _packBreaker(int256 candidate, uint256 since, uint256 lastAt, uint256 spread, uint256 seen)
        private
        pure
        returns (uint256)
    {
        return uint256(uint128(int128(candidate))) | (since << 128) | (lastAt << 168) | (spread << 208) | (seen << 240);
    }

    function _unpackState(uint256 s)
        private
        pure
        returns (int256 answer, uint256 observedAt, uint256 roundId, uint256 spreadBps)
    {
        return (int256(int128(uint128(s))), uint40(s >> S_OBSERVED), uint32(s >> S_ROUND), uint32(s >> S_SPREAD));
    }

    // -- Internals: reads --

    function _read(bytes32 feedId, uint256 maxAge)
        private
        view
        returns (int256 answer, uint256 observedAt, uint256 spreadBps, uint256 roundId)
    {
        uint256 s = _state[feedId];
        if (s & F_EXISTS == 0) revert FeedUnknown(feedId);
        if (s & F_PAUSED != 0 || _hub & HUB_PAUSED != 0) revert FeedPaused(feedId);
        if (s & (F_TRIPPED | F_SUSPENDED) != 0) {
            if (s & F_SUSPENDED != 0) revert FeedSuspended(feedId, uint32(s >> S_SPREAD), uint40(s >> S_OBSERVED));
            revert FeedTripped(feedId);
        }
        (answer, observedAt, roundId, spreadBps) = _unpackState(s);
        uint256 limit = _config[feedId].maxStaleness;
        if (maxAge != 0 && maxAge < limit) limit = maxAge;
        uint256 age = _age(observedAt);
        if (roundId == 0 || age > limit) revert FeedStale(feedId, age, limit);
    }

    function _age(uint256 observedAt) private view returns (uint256) {
        return block.timestamp > observedAt ? block.timestamp - observedAt : 0;
    }

    // -- Internals: committee and code blob --

    /// @dev Copies digest, key and meta (320 bytes) from the blob into fresh memory.
    function _loadHeader(address blob) private view returns (uint256 header) {
        assembly ("memory-safe") {
            header := mload(0x40)
            mstore(0x40, add(header, 320))
        }
        CodeBlob.copyTo(blob, 0, BLOB_TABLE, header);
    }

    function _checkDigest(bytes32 given, uint256 header) private pure {
        bytes32 current;
        assembly ("memory-safe") {
            current := mload(header)
        }
        if (given != current) revert ConfigDigestMismatch(given, current);
    }

    function _verifySignature(uint256 header, bytes calldata signature, bytes32 message) private view {
        if (signature.length != BLS.SIGNATURE_LENGTH) revert SignatureMalformed(signature.length, BLS.SIGNATURE_LENGTH);
        if (BLS.isInfinity(signature)) revert SignatureAtInfinity();
        if (gasleft() < BLS.VERIFY_GAS) revert InsufficientGasForVerification(gasleft(), BLS.VERIFY_GAS);
        if (!BLS.verifyWithKeyAt(header + BLOB_KEY, signature, message)) revert SignatureInvalid(message);
    }

    function _configDigest(uint64 configVersion, bytes memory groupPublicKey, uint16 n, uint16 t)
        private
        view
        returns (bytes32)
    {
        return keccak256(abi.encode(CONFIG_DOMAIN, block.chainid, address(this), configVersion, groupPublicKey, n, t));
    }

    function _checkCommittee(bytes memory groupPublicKey, uint16 n, uint16 t) private view {
        if (n == 0 || n > 256 || t > n || 2 * uint256(t) <= n) revert InvalidCommittee(n, t);
        if (!BLS.isValidPublicKey(groupPublicKey)) revert InvalidGroupPublicKey();
    }

    function _writeBlob(bytes32 digest, bytes memory key, uint64 version, uint16 n, uint16 t, bytes memory table)
        private
        returns (address)
    {
        uint256 meta = (uint256(version) << 32) | (uint256(n) << 16) | t;
        return CodeBlob.write(abi.encodePacked(digest, key, meta, table));
    }

    /// @dev Rewrites the code blob with feed table word `index` set to `entry` (appending when
    ///      `index` is the current table length).
    function _rewriteTable(uint256 index, uint256 entry) private {
        uint256 hub = _hub;
        address blob = address(uint160(hub));
        uint256 length = _feedList.length;
        bytes memory data = CodeBlob.read(blob, 0, BLOB_TABLE + length * 32);
        assembly ("memory-safe") {
            mstore(add(add(data, 32), add(BLOB_TABLE, shl(5, index))), entry)
        }
        _hub = (hub & ~uint256(type(uint160).max)) | uint160(CodeBlob.write(data));
    }

    /// @dev Storage of a new feed at table position `index` (checks, config, history ring
    ///      pre-initialised, state, event); returns its table word for the caller to write.
    function _storeNewFeed(bytes32 feedId, FeedConfig calldata config, uint256 index) private returns (uint256 entry) {
        if (_state[feedId] & F_EXISTS != 0) revert FeedAlreadyExists(feedId);
        entry = _checkFeedConfig(config);
        _feedList.push(feedId);
        _config[feedId] = config;
        uint256[65536] storage ring = _history[feedId];
        for (uint256 i = 0; i < config.historyCapacity; ++i) {
            ring[i] = H_MARKER;
        }
        _state[feedId] = F_EXISTS | (index << S_INDEX);
        emit FeedAdded(feedId, msg.sender, config.historyCapacity);
    }

    /// @dev Validates a feed configuration and packs its transmit-time table word.
    function _checkFeedConfig(FeedConfig calldata c) private pure returns (uint256) {
        if (c.minAnswer >= c.maxAnswer) revert InvalidBounds(c.minAnswer, c.maxAnswer);
        if (c.maxStaleness == 0) revert InvalidMaxStaleness(c.maxStaleness);
        if (c.deviationBps != 0 && c.confirmations == 0) revert InvalidBreaker(c.deviationBps, c.confirmations);
        return uint256(uint96(c.minAnswer)) | (uint256(uint96(c.maxAnswer)) << 96) | (uint256(c.deviationBps) << 192)
            | (uint256(c.confirmations) << 208) | (uint256(c.confirmationTime) << 216)
            | (uint256(c.historyCapacity) << 240);
    }
}
