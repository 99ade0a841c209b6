// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title FeeOnTransferToken
/// @notice Test-only ERC20 that burns `feeBps` of every transfer between two accounts (mints
///         and burns are exact), as deflationary and fee-charging tokens do: the recipient
///         receives less than the amount named in `transfer` / `transferFrom`. Used to check that
///         the settlement contracts refuse such collateral instead of booking more than they
///         hold. Never deploy outside tests.
contract FeeOnTransferToken is ERC20 {
    uint8 private immutable _decimals;
    /// @notice Fee burnt on every transfer, in basis points of the amount.
    uint256 public feeBps;

    constructor(string memory name_, string memory symbol_, uint8 decimals_, uint256 feeBps_) ERC20(name_, symbol_) {
        _decimals = decimals_;
        feeBps = feeBps_;
    }

    function decimals() public view override returns (uint8) {
        return _decimals;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Changes the fee (0 makes the token plain), e.g. to switch it on after deposits.
    function setFeeBps(uint256 feeBps_) external {
        feeBps = feeBps_;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (from == address(0) || to == address(0) || feeBps == 0) {
            super._update(from, to, value);
            return;
        }
        uint256 fee = (value * feeBps) / 10_000;
        super._update(from, address(0), fee);
        super._update(from, to, value - fee);
    }
}
