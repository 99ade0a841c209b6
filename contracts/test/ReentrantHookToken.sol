// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice The callback an ERC777-style token makes to an account that registered for it.
interface ITransferHookReceiver {
    function onTokenTransfer(address from, address to, uint256 value) external;
}

/// @title HookToken
/// @notice Test-only ERC20 that calls `onTokenTransfer` on the sender and the receiver of every
///         transfer when they registered (as ERC777 hooks or a malicious token do), after the
///         balances moved. The account itself then chooses what to call back. Never deploy
///         outside tests.
contract HookToken is ERC20 {
    mapping(address account => bool) public hooked;

    constructor() ERC20("Hook", "HOOK") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function register(bool on) external {
        hooked[msg.sender] = on;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        if (from != address(0) && hooked[from]) ITransferHookReceiver(from).onTokenTransfer(from, to, value);
        if (to != address(0) && to != from && hooked[to]) ITransferHookReceiver(to).onTokenTransfer(from, to, value);
    }
}

/// @title HookedTrader
/// @notice Test-only account contract of an attacker: it trades on a settlement contract through
///         `exec`, and when armed, re-enters `target` with `payload` as itself from inside the
///         token's transfer hook (e.g. a second withdraw of its own collateral). It records the
///         outcome instead of reverting, so the outer action completes and the test can read why
///         the re-entry failed.
contract HookedTrader is ITransferHookReceiver {
    address public target;
    bytes public payload;
    bool public armed;
    uint256 public attempts;
    bool public lastReentrySucceeded;
    bytes public lastRevertData;

    /// @notice Calls `to` with `data` as this account; reverts with the callee's revert data.
    function exec(address to, bytes calldata data) external returns (bytes memory ret) {
        bool ok;
        (ok, ret) = to.call(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 0x20), mload(ret))
            }
        }
    }

    function arm(address target_, bytes calldata payload_) external {
        target = target_;
        payload = payload_;
        armed = true;
    }

    function onTokenTransfer(address, address, uint256) external {
        if (!armed) return;
        armed = false; // one attempt per arming
        ++attempts;
        (bool ok, bytes memory ret) = target.call(payload);
        lastReentrySucceeded = ok;
        lastRevertData = ret;
    }
}
