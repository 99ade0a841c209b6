// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";

/// @title MockSequencerUptimeFeed
/// @notice Test-only stand-in for Chainlink's L2 sequencer-uptime feed: `answer` 0 = up, 1 = down,
///         `startedAt` = when the status last changed. Tests flip it with `setStatus`.
contract MockSequencerUptimeFeed is AggregatorV3Interface {
    uint80 public round;
    int256 public answer;
    uint256 public startedAt;

    function setStatus(bool down, uint256 changedAt) external {
        ++round;
        answer = down ? int256(1) : int256(0);
        startedAt = changedAt;
    }

    function decimals() external pure returns (uint8) {
        return 0;
    }

    function description() external pure returns (string memory) {
        return "L2 Sequencer Uptime Status Feed (test)";
    }

    function version() external pure returns (uint256) {
        return 1;
    }

    function getRoundData(uint80) external view returns (uint80, int256, uint256, uint256, uint80) {
        return (round, answer, startedAt, startedAt, round);
    }

    function latestRoundData() external view returns (uint80, int256, uint256, uint256, uint80) {
        return (round, answer, startedAt, startedAt, round);
    }
}
