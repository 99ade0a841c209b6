// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";

/// @title SequencerGuard
/// @notice Optional L2 sequencer-uptime check shared by the settlement consumers, following
///         Chainlink's L2 sequencer uptime feeds: `answer == 0` means the sequencer is up,
///         `1` down; `startedAt` is when the status last changed. After the sequencer comes
///         back, price-dependent actions wait `gracePeriod` seconds so users who could not
///         transact during the outage (and pushes that queued up) get in first.
///         With `sequencerUptimeFeed == address(0)` (L1 deployments) the check is skipped.
abstract contract SequencerGuard {
    // -- Errors --

    /// @notice The sequencer-uptime feed reports the sequencer down (`answer` != 0).
    /// @param answer The uptime feed's answer (nonzero: down; Chainlink's feeds answer 1).
    error SequencerDown(int256 answer);
    /// @notice The sequencer is back but only `elapsed` of the `gracePeriod` seconds have passed.
    /// @param elapsed Seconds since the uptime feed reported the sequencer back up (`startedAt`).
    /// @param gracePeriod The required seconds.
    error SequencerGracePeriodNotOver(uint256 elapsed, uint256 gracePeriod);
    /// @notice The uptime feed has no round yet (`startedAt == 0`); treat as unknown, not up.
    error SequencerStatusUnknown();

    // -- Immutables --

    /// @notice Chainlink-style sequencer-uptime feed, or zero on L1.
    AggregatorV3Interface public immutable sequencerUptimeFeed;
    /// @notice Seconds to wait after the sequencer comes back up.
    uint256 public immutable sequencerGracePeriod;

    constructor(AggregatorV3Interface feed, uint256 gracePeriod) {
        sequencerUptimeFeed = feed;
        sequencerGracePeriod = gracePeriod;
    }

    /// @dev Reverts unless the sequencer is up and has been for longer than the grace period.
    function _checkSequencer() internal view {
        if (address(sequencerUptimeFeed) == address(0)) return;
        (, int256 answer, uint256 startedAt,,) = sequencerUptimeFeed.latestRoundData();
        if (answer != 0) revert SequencerDown(answer);
        if (startedAt == 0) revert SequencerStatusUnknown();
        uint256 elapsed = block.timestamp > startedAt ? block.timestamp - startedAt : 0;
        if (elapsed <= sequencerGracePeriod) revert SequencerGracePeriodNotOver(elapsed, sequencerGracePeriod);
    }
}
