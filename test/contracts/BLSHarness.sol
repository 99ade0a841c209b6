// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {BLS} from "../src/libs/BLS.sol";

/// @notice Test-only wrapper exposing the BLS library's internal functions.
contract BLSHarness {
    function hashToG1(bytes calldata dst, bytes calldata message) external view returns (bytes memory) {
        return BLS.hashToG1(dst, message);
    }

    function hashDigestToG1(bytes32 digest) external view returns (bytes memory) {
        return BLS.hashDigestToG1(digest);
    }

    function verify(bytes calldata publicKey, bytes calldata signature, bytes32 digest) external view returns (bool) {
        return BLS.verify(publicKey, signature, digest);
    }

    function isValidPublicKey(bytes calldata publicKey) external view returns (bool) {
        return BLS.isValidPublicKey(publicKey);
    }
}
