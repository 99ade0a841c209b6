// SPDX-License-Identifier: MIT
pragma solidity ^0.8.17;

import {RedstoneConsumerNumericBase} from "@redstone-finance/evm-connector/contracts/core/RedstoneConsumerNumericBase.sol";

/// @title RedstonePeerConsumer
/// @notice Benchmark-only consumer of RedStone's pull model (the side-by-side gas benchmark): verifies the signed data
/// packages appended to calldata with the package's own `RedstoneConsumerNumericBase` (ECDSA
/// recovery per package, unique-signer threshold, median) and stores each feed's value, the way
/// a push adapter does. Only the signer set, threshold and storage are ours; no RedStone code is
/// copied.
/// @dev Signer lookup mirrors RedStone's generated consumers (a chain of constant comparisons)
/// for the first five signers, held as immutables, and falls back to one storage mapping for
/// larger committees, so the 3-of-3 and 3-of-5 rows pay no storage read for the lookup.
contract RedstonePeerConsumer is RedstoneConsumerNumericBase {
  // -- Errors --
  error BadCommittee(uint256 signers, uint256 threshold);
  error TimestampNotNewer(bytes32 feedId, uint256 given, uint256 current);

  // -- Events --
  event PricesUpdated(address indexed caller, uint256 feeds, uint256 timestampMs);

  // -- Storage --
  struct Price {
    uint192 value; // ─╮ median of the threshold signers' values
    uint64 timestampMs; // ─╯ package timestamp (milliseconds)
  }

  mapping(bytes32 feedId => Price) public prices;
  /// @dev 1-based index of signers beyond the fifth (0 = not authorised).
  mapping(address signer => uint256 position) private s_positions;

  uint8 private immutable i_threshold;
  uint256 private immutable i_count;
  address private immutable i_s0;
  address private immutable i_s1;
  address private immutable i_s2;
  address private immutable i_s3;
  address private immutable i_s4;

  constructor(address[] memory signers, uint8 threshold) {
    if (threshold == 0 || threshold > signers.length || signers.length > 255) revert BadCommittee(signers.length, threshold);
    i_threshold = threshold;
    i_count = signers.length;
    i_s0 = signers.length > 0 ? signers[0] : address(0);
    i_s1 = signers.length > 1 ? signers[1] : address(0);
    i_s2 = signers.length > 2 ? signers[2] : address(0);
    i_s3 = signers.length > 3 ? signers[3] : address(0);
    i_s4 = signers.length > 4 ? signers[4] : address(0);
    for (uint256 i = 5; i < signers.length; ++i) s_positions[signers[i]] = i + 1;
  }

  // -- RedStone configuration --
  function getUniqueSignersThreshold() public view override returns (uint8) {
    return i_threshold;
  }

  function getAuthorisedSignerIndex(address signer) public view override returns (uint8) {
    if (signer != address(0)) {
      if (signer == i_s0) return 0;
      if (signer == i_s1) return 1;
      if (signer == i_s2) return 2;
      if (signer == i_s3) return 3;
      if (signer == i_s4) return 4;
      if (i_count > 5) {
        uint256 p = s_positions[signer];
        // p ≤ 255 by the constructor check, so the cast is exact.
        if (p != 0) return uint8(p - 1);
      }
    }
    revert SignerNotAuthorised(signer);
  }

  // -- Update --
  /// @notice Verifies the RedStone payload in calldata for `feedIds` and stores the medians.
  function updatePrices(bytes32[] calldata feedIds) external {
    (uint256[] memory values, uint256 timestampMs) = getOracleNumericValuesAndTimestampFromTxMsg(feedIds);
    validateTimestamp(timestampMs);
    for (uint256 i = 0; i < feedIds.length; ++i) {
      bytes32 id = feedIds[i];
      uint64 current = prices[id].timestampMs;
      if (timestampMs <= current) revert TimestampNotNewer(id, timestampMs, current);
      // One slot write; values are 8-decimal prices, far below 2^192.
      prices[id] = Price(uint192(values[i]), uint64(timestampMs));
    }
    emit PricesUpdated(msg.sender, feedIds.length, timestampMs);
  }
}
