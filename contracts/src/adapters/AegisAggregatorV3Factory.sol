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
/// @dev    Each adapter is an EIP-1167 minimal proxy to one of two implementations the factory
///         deploys once, with its arguments appended to the proxy code (hub ‖ feedId for the
///         lenient variant, hub ‖ feedId ‖ uint32 maxAge for the strict one): 97 or 101 bytes of
///         code instead of about 4 KB, so creating one costs about 60,000 gas on top of the
///         transaction (`createMany` spreads the 21,000 base over many feeds). The address is
///         the registry: an adapter exists iff code sits at its predicted address, so the
///         factory keeps no mapping. The proxy code is the one OpenZeppelin's `Clones` emits for
///         `cloneDeterministicWithImmutableArgs`.
contract AegisAggregatorV3Factory {
    /// @notice A lenient adapter was created for `feedId` on `hub` (no data field: creation gas).
    /// @param hub The hub serving the feed.
    /// @param feedId The feed.
    /// @param adapter The adapter's address.
    event AdapterCreated(IAegisFeeds indexed hub, bytes32 indexed feedId, address indexed adapter);
    /// @notice A strict adapter was created for `feedId` on `hub`.
    /// @param hub The hub serving the feed.
    /// @param feedId The feed.
    /// @param adapter The adapter's address.
    /// @param maxAge Its maximum age (0: the feed's own `maxStaleness`).
    event StrictAdapterCreated(IAegisFeeds indexed hub, bytes32 indexed feedId, address indexed adapter, uint256 maxAge);

    /// @notice The hub does not know the feed, so no adapter is created; add the feed first.
    /// @param hub The hub asked.
    /// @param feedId The feed it does not know.
    error FeedNotConfigured(IAegisFeeds hub, bytes32 feedId);
    /// @notice This adapter already exists at `adapter`; use it.
    /// @param hub The hub.
    /// @param feedId The feed.
    /// @param adapter The existing adapter.
    error AdapterExists(IAegisFeeds hub, bytes32 feedId, address adapter);

    /// @notice The implementation every lenient adapter delegates to.
    address public immutable lenientImplementation;
    /// @notice The implementation every strict adapter delegates to.
    address public immutable strictImplementation;

    constructor() {
        lenientImplementation = address(new AegisAggregatorV3(IAegisFeeds(address(0)), bytes32(0)));
        strictImplementation = address(new AegisAggregatorV3Strict(IAegisFeeds(address(0)), bytes32(0), 0));
    }

    /// @notice Creates the lenient adapter of `feedId` on `hub`; reverts if it exists or the feed is unknown.
    /// @param hub The hub serving the feed.
    /// @param feedId The feed.
    /// @return adapter The new adapter.
    function create(IAegisFeeds hub, bytes32 feedId) external returns (address adapter) {
        return _create(hub, feedId, false, 0);
    }

    /// @notice Creates the strict adapter of `feedId` on `hub` with `maxAge` (0 = the feed's own
    ///         `maxStaleness` only); reverts if it exists or the feed is unknown.
    /// @param hub The hub serving the feed.
    /// @param feedId The feed.
    /// @param maxAge Maximum age in seconds of a latest answer the adapter serves.
    /// @return adapter The new adapter.
    function createStrict(IAegisFeeds hub, bytes32 feedId, uint32 maxAge) external returns (address adapter) {
        return _create(hub, feedId, true, maxAge);
    }

    /// @notice Creates one adapter per feed in one transaction (all lenient, or all strict with
    ///         `maxAge`); reverts as `create` does on the first feed that fails. The adapters are
    ///         in the events (and at `predict` / `predictStrict`), not returned: creation gas.
    /// @param hub The hub serving the feeds.
    /// @param feedIds The feeds.
    /// @param strict True for strict adapters.
    /// @param maxAge The strict adapters' maximum age (ignored for lenient ones).
    function createMany(IAegisFeeds hub, bytes32[] calldata feedIds, bool strict, uint32 maxAge) external {
        if (!strict) maxAge = 0;
        for (uint256 i = 0; i < feedIds.length; ++i) _create(hub, feedIds[i], strict, maxAge);
    }

    /// @notice The lenient adapter of (hub, feed), or zero if not created yet.
    /// @param hub The hub.
    /// @param feedId The feed.
    function adapterOf(IAegisFeeds hub, bytes32 feedId) external view returns (address) {
        return _ifDeployed(_predict(_initCode(hub, feedId, false, 0)));
    }

    /// @notice The strict adapter of (hub, feed, maxAge), or zero if not created yet.
    /// @param hub The hub.
    /// @param feedId The feed.
    /// @param maxAge The strict adapter's maximum age.
    function strictAdapterOf(IAegisFeeds hub, bytes32 feedId, uint32 maxAge) external view returns (address) {
        return _ifDeployed(_predict(_initCode(hub, feedId, true, maxAge)));
    }

    /// @notice The CREATE2 address the lenient adapter of (hub, feed) has or will have.
    /// @param hub The hub.
    /// @param feedId The feed.
    function predict(IAegisFeeds hub, bytes32 feedId) external view returns (address) {
        return _predict(_initCode(hub, feedId, false, 0));
    }

    /// @notice The CREATE2 address the strict adapter of (hub, feed, maxAge) has or will have.
    /// @param hub The hub.
    /// @param feedId The feed.
    /// @param maxAge The strict adapter's maximum age.
    function predictStrict(IAegisFeeds hub, bytes32 feedId, uint32 maxAge) external view returns (address) {
        return _predict(_initCode(hub, feedId, true, maxAge));
    }

    function _create(IAegisFeeds hub, bytes32 feedId, bool strict, uint32 maxAge) private returns (address adapter) {
        // `latestRoundId` reverts FeedUnknown for a feed the hub does not know (one cold SLOAD);
        // only success and a one-word answer matter (an address without code also "succeeds",
        // with no answer), so the answer is not decoded.
        (bool known,) = address(hub).staticcall(abi.encodeCall(IAegisFeeds.latestRoundId, (feedId)));
        uint256 answered;
        assembly ("memory-safe") {
            answered := returndatasize()
        }
        if (!known || answered != 32) revert FeedNotConfigured(hub, feedId);
        bytes memory code = _initCode(hub, feedId, strict, maxAge);
        assembly ("memory-safe") {
            adapter := create2(0, add(code, 0x20), mload(code), 0)
        }
        // CREATE2 onto an address that holds code fails: the adapter exists.
        if (adapter == address(0)) revert AdapterExists(hub, feedId, _predict(code));
        if (strict) emit StrictAdapterCreated(hub, feedId, adapter, maxAge);
        else emit AdapterCreated(hub, feedId, adapter);
    }

    /// @dev EIP-1167 init code with appended arguments (the layout of OpenZeppelin's
    ///      `Clones._cloneCodeWithImmutableArgs`): deploys 45 bytes of proxy plus the arguments.
    function _initCode(IAegisFeeds hub, bytes32 feedId, bool strict, uint32 maxAge) private view returns (bytes memory) {
        // One packed encoding per variant (no intermediate `args` copy): 0x61 ‖ runtime length ‖
        // the 45-byte proxy around the implementation ‖ the arguments.
        if (strict) {
            return abi.encodePacked(
                hex"61", uint16(45 + 56), hex"3d81600a3d39f3363d3d373d3d3d363d73", strictImplementation, hex"5af43d82803e903d91602b57fd5bf3", hub, feedId, maxAge
            );
        }
        return abi.encodePacked(
            hex"61", uint16(45 + 52), hex"3d81600a3d39f3363d3d373d3d3d363d73", lenientImplementation, hex"5af43d82803e903d91602b57fd5bf3", hub, feedId
        );
    }

    function _predict(bytes memory code) private view returns (address) {
        return address(uint160(uint256(keccak256(abi.encodePacked(bytes1(0xff), address(this), bytes32(0), keccak256(code))))));
    }

    function _ifDeployed(address a) private view returns (address) {
        return a.code.length != 0 ? a : address(0);
    }
}
