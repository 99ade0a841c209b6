// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title ReentrantToken
/// @notice Test-only ERC20 that, once armed, calls `target` with `payload` from inside every
///         transfer (as a malicious token or an ERC777-style hook would) and records the outcome.
contract ReentrantToken is ERC20 {
    address public target;
    bytes public payload;
    bool public armed;
    uint256 public attempts;
    bool public lastReentrySucceeded;
    bytes public lastRevertData;

    constructor() ERC20("Reentrant", "RNT") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function arm(address target_, bytes calldata payload_) external {
        target = target_;
        payload = payload_;
        armed = true;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        if (armed && from != address(0)) {
            armed = false; // one attempt per arming
            ++attempts;
            (bool ok, bytes memory ret) = target.call(payload);
            lastReentrySucceeded = ok;
            lastRevertData = ret;
        }
    }
}
