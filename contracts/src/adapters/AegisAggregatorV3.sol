// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";
import {IAegisFeeds} from "../interfaces/IAegisFeeds.sol";

/// @title AegisAggregatorV3
/// @notice Chainlink `AggregatorV3Interface` view of one Aegis feed, so existing consumers read
///         Aegis unchanged. Round ids are the hub's per-feed round ids (continuous, also across
///         committee rotations); `getRoundData` reads the hub's bounded history.
/// @dev    Tripped or paused feed: `latestRoundData` does NOT revert and does NOT fabricate
///         anything. It returns the last served round with its true `updatedAt` (the round's
///         `observedAt`), exactly what a Chainlink feed does when its network stops updating.
///         No new round is served while the breaker holds, so `updatedAt` ages and every
///         consumer's staleness check (`block.timestamp - updatedAt <= maxAge`) fires once the
///         hold outlasts its tolerance. Consumers that want to stop at once read `status()` or
///         the hub's native `read`, which reverts with `FeedTripped` / `FeedPaused` / `FeedStale`.
///         Before the first round (or for an unknown feed) every field is 0: the usual
///         `answer > 0` and `updatedAt` checks reject it.
///         `startedAt == updatedAt == observedAt` (the committee's median observation time)
///         and `answeredInRound == roundId` (every Aegis round carries its own answer).
contract AegisAggregatorV3 is AggregatorV3Interface {
    // -- Errors --

    /// @notice `roundId` does not fit the hub's round ids (Chainlink's `uint80` is wider than needed
    ///         but a zero round never exists).
    error InvalidRoundId(uint256 roundId);

    // -- Immutables --

    /// @notice The hub serving the feed.
    IAegisFeeds public immutable hub;
    /// @notice The feed id, e.g. `bytes32("BTC/USD")`.
    bytes32 public immutable feedId;

    /// @notice Adapter interface version (1: Aegis hub rounds, tripped feeds age out).
    uint256 public constant override version = 1;

    constructor(IAegisFeeds hub_, bytes32 feedId_) {
        hub = hub_;
        feedId = feedId_;
    }

    // -- AggregatorV3Interface --

    /// @inheritdoc AggregatorV3Interface
    function decimals() external view override returns (uint8) {
        return hub.decimals(feedId);
    }

    /// @inheritdoc AggregatorV3Interface
    function description() external view override returns (string memory) {
        return hub.description(feedId);
    }

    /// @inheritdoc AggregatorV3Interface
    /// @dev Reverts with the hub's `RoundNotFound(feedId, roundId)` for a round that never existed
    ///      or left the bounded history, like Chainlink's "No data present".
    function getRoundData(uint80 roundId_)
        external
        view
        override
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        if (roundId_ == 0) revert InvalidRoundId(roundId_);
        (int256 a, uint256 observedAt,) = hub.getRound(feedId, roundId_);
        return (roundId_, a, observedAt, observedAt, roundId_);
    }

    /// @inheritdoc AggregatorV3Interface
    /// @dev Never reverts for a configured hub; see the contract notes for tripped and paused feeds.
    function latestRoundData()
        external
        view
        override
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        (int256 a, uint256 observedAt,, uint256 r,) = hub.tryRead(feedId);
        if (r == 0) return (0, 0, 0, 0, 0);
        // Round ids count reports per feed; they cannot reach 2^80.
        roundId = uint80(r);
        return (roundId, a, observedAt, observedAt, roundId);
    }

    // -- Aegis extensions --

    /// @notice The feed's status as the hub reports it (Active, Tripped, Paused, Stale, Unknown),
    ///         for consumers that want to halt at once instead of waiting for staleness.
    function status() external view returns (IAegisFeeds.FeedStatus s) {
        (,,,, s) = hub.tryRead(feedId);
    }

    /// @notice The latest round's dispersion of node observations in basis points (confidence).
    function latestSpreadBps() external view returns (uint256 spreadBps) {
        (,, spreadBps,,) = hub.tryRead(feedId);
    }
}
