// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IAegisHub} from "./IAegisHub.sol";

/// @title IEuropeanOption
/// @notice Cash-settled European calls and puts on one Aegis feed, collateralized by one ERC20.
///         Payoffs are capped spreads: a call pays `min(max(S - K, 0), width)`, a put
///         `min(max(K - S, 0), width)`, times `quantity / 10^decimals` collateral units. The writer
///         locks the maximum payoff (`width * quantity / 10^decimals`), the buyer's premium is
///         escrowed until the option ends, so every outcome conserves collateral.
///
///         Settlement price `S` (docs/design.md §Settlement: the price nearest expiry, chosen by a rule,
///         not by who posts first): among the committee-signed prices of the feed observed in
///         `[expiry, expiry + settlementWindow]` with `spreadBps <= maxSpreadBps` and a positive
///         answer inside the feed's bounds, the one with the **smallest observedAt**. Anyone
///         proposes prices until `proposalDeadline = expiry + settlementWindow + challengePeriod`,
///         either a signed report (`proposeReport`, checked with the hub's `verifyReport`) or a
///         round of the hub's history (`proposeRound`); the contract keeps the best one. Order,
///         best first: smaller observedAt; then a report before a hub round (a round's epoch is
///         unknown); then the lower epoch; then the lower report message. Only a strictly better
///         proposal replaces the candidate; an invalid one never becomes a candidate.
/// @dev Lifecycle (one valid-transition table):
///        write            → Open
///        Open   --cancel--> Cancelled   (writer; collateral back)
///        Open   --buy-----> Active      (before expiry; premium escrowed)
///        Active --proposeReport | proposeRound--> Active (until proposalDeadline; candidate kept or replaced)
///        Active --settle--> Settled     (after proposalDeadline, until deadline, on the candidate)
///        Active --refundAfterDeadline--> Refunded
///               (after proposalDeadline with no candidate, or after deadline with one nobody settled)
///      A refund unwinds the trade: premium back to the holder, collateral back to the writer.
///      Collateral must be a plain ERC20: fee-on-transfer tokens are refused where detectable
///      (`write`, `buy`), rebasing tokens are unsupported.
/// @custom:invariant The token balance of the contract equals Σ over Open and Active options of
///                   `collateral` (+ `premium` for Active ones). Tested as "settlement conserves
///                   collateral" by a stateful property test.
/// @custom:invariant A candidate only ever moves to a strictly better one (earlier observedAt,
///                   or the tie-break), so the price settled is the best valid price proposed
///                   before `proposalDeadline`, whoever proposed it and in whatever order.
///                   Tested by test/adversarial/option-settlement-choice.test.ts.
interface IEuropeanOption {
    enum Status {
        None,
        Open,
        Active,
        Settled,
        Refunded,
        Cancelled
    }

    /// @notice Why an active option was refunded.
    enum RefundReason {
        /// No valid price was proposed before `proposalDeadline`.
        NoCandidate,
        /// A candidate exists but nobody settled it by `deadline` (e.g. a payout kept reverting).
        SettlementDeadlinePassed
    }

    /// @notice Where a settlement candidate came from.
    enum CandidateSource {
        None,
        /// A committee-signed report, verified by the hub (pull mode; may never have been posted).
        Report,
        /// A served round of the hub's history (push mode).
        Round
    }

    struct Option {
        address writer;
        uint64 expiry;
        bool isCall;
        Status status;
        address holder;
        /// Strike in feed decimals.
        int256 strike;
        /// Cap on the intrinsic value, in feed decimals (the spread width).
        uint256 width;
        /// Collateral base units paid per 1.0 of price move (e.g. 1e6 = one USDC per dollar).
        uint256 quantity;
        /// Premium in collateral base units, escrowed on `buy`.
        uint256 premium;
        /// Collateral locked by the writer: the maximum payoff.
        uint256 collateral;
    }

    /// @notice The best valid settlement price proposed so far for an option.
    struct Candidate {
        /// The feed's answer (feed decimals).
        int192 answer;
        /// When the committee observed it (unix seconds).
        uint64 observedAt;
        /// The report's epoch; 0 for a hub round (a round does not record its report's epoch).
        uint64 epoch;
        /// The hub round id; 0 for a report.
        uint64 roundId;
        /// Node dispersion of the answer, in basis points.
        uint32 spreadBps;
        CandidateSource source;
        /// The report's signed message (`hub.reportMessage`); 0 for a hub round.
        bytes32 message;
    }

    // -- Events --

    /// @notice An option was written and its maximum payoff locked.
    /// @param id The new option's id.
    /// @param writer The writer, who locked `collateral`.
    /// @param isCall Call (true) or put (false).
    /// @param strike Strike, feed decimals.
    /// @param width Cap on the intrinsic value, feed decimals.
    /// @param quantity Collateral base units per 1.0 of price move.
    /// @param premium Premium the buyer pays, collateral base units.
    /// @param expiry Expiry, unix seconds.
    /// @param collateral Collateral locked: `width * quantity / 10^decimals`.
    event OptionWritten(
        uint256 indexed id,
        address indexed writer,
        bool isCall,
        int256 strike,
        uint256 width,
        uint256 quantity,
        uint256 premium,
        uint64 expiry,
        uint256 collateral
    );
    /// @notice An unsold option was withdrawn.
    /// @param id The option.
    /// @param writer The writer, who got the collateral back.
    /// @param collateralReturned Collateral returned, base units.
    event OptionCancelled(uint256 indexed id, address indexed writer, uint256 collateralReturned);
    /// @notice An option was bought; the premium is escrowed.
    /// @param id The option.
    /// @param buyer The new holder.
    /// @param premium Premium escrowed, base units.
    event OptionBought(uint256 indexed id, address indexed buyer, uint256 premium);
    /// @notice A proposal became the option's settlement candidate (the first one, or one better
    ///         than the previous candidate).
    /// @param id The option.
    /// @param proposer Who proposed it.
    /// @param source Report or hub round.
    /// @param epoch The report's epoch (0 for a hub round).
    /// @param roundId The hub round (0 for a report).
    /// @param observedAt When the committee observed the price.
    /// @param answer The proposed settlement price, feed decimals.
    /// @param spreadBps Node dispersion of the price.
    /// @param replacedObservedAt observedAt of the candidate it replaced (0 if none).
    event SettlementProposed(
        uint256 indexed id,
        address indexed proposer,
        CandidateSource source,
        uint64 epoch,
        uint64 roundId,
        uint64 observedAt,
        int256 answer,
        uint32 spreadBps,
        uint64 replacedObservedAt
    );
    /// @notice An option settled on its candidate.
    /// @param id The option.
    /// @param caller Who settled it (anyone).
    /// @param source Report or hub round the price came from.
    /// @param observedAt When the settlement price was observed.
    /// @param price The settlement price, feed decimals.
    /// @param holderPayout Paid to the holder: the capped payoff.
    /// @param writerPayout Paid to the writer: collateral − holderPayout + premium.
    event OptionSettled(
        uint256 indexed id,
        address indexed caller,
        CandidateSource source,
        uint64 observedAt,
        int256 price,
        uint256 holderPayout,
        uint256 writerPayout
    );
    /// @notice An active option was unwound.
    /// @param id The option.
    /// @param caller Who refunded it (anyone).
    /// @param reason No candidate by the proposal deadline, or no settlement by the deadline.
    event OptionRefunded(uint256 indexed id, address indexed caller, RefundReason reason);

    // -- Errors --

    /// @notice The strike must be a positive price.
    /// @param strike The strike given.
    error StrikeNotPositive(int256 strike);
    /// @notice The expiry must be later than the current block.
    /// @param expiry The expiry given.
    /// @param nowTs The current block time.
    error ExpiryNotInFuture(uint64 expiry, uint256 nowTs);
    /// @notice `width * quantity / 10^decimals` rounds to zero collateral.
    /// @param width The width given.
    /// @param quantity The quantity given.
    error CollateralZero(uint256 width, uint256 quantity);
    /// @notice The option is in `current` status; the action needs `required`.
    /// @param id The option.
    /// @param current Its status.
    /// @param required The status the action needs.
    error WrongStatus(uint256 id, Status current, Status required);
    /// @notice Only the writer may cancel.
    /// @param id The option.
    /// @param caller The caller.
    /// @param writer The option's writer.
    error NotWriter(uint256 id, address caller, address writer);
    /// @notice Options are bought strictly before expiry.
    /// @param id The option.
    /// @param expiry Its expiry.
    /// @param nowTs The current block time.
    error OptionExpired(uint256 id, uint64 expiry, uint256 nowTs);
    /// @notice The collateral token delivered less than the amount transferred (a fee-on-transfer
    ///         or otherwise non-standard token): such collateral is unsupported.
    /// @param expected The amount `transferFrom` was asked to move.
    /// @param received The increase of this contract's balance.
    error FeeOnTransferUnsupported(uint256 expected, uint256 received);
    /// @notice Round 0 does not exist.
    /// @param roundId The round id given.
    error InvalidRoundId(uint256 roundId);
    /// @notice The report does not carry this option's feed.
    /// @param feedId The option's feed.
    error FeedNotInReport(bytes32 feedId);
    /// @notice The hub would not serve this report's answer now (breaker tripped or the move
    ///         beyond its limit, feed or hub paused, answer out of bounds): it cannot settle.
    /// @param feedId The option's feed.
    /// @param answer The report's answer for it.
    error BreakerWouldHold(bytes32 feedId, int256 answer);
    /// @notice Proposals are accepted only until `proposalDeadline`.
    /// @param id The option.
    /// @param nowTs The current block time.
    /// @param proposalDeadline `expiry + settlementWindow + challengePeriod`.
    error ProposalPeriodClosed(uint256 id, uint256 nowTs, uint256 proposalDeadline);
    /// @notice The proposed price was observed before expiry.
    /// @param observedAt Its observation time.
    /// @param expiry The option's expiry.
    error ObservedBeforeExpiry(uint256 observedAt, uint64 expiry);
    /// @notice The proposed price was observed after the settlement window.
    /// @param observedAt Its observation time.
    /// @param windowEnd `expiry + settlementWindow`.
    error ObservedAfterWindow(uint256 observedAt, uint256 windowEnd);
    /// @notice The proposed report is dated later than the hub would accept now (block time +
    ///         the hub's `maxFutureDrift`); honest nodes never sign such a report.
    /// @param observedAt Its observation time.
    /// @param latestAllowed block.timestamp + hub.maxFutureDrift().
    error ObservedInFuture(uint256 observedAt, uint256 latestAllowed);
    /// @notice The proposed price's node dispersion exceeds the option's limit.
    /// @param spreadBps Its dispersion.
    /// @param maxSpreadBps The limit.
    error LowConfidence(uint256 spreadBps, uint256 maxSpreadBps);
    /// @notice The report's entry for this option's feed is a committee suspension (the
    ///         committee signed that it cannot price the feed), not a price.
    /// @param feedId The option's feed.
    /// @param reason The signed reason code (see `IAegisFeeds.FeedSuspended`).
    error ReportSuspendsFeed(bytes32 feedId, uint32 reason);
    /// @notice The committee has the feed suspended now: settlement waits until a priced report
    ///         resumes it (or, past the deadline, the refund applies).
    ///         The hub's `read` names the reason (`FeedSuspended`).
    /// @param feedId The option's feed.
    error SettlementFeedSuspended(bytes32 feedId);
    /// @notice The proposed answer is not a positive price.
    /// @param answer The answer.
    error InvalidAnswer(int256 answer);
    /// @notice The proposed answer is outside the feed's [minAnswer, maxAnswer]: the hub would
    ///         never serve it.
    /// @param answer The answer.
    /// @param minAnswer The feed's lower bound.
    /// @param maxAnswer The feed's upper bound.
    error AnswerOutOfBounds(int256 answer, int96 minAnswer, int96 maxAnswer);
    /// @notice The proposal is valid but not better than the candidate (same or later
    ///         observedAt, and it loses the tie-break): the candidate stays.
    /// @param id The option.
    /// @param givenObservedAt The proposal's observedAt.
    /// @param givenEpoch The proposal's epoch (0 for a hub round).
    /// @param candidateObservedAt The candidate's observedAt.
    /// @param candidateEpoch The candidate's epoch (0 for a hub round).
    error ProposalNotBetter(
        uint256 id, uint64 givenObservedAt, uint64 givenEpoch, uint64 candidateObservedAt, uint64 candidateEpoch
    );
    /// @notice `settle` waits until proposals have closed.
    /// @param id The option.
    /// @param nowTs The current block time.
    /// @param proposalDeadline The last moment proposals are accepted.
    error ProposalPeriodOpen(uint256 id, uint256 nowTs, uint256 proposalDeadline);
    /// @notice Nothing valid was proposed before `proposalDeadline`; use `refundAfterDeadline`.
    /// @param id The option.
    error NoCandidate(uint256 id);
    /// @notice Settlement is possible only until `deadline`; afterwards use `refundAfterDeadline`.
    /// @param id The option.
    /// @param nowTs The current block time.
    /// @param deadline `proposalDeadline + refundDelay`.
    error SettlementDeadlinePassed(uint256 id, uint256 nowTs, uint256 deadline);
    /// @notice The refund is not open yet: it opens after `proposalDeadline` when there is no
    ///         candidate, after `deadline` when there is one.
    /// @param id The option.
    /// @param nowTs The current block time.
    /// @param opensAfter The moment after which the refund opens for this option now.
    error DeadlineNotReached(uint256 id, uint256 nowTs, uint256 opensAfter);
    /// @notice A constructor parameter is out of range.
    /// @param name The parameter.
    /// @param value The value given.
    error InvalidParameter(string name, uint256 value);

    // -- Actions --

    /// @notice Writes an option and locks its maximum payoff from the caller.
    /// @param isCall Call (true) or put (false).
    /// @param strike Strike, feed decimals (> 0).
    /// @param width Cap on the intrinsic value, feed decimals.
    /// @param quantity Collateral base units per 1.0 of price move.
    /// @param premium Premium the buyer pays, collateral base units.
    /// @param expiry Expiry, unix seconds (in the future).
    /// @return id The option's id.
    function write(bool isCall, int256 strike, uint256 width, uint256 quantity, uint256 premium, uint64 expiry)
        external
        returns (uint256 id);

    /// @notice Withdraws an unsold option; the writer gets the collateral back.
    /// @param id The option (Open, caller is its writer).
    function cancel(uint256 id) external;

    /// @notice Buys an open option before expiry; the premium is escrowed until settlement or refund.
    /// @param id The option (Open, before expiry).
    function buy(uint256 id) external;

    /// @notice Proposes a committee-signed report as the option's settlement price. The hub's
    ///         `verifyReport` checks digest and signature (its errors bubble up, e.g.
    ///         `ConfigDigestMismatch` for a committee rotated out, `SignatureInvalid`); the
    ///         report must carry the feed, be observed in `[expiry, expiry + settlementWindow]`
    ///         and no later than the hub's clock rule allows now, have `spreadBps <=
    ///         maxSpreadBps` and a positive answer inside the feed's bounds, and be better than
    ///         the candidate. Anyone may call until `proposalDeadline`.
    /// @param id The option (Active).
    /// @param report The signed report (it need not have been posted to the hub).
    /// @param signature Its 96-byte group signature.
    function proposeReport(uint256 id, IAegisHub.Report calldata report, bytes calldata signature) external;

    /// @notice Proposes a served round of the hub's history as the option's settlement price,
    ///         under the same rules as `proposeReport` (the hub's `RoundNotFound` bubbles up).
    /// @param id The option (Active).
    /// @param roundId The hub round (> 0, still in the feed's history).
    function proposeRound(uint256 id, uint256 roundId) external;

    /// @notice Settles an active option on its candidate once proposals have closed and until
    ///         `deadline`. Anyone may call. Reverts `SettlementFeedSuspended` while the committee
    ///         has the feed suspended. Pays the holder the capped payoff and the writer the
    ///         rest of the collateral plus the premium.
    /// @param id The option (Active, with a candidate).
    function settle(uint256 id) external;

    /// @notice Refunds an active option that cannot or did not settle: after `proposalDeadline`
    ///         when nothing valid was proposed (the feed was tripped, paused or silent, every
    ///         report was low-confidence, or the committee that signed them was rotated out),
    ///         or after `deadline` when nobody settled the candidate.
    /// @param id The option (Active).
    function refundAfterDeadline(uint256 id) external;

    // -- Views --

    /// @notice The option's terms and state.
    /// @param id The option.
    function getOption(uint256 id) external view returns (Option memory);

    /// @notice The option's settlement candidate (`source == None` while there is none).
    /// @param id The option.
    function getCandidate(uint256 id) external view returns (Candidate memory);

    /// @notice Holder payout of `id` at price `price` (0 when out of the money, capped at collateral).
    /// @param id The option (any status but None).
    /// @param price A price, feed decimals.
    function payoffAt(uint256 id, int256 price) external view returns (uint256);

    /// @notice End of the window in which the settlement price must be observed: `expiry + settlementWindow`.
    /// @param id The option.
    function windowEnd(uint256 id) external view returns (uint256);

    /// @notice Last moment a proposal is accepted: `windowEnd + challengePeriod`.
    /// @param id The option.
    function proposalDeadline(uint256 id) external view returns (uint256);

    /// @notice Last moment `settle` is accepted: `proposalDeadline + refundDelay`.
    /// @param id The option.
    function deadline(uint256 id) external view returns (uint256);
}
