// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";
import {IAegisFeeds} from "../interfaces/IAegisFeeds.sol";
import {IEuropeanOption} from "./IEuropeanOption.sol";
import {SequencerGuard} from "./SequencerGuard.sol";

/// @title EuropeanOption
/// @notice Cash-settled, fully collateralized European call and put spreads on one Aegis feed.
///         The settlement price is the answer of the first round the hub served with
///         `observedAt >= expiry`; a keeper names that round and the contract proves "first"
///         from the hub's history (`observedAt(round - 1) < expiry`). Nobody can choose among
///         several valid prices: the first round after expiry is unique, and the hub's history
///         only moves forward. Tripped candidates are never served, so they are never rounds.
/// @dev Checks-effects-interactions everywhere plus a transient reentrancy lock; token moves
///      use SafeERC20. Payouts are pushed (a token that blacklists a party blocks that option's
///      payout until the deadline refund; use a plain ERC20 such as USDC/DAI as collateral).
contract EuropeanOption is IEuropeanOption, SequencerGuard, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    // -- Immutables --

    /// @notice The Aegis hub serving the underlying feed.
    IAegisFeeds public immutable hub;
    /// @notice The underlying feed.
    bytes32 public immutable feedId;
    /// @notice Collateral and premium token.
    IERC20 public immutable collateralToken;
    /// @notice 10^decimals of the feed, read once at deployment.
    uint256 public immutable priceScale;
    /// @notice Seconds after expiry within which the settlement round must be observed.
    uint256 public immutable settlementWindow;
    /// @notice Seconds after the window during which `settle` is still accepted (keepers' slack).
    uint256 public immutable refundDelay;
    /// @notice Largest accepted node dispersion of the settlement round, in basis points.
    uint256 public immutable maxSpreadBps;

    // -- Storage --

    /// @notice Number of options written; ids run from 1.
    uint256 public optionCount;
    mapping(uint256 id => Option) internal _options;

    /// @param hub_ The Aegis hub.
    /// @param feedId_ The underlying feed (must be configured: its decimals are read here).
    /// @param collateral_ The ERC20 used for collateral, premiums and payouts.
    /// @param settlementWindow_ Window after expiry for the settlement round's observation (> 0).
    /// @param refundDelay_ Extra time after the window to submit a settlement.
    /// @param maxSpreadBps_ Confidence limit for the settlement round.
    /// @param sequencerFeed Chainlink L2 sequencer-uptime feed, or zero on L1.
    /// @param sequencerGrace Seconds to wait after the sequencer comes back.
    constructor(
        IAegisFeeds hub_,
        bytes32 feedId_,
        IERC20 collateral_,
        uint256 settlementWindow_,
        uint256 refundDelay_,
        uint256 maxSpreadBps_,
        AggregatorV3Interface sequencerFeed,
        uint256 sequencerGrace
    ) SequencerGuard(sequencerFeed, sequencerGrace) {
        if (settlementWindow_ == 0) revert InvalidParameter("settlementWindow", settlementWindow_);
        if (maxSpreadBps_ > 10_000) revert InvalidParameter("maxSpreadBps", maxSpreadBps_);
        uint8 d = hub_.decimals(feedId_);
        if (d > 36) revert InvalidParameter("decimals", d);
        hub = hub_;
        feedId = feedId_;
        collateralToken = collateral_;
        priceScale = 10 ** d;
        settlementWindow = settlementWindow_;
        refundDelay = refundDelay_;
        maxSpreadBps = maxSpreadBps_;
    }

    // -- Actions --

    /// @inheritdoc IEuropeanOption
    function write(bool isCall, int256 strike, uint256 width, uint256 quantity, uint256 premium, uint64 expiry)
        external
        nonReentrant
        returns (uint256 id)
    {
        if (strike <= 0) revert StrikeNotPositive(strike);
        if (expiry <= block.timestamp) revert ExpiryNotInFuture(expiry, block.timestamp);
        uint256 collateral = Math.mulDiv(width, quantity, priceScale);
        if (collateral == 0) revert CollateralZero(width, quantity);

        id = ++optionCount;
        _options[id] = Option({
            writer: msg.sender,
            expiry: expiry,
            isCall: isCall,
            status: Status.Open,
            holder: address(0),
            strike: strike,
            width: width,
            quantity: quantity,
            premium: premium,
            collateral: collateral
        });
        emit OptionWritten(id, msg.sender, isCall, strike, width, quantity, premium, expiry, collateral);

        collateralToken.safeTransferFrom(msg.sender, address(this), collateral);
    }

    /// @inheritdoc IEuropeanOption
    function cancel(uint256 id) external nonReentrant {
        Option storage o = _requireStatus(id, Status.Open);
        if (msg.sender != o.writer) revert NotWriter(id, msg.sender, o.writer);
        o.status = Status.Cancelled;
        uint256 collateral = o.collateral;
        emit OptionCancelled(id, msg.sender, collateral);

        collateralToken.safeTransfer(msg.sender, collateral);
    }

    /// @inheritdoc IEuropeanOption
    function buy(uint256 id) external nonReentrant {
        Option storage o = _requireStatus(id, Status.Open);
        if (block.timestamp >= o.expiry) revert OptionExpired(id, o.expiry, block.timestamp);
        o.status = Status.Active;
        o.holder = msg.sender;
        uint256 premium = o.premium;
        emit OptionBought(id, msg.sender, premium);

        collateralToken.safeTransferFrom(msg.sender, address(this), premium);
    }

    /// @inheritdoc IEuropeanOption
    function settle(uint256 id, uint256 roundId) external nonReentrant {
        Option storage o = _requireStatus(id, Status.Active);
        uint256 dl = _deadline(o);
        if (block.timestamp > dl) revert SettlementDeadlinePassed(id, block.timestamp, dl);
        _checkSequencer();
        (int256 price, uint256 observedAt, uint256 spreadBps) = _firstRoundAtOrAfter(o.expiry, roundId);
        uint256 we = _windowEnd(o);
        if (observedAt > we) revert RoundOutsideWindow(roundId, observedAt, we);
        if (spreadBps > maxSpreadBps) revert LowConfidence(roundId, spreadBps, maxSpreadBps);
        if (price <= 0) revert InvalidAnswer(roundId, price);

        uint256 holderPayout = _payoff(o, price);
        // holderPayout <= collateral by construction (intrinsic is capped at width, see _payoff).
        uint256 writerPayout = o.collateral - holderPayout + o.premium;
        o.status = Status.Settled;
        address holder = o.holder;
        address writer = o.writer;
        emit OptionSettled(id, msg.sender, roundId, price, holderPayout, writerPayout);

        if (holderPayout > 0) collateralToken.safeTransfer(holder, holderPayout);
        if (writerPayout > 0) collateralToken.safeTransfer(writer, writerPayout);
    }

    /// @inheritdoc IEuropeanOption
    function refundNoPrice(uint256 id, uint256 roundId) external nonReentrant {
        Option storage o = _requireStatus(id, Status.Active);
        _checkSequencer();
        (int256 price, uint256 observedAt, uint256 spreadBps) = _firstRoundAtOrAfter(o.expiry, roundId);
        RefundReason reason;
        if (observedAt > _windowEnd(o)) reason = RefundReason.FirstRoundOutsideWindow;
        else if (spreadBps > maxSpreadBps) reason = RefundReason.FirstRoundLowConfidence;
        else if (price <= 0) reason = RefundReason.FirstRoundInvalidAnswer;
        else revert SettlementPriceAvailable(id, roundId);
        _refund(id, o, reason, roundId);
    }

    /// @inheritdoc IEuropeanOption
    function refundAfterDeadline(uint256 id) external nonReentrant {
        Option storage o = _requireStatus(id, Status.Active);
        uint256 dl = _deadline(o);
        if (block.timestamp <= dl) revert DeadlineNotReached(id, block.timestamp, dl);
        _refund(id, o, RefundReason.DeadlinePassed, 0);
    }

    // -- Views --

    /// @inheritdoc IEuropeanOption
    function getOption(uint256 id) external view returns (Option memory) {
        return _options[id];
    }

    /// @inheritdoc IEuropeanOption
    function payoffAt(uint256 id, int256 price) external view returns (uint256) {
        Option storage o = _options[id];
        if (o.status == Status.None) revert WrongStatus(id, Status.None, Status.Active);
        return _payoff(o, price);
    }

    /// @inheritdoc IEuropeanOption
    function windowEnd(uint256 id) external view returns (uint256) {
        return _windowEnd(_options[id]);
    }

    /// @inheritdoc IEuropeanOption
    function deadline(uint256 id) external view returns (uint256) {
        return _deadline(_options[id]);
    }

    // -- Internal --

    function _requireStatus(uint256 id, Status required) private view returns (Option storage o) {
        o = _options[id];
        if (o.status != required) revert WrongStatus(id, o.status, required);
    }

    function _windowEnd(Option storage o) private view returns (uint256) {
        return uint256(o.expiry) + settlementWindow;
    }

    function _deadline(Option storage o) private view returns (uint256) {
        return uint256(o.expiry) + settlementWindow + refundDelay;
    }

    /// @dev Capped intrinsic value times quantity. `intrinsic <= width` implies
    ///      `mulDiv(intrinsic, q, s) <= mulDiv(width, q, s) == collateral` (floor is monotone).
    function _payoff(Option storage o, int256 price) private view returns (uint256) {
        int256 diff = o.isCall ? price - o.strike : o.strike - price;
        if (diff <= 0) return 0;
        uint256 intrinsic = Math.min(uint256(diff), o.width);
        return Math.mulDiv(intrinsic, o.quantity, priceScale);
    }

    /// @dev Returns round `roundId` after proving it is the first served round observed at or
    ///      after `expiry`: its own `observedAt >= expiry` and its predecessor's `< expiry`.
    ///      Round 1 has no predecessor. Reverts with the hub's `RoundNotFound` for an unknown round.
    function _firstRoundAtOrAfter(uint64 expiry, uint256 roundId)
        private
        view
        returns (int256 price, uint256 observedAt, uint256 spreadBps)
    {
        if (roundId == 0) revert InvalidRoundId(roundId);
        (price, observedAt, spreadBps) = hub.getRound(feedId, roundId);
        if (observedAt < expiry) revert RoundBeforeExpiry(roundId, observedAt, expiry);
        if (roundId > 1) {
            uint256 prevObservedAt;
            try hub.getRound(feedId, roundId - 1) returns (int256, uint256 t, uint256) {
                prevObservedAt = t;
            } catch {
                revert PreviousRoundUnavailable(roundId - 1);
            }
            if (prevObservedAt >= expiry) revert NotFirstRoundAfterExpiry(roundId, prevObservedAt, expiry);
        }
    }

    function _refund(uint256 id, Option storage o, RefundReason reason, uint256 roundId) private {
        o.status = Status.Refunded;
        address holder = o.holder;
        address writer = o.writer;
        uint256 premium = o.premium;
        uint256 collateral = o.collateral;
        emit OptionRefunded(id, msg.sender, reason, roundId);

        if (premium > 0) collateralToken.safeTransfer(holder, premium);
        collateralToken.safeTransfer(writer, collateral);
    }
}
