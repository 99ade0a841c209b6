// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IAegisFeeds} from "../interfaces/IAegisFeeds.sol";
import {AegisAggregatorV3, AegisAggregatorV3Strict} from "./AegisAggregatorV3.sol";

/// @title AegisAggregatorV3Factory
/// @notice Creates Chainlink-compatible adapters at deterministic CREATE2 addresses: per
///         (hub, feed) one lenient `AegisAggregatorV3`, and one `AegisAggregatorV3Strict` per
///         chosen `maxAge`. Integrators can compute an adapter's address before it exists and
///         nobody can deploy two identical adapters through the factory. Permissionless: an
///         adapter holds no price state and only forwards reads.
/// @dev    The CREATE2 address is the registry: an adapter exists iff code sits at its predicted
///         address, so the factory keeps no mapping (one 22,100-gas SSTORE less per adapter).
contract AegisAggregatorV3Factory {
    /// @notice An adapter was created for `feedId` on `hub`.
    /// @param caller Who asked for it.
    /// @param hub The hub serving the feed.
    /// @param feedId The feed.
    /// @param adapter The adapter's address.
    /// @param strict True for `AegisAggregatorV3Strict`.
    /// @param maxAge The strict adapter's maximum age (0 for the lenient one, or the feed's limit).
    event AdapterCreated(address indexed caller, IAegisFeeds indexed hub, bytes32 indexed feedId, address adapter, bool strict, uint256 maxAge);

    /// @notice The hub reports the feed as `Unknown`, so no adapter is created; add the feed first.
    /// @param hub The hub asked.
    /// @param feedId The feed it does not know.
    error FeedNotConfigured(IAegisFeeds hub, bytes32 feedId);
    /// @notice This adapter already exists at `adapter`; use it.
    /// @param hub The hub.
    /// @param feedId The feed.
    /// @param adapter The existing adapter.
    error AdapterExists(IAegisFeeds hub, bytes32 feedId, address adapter);

    /// @notice Creates the lenient adapter of `feedId` on `hub`; reverts if it exists or the feed is unknown.
    /// @param hub The hub serving the feed.
    /// @param feedId The feed.
    /// @return adapter The new adapter.
    function create(IAegisFeeds hub, bytes32 feedId) external returns (address adapter) {
        _check(hub, feedId, _predict(_lenientCode(hub, feedId)));
        adapter = address(new AegisAggregatorV3{salt: 0}(hub, feedId));
        emit AdapterCreated(msg.sender, hub, feedId, adapter, false, 0);
    }

    /// @notice Creates the strict adapter of `feedId` on `hub` with `maxAge` (0 = the feed's own
    ///         `maxStaleness` only); reverts if it exists or the feed is unknown.
    /// @param hub The hub serving the feed.
    /// @param feedId The feed.
    /// @param maxAge Maximum age in seconds of a latest answer the adapter serves.
    /// @return adapter The new adapter.
    function createStrict(IAegisFeeds hub, bytes32 feedId, uint256 maxAge) external returns (address adapter) {
        _check(hub, feedId, _predict(_strictCode(hub, feedId, maxAge)));
        adapter = address(new AegisAggregatorV3Strict{salt: 0}(hub, feedId, maxAge));
        emit AdapterCreated(msg.sender, hub, feedId, adapter, true, maxAge);
    }

    /// @notice The lenient adapter of (hub, feed), or zero if not created yet.
    /// @param hub The hub.
    /// @param feedId The feed.
    function adapterOf(IAegisFeeds hub, bytes32 feedId) external view returns (address) {
        return _ifDeployed(_predict(_lenientCode(hub, feedId)));
    }

    /// @notice The strict adapter of (hub, feed, maxAge), or zero if not created yet.
    /// @param hub The hub.
    /// @param feedId The feed.
    /// @param maxAge The strict adapter's maximum age.
    function strictAdapterOf(IAegisFeeds hub, bytes32 feedId, uint256 maxAge) external view returns (address) {
        return _ifDeployed(_predict(_strictCode(hub, feedId, maxAge)));
    }

    /// @notice The CREATE2 address the lenient adapter of (hub, feed) has or will have.
    /// @param hub The hub.
    /// @param feedId The feed.
    function predict(IAegisFeeds hub, bytes32 feedId) external view returns (address) {
        return _predict(_lenientCode(hub, feedId));
    }

    /// @notice The CREATE2 address the strict adapter of (hub, feed, maxAge) has or will have.
    /// @param hub The hub.
    /// @param feedId The feed.
    /// @param maxAge The strict adapter's maximum age.
    function predictStrict(IAegisFeeds hub, bytes32 feedId, uint256 maxAge) external view returns (address) {
        return _predict(_strictCode(hub, feedId, maxAge));
    }

    function _check(IAegisFeeds hub, bytes32 feedId, address predicted) private view {
        if (predicted.code.length != 0) revert AdapterExists(hub, feedId, predicted);
        (,,,, IAegisFeeds.FeedStatus s) = hub.tryRead(feedId);
        if (s == IAegisFeeds.FeedStatus.Unknown) revert FeedNotConfigured(hub, feedId);
    }

    // The constructor arguments are part of the init code, so a fixed salt still gives one
    // address per (variant, hub, feed, maxAge).
    function _lenientCode(IAegisFeeds hub, bytes32 feedId) private pure returns (bytes32) {
        return keccak256(abi.encodePacked(type(AegisAggregatorV3).creationCode, abi.encode(hub, feedId)));
    }

    function _strictCode(IAegisFeeds hub, bytes32 feedId, uint256 maxAge) private pure returns (bytes32) {
        return keccak256(abi.encodePacked(type(AegisAggregatorV3Strict).creationCode, abi.encode(hub, feedId, maxAge)));
    }

    function _predict(bytes32 codeHash) private view returns (address) {
        return address(uint160(uint256(keccak256(abi.encodePacked(bytes1(0xff), address(this), bytes32(0), codeHash)))));
    }

    function _ifDeployed(address a) private view returns (address) {
        return a.code.length != 0 ? a : address(0);
    }
}
