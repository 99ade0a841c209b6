// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {AggregatorV2V3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV2V3Interface.sol";
import {AggregatorInterface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorInterface.sol";
import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";
import {IAegisFeeds} from "../interfaces/IAegisFeeds.sol";

/// @title AegisAggregatorV3Base
/// @notice Chainlink `AggregatorV2V3Interface` view of one Aegis feed, so protocols that read
///         Chainlink feeds (through `latestRoundData`, the older `latestAnswer` family, or
///         Chainlink's own `EACAggregatorProxy`) read Aegis unchanged. Two variants share this
///         code and differ only in what a *latest* read does when the feed is not Active:
///         `AegisAggregatorV3` (lenient, Chainlink's behaviour) and `AegisAggregatorV3Strict`.
/// @dev    Rounds: the hub's per-feed round ids (continuous, also across committee rotations);
///         `answeredInRound == roundId` (every Aegis round carries its own answer).
///
///         Time: `startedAt == updatedAt == min(observedAt, block.timestamp)`. `observedAt` is the
///         committee's median observation time; the hub accepts reports whose `observedAt` leads
///         the chain's clock by up to `maxFutureDrift`, so the raw value can lie a few seconds in
///         the future, and the usual `block.timestamp - updatedAt` would underflow and revert.
///         Clamping to the reading block keeps `updatedAt <= block.timestamp` always, and equals
///         the hub's own age rule (`read(maxAge)` counts a future `observedAt` as age 0), so a
///         consumer's staleness check and the hub's agree to the second. Aegis stores no
///         acceptance time (the feed's hot slot is full, and a second slot costs 5,000 gas per
///         feed per report), so unlike Chainlink's OCR2 aggregator (`startedAt` = observation
///         time, `updatedAt` = the transmitting block's time) both fields carry the observation
///         time: an Aegis price's age counts from when it was observed, never from when it was
///         posted, which is the stricter of the two (design: "Epochs and the clock" for the
///         bounds on `observedAt`, "Hub" for the age rule).
///
///         Missing data follows Chainlink's documented rules: `latestRoundData` and
///         `getRoundData` revert ("No data present") when there is nothing to report, here with
///         the hub's named `RoundNotFound(feedId, roundId)` (round 0 before the first round);
///         the V2 getters (`latestAnswer`, `latestTimestamp`, `latestRound`, `getAnswer`,
///         `getTimestamp`) never revert for missing data and return 0, as Chainlink's
///         aggregators and proxies do.
///
///         Deployment: the factory deploys each adapter as an EIP-1167 minimal proxy (45 bytes)
///         with its (hub, feed[, maxAge]) appended to the proxy's code, delegating to one
///         implementation per variant: about 60,000 gas per adapter instead of a full copy of
///         this code. The same contract deployed on its own (constructor arguments) works too;
///         `_target()` tells the two apart by `address(this)`.
///
///         Events: the adapter is a view of the hub and has no transmit of its own, so
///         `NewRound` / `AnswerUpdated` are emitted by `announce()`, which anyone (the operator's
///         poster, a keeper, an indexer) calls after a round is served; the hub's own events
///         (`FeedUpdated`, `BreakerCleared`, `BreakerConfirmed`, `FeedResumed`) are the
///         authoritative record.
abstract contract AegisAggregatorV3Base is AggregatorV2V3Interface {
    // -- Constants --

    /// @notice Most rounds one `announce()` emits events for (the newest ones), so its gas is
    ///         bounded however long nobody announced.
    uint256 public constant MAX_ANNOUNCE = 32;

    /// @notice Adapter interface version (2: the full AggregatorV2V3Interface; times clamped to
    ///         the reading block; tripped, paused and any other non-Active feed by one rule).
    uint256 public constant override version = 2;

    /// @dev Bytes of the EIP-1167 proxy before the appended arguments (hub ‖ feedId ‖ [maxAge]).
    uint256 internal constant CLONE_ARGS = 45;

    // -- Immutables --

    /// @dev This contract's own address: a delegatecall from a clone sees another `address(this)`.
    address private immutable _self;
    /// @dev The target of a standalone deployment (zero in the factory's implementations).
    IAegisFeeds private immutable _ownHub;
    bytes32 private immutable _ownFeedId;

    // -- Storage --

    /// @notice The newest round `announce()` has emitted events for (0: none yet).
    uint256 public lastAnnouncedRound;

    /// @param hub_ The hub serving the feed.
    /// @param feedId_ The feed id on that hub.
    constructor(IAegisFeeds hub_, bytes32 feedId_) {
        _self = address(this);
        _ownHub = hub_;
        _ownFeedId = feedId_;
    }

    /// @notice The hub serving the feed.
    function hub() external view returns (IAegisFeeds h) {
        (h,) = _target();
    }

    /// @notice The feed id, e.g. `bytes32("BTC/USD")`.
    function feedId() external view returns (bytes32 id) {
        (, id) = _target();
    }

    // -- AggregatorV3Interface --

    /// @inheritdoc AggregatorV3Interface
    /// @notice The feed's fixed-point decimals, as the hub reports them.
    function decimals() external view override returns (uint8) {
        (IAegisFeeds h, bytes32 id) = _target();
        return h.decimals(id);
    }

    /// @inheritdoc AggregatorV3Interface
    /// @notice The feed's description, as the hub reports it (e.g. "BTC / USD").
    function description() external view override returns (string memory) {
        (IAegisFeeds h, bytes32 id) = _target();
        return h.description(id);
    }

    /// @inheritdoc AggregatorV3Interface
    /// @dev A historical round is a fact and reads the same in both variants. Reverts with the
    ///      hub's `RoundNotFound(feedId, roundId)` for round 0, a round not served yet, or one
    ///      that left the bounded history (Chainlink's "No data present").
    /// @param roundId_ The hub's round id of the feed (the adapter's round ids are the hub's).
    function getRoundData(uint80 roundId_)
        external
        view
        override
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        (IAegisFeeds h, bytes32 id) = _target();
        (int256 a, uint256 observedAt,) = h.getRound(id, roundId_);
        uint256 t = _clamp(observedAt);
        return (roundId_, a, t, t, roundId_);
    }

    /// @inheritdoc AggregatorV3Interface
    /// @dev Before the first round: reverts `RoundNotFound(feedId, 0)`. Feed not Active: see
    ///      the variant (`AegisAggregatorV3` serves the last good round, `AegisAggregatorV3Strict`
    ///      reverts).
    function latestRoundData()
        external
        view
        override
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        (int256 a, uint256 t, uint256 r) = _latest();
        if (r == 0) {
            (, bytes32 id) = _target();
            revert IAegisFeeds.RoundNotFound(id, 0);
        }
        // Round ids count reports per feed (uint32 in the hub); they cannot reach 2^80.
        roundId = uint80(r);
        return (roundId, a, t, t, roundId);
    }

    // -- AggregatorInterface (V2) --

    /// @inheritdoc AggregatorInterface
    /// @dev 0 before the first round (Chainlink's V2 rule: "does not error, returns 0").
    function latestAnswer() external view override returns (int256 answer) {
        (answer,,) = _latest();
    }

    /// @inheritdoc AggregatorInterface
    /// @dev `updatedAt` of the latest round (see the time rule above); 0 before the first.
    function latestTimestamp() external view override returns (uint256 updatedAt) {
        (, updatedAt,) = _latest();
    }

    /// @inheritdoc AggregatorInterface
    /// @dev 0 before the first round.
    function latestRound() external view override returns (uint256 roundId) {
        (,, roundId) = _latest();
    }

    /// @inheritdoc AggregatorInterface
    /// @dev 0 for a round that does not exist or left the history (never reverts for missing data).
    /// @param roundId The hub's round id of the feed.
    function getAnswer(uint256 roundId) external view override returns (int256 answer) {
        (IAegisFeeds h, bytes32 id) = _target();
        try h.getRound(id, roundId) returns (int256 a, uint256, uint256) {
            return a;
        } catch {
            return 0;
        }
    }

    /// @inheritdoc AggregatorInterface
    /// @dev 0 for a round that does not exist or left the history (never reverts for missing data).
    /// @param roundId The hub's round id of the feed.
    function getTimestamp(uint256 roundId) external view override returns (uint256 updatedAt) {
        (IAegisFeeds h, bytes32 id) = _target();
        try h.getRound(id, roundId) returns (int256, uint256 observedAt, uint256) {
            return _clamp(observedAt);
        } catch {
            return 0;
        }
    }

    // -- Events for Chainlink indexers --

    /// @notice Emits `NewRound(roundId, hub, startedAt)` and `AnswerUpdated(answer, roundId,
    ///         updatedAt)` for every served round not announced yet (at most the newest
    ///         `MAX_ANNOUNCE`; rounds that left the hub's history are skipped). Permissionless and
    ///         idempotent: a second call in the same block emits nothing.
    /// @return count Rounds announced by this call.
    function announce() external returns (uint256 count) {
        (IAegisFeeds h, bytes32 id) = _target();
        uint256 latest = h.latestRoundId(id);
        uint256 from = lastAnnouncedRound + 1;
        if (latest >= MAX_ANNOUNCE && from + MAX_ANNOUNCE <= latest) from = latest + 1 - MAX_ANNOUNCE;
        if (from > latest) return 0;
        // Effects before the (view) calls into the hub.
        lastAnnouncedRound = latest;
        for (uint256 r = from; r <= latest; ++r) {
            try h.getRound(id, r) returns (int256 a, uint256 observedAt, uint256) {
                uint256 t = _clamp(observedAt);
                emit NewRound(r, address(h), t);
                emit AnswerUpdated(a, r, t);
                ++count;
            } catch {}
        }
    }

    // -- Aegis extensions --

    /// @notice The feed's status as the hub reports it (Active, Tripped, Paused, Stale, or any
    ///         status a later hub adds), for consumers that want to halt at once instead of
    ///         waiting for staleness.
    function status() external view returns (IAegisFeeds.FeedStatus s) {
        (IAegisFeeds h, bytes32 id) = _target();
        (,,,, s) = h.tryRead(id);
    }

    /// @notice The latest round's dispersion of node observations in basis points (confidence).
    function latestSpreadBps() external view returns (uint256 spreadBps) {
        (IAegisFeeds h, bytes32 id) = _target();
        (,, spreadBps,,) = h.tryRead(id);
    }

    /// @notice True for the variant whose latest reads revert unless the feed is Active and fresh.
    function strict() external pure virtual returns (bool);

    // -- Internals --

    /// @dev The latest round as the variant serves it: (answer, clamped time, round id); round 0
    ///      means no round yet.
    function _latest() internal view virtual returns (int256 answer, uint256 updatedAt, uint256 roundId);

    /// @dev (hub, feed): the constructor's for a standalone deployment, else the 52 bytes the
    ///      factory appended to the clone's code (hub address ‖ feed id), read with one
    ///      EXTCODECOPY of the clone itself (warm) into scratch space.
    function _target() internal view returns (IAegisFeeds h, bytes32 id) {
        if (address(this) == _self) return (_ownHub, _ownFeedId);
        assembly ("memory-safe") {
            extcodecopy(address(), 0x00, CLONE_ARGS, 52)
            h := shr(96, mload(0x00))
            id := mload(0x14)
        }
    }

    /// @dev True when running as a factory clone (arguments in the code, not in immutables).
    function _isClone() internal view returns (bool) {
        return address(this) != _self;
    }

    /// @dev `min(observedAt, block.timestamp)`: see the time rule in the contract notes.
    function _clamp(uint256 observedAt) internal view returns (uint256) {
        return observedAt < block.timestamp ? observedAt : block.timestamp;
    }
}

/// @title AegisAggregatorV3
/// @notice The lenient adapter (Chainlink's behaviour). One rule for every status other than
///         Active (Tripped, Paused, Stale, and any status a later hub adds): latest reads never
///         revert and never fabricate; they return the last served round with its real answer
///         and real time, exactly what a Chainlink feed does when its network stops updating.
///         No new round is served meanwhile, so `updatedAt` ages and every consumer's staleness
///         check fires once the hold outlasts its tolerance. Right for consumers that check
///         staleness themselves and for those that must keep working (repay, withdraw) while a
///         feed is held. Consumers that want to stop at once read `status()`, or use the strict
///         variant.
contract AegisAggregatorV3 is AegisAggregatorV3Base {
    /// @param hub_ The hub serving the feed.
    /// @param feedId_ The feed id on that hub.
    constructor(IAegisFeeds hub_, bytes32 feedId_) AegisAggregatorV3Base(hub_, feedId_) {}

    /// @inheritdoc AegisAggregatorV3Base
    function strict() external pure override returns (bool) {
        return false;
    }

    function _latest() internal view override returns (int256 answer, uint256 updatedAt, uint256 roundId) {
        (IAegisFeeds h, bytes32 id) = _target();
        uint256 observedAt;
        (answer, observedAt,, roundId,) = h.tryRead(id);
        updatedAt = _clamp(observedAt);
    }
}

/// @title AegisAggregatorV3Strict
/// @notice The strict adapter, for consumers without a staleness check of their own (Aave v3's
///         `AaveOracle` has none) that prefer a revert to a held price. One rule for every status
///         other than Active (Tripped, Paused, Stale, and any status a later hub adds): every
///         latest read (`latestRoundData`, `latestAnswer`, `latestTimestamp`, `latestRound`)
///         reverts with `FeedNotActive(feedId, status)`; an Active feed older than this adapter's
///         `maxAge` reverts with `StaleAnswer`. Historical reads (`getRoundData`, `getAnswer`,
///         `getTimestamp`) are facts and behave as in the lenient adapter.
contract AegisAggregatorV3Strict is AegisAggregatorV3Base {
    /// @notice The feed is not Active (`status` as the hub reports it), so the strict adapter
    ///         serves no latest price. Wait for the feed to recover, or read the lenient adapter
    ///         or `getRoundData` if a held price is acceptable.
    /// @param feedId The feed.
    /// @param status The hub's status of the feed (Tripped, Paused, Stale, ...).
    error FeedNotActive(bytes32 feedId, IAegisFeeds.FeedStatus status);
    /// @notice The feed is Active but its latest answer is older than this adapter's `maxAge`.
    /// @param feedId The feed.
    /// @param age Seconds since the latest answer's observation (0 if observed in the future).
    /// @param maxAge This adapter's maximum age.
    error StaleAnswer(bytes32 feedId, uint256 age, uint256 maxAge);

    /// @dev A standalone deployment's maximum age (clones carry theirs in their code).
    uint32 private immutable _ownMaxAge;

    /// @param hub_ The hub serving the feed.
    /// @param feedId_ The feed id on that hub.
    /// @param maxAge_ Maximum age of a latest answer in seconds (0 = the feed's `maxStaleness`).
    constructor(IAegisFeeds hub_, bytes32 feedId_, uint32 maxAge_) AegisAggregatorV3Base(hub_, feedId_) {
        _ownMaxAge = maxAge_;
    }

    /// @notice Maximum age in seconds of a latest answer, on top of the feed's own
    ///         `maxStaleness` (which makes the hub report the feed Stale); 0 = that limit only.
    function maxAge() public view returns (uint256 m) {
        if (!_isClone()) return _ownMaxAge;
        // The 4 bytes after (hub ‖ feedId) in the clone's code.
        assembly ("memory-safe") {
            extcodecopy(address(), 0x00, add(CLONE_ARGS, 52), 4)
            m := shr(224, mload(0x00))
        }
    }

    /// @inheritdoc AegisAggregatorV3Base
    function strict() external pure override returns (bool) {
        return true;
    }

    function _latest() internal view override returns (int256 answer, uint256 updatedAt, uint256 roundId) {
        (IAegisFeeds h, bytes32 id) = _target();
        uint256 observedAt;
        IAegisFeeds.FeedStatus s;
        (answer, observedAt,, roundId, s) = h.tryRead(id);
        if (s != IAegisFeeds.FeedStatus.Active) revert FeedNotActive(id, s);
        updatedAt = _clamp(observedAt);
        // Cannot underflow: updatedAt <= block.timestamp.
        uint256 age = block.timestamp - updatedAt;
        uint256 limit = maxAge();
        if (limit != 0 && age > limit) revert StaleAnswer(id, age, limit);
    }
}
