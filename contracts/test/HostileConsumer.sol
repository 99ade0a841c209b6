// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";
import {IAegisHub} from "../src/interfaces/IAegisHub.sol";
import {IAegisFeeds} from "../src/interfaces/IAegisFeeds.sol";

/// @title HostileConsumer
/// @notice Test-only consumer that attacks the hub from a contract (threat model, "hostile
///         consumer"): it calls every read with a plain CALL inside its own state-changing
///         transaction, tries the guardian's functions, brings whatever report it likes to the
///         pull-mode path, and probes the Chainlink adapter for rounds it should not see. Never
///         deploy outside tests.
contract HostileConsumer {
    IAegisHub public immutable hub;

    /// @notice Bumped by every attack, so each one is a real write of this contract.
    uint256 public pokes;
    /// @notice Reads that succeeded in the last `readEverything`.
    uint256 public readsSucceeded;
    /// @notice Guardian calls that succeeded in the last `tryGovern` (must stay 0).
    uint256 public governSucceeded;
    int256 public lastAnswer;
    uint256 public lastRoundId;

    event Pulled(int256 answer, uint256 observedAt, uint256 roundId);

    constructor(IAegisHub hub_) {
        hub = hub_;
    }

    /// @notice Every read of the hub and of `adapter`, each with CALL (not STATICCALL), so a read
    ///         that wrote state would do so here. Returns how many succeeded out of how many.
    function readEverything(bytes32 feedId, AggregatorV3Interface adapter) external returns (uint256 ok, uint256 total) {
        uint256 latest = hub.latestRoundId(feedId);
        bytes[] memory calls = new bytes[](13);
        calls[0] = abi.encodeCall(IAegisFeeds.read, (feedId, 0));
        calls[1] = abi.encodeCall(IAegisFeeds.tryRead, (feedId));
        calls[2] = abi.encodeCall(IAegisFeeds.getRound, (feedId, latest));
        calls[3] = abi.encodeCall(IAegisFeeds.latestRoundId, (feedId));
        calls[4] = abi.encodeCall(IAegisFeeds.decimals, (feedId));
        calls[5] = abi.encodeCall(IAegisFeeds.description, (feedId));
        calls[6] = abi.encodeCall(IAegisHub.feedConfig, (feedId));
        calls[7] = abi.encodeCall(IAegisHub.feedIds, ());
        calls[8] = abi.encodeCall(IAegisHub.breakerState, (feedId));
        calls[9] = abi.encodeCall(IAegisHub.committee, ());
        calls[10] = abi.encodeCall(IAegisHub.configDigest, ());
        calls[11] = abi.encodeCall(IAegisHub.latestEpoch, ());
        calls[12] = abi.encodeCall(IAegisHub.paused, ());
        for (uint256 i = 0; i < calls.length; ++i) {
            (bool s,) = address(hub).call(calls[i]);
            if (s) ++ok;
        }
        bytes[] memory adapterCalls = new bytes[](5);
        adapterCalls[0] = abi.encodeCall(AggregatorV3Interface.latestRoundData, ());
        adapterCalls[1] = abi.encodeCall(AggregatorV3Interface.getRoundData, (uint80(latest)));
        adapterCalls[2] = abi.encodeCall(AggregatorV3Interface.decimals, ());
        adapterCalls[3] = abi.encodeCall(AggregatorV3Interface.description, ());
        adapterCalls[4] = abi.encodeCall(AggregatorV3Interface.version, ());
        for (uint256 i = 0; i < adapterCalls.length; ++i) {
            (bool s,) = address(adapter).call(adapterCalls[i]);
            if (s) ++ok;
        }
        total = calls.length + adapterCalls.length;
        readsSucceeded = ok;
        ++pokes;
    }

    /// @notice The guardian's functions, called by this contract (not the guardian). Each must fail.
    function tryGovern(bytes32 feedId) external returns (uint256 succeeded) {
        bytes[] memory calls = new bytes[](6);
        calls[0] = abi.encodeCall(IAegisHub.pause, ());
        calls[1] = abi.encodeCall(IAegisHub.unpause, ());
        calls[2] = abi.encodeCall(IAegisHub.setFeedPaused, (feedId, true));
        calls[3] = abi.encodeCall(IAegisHub.resolveBreaker, (feedId, true));
        calls[4] = abi.encodeCall(IAegisHub.setGuardian, (address(this)));
        calls[5] = abi.encodeCall(IAegisHub.configureFeed, (feedId, hub.feedConfig(feedId)));
        for (uint256 i = 0; i < calls.length; ++i) {
            (bool s,) = address(hub).call(calls[i]);
            if (s) ++succeeded;
        }
        governSucceeded = succeeded;
        ++pokes;
    }

    /// @notice Pull mode with whatever report and signature the caller brings; hub errors bubble up.
    function pull(IAegisHub.Report calldata report, bytes calldata signature, bytes32 feedId, uint256 maxAge) external {
        (int256 answer, uint256 observedAt,, uint256 roundId) = hub.updateAndRead(report, signature, feedId, maxAge);
        lastAnswer = answer;
        lastRoundId = roundId;
        ++pokes;
        emit Pulled(answer, observedAt, roundId);
    }

    /// @notice What a Chainlink integration would store from the adapter.
    function readAdapter(AggregatorV3Interface adapter) external returns (uint80 roundId, int256 answer, uint256 updatedAt) {
        (roundId, answer,, updatedAt,) = adapter.latestRoundData();
        lastAnswer = answer;
        lastRoundId = roundId;
        ++pokes;
    }

    /// @notice Asks the adapter for round `roundId` (e.g. one past the latest, where a held
    ///         breaker candidate would be if it were served).
    function probeRound(AggregatorV3Interface adapter, uint80 roundId) external view returns (bool found, int256 answer) {
        try adapter.getRoundData(roundId) returns (uint80, int256 a, uint256, uint256, uint80) {
            return (true, a);
        } catch {
            return (false, 0);
        }
    }
}
