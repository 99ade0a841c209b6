// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";

/// @title ChainlinkConsumer
/// @notice Test-only consumer written the way protocols integrate Chainlink today: compiled
///         against `AggregatorV3Interface` only, knowing nothing about Aegis, with the usual checks.
contract ChainlinkConsumer {
    error InvalidAnswer(int256 answer);
    error RoundIncomplete(uint80 roundId, uint80 answeredInRound);
    error StalePrice(uint256 updatedAt, uint256 age, uint256 maxAge);

    AggregatorV3Interface public immutable feed;
    uint256 public immutable maxAge;

    constructor(AggregatorV3Interface feed_, uint256 maxAge_) {
        feed = feed_;
        maxAge = maxAge_;
    }

    /// @notice The latest price after the usual checks, scaled to 18 decimals.
    function price() external view returns (uint256 price18, uint80 roundId) {
        int256 answer;
        uint256 updatedAt;
        uint80 answeredInRound;
        (roundId, answer,, updatedAt, answeredInRound) = feed.latestRoundData();
        if (answer <= 0) revert InvalidAnswer(answer);
        if (answeredInRound < roundId) revert RoundIncomplete(roundId, answeredInRound);
        uint256 age = block.timestamp - updatedAt;
        if (updatedAt == 0 || age > maxAge) revert StalePrice(updatedAt, age, maxAge);
        uint8 d = feed.decimals();
        price18 = d <= 18 ? uint256(answer) * 10 ** (18 - d) : uint256(answer) / 10 ** (d - 18);
    }
}
