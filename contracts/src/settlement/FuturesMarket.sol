// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {SignedMath} from "@openzeppelin/contracts/utils/math/SignedMath.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";
import {IAegisFeeds} from "../interfaces/IAegisFeeds.sol";
import {IFuturesMarket} from "../interfaces/IFuturesMarket.sol";
import {SequencerGuard} from "./SequencerGuard.sol";

/// @title FuturesMarket
/// @notice Margined futures on one Aegis feed with a single pool owner as counterparty.
///         See `IFuturesMarket` for units and rules.
/// @dev Prices come from `hub.tryRead` and pass, in order: sequencer up past its grace period,
///      feed known with at least one round, not tripped, not paused, not suspended by the
///      committee (docs/suspension.md: a liquidation on the last price of a feed nobody can
///      price is exactly the frozen-price hazard), not stale (the market's
///      `maxPriceAge` and the hub's own limit), `spreadBps` within the limit, answer > 0.
///      Checks-effects-interactions plus a transient reentrancy lock on every external action;
///      incoming transfers are measured against the balance (no fee-on-transfer collateral).
contract FuturesMarket is IFuturesMarket, SequencerGuard, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;
    using SafeCast for int256;

    uint256 private constant BPS = 10_000;
    /// @dev Upper bound of `maxProfitBps` (100x the opening notional): any larger cap is no cap.
    uint256 private constant MAX_PROFIT_BPS_LIMIT = 1_000_000;

    // -- Immutables --

    /// @notice The Aegis hub serving the underlying feed (read through `IAegisFeeds` only).
    IAegisFeeds public immutable hub;
    /// @notice The underlying feed.
    bytes32 public immutable feedId;
    /// @notice Collateral token of traders and pool.
    IERC20 public immutable collateralToken;
    /// @notice 10^decimals of the feed, read once at deployment.
    uint256 public immutable priceScale;
    /// @notice The only address that funds and defunds the pool (the counterparty to every trader).
    address public immutable poolOwner;
    /// @notice Largest accepted price age in seconds (the hub's own max staleness also applies).
    uint256 public immutable maxPriceAge;
    /// @notice Largest accepted node dispersion of a price, in basis points.
    uint256 public immutable maxSpreadBps;
    /// @notice Margin to open / to withdraw down to, in bps of notional (1000 = 10x max leverage).
    uint256 public immutable initialMarginBps;
    /// @notice Equity below this share of notional is liquidatable, in bps.
    uint256 public immutable maintenanceMarginBps;
    /// @notice Liquidator's bounty in bps of notional, paid from the liquidated collateral.
    uint256 public immutable liquidationBountyBps;
    /// @notice Smallest notional to open with, collateral units.
    uint256 public immutable minNotional;
    /// @notice Smallest collateral to open with and to keep through withdrawals while open.
    uint256 public immutable minCollateral;
    /// @notice A position's maximum profit from the pool, bps of its opening notional (shorts:
    ///         at most 10,000).
    uint256 public immutable maxProfitBps;
    /// @notice Below this notional anyone may close a position (`closeDust`): half of
    ///         `minNotional`, so a position opened at the minimum survives a halving of its
    ///         notional (a long at 1x margin is liquidated long before that).
    uint256 public immutable dustNotional;

    // -- Storage --

    /// @notice Pool balance backing traders' profits and claims, in collateral base units.
    uint128 public pool;
    /// @notice Σ reserve + Σ claim over all accounts: the most the pool may still have to pay.
    ///         Packed with `pool`: every realization moves both.
    uint128 public exposure;
    mapping(address trader => Account) internal _accounts;

    constructor(
        IAegisFeeds hub_,
        bytes32 feedId_,
        IERC20 collateral_,
        address poolOwner_,
        RiskParams memory risk,
        AggregatorV3Interface sequencerFeed,
        uint256 sequencerGrace
    ) SequencerGuard(sequencerFeed, sequencerGrace) {
        if (risk.maxPriceAge == 0) revert InvalidParameter("maxPriceAge", 0);
        if (risk.maxSpreadBps > BPS) revert InvalidParameter("maxSpreadBps", risk.maxSpreadBps);
        if (risk.initialMarginBps == 0 || risk.initialMarginBps > BPS) {
            revert InvalidParameter("initialMarginBps", risk.initialMarginBps);
        }
        if (risk.maintenanceMarginBps == 0 || risk.maintenanceMarginBps >= risk.initialMarginBps) {
            revert InvalidParameter("maintenanceMarginBps", risk.maintenanceMarginBps);
        }
        if (risk.liquidationBountyBps > risk.maintenanceMarginBps) {
            revert InvalidParameter("liquidationBountyBps", risk.liquidationBountyBps);
        }
        // Without a floor a 1-unit position is worth nobody's gas to liquidate or close.
        if (risk.minNotional < 2 || risk.minNotional > type(uint128).max) {
            revert InvalidParameter("minNotional", risk.minNotional);
        }
        if (risk.minCollateral == 0 || risk.minCollateral > type(uint128).max) {
            revert InvalidParameter("minCollateral", risk.minCollateral);
        }
        // Without a cap a long's profit, and so the pool's exposure, has no bound.
        if (risk.maxProfitBps == 0 || risk.maxProfitBps > MAX_PROFIT_BPS_LIMIT) {
            revert InvalidParameter("maxProfitBps", risk.maxProfitBps);
        }
        uint8 d = hub_.decimals(feedId_);
        if (d > 36) revert InvalidParameter("decimals", d);
        hub = hub_;
        feedId = feedId_;
        collateralToken = collateral_;
        priceScale = 10 ** d;
        poolOwner = poolOwner_;
        maxPriceAge = risk.maxPriceAge;
        maxSpreadBps = risk.maxSpreadBps;
        initialMarginBps = risk.initialMarginBps;
        maintenanceMarginBps = risk.maintenanceMarginBps;
        liquidationBountyBps = risk.liquidationBountyBps;
        minNotional = risk.minNotional;
        minCollateral = risk.minCollateral;
        maxProfitBps = risk.maxProfitBps;
        dustNotional = risk.minNotional / 2;
    }

    // -- Collateral --

    /// @inheritdoc IFuturesMarket
    function deposit(uint256 amount) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        Account storage a = _accounts[msg.sender];
        uint256 collateral = a.collateral + amount;
        a.collateral = collateral.toUint128();
        emit Deposited(msg.sender, amount, collateral);

        _pull(amount);
    }

    /// @inheritdoc IFuturesMarket
    function withdraw(uint256 amount) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        Account storage a = _accounts[msg.sender];
        uint256 collateral = a.collateral;
        if (amount > collateral) revert InsufficientCollateral(amount, collateral);
        // Checked above: amount ≤ collateral.
        unchecked {
            collateral -= amount;
        }
        if (a.size != 0) {
            if (collateral < minCollateral) revert CollateralBelowMinimum(collateral, minCollateral);
            (int256 price,) = _price();
            int256 equityAfter = _equity(a, price) - int256(amount);
            uint256 required = _margin(a.size, price, initialMarginBps);
            if (equityAfter < int256(required)) revert InsufficientMargin(equityAfter, required);
        }
        a.collateral = uint128(collateral);
        emit Withdrawn(msg.sender, amount, collateral);

        collateralToken.safeTransfer(msg.sender, amount);
    }

    // -- Pool --

    /// @inheritdoc IFuturesMarket
    function fundPool(uint256 amount) external nonReentrant {
        if (msg.sender != poolOwner) revert NotPoolOwner(msg.sender, poolOwner);
        if (amount == 0) revert ZeroAmount();
        uint256 pool_ = pool + amount;
        pool = pool_.toUint128();
        emit PoolFunded(msg.sender, amount, pool_);

        _pull(amount);
    }

    /// @inheritdoc IFuturesMarket
    function defundPool(uint256 amount) external nonReentrant {
        if (msg.sender != poolOwner) revert NotPoolOwner(msg.sender, poolOwner);
        if (amount == 0) revert ZeroAmount();
        uint256 pool_ = pool;
        if (amount > pool_) revert InsufficientPool(amount, pool_);
        uint256 free = _free(pool_, exposure);
        if (amount > free) revert PoolLocked(amount, free, exposure);
        // Checked above: amount ≤ free ≤ pool.
        unchecked {
            pool_ -= amount;
        }
        pool = uint128(pool_);
        emit PoolDefunded(msg.sender, amount, pool_);

        collateralToken.safeTransfer(msg.sender, amount);
    }

    // -- Positions --

    /// @inheritdoc IFuturesMarket
    function openPosition(int256 size) external nonReentrant {
        if (size == 0) revert ZeroSize();
        Account storage a = _accounts[msg.sender];
        if (a.size != 0) revert PositionAlreadyOpen(msg.sender, a.size);
        (int256 price, uint256 roundId) = _price();
        uint256 notional = _notional(size, price);
        if (notional < minNotional) revert NotionalBelowMinimum(notional, minNotional);
        uint256 collateral = a.collateral;
        if (collateral < minCollateral) revert CollateralBelowMinimum(collateral, minCollateral);
        uint256 required = Math.mulDiv(notional, initialMarginBps, BPS, Math.Rounding.Ceil);
        if (collateral < required) revert InsufficientMargin(int256(collateral), required);
        // A short gains at most its notional (the price cannot go below 0).
        uint256 maxProfit = Math.mulDiv(notional, size > 0 ? maxProfitBps : Math.min(maxProfitBps, BPS), BPS);
        a.reserve = maxProfit.toUint128();
        a.size = size.toInt128();
        a.entryPrice = price.toInt128();
        exposure = (exposure + maxProfit).toUint128();
        emit PositionOpened(msg.sender, size, price, notional, maxProfit, roundId);
    }

    /// @inheritdoc IFuturesMarket
    function closePosition() external nonReentrant {
        Account storage a = _accounts[msg.sender];
        if (a.size == 0) revert NoPosition(msg.sender);
        (int256 price, uint256 roundId) = _price();
        _realize(msg.sender, a, price, roundId);
        _close(a);
        emit PositionClosed(msg.sender, price, a.collateral);
    }

    /// @inheritdoc IFuturesMarket
    function mark(address trader) external nonReentrant {
        Account storage a = _accounts[trader];
        if (a.size == 0) revert NoPosition(trader);
        (int256 price, uint256 roundId) = _price();
        _realize(trader, a, price, roundId);
    }

    /// @inheritdoc IFuturesMarket
    function liquidate(address trader) external nonReentrant {
        Account storage a = _accounts[trader];
        if (a.size == 0) revert NoPosition(trader);
        (int256 price, uint256 roundId) = _price();
        int256 equity = _equity(a, price);
        uint256 maintenance = _margin(a.size, price, maintenanceMarginBps);
        if (equity >= int256(maintenance)) revert NotLiquidatable(trader, equity, maintenance);

        uint256 bountyTarget = _margin(a.size, price, liquidationBountyBps);
        _realize(trader, a, price, roundId);
        uint256 collateral = a.collateral;
        uint256 bounty = Math.min(bountyTarget, collateral);
        // bounty ≤ collateral.
        unchecked {
            collateral -= bounty;
        }
        a.collateral = uint128(collateral);
        _close(a);
        emit Liquidated(trader, msg.sender, price, bounty, collateral);

        if (bounty > 0) collateralToken.safeTransfer(msg.sender, bounty);
    }

    /// @inheritdoc IFuturesMarket
    function closeDust(address trader) external nonReentrant {
        Account storage a = _accounts[trader];
        if (a.size == 0) revert NoPosition(trader);
        (int256 price, uint256 roundId) = _price();
        uint256 notional = _notional(a.size, price);
        if (notional >= dustNotional) revert NotDust(trader, notional, dustNotional);
        _realize(trader, a, price, roundId);
        _close(a);
        emit DustClosed(trader, msg.sender, notional, dustNotional);
        emit PositionClosed(trader, price, a.collateral);
    }

    /// @inheritdoc IFuturesMarket
    function collectClaim(address trader) external nonReentrant {
        Account storage a = _accounts[trader];
        uint256 claim = a.claim;
        if (claim == 0) revert NoClaim(trader);
        uint256 pool_ = pool;
        if (pool_ == 0) revert InsufficientPool(claim, 0);
        uint256 paid = Math.min(claim, pool_);
        // paid ≤ claim, paid ≤ pool, and paid ≤ exposure because exposure ≥ Σ claim.
        unchecked {
            claim -= paid;
            pool = uint128(pool_ - paid);
            exposure -= uint128(paid);
        }
        a.claim = claim;
        a.collateral = (a.collateral + paid).toUint128();
        emit ClaimPaid(trader, msg.sender, paid, claim);
    }

    // -- Views --

    /// @inheritdoc IFuturesMarket
    function getAccount(address trader) external view returns (Account memory) {
        return _accounts[trader];
    }

    /// @inheritdoc IFuturesMarket
    function equityAt(address trader, int256 price) external view returns (int256) {
        return _equity(_accounts[trader], price);
    }

    /// @inheritdoc IFuturesMarket
    function isLiquidatableAt(address trader, int256 price) external view returns (bool) {
        Account storage a = _accounts[trader];
        if (a.size == 0) return false;
        return _equity(a, price) < int256(_margin(a.size, price, maintenanceMarginBps));
    }

    /// @inheritdoc IFuturesMarket
    function freePool() external view returns (uint256) {
        return _free(pool, exposure);
    }

    /// @inheritdoc IFuturesMarket
    function markPrice() external view returns (int256 price, uint256 roundId) {
        return _price();
    }

    // -- Internal --

    /// @dev The oracle price, or a named revert. See the contract notes for the order of checks.
    function _price() private view returns (int256 price, uint256 roundId) {
        _checkSequencer();
        uint256 observedAt;
        uint256 spreadBps;
        IAegisFeeds.FeedStatus status;
        (price, observedAt, spreadBps, roundId, status) = hub.tryRead(feedId);
        if (status == IAegisFeeds.FeedStatus.Unknown || roundId == 0) revert PriceUnavailable(feedId);
        if (status == IAegisFeeds.FeedStatus.Tripped) revert PriceTripped(feedId);
        if (status == IAegisFeeds.FeedStatus.Paused) revert PricePaused(feedId);
        if (status == IAegisFeeds.FeedStatus.Suspended) revert PriceSuspended(feedId);
        uint256 age = block.timestamp > observedAt ? block.timestamp - observedAt : 0;
        if (status == IAegisFeeds.FeedStatus.Stale || age > maxPriceAge) revert PriceStale(feedId, age, maxPriceAge);
        if (spreadBps > maxSpreadBps) revert PriceLowConfidence(feedId, spreadBps, maxSpreadBps);
        if (price <= 0) revert PriceNotPositive(feedId, price);
    }

    /// @dev Pulls `amount` from the caller and reverts unless the balance grew by exactly that:
    ///      booking more than arrived would let the last withdrawer find the market short.
    function _pull(uint256 amount) private {
        uint256 before = collateralToken.balanceOf(address(this));
        collateralToken.safeTransferFrom(msg.sender, address(this), amount);
        uint256 after_ = collateralToken.balanceOf(address(this));
        uint256 received = after_ > before ? after_ - before : 0;
        if (received != amount) revert FeeOnTransferUnsupported(amount, received);
    }

    function _free(uint256 pool_, uint256 exposure_) private pure returns (uint256) {
        return pool_ > exposure_ ? pool_ - exposure_ : 0;
    }

    function _notional(int256 size, int256 price) private view returns (uint256) {
        // price > 0 is guaranteed by _price for every caller that reaches here with an oracle
        // price; the views take any price, so clamp negatives to 0.
        if (price <= 0) return 0;
        return Math.mulDiv(SignedMath.abs(size), uint256(price), priceScale);
    }

    function _margin(int256 size, int256 price, uint256 bps) private view returns (uint256) {
        return Math.mulDiv(_notional(size, price), bps, BPS, Math.Rounding.Ceil);
    }

    /// @dev int128 operands: the product of a size and a price difference fits in int256.
    function _pnl(int256 size, int256 entry, int256 price) private view returns (int256) {
        return size * (price - entry) / int256(priceScale);
    }

    /// @dev Collateral + claim + open PnL, the PnL capped at the reserve (the most the position
    ///      can still be paid). The claim counts: a loss beyond the collateral is set off
    ///      against it, so a stranger's `mark` that turns open profit into a claim while the
    ///      pool is short cannot make the account liquidatable.
    function _equity(Account storage a, int256 price) private view returns (int256) {
        int256 equity = int256(uint256(a.collateral)) + int256(a.claim);
        if (a.size == 0) return equity;
        int256 pnl = _pnl(a.size, a.entryPrice, price);
        int256 reserve = int256(uint256(a.reserve));
        return equity + (pnl > reserve ? reserve : pnl);
    }

    /// @dev Moves the open PnL between the account and the pool and resets the entry to `price`.
    ///      A profit is owed up to the reserve; the pool pays what it holds, the rest becomes the
    ///      account's claim. A loss comes from the collateral, then from the claim (set off), the
    ///      rest is bad debt; what was covered raises the reserve, since the position may win it
    ///      back. Every branch keeps exposure == Σ reserve + Σ claim.
    function _realize(address trader, Account storage a, int256 price, uint256 roundId) private {
        int256 pnl = _pnl(a.size, a.entryPrice, price);
        uint256 collateral = a.collateral;
        uint256 reserve = a.reserve;
        if (pnl > 0) {
            uint256 profit = uint256(pnl);
            uint256 owed = profit;
            if (owed > reserve) {
                owed = reserve;
                emit ProfitCapped(trader, profit, owed);
            }
            uint256 pool_ = pool;
            uint256 paid = Math.min(owed, pool_);
            // owed ≤ reserve; paid ≤ pool; paid ≤ owed ≤ reserve ≤ exposure.
            unchecked {
                reserve -= owed;
                pool = uint128(pool_ - paid);
                exposure -= uint128(paid);
            }
            collateral += paid;
            if (paid < owed) {
                uint256 claim = a.claim + (owed - paid);
                a.claim = claim;
                emit ClaimAccrued(trader, owed - paid, claim);
            }
        } else if (pnl < 0) {
            uint256 loss = uint256(-pnl);
            uint256 covered = Math.min(loss, collateral);
            // covered ≤ collateral.
            unchecked {
                collateral -= covered;
            }
            pool = (pool + covered).toUint128();
            exposure = (exposure + covered).toUint128();
            if (covered < loss) {
                uint256 rest = loss - covered;
                uint256 claim = a.claim;
                uint256 setOff = Math.min(rest, claim);
                if (setOff > 0) {
                    // The pool owes the claim and is owed the loss: both shrink, no token moves,
                    // and the amount moves from claim to reserve (exposure unchanged).
                    unchecked {
                        claim -= setOff;
                    }
                    a.claim = claim;
                    covered += setOff;
                    emit ClaimSetOff(trader, setOff, claim);
                }
                if (covered < loss) emit BadDebt(trader, loss - covered);
            }
            reserve += covered;
        }
        a.collateral = collateral.toUint128();
        a.reserve = reserve.toUint128();
        a.entryPrice = price.toInt128();
        emit PositionMarked(trader, msg.sender, price, pnl, collateral, roundId);
    }

    /// @dev Flattens the account and releases its reserve; a claim stays until collected.
    function _close(Account storage a) private {
        uint256 reserve = a.reserve;
        // exposure ≥ Σ reserve ≥ this reserve.
        unchecked {
            exposure -= uint128(reserve);
        }
        a.reserve = 0;
        a.size = 0;
        a.entryPrice = 0;
    }
}
