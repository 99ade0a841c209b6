// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title BLS
/// @notice BLS12-381 min-signature verification (signatures in G1, keys in G2) on the
///         EIP-2537 precompiles, with RFC 9380 hash-to-curve for G1 on-chain.
/// @dev    Ciphersuite `BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_`
///         (RFC 9380 §8.8.1 suite BLS12381G1_XMD:SHA-256_SSWU_RO_, `bls12_381.shortSignatures`
///         in noble-curves).
///
///         hash_to_curve(msg) = MAP_FP_TO_G1(u0) + MAP_FP_TO_G1(u1), where (u0, u1) =
///         hash_to_field(msg, 2): expand_message_xmd with SHA-256 (precompile 0x02) to 128
///         bytes, each 64-byte half reduced mod p (in the EVM, see `_fieldsToG1`). The
///         precompile MAP_FP_TO_G1 (0x10) performs the simplified SWU map, the 11-isogeny and
///         the cofactor clearing, so the sum (G1ADD, 0x0b) is the RFC's `hash_to_curve`.
///
///         verify(PK, σ, m) is one PAIRING_CHECK (0x0f) of two pairs:
///         e(σ, −G2) · e(H(m), PK) == 1, with −G2 a constant. Cost: 2 pairings
///         (32,600·2 + 37,700 = 102,900) + 2 maps (5,500 each) + 1 G1ADD (375) + 5 SHA-256
///         + two 512-bit reductions, independent of the committee size.
///
///         Point checks: the pairing precompile rejects (fails the call for) any input point not
///         on its curve, not in the prime-order subgroup, or with a coordinate ≥ p; this
///         library turns such a failure into `false`. The point at infinity passes the
///         precompile (it pairs to 1), so it is rejected here explicitly for signatures and by
///         `isValidPublicKey` for keys. Signatures travel as 96 bytes x‖y (48-byte big-endian
///         Fp each) and are padded here to the 128-byte EIP-2537 layout.
library BLS {
    // -- Errors --

    /// @notice A signature must be exactly 96 bytes (x‖y, 48-byte big-endian each).
    /// @param given The signature's length in bytes.
    /// @param expected The required length (96).
    error BlsSignatureLength(uint256 given, uint256 expected);
    /// @notice The signature is the point at infinity (all zero), which is never valid.
    error BlsSignatureAtInfinity();
    /// @notice A public key must be exactly 256 bytes (EIP-2537 G2 layout).
    /// @param given The key's length in bytes.
    /// @param expected The required length (256).
    error BlsPublicKeyLength(uint256 given, uint256 expected);
    /// @notice RFC 9380 expand_message_xmd takes a DST of at most 255 bytes.
    /// @param given The DST's length in bytes.
    /// @param max The largest length accepted (255).
    error BlsDstTooLong(uint256 given, uint256 max);
    /// @notice A precompile call failed during hash-to-curve (a chain without EIP-2537).
    /// @param precompile The address of the precompile that failed.
    error BlsPrecompileFailed(address precompile);
    /// @notice Too little gas left to verify: a precompile starved of gas fails like an invalid
    ///         signature would, so `verify` refuses to start below `VERIFY_GAS`.
    /// @param gasLeft Gas left before the check.
    /// @param needed Gas the verification needs (`VERIFY_GAS`).
    error BlsInsufficientGas(uint256 gasLeft, uint256 needed);

    // -- Constants --

    /// @notice Domain separation tag of the signature ciphersuite.
    bytes internal constant SIGNATURE_DST = "BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_";

    uint256 internal constant SIGNATURE_LENGTH = 96;
    uint256 internal constant PUBLIC_KEY_LENGTH = 256;
    /// @notice Gas `verify` needs from its start: pairing 102,900 (passed 63/64 of what is
    ///         left, so ≥ 104,534 must remain at that call) + hash to G1 (~13,000) + margin.
    uint256 internal constant VERIFY_GAS = 125_000;

    /// @dev DST_prime = DST ‖ I2OSP(43, 1) of SIGNATURE_DST, as two left-aligned words (44 bytes).
    bytes32 private constant DST_PRIME_0 = "BLS_SIG_BLS12381G1_XMD:SHA-256_S";
    bytes32 private constant DST_PRIME_1 = "SWU_RO_NUL_+"; // "+" = 0x2b = 43 = len(DST)

    /// @dev The base-field modulus p = P1·2^256 + P0.
    uint256 private constant P1 = 0x1a0111ea397fe69a4b1ba7b6434bacd7;
    uint256 private constant P1_PLUS_1 = 0x1a0111ea397fe69a4b1ba7b6434bacd8;
    uint256 private constant P0 = 0x64774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab;

    /// @dev −G2 (the negated generator) in the EIP-2537 layout: x.c0, x.c1, y.c0, y.c1.
    uint256 private constant NEG_G2_0 = 0x00000000000000000000000000000000024aa2b2f08f0a91260805272dc51051;
    uint256 private constant NEG_G2_1 = 0xc6e47ad4fa403b02b4510b647ae3d1770bac0326a805bbefd48056c8c121bdb8;
    uint256 private constant NEG_G2_2 = 0x0000000000000000000000000000000013e02b6052719f607dacd3a088274f65;
    uint256 private constant NEG_G2_3 = 0x596bd0d09920b61ab5da61bbdc7f5049334cf11213945d57e5ac7d055d042b7e;
    uint256 private constant NEG_G2_4 = 0x000000000000000000000000000000000d1b3cc2c7027888be51d9ef691d77bc;
    uint256 private constant NEG_G2_5 = 0xb679afda66c73f17f9ee3837a55024f78c71363275a75d75d86bab79f74782aa;
    uint256 private constant NEG_G2_6 = 0x0000000000000000000000000000000013fa4d4a0ad8b1ce186ed5061789213d;
    uint256 private constant NEG_G2_7 = 0x993923066dddaf1040bc3ff59f825c78df74f2d75467e25e0f55f8a00fa030ed;

    // -- Verification --

    /// @notice Verifies a min-signature BLS signature over a 32-byte digest (the production
    ///         message) with the signature ciphersuite's DST.
    /// @param publicKey 256-byte EIP-2537 G2 key (trusted: validated when it was stored).
    /// @param signature 96 bytes x‖y; reverts `BlsSignatureLength` / `BlsSignatureAtInfinity`.
    /// @return valid False when the pairing does not hold or the signature point is not on the
    ///         curve, not in G1's subgroup or not canonical (the precompile checks these).
    function verify(bytes memory publicKey, bytes calldata signature, bytes32 digest) internal view returns (bool valid) {
        if (publicKey.length != PUBLIC_KEY_LENGTH) revert BlsPublicKeyLength(publicKey.length, PUBLIC_KEY_LENGTH);
        uint256 keyPtr;
        assembly ("memory-safe") {
            keyPtr := add(publicKey, 32)
        }
        return verifyWithKeyAt(keyPtr, signature, digest);
    }

    /// @notice `verify` with the 256-byte key already in memory at `keyPtr` (e.g. copied from
    ///         code with EXTCODECOPY), saving an allocation.
    function verifyWithKeyAt(uint256 keyPtr, bytes calldata signature, bytes32 digest) internal view returns (bool valid) {
        if (signature.length != SIGNATURE_LENGTH) revert BlsSignatureLength(signature.length, SIGNATURE_LENGTH);
        if (isInfinity(signature)) revert BlsSignatureAtInfinity();
        if (gasleft() < VERIFY_GAS) revert BlsInsufficientGas(gasleft(), VERIFY_GAS);

        // Pairing input: σ (128) ‖ −G2 (256) ‖ H(m) (128) ‖ PK (256) = 768 bytes.
        uint256 buf;
        assembly ("memory-safe") {
            buf := mload(0x40)
            mstore(0x40, add(buf, 768))
            mstore(buf, 0)
            mstore(add(buf, 64), 0)
            calldatacopy(add(buf, 16), signature.offset, 48)
            calldatacopy(add(buf, 80), add(signature.offset, 48), 48)
            mstore(add(buf, 128), NEG_G2_0)
            mstore(add(buf, 160), NEG_G2_1)
            mstore(add(buf, 192), NEG_G2_2)
            mstore(add(buf, 224), NEG_G2_3)
            mstore(add(buf, 256), NEG_G2_4)
            mstore(add(buf, 288), NEG_G2_5)
            mstore(add(buf, 320), NEG_G2_6)
            mstore(add(buf, 352), NEG_G2_7)
            mcopy(add(buf, 512), keyPtr, 256)
        }
        _hashDigestToG1(digest, buf + 384);
        assembly ("memory-safe") {
            // Yul evaluates arguments right to left: call first, then read its output.
            let ok := staticcall(gas(), 0x0f, buf, 768, 0x00, 32)
            valid := and(ok, eq(mload(0x00), 1))
            mstore(0x40, buf) // release the pairing buffer
        }
    }

    /// @notice True when the 96-byte signature encodes the point at infinity (all zero).
    function isInfinity(bytes calldata signature) internal pure returns (bool infinity) {
        assembly ("memory-safe") {
            let o := signature.offset
            infinity := iszero(or(or(calldataload(o), calldataload(add(o, 32))), calldataload(add(o, 64))))
        }
    }

    /// @notice True when `publicKey` is a 256-byte EIP-2537 G2 point on the curve, in the
    ///         prime-order subgroup and not infinity (G2MSM by 1 performs the subgroup check).
    function isValidPublicKey(bytes memory publicKey) internal view returns (bool ok) {
        if (publicKey.length != PUBLIC_KEY_LENGTH) return false;
        assembly ("memory-safe") {
            let p := add(publicKey, 32)
            let nonzero := 0
            for { let i := 0 } lt(i, 256) { i := add(i, 32) } { nonzero := or(nonzero, mload(add(p, i))) }
            let buf := mload(0x40)
            mcopy(buf, p, 256)
            mstore(add(buf, 256), 1)
            ok := and(iszero(iszero(nonzero)), staticcall(gas(), 0x0e, buf, 288, buf, 256))
        }
    }

    // -- Hash to curve --

    /// @notice RFC 9380 hash_to_curve to G1 (suite BLS12381G1_XMD:SHA-256_SSWU_RO_) for any
    ///         DST (≤ 255 bytes) and message length.
    /// @return point 128-byte EIP-2537 G1 point.
    function hashToG1(bytes memory dst, bytes memory message) internal view returns (bytes memory point) {
        if (dst.length > 255) revert BlsDstTooLong(dst.length, 255);
        (bytes32 b1, bytes32 b2, bytes32 b3, bytes32 b4) = expandMessageXmd128(dst, message);
        point = new bytes(128);
        uint256 out;
        assembly ("memory-safe") {
            out := add(point, 32)
        }
        _fieldsToG1(b1, b2, b3, b4, out);
    }

    /// @notice hash_to_curve of a 32-byte digest with the signature DST: the production path,
    ///         with DST_prime and lengths as constants.
    function hashDigestToG1(bytes32 digest) internal view returns (bytes memory point) {
        point = new bytes(128);
        uint256 out;
        assembly ("memory-safe") {
            out := add(point, 32)
        }
        _hashDigestToG1(digest, out);
    }

    /// @notice RFC 9380 §5.3.1 expand_message_xmd with SHA-256 and len_in_bytes = 128
    ///         (hash_to_field with count 2, m 1, L 64): returns b_1 … b_4.
    function expandMessageXmd128(bytes memory dst, bytes memory message)
        internal
        view
        returns (bytes32 b1, bytes32 b2, bytes32 b3, bytes32 b4)
    {
        if (dst.length > 255) revert BlsDstTooLong(dst.length, 255);
        bool ok;
        assembly ("memory-safe") {
            let dlen := mload(dst)
            let mlen := mload(message)
            let buf := mload(0x40) // scratch above the free pointer, not allocated
            // b_0 = H(Z_pad(64) ‖ msg ‖ I2OSP(128, 2) ‖ I2OSP(0, 1) ‖ DST ‖ I2OSP(len(DST), 1))
            mstore(buf, 0)
            mstore(add(buf, 32), 0)
            mcopy(add(buf, 64), add(message, 32), mlen)
            let p := add(add(buf, 64), mlen)
            mstore8(p, 0x00)
            mstore8(add(p, 1), 0x80)
            mstore8(add(p, 2), 0x00)
            mcopy(add(p, 3), add(dst, 32), dlen)
            mstore8(add(add(p, 3), dlen), dlen)
            ok := staticcall(gas(), 0x02, buf, add(add(mlen, 68), dlen), 0x00, 32)
            let b0 := mload(0x00)
            // b_i = H((b_0 xor b_{i-1}) ‖ I2OSP(i, 1) ‖ DST_prime), b_1 = H(b_0 ‖ 1 ‖ DST_prime)
            mcopy(add(buf, 33), add(dst, 32), dlen)
            mstore8(add(add(buf, 33), dlen), dlen)
            let len := add(dlen, 34)
            mstore(buf, b0)
            mstore8(add(buf, 32), 1)
            ok := and(ok, staticcall(gas(), 0x02, buf, len, 0x00, 32))
            b1 := mload(0x00)
            mstore(buf, xor(b0, b1))
            mstore8(add(buf, 32), 2)
            ok := and(ok, staticcall(gas(), 0x02, buf, len, 0x00, 32))
            b2 := mload(0x00)
            mstore(buf, xor(b0, b2))
            mstore8(add(buf, 32), 3)
            ok := and(ok, staticcall(gas(), 0x02, buf, len, 0x00, 32))
            b3 := mload(0x00)
            mstore(buf, xor(b0, b3))
            mstore8(add(buf, 32), 4)
            ok := and(ok, staticcall(gas(), 0x02, buf, len, 0x00, 32))
            b4 := mload(0x00)
        }
        if (!ok) revert BlsPrecompileFailed(address(0x02));
    }

    // -- Internals --

    /// @dev Fixed-path hash to G1 of a 32-byte digest; writes the 128-byte point at `out`.
    function _hashDigestToG1(bytes32 digest, uint256 out) private view {
        bytes32 b1;
        bytes32 b2;
        bytes32 b3;
        bytes32 b4;
        bool ok;
        assembly ("memory-safe") {
            let buf := mload(0x40)
            // 64 zero ‖ digest ‖ 00 80 00 ‖ DST_prime (44) = 143 bytes
            mstore(buf, 0)
            mstore(add(buf, 32), 0)
            mstore(add(buf, 64), digest)
            mstore(add(buf, 96), 0x0080000000000000000000000000000000000000000000000000000000000000)
            mstore(add(buf, 99), DST_PRIME_0)
            mstore(add(buf, 131), DST_PRIME_1)
            ok := staticcall(gas(), 0x02, buf, 143, 0x00, 32)
            let b0 := mload(0x00)
            // prev (32) ‖ i (1) ‖ DST_prime (44) = 77 bytes
            mstore(add(buf, 33), DST_PRIME_0)
            mstore(add(buf, 65), DST_PRIME_1)
            mstore(buf, b0)
            mstore8(add(buf, 32), 1)
            ok := and(ok, staticcall(gas(), 0x02, buf, 77, 0x00, 32))
            b1 := mload(0x00)
            mstore(buf, xor(b0, b1))
            mstore8(add(buf, 32), 2)
            ok := and(ok, staticcall(gas(), 0x02, buf, 77, 0x00, 32))
            b2 := mload(0x00)
            mstore(buf, xor(b0, b2))
            mstore8(add(buf, 32), 3)
            ok := and(ok, staticcall(gas(), 0x02, buf, 77, 0x00, 32))
            b3 := mload(0x00)
            mstore(buf, xor(b0, b3))
            mstore8(add(buf, 32), 4)
            ok := and(ok, staticcall(gas(), 0x02, buf, 77, 0x00, 32))
            b4 := mload(0x00)
        }
        if (!ok) revert BlsPrecompileFailed(address(0x02));
        _fieldsToG1(b1, b2, b3, b4, out);
    }

    /// @dev u0 = (b1‖b2) mod p, u1 = (b3‖b4) mod p; writes MAP(u0) + MAP(u1) at `out`
    ///      (128 bytes). `out` must lie below the free memory pointer.
    ///      The 512-bit reduction is done in the EVM rather than with MODEXP (500 gas minimum
    ///      per call since EIP-7883): with p = P1·2^256 + P0 (P1 of 125 bits), the quotient
    ///      estimate q = ⌊h / (P1 + 1)⌋ never exceeds ⌊x/p⌋ and falls short by at most
    ///      h/P1² + 1 < 99, so x − q·p < 99p < 2^388; a second estimate on that leaves < 2p,
    ///      and conditional subtractions finish. Checked against the RFC 9380 vectors and
    ///      noble-curves on random digests (test/contracts/bls.test.ts).
    function _fieldsToG1(bytes32 b1, bytes32 b2, bytes32 b3, bytes32 b4, uint256 out) private view {
        bool ok;
        assembly ("memory-safe") {
            // (h, l) − q·p as a 512-bit value; q·p ≤ (h, l) by the choice of q.
            function subQp(h, l, q) -> nh, nl {
                let pl := mul(q, P0)
                let mm := mulmod(q, P0, not(0))
                let ph := add(sub(sub(mm, pl), lt(mm, pl)), mul(q, P1))
                nl := sub(l, pl)
                nh := sub(sub(h, ph), lt(l, pl))
            }
            function reduce(h, l) -> rh, rl {
                h, l := subQp(h, l, div(h, P1_PLUS_1))
                h, l := subQp(h, l, div(h, P1_PLUS_1))
                for {} or(gt(h, P1), and(eq(h, P1), iszero(lt(l, P0)))) {} {
                    let borrow := lt(l, P0)
                    l := sub(l, P0)
                    h := sub(sub(h, P1), borrow)
                }
                rh := h
                rl := l
            }
            let m := mload(0x40) // scratch: MAP input (64) ‖ two G1 points (256)
            let g := add(m, 64)
            // MAP_FP_TO_G1 input: 16 zero bytes ‖ 48-byte u (h < 2^125 fills the low 16 bytes).
            let h, l := reduce(b1, b2)
            mstore(m, h)
            mstore(add(m, 32), l)
            ok := staticcall(gas(), 0x10, m, 64, g, 128)
            h, l := reduce(b3, b4)
            mstore(m, h)
            mstore(add(m, 32), l)
            ok := and(ok, staticcall(gas(), 0x10, m, 64, add(g, 128), 128))
            ok := and(ok, staticcall(gas(), 0x0b, g, 256, out, 128))
        }
        if (!ok) revert BlsPrecompileFailed(address(0x10));
    }
}
