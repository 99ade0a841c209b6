// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title IEuropeanOption
/// @notice Cash-settled European calls and puts on one Aegis feed, collateralized by one ERC20.
///         Payoffs are capped spreads: a call pays `min(max(S - K, 0), width)`, a put
///         `min(max(K - S, 0), width)`, times `quantity / 10^decimals` collateral units, where `S`
///         is the answer of the **first served round observed at or after expiry**. The writer
///         locks the maximum payoff (`width * quantity / 10^decimals`), the buyer's premium is
///         escrowed until the option ends, so every outcome conserves collateral.
/// @dev Lifecycle (one valid-transition table):
///        write            → Open
///        Open   --cancel--> Cancelled   (writer; collateral back)
///        Open   --buy-----> Active      (before expiry; premium escrowed)
///        Active --settle--> Settled     (first round ≥ expiry proven, observed in window, confident)
///        Active --refundNoPrice--> Refunded (the first round ≥ expiry is outside the window or low-confidence)
///        Active --refundAfterDeadline--> Refunded (nobody settled by `expiry + window + refundDelay`)
///      A refund unwinds the trade: premium back to the holder, collateral back to the writer.
/// @custom:invariant The token balance of the contract equals Σ over Open and Active options of
///                   `collateral` (+ `premium` for Active ones). Tested as "settlement conserves
///                   collateral" by a stateful property test.
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
        FirstRoundOutsideWindow,
        FirstRoundLowConfidence,
        FirstRoundInvalidAnswer,
        DeadlinePassed
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

    // -- Events --

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
    event OptionCancelled(uint256 indexed id, address indexed writer, uint256 collateralReturned);
    event OptionBought(uint256 indexed id, address indexed buyer, uint256 premium);
    event OptionSettled(
        uint256 indexed id,
        address indexed caller,
        uint256 roundId,
        int256 price,
        uint256 holderPayout,
        uint256 writerPayout
    );
    event OptionRefunded(uint256 indexed id, address indexed caller, RefundReason reason, uint256 roundId);

    // -- Errors --

    /// @notice Option terms rejected: what is wrong is named by the error.
    error StrikeNotPositive(int256 strike);
    error ExpiryNotInFuture(uint64 expiry, uint256 nowTs);
    error CollateralZero(uint256 width, uint256 quantity);
    /// @notice The option is in `current` status; the action needs `required`.
    error WrongStatus(uint256 id, Status current, Status required);
    error NotWriter(uint256 id, address caller, address writer);
    /// @notice Options are bought strictly before expiry.
    error OptionExpired(uint256 id, uint64 expiry, uint256 nowTs);
    error InvalidRoundId(uint256 roundId);
    /// @notice The given round was observed before expiry; the settlement round is the first at or after.
    error RoundBeforeExpiry(uint256 roundId, uint256 observedAt, uint64 expiry);
    /// @notice The round before the given one was already at or after expiry: the given one is not the first.
    error NotFirstRoundAfterExpiry(uint256 roundId, uint256 previousObservedAt, uint64 expiry);
    /// @notice The previous round left the hub's bounded history; "first" cannot be proven.
    ///         Settle earlier next time; the deadline refund remains.
    error PreviousRoundUnavailable(uint256 previousRoundId);
    /// @notice The first round at or after expiry was observed after the settlement window; use `refundNoPrice`.
    error RoundOutsideWindow(uint256 roundId, uint256 observedAt, uint256 windowEnd);
    /// @notice The first round's node dispersion exceeds the limit; use `refundNoPrice`.
    error LowConfidence(uint256 roundId, uint256 spreadBps, uint256 maxSpreadBps);
    /// @notice The first round's answer is not a positive price; use `refundNoPrice`.
    error InvalidAnswer(uint256 roundId, int256 answer);
    /// @notice Settlement is possible only until `deadline`; afterwards use `refundAfterDeadline`.
    error SettlementDeadlinePassed(uint256 id, uint256 nowTs, uint256 deadline);
    /// @notice The given round is a valid settlement price: settle instead of refunding.
    error SettlementPriceAvailable(uint256 id, uint256 roundId);
    /// @notice The unconditional refund opens only after `deadline`.
    error DeadlineNotReached(uint256 id, uint256 nowTs, uint256 deadline);
    error InvalidParameter(string name, uint256 value);

    // -- Actions --

    /// @notice Writes an option and locks its maximum payoff from the caller. Returns its id.
    function write(bool isCall, int256 strike, uint256 width, uint256 quantity, uint256 premium, uint64 expiry)
        external
        returns (uint256 id);

    /// @notice Withdraws an unsold option; the writer gets the collateral back.
    function cancel(uint256 id) external;

    /// @notice Buys an open option before expiry; the premium is escrowed until settlement or refund.
    function buy(uint256 id) external;

    /// @notice Settles an active option on `roundId`, which must be the first served round observed
    ///         at or after expiry, observed inside the settlement window, with `spreadBps` within the
    ///         limit. Anyone (a keeper) may call. Pays the holder the capped payoff and the writer
    ///         the rest of the collateral plus the premium.
    function settle(uint256 id, uint256 roundId) external;

    /// @notice Refunds an active option early when `roundId`, the first served round at or after
    ///         expiry, is not a valid settlement price (observed after the window, low confidence,
    ///         non-positive answer).
    function refundNoPrice(uint256 id, uint256 roundId) external;

    /// @notice Refunds an active option nobody settled by its deadline (e.g. the feed stayed
    ///         tripped or silent through the window).
    function refundAfterDeadline(uint256 id) external;

    // -- Views --

    function getOption(uint256 id) external view returns (Option memory);

    /// @notice Holder payout of `id` at price `price` (0 when out of the money, capped at collateral).
    function payoffAt(uint256 id, int256 price) external view returns (uint256);

    /// @notice End of the window in which the settlement round must be observed.
    function windowEnd(uint256 id) external view returns (uint256);

    /// @notice Last moment `settle` is accepted; `refundAfterDeadline` opens after it.
    function deadline(uint256 id) external view returns (uint256);
}
