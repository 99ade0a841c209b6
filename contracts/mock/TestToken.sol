// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title TestToken
/// @notice Dev-chain ERC20 collateral with open minting and configurable decimals: the simulator
///         deploys it on its anvil chain (not a test-only contract, hence `contracts/mock/`, not
///         `contracts/test/`) and the settlement tests use it. Anyone can mint: never deploy it
///         outside a dev chain.
contract TestToken is ERC20 {
    uint8 private immutable _decimals;

    constructor(string memory name_, string memory symbol_, uint8 decimals_) ERC20(name_, symbol_) {
        _decimals = decimals_;
    }

    function decimals() public view override returns (uint8) {
        return _decimals;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
