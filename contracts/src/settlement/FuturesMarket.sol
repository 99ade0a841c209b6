// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SignedMath} from "@openzeppelin/contracts/utils/math/SignedMath.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";
import {IAegisFeeds} from "../interfaces/IAegisFeeds.sol";
import {IFuturesMarket} from "./IFuturesMarket.sol";
import {SequencerGuard} from "./SequencerGuard.sol";

/// @title FuturesMarket
/// @notice Margined futures on one Aegis feed with a single pool owner as counterparty.
///         See `IFuturesMarket` for units and rules.
/// @dev Prices come from `hub.tryRead` and pass, in order: sequencer up past its grace period,
///      feed known with at least one round, not tripped, not paused, not stale (the market's
///      `maxPriceAge` and the hub's own limit), `spreadBps` within the limit, answer > 0.
///      Checks-effects-interactions plus a transient reentrancy lock on every external action.
contract FuturesMarket is IFuturesMarket, SequencerGuard, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    uint256 private constant BPS = 10_000;

    // -- Immutables --

    IAegisFeeds public immutable hub;
    bytes32 public immutable feedId;
    IERC20 public immutable collateralToken;
    /// @notice 10^decimals of the feed, read once at deployment.
    uint256 public immutable priceScale;
    /// @notice The only address that funds and defunds the pool (the counterparty to every trader).
    address public immutable poolOwner;
    uint256 public immutable maxPriceAge;
    uint256 public immutable maxSpreadBps;
    uint256 public immutable initialMarginBps;
    uint256 public immutable maintenanceMarginBps;
    uint256 public immutable liquidationBountyBps;

    // -- Storage --

    /// @notice Pool balance backing traders' profits, in collateral base units.
    uint256 public pool;
    /// @notice Number of accounts with a non-zero position.
    uint256 public openPositions;
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
    }

    // -- Collateral --

    /// @inheritdoc IFuturesMarket
    function deposit(uint256 amount) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        Account storage a = _accounts[msg.sender];
        a.collateral += amount;
        emit Deposited(msg.sender, amount, a.collateral);

        collateralToken.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @inheritdoc IFuturesMarket
    function withdraw(uint256 amount) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        Account storage a = _accounts[msg.sender];
        if (amount > a.collateral) revert InsufficientCollateral(amount, a.collateral);
        if (a.size != 0) {
            (int256 price,) = _price();
            int256 equityAfter = _equity(a, price) - int256(amount);
            uint256 required = _margin(a.size, price, initialMarginBps);
            if (equityAfter < int256(required)) revert InsufficientMargin(equityAfter, required);
        }
        a.collateral -= amount;
        emit Withdrawn(msg.sender, amount, a.collateral);

        collateralToken.safeTransfer(msg.sender, amount);
    }

    // -- Pool --

    /// @inheritdoc IFuturesMarket
    function fundPool(uint256 amount) external nonReentrant {
        if (msg.sender != poolOwner) revert NotPoolOwner(msg.sender, poolOwner);
        if (amount == 0) revert ZeroAmount();
        pool += amount;
        emit PoolFunded(msg.sender, amount, pool);

        collateralToken.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @inheritdoc IFuturesMarket
    function defundPool(uint256 amount) external nonReentrant {
        if (msg.sender != poolOwner) revert NotPoolOwner(msg.sender, poolOwner);
        if (amount == 0) revert ZeroAmount();
        if (openPositions != 0) revert PoolLocked(openPositions);
        if (amount > pool) revert InsufficientPool(amount, pool);
        pool -= amount;
        emit PoolDefunded(msg.sender, amount, pool);

        collateralToken.safeTransfer(msg.sender, amount);
    }

    // -- Positions --

    /// @inheritdoc IFuturesMarket
    function openPosition(int256 size) external nonReentrant {
        if (size == 0) revert ZeroSize();
        Account storage a = _accounts[msg.sender];
        if (a.size != 0) revert PositionAlreadyOpen(msg.sender, a.size);
        (int256 price, uint256 roundId) = _price();
        uint256 required = _margin(size, price, initialMarginBps);
        if (a.collateral < required) revert InsufficientMargin(int256(a.collateral), required);
        a.size = size;
        a.entryPrice = price;
        ++openPositions;
        emit PositionOpened(msg.sender, size, price, _notional(size, price), roundId);
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
        uint256 bounty = Math.min(bountyTarget, a.collateral);
        a.collateral -= bounty;
        _close(a);
        emit Liquidated(trader, msg.sender, price, bounty, a.collateral);

        if (bounty > 0) collateralToken.safeTransfer(msg.sender, bounty);
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
        uint256 age = block.timestamp > observedAt ? block.timestamp - observedAt : 0;
        if (status == IAegisFeeds.FeedStatus.Stale || age > maxPriceAge) revert PriceStale(feedId, age, maxPriceAge);
        if (spreadBps > maxSpreadBps) revert PriceLowConfidence(feedId, spreadBps, maxSpreadBps);
        if (price <= 0) revert PriceNotPositive(feedId, price);
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

    function _pnl(Account storage a, int256 price) private view returns (int256) {
        return a.size * (price - a.entryPrice) / int256(priceScale);
    }

    function _equity(Account storage a, int256 price) private view returns (int256) {
        if (a.size == 0) return int256(a.collateral);
        return int256(a.collateral) + _pnl(a, price);
    }

    /// @dev Moves the open PnL between the account and the pool and resets the entry to `price`.
    ///      Profits are capped by the pool, losses by the collateral (the rest is bad debt).
    function _realize(address trader, Account storage a, int256 price, uint256 roundId) private {
        int256 pnl = _pnl(a, price);
        if (pnl > 0) {
            uint256 owed = uint256(pnl);
            uint256 paid = Math.min(owed, pool);
            pool -= paid;
            a.collateral += paid;
            if (paid < owed) emit ProfitCapped(trader, owed, paid);
        } else if (pnl < 0) {
            uint256 loss = uint256(-pnl);
            uint256 covered = Math.min(loss, a.collateral);
            a.collateral -= covered;
            pool += covered;
            if (covered < loss) emit BadDebt(trader, loss - covered);
        }
        a.entryPrice = price;
        emit PositionMarked(trader, msg.sender, price, pnl, a.collateral, roundId);
    }

    function _close(Account storage a) private {
        a.size = 0;
        a.entryPrice = 0;
        --openPositions;
    }
}
