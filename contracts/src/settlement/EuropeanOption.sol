// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";
import {IAegisHub} from "../interfaces/IAegisHub.sol";
import {IAegisFeeds} from "../interfaces/IAegisFeeds.sol";
import {IEuropeanOption} from "../interfaces/IEuropeanOption.sol";
import {SequencerGuard} from "./SequencerGuard.sol";

/// @title EuropeanOption
/// @notice Cash-settled, fully collateralized European call and put spreads on one Aegis feed.
///         The settlement price is the committee-signed price observed nearest after expiry,
///         picked by a rule from what anyone proposes, not by who posts first:
///         - during `[expiry, expiry + settlementWindow + challengePeriod]` anyone proposes a
///           signed report (`proposeReport`, verified by the hub) or a hub round
///           (`proposeRound`); invalid prices (outside the window, low confidence, non-positive,
///           out of the feed's bounds) are refused and never become candidates;
///         - the option keeps the best valid proposal: smallest observedAt, ties to a report
///           over a hub round, then to the lower epoch, then to the lower message;
///         - `settle` pays on that candidate after the proposal period.
///         Why no caller chooses: the candidates are the committee's signed prices, of which
///         the rule picks a unique best one; a poster who holds back the nearest report gains
///         nothing once any honest party (the counterparty, a keeper) proposes it before the
///         period closes, and signed reports are public (the aggregator serves them over HTTP,
///         transmitted ones are calldata). A high-spread report is refused, so it can neither
///         settle nor force a refund.
/// @dev Checks-effects-interactions everywhere plus a transient reentrancy lock; token moves
///      use SafeERC20, and `write` / `buy` refuse a token that delivers less than it was asked
///      to move (fee-on-transfer). Payouts are pushed (a token that blacklists a party blocks
///      that option's payout until the deadline refund; use a plain ERC20 such as USDC/DAI).
contract EuropeanOption is IEuropeanOption, SequencerGuard, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    // -- Immutables --

    /// @notice The Aegis hub serving the underlying feed and verifying its committee's reports.
    IAegisHub public immutable hub;
    /// @notice The underlying feed.
    bytes32 public immutable feedId;
    /// @notice Collateral and premium token.
    IERC20 public immutable collateralToken;
    /// @notice 10^decimals of the feed, read once at deployment.
    uint256 public immutable priceScale;
    /// @notice Seconds after expiry within which the settlement price must be observed.
    uint256 public immutable settlementWindow;
    /// @notice Seconds after the window during which proposals are still accepted, so a price
    ///         observed near the window's end can still be proposed and a worse candidate
    ///         displaced.
    uint256 public immutable challengePeriod;
    /// @notice Seconds after the proposal period during which `settle` is accepted (keepers'
    ///         slack); afterwards the option can only be refunded.
    uint256 public immutable refundDelay;
    /// @notice Largest accepted node dispersion of the settlement price, in basis points.
    uint256 public immutable maxSpreadBps;

    // -- Storage --

    /// @notice Number of options written; ids run from 1.
    uint256 public optionCount;
    mapping(uint256 id => Option) internal _options;
    mapping(uint256 id => Candidate) internal _candidates;

    /// @param hub_ The Aegis hub.
    /// @param feedId_ The underlying feed (must be configured: its decimals are read here).
    /// @param collateral_ The ERC20 used for collateral, premiums and payouts (plain; no fee on
    ///        transfer, no rebasing).
    /// @param settlementWindow_ Window after expiry for the settlement price's observation (> 0).
    /// @param challengePeriod_ Proposals stay open this long after the window (> 0).
    /// @param refundDelay_ Time after the proposal period to submit the settlement (> 0).
    /// @param maxSpreadBps_ Confidence limit for the settlement price.
    /// @param sequencerFeed Chainlink L2 sequencer-uptime feed, or zero on L1.
    /// @param sequencerGrace Seconds to wait after the sequencer comes back.
    constructor(
        IAegisHub hub_,
        bytes32 feedId_,
        IERC20 collateral_,
        uint256 settlementWindow_,
        uint256 challengePeriod_,
        uint256 refundDelay_,
        uint256 maxSpreadBps_,
        AggregatorV3Interface sequencerFeed,
        uint256 sequencerGrace
    ) SequencerGuard(sequencerFeed, sequencerGrace) {
        if (settlementWindow_ == 0) revert InvalidParameter("settlementWindow", settlementWindow_);
        if (challengePeriod_ == 0) revert InvalidParameter("challengePeriod", challengePeriod_);
        // settle is open in (proposalDeadline, proposalDeadline + refundDelay]: empty at 0.
        if (refundDelay_ == 0) revert InvalidParameter("refundDelay", refundDelay_);
        if (maxSpreadBps_ > 10_000) revert InvalidParameter("maxSpreadBps", maxSpreadBps_);
        // Every option's deadline is computed as expiry (uint64) plus this sum; checked here
        // once so no option can be written whose deadline overflows.
        uint256 periods = settlementWindow_ + challengePeriod_ + refundDelay_;
        if (periods > type(uint64).max) revert InvalidParameter("periods", periods);
        uint8 d = hub_.decimals(feedId_);
        if (d > 36) revert InvalidParameter("decimals", d);
        hub = hub_;
        feedId = feedId_;
        collateralToken = collateral_;
        priceScale = 10 ** d;
        settlementWindow = settlementWindow_;
        challengePeriod = challengePeriod_;
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

        _pullExact(msg.sender, collateral);
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

        _pullExact(msg.sender, premium);
    }

    /// @inheritdoc IEuropeanOption
    function proposeReport(uint256 id, IAegisHub.Report calldata report, bytes calldata signature)
        external
        nonReentrant
    {
        Option storage o = _requireProposable(id);
        // Digest (current committee of this hub and chain) and group signature; the hub's
        // errors bubble up. Report age is deliberately not the hub's concern here: the window
        // below is this option's age rule.
        bytes32 message = hub.verifyReport(report, signature);
        uint256 n = Math.min(report.feedIds.length, Math.min(report.answers.length, report.spreadBps.length));
        uint256 i;
        while (i < n && report.feedIds[i] != feedId) ++i;
        if (i == n) revert FeedNotInReport(feedId);
        // A suspension entry (answer int192 min, reason in spreadBps) is the committee saying it
        // cannot price the feed: never a candidate (docs/suspension.md).
        if (report.answers[i] == type(int192).min) revert ReportSuspendsFeed(feedId, report.spreadBps[i]);
        Candidate memory c = Candidate({
            answer: report.answers[i],
            observedAt: report.observedAt,
            epoch: report.epoch,
            roundId: 0,
            spreadBps: report.spreadBps[i],
            source: CandidateSource.Report,
            message: message
        });
        _propose(id, o, c);
    }

    /// @inheritdoc IEuropeanOption
    function proposeRound(uint256 id, uint256 roundId) external nonReentrant {
        Option storage o = _requireProposable(id);
        if (roundId == 0) revert InvalidRoundId(roundId);
        (int256 answer, uint256 observedAt, uint256 spreadBps) = hub.getRound(feedId, roundId);
        Candidate memory c = Candidate({
            // Served answers lie inside the feed's int96 bounds, so these casts never revert in
            // practice; SafeCast keeps a misbehaving hub from truncating silently.
            answer: SafeCast.toInt192(answer),
            observedAt: SafeCast.toUint64(observedAt),
            epoch: 0,
            roundId: SafeCast.toUint64(roundId),
            spreadBps: SafeCast.toUint32(spreadBps),
            source: CandidateSource.Round,
            message: bytes32(0)
        });
        _propose(id, o, c);
    }

    /// @inheritdoc IEuropeanOption
    function settle(uint256 id) external nonReentrant {
        Option storage o = _requireStatus(id, Status.Active);
        uint256 pd = _proposalDeadline(o);
        if (block.timestamp <= pd) revert ProposalPeriodOpen(id, block.timestamp, pd);
        uint256 dl = pd + refundDelay;
        if (block.timestamp > dl) revert SettlementDeadlinePassed(id, block.timestamp, dl);
        Candidate storage c = _candidates[id];
        if (c.source == CandidateSource.None) revert NoCandidate(id);
        _checkSequencer();
        (,,,, IAegisFeeds.FeedStatus status) = hub.tryRead(feedId);
        if (status == IAegisFeeds.FeedStatus.Suspended) revert SettlementFeedSuspended(feedId);

        int256 price = c.answer;
        uint256 holderPayout = _payoff(o, price);
        // holderPayout <= collateral by construction (intrinsic is capped at width, see _payoff).
        uint256 writerPayout = o.collateral - holderPayout + o.premium;
        o.status = Status.Settled;
        address holder = o.holder;
        address writer = o.writer;
        emit OptionSettled(id, msg.sender, c.source, c.observedAt, price, holderPayout, writerPayout);

        if (holderPayout > 0) collateralToken.safeTransfer(holder, holderPayout);
        if (writerPayout > 0) collateralToken.safeTransfer(writer, writerPayout);
    }

    /// @inheritdoc IEuropeanOption
    function refundAfterDeadline(uint256 id) external nonReentrant {
        Option storage o = _requireStatus(id, Status.Active);
        // No candidate: nothing can settle once proposals have closed, so the refund opens
        // then. A candidate: its settlement has until `deadline`, the refund opens after it.
        bool noCandidate = _candidates[id].source == CandidateSource.None;
        uint256 opensAfter = noCandidate ? _proposalDeadline(o) : _proposalDeadline(o) + refundDelay;
        if (block.timestamp <= opensAfter) revert DeadlineNotReached(id, block.timestamp, opensAfter);

        o.status = Status.Refunded;
        address holder = o.holder;
        address writer = o.writer;
        uint256 premium = o.premium;
        uint256 collateral = o.collateral;
        emit OptionRefunded(id, msg.sender, noCandidate ? RefundReason.NoCandidate : RefundReason.SettlementDeadlinePassed);

        if (premium > 0) collateralToken.safeTransfer(holder, premium);
        collateralToken.safeTransfer(writer, collateral);
    }

    // -- Views --

    /// @inheritdoc IEuropeanOption
    function getOption(uint256 id) external view returns (Option memory) {
        return _options[id];
    }

    /// @inheritdoc IEuropeanOption
    function getCandidate(uint256 id) external view returns (Candidate memory) {
        return _candidates[id];
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
    function proposalDeadline(uint256 id) external view returns (uint256) {
        return _proposalDeadline(_options[id]);
    }

    /// @inheritdoc IEuropeanOption
    function deadline(uint256 id) external view returns (uint256) {
        return _proposalDeadline(_options[id]) + refundDelay;
    }

    // -- Internal --

    function _requireStatus(uint256 id, Status required) private view returns (Option storage o) {
        o = _options[id];
        if (o.status != required) revert WrongStatus(id, o.status, required);
    }

    /// @dev An active option whose proposal period has not closed. The period needs no start
    ///      check: a proposal must be observed at or after expiry anyway.
    function _requireProposable(uint256 id) private view returns (Option storage o) {
        o = _requireStatus(id, Status.Active);
        uint256 pd = _proposalDeadline(o);
        if (block.timestamp > pd) revert ProposalPeriodClosed(id, block.timestamp, pd);
    }

    function _windowEnd(Option storage o) private view returns (uint256) {
        return uint256(o.expiry) + settlementWindow;
    }

    function _proposalDeadline(Option storage o) private view returns (uint256) {
        return uint256(o.expiry) + settlementWindow + challengePeriod;
    }

    /// @dev Validates `c` as a settlement price for option `o` and keeps it if it beats the
    ///      candidate. Validity is the same for reports and rounds, so an invalid price never
    ///      becomes a candidate whichever way it arrives.
    function _propose(uint256 id, Option storage o, Candidate memory c) private {
        if (c.observedAt < o.expiry) revert ObservedBeforeExpiry(c.observedAt, o.expiry);
        uint256 we = _windowEnd(o);
        if (c.observedAt > we) revert ObservedAfterWindow(c.observedAt, we);
        // The hub's clock rule for reports (a round already passed it when it was served).
        uint256 latestAllowed = block.timestamp + hub.maxFutureDrift();
        if (c.observedAt > latestAllowed) revert ObservedInFuture(c.observedAt, latestAllowed);
        if (c.spreadBps > maxSpreadBps) revert LowConfidence(c.spreadBps, maxSpreadBps);
        if (c.answer <= 0) revert InvalidAnswer(c.answer);
        // The hub never serves an answer outside the feed's bounds; a signed report may carry
        // one (the hub skips it), so the option applies the same fence.
        IAegisHub.FeedConfig memory cfg = hub.feedConfig(feedId);
        if (c.answer < cfg.minAnswer || c.answer > cfg.maxAnswer) {
            revert AnswerOutOfBounds(c.answer, cfg.minAnswer, cfg.maxAnswer);
        }
        // A signed report never went through the hub's breaker or pauses: apply them here, so a
        // move the breaker would hold (or a paused feed) never settles an option. A served round
        // already passed them.
        if (c.source == CandidateSource.Report && !hub.wouldServe(feedId, c.answer)) {
            revert BreakerWouldHold(feedId, c.answer);
        }

        Candidate storage cur = _candidates[id];
        uint64 replaced = cur.observedAt;
        if (cur.source != CandidateSource.None && !_better(c, cur)) {
            revert ProposalNotBetter(id, c.observedAt, c.epoch, cur.observedAt, cur.epoch);
        }
        _candidates[id] = c;
        emit SettlementProposed(
            id, msg.sender, c.source, c.epoch, c.roundId, c.observedAt, c.answer, c.spreadBps, replaced
        );
    }

    /// @dev Strict total order on distinct signed prices, best first: smaller observedAt; a
    ///      report before a hub round (a round's epoch is unknown, and rounds of one feed never
    ///      share an observedAt); the lower epoch (nodes sign one report per epoch); the lower
    ///      message (distinct reports whose epochs compare equal, e.g. across a committee
    ///      rotation, which restarts epochs). Equal proposals are not better.
    function _better(Candidate memory a, Candidate storage b) private view returns (bool) {
        if (a.observedAt != b.observedAt) return a.observedAt < b.observedAt;
        if (a.source != b.source) return a.source == CandidateSource.Report;
        if (a.source == CandidateSource.Round) return false; // same observedAt: the same round
        if (a.epoch != b.epoch) return a.epoch < b.epoch;
        return a.message < b.message;
    }

    /// @dev Capped intrinsic value times quantity. `intrinsic <= width` implies
    ///      `mulDiv(intrinsic, q, s) <= mulDiv(width, q, s) == collateral` (floor is monotone).
    function _payoff(Option storage o, int256 price) private view returns (uint256) {
        int256 diff = o.isCall ? price - o.strike : o.strike - price;
        if (diff <= 0) return 0;
        uint256 intrinsic = Math.min(uint256(diff), o.width);
        return Math.mulDiv(intrinsic, o.quantity, priceScale);
    }

    /// @dev Pulls exactly `amount` from `from`: the books credit `amount`, so a token that
    ///      delivers less (fee on transfer) would leave the contract owing more than it holds.
    ///      Runs last in its action; the revert undoes the action's effects.
    function _pullExact(address from, uint256 amount) private {
        uint256 before = collateralToken.balanceOf(address(this));
        collateralToken.safeTransferFrom(from, address(this), amount);
        uint256 balanceAfter = collateralToken.balanceOf(address(this));
        uint256 received = balanceAfter > before ? balanceAfter - before : 0;
        if (received != amount) revert FeeOnTransferUnsupported(amount, received);
    }
}
