// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title CodeBlob
/// @notice Immutable data stored as contract code (the SSTORE2 pattern): writing costs
///         200 gas per byte once; reading is one EXTCODECOPY (2,600 gas cold for the account,
///         then 3 gas per word) instead of 2,100 gas per cold storage slot.
/// @dev    The blob's code is 0x00 (STOP) ‖ data, so calling it does nothing; data offset 1.
///         At most 24,575 data bytes (EIP-170 code size limit).
library CodeBlob {
    /// @notice CREATE of the blob failed (out of gas, or data longer than the code size limit).
    /// @param length The data's length in bytes.
    error CodeBlobWriteFailed(uint256 length);

    uint256 internal constant MAX_LENGTH = 24_575;

    /// @notice Deploys `data` as code and returns the blob's address.
    function write(bytes memory data) internal returns (address blob) {
        if (data.length > MAX_LENGTH) revert CodeBlobWriteFailed(data.length);
        // Init code (10 bytes): PUSH2 len+1, DUP1, PUSH1 0x0a, RETURNDATASIZE, CODECOPY,
        // RETURNDATASIZE, RETURN; followed by the runtime code 0x00 ‖ data.
        bytes memory init = abi.encodePacked(hex"61", uint16(data.length + 1), hex"80600a3d393df3", hex"00", data);
        assembly ("memory-safe") {
            blob := create(0, add(init, 32), mload(init))
        }
        if (blob == address(0)) revert CodeBlobWriteFailed(data.length);
    }

    /// @notice Copies `length` data bytes from `start` to memory at `dest` (unchecked bounds:
    ///         bytes past the end read as zero).
    function copyTo(address blob, uint256 start, uint256 length, uint256 dest) internal view {
        assembly ("memory-safe") {
            extcodecopy(blob, dest, add(start, 1), length)
        }
    }

    /// @notice `length` data bytes from `start` as a new `bytes`.
    function read(address blob, uint256 start, uint256 length) internal view returns (bytes memory data) {
        data = new bytes(length);
        assembly ("memory-safe") {
            extcodecopy(blob, add(data, 32), add(start, 1), length)
        }
    }

    /// @notice One 32-byte word of data at `start`.
    function word(address blob, uint256 start) internal view returns (uint256 w) {
        assembly ("memory-safe") {
            extcodecopy(blob, 0x00, add(start, 1), 32)
            w := mload(0x00)
        }
    }
}
