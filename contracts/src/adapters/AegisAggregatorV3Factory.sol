// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IAegisFeeds} from "../interfaces/IAegisFeeds.sol";
import {AegisAggregatorV3} from "./AegisAggregatorV3.sol";

/// @title AegisAggregatorV3Factory
/// @notice Creates one Chainlink-compatible adapter per (hub, feed) at a deterministic CREATE2
///         address, so integrators can compute an adapter's address before it exists and nobody
///         can deploy two adapters for the same feed through the factory. Permissionless: an
///         adapter holds no state and only forwards reads.
contract AegisAggregatorV3Factory {
    /// @notice An adapter was created for `feedId` on `hub`.
    event AdapterCreated(address indexed caller, IAegisFeeds indexed hub, bytes32 indexed feedId, address adapter);

    /// @notice The hub reports the feed as `Unknown`, so no adapter is created.
    error FeedNotConfigured(IAegisFeeds hub, bytes32 feedId);
    /// @notice An adapter for this (hub, feed) already exists at `adapter`.
    error AdapterExists(IAegisFeeds hub, bytes32 feedId, address adapter);

    /// @notice The adapter of (hub, feed), or zero.
    mapping(IAegisFeeds hub => mapping(bytes32 feedId => address adapter)) public adapterOf;

    /// @notice Creates the adapter of `feedId` on `hub`; reverts if it exists or the feed is unknown.
    function create(IAegisFeeds hub, bytes32 feedId) external returns (address adapter) {
        address existing = adapterOf[hub][feedId];
        if (existing != address(0)) revert AdapterExists(hub, feedId, existing);
        (,,,, IAegisFeeds.FeedStatus s) = hub.tryRead(feedId);
        if (s == IAegisFeeds.FeedStatus.Unknown) revert FeedNotConfigured(hub, feedId);
        adapter = address(new AegisAggregatorV3{salt: _salt(hub, feedId)}(hub, feedId));
        adapterOf[hub][feedId] = adapter;
        emit AdapterCreated(msg.sender, hub, feedId, adapter);
    }

    /// @notice The CREATE2 address the adapter of (hub, feed) has or will have.
    function predict(IAegisFeeds hub, bytes32 feedId) external view returns (address) {
        bytes32 codeHash = keccak256(abi.encodePacked(type(AegisAggregatorV3).creationCode, abi.encode(hub, feedId)));
        return address(uint160(uint256(keccak256(abi.encodePacked(bytes1(0xff), address(this), _salt(hub, feedId), codeHash)))));
    }

    function _salt(IAegisFeeds hub, bytes32 feedId) private pure returns (bytes32) {
        return keccak256(abi.encode(hub, feedId));
    }
}
