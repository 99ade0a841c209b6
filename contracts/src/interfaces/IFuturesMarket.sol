// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title IFuturesMarket
/// @notice A margined futures market on one Aegis feed against a liquidity pool. Traders deposit
///         ERC20 collateral, open one long or short position at the oracle price with leverage
///         bounded by the initial margin, and are marked to the oracle: `mark` realizes the
///         variation margin (PnL moves between the trader's collateral and the pool and the entry
///         resets to the mark), `closePosition` realizes and closes, `liquidate` closes an account
///         whose equity fell below the maintenance margin and pays the liquidator a bounty, and
///         `closeDust` lets anyone close a position whose notional fell below half the opening
///         minimum. Every price-dependent action uses a fresh, untripped, unpaused, confident
///         oracle price or reverts with a named error; deposits never need a price.
/// @dev Units: `size` is signed (long > 0, short < 0) in collateral base units per 1.0 of price
///      move; `pnl = size * (price - entry) / 10^decimals`, `notional = |size| * price / 10^decimals`.
///
///      Exposure: each open position reserves the most it can still take from the pool
///      (`reserve`: its maximum profit at opening, minus profit credited, plus losses it paid in),
///      and a profit the pool could not pay is kept as the account's `claim`. `exposure` is
///      Σ reserve + Σ claim, every payment to a trader lowers it by what it pays, and the pool
///      owner can take out only `pool − exposure`. Fee-on-transfer and rebasing collateral is
///      unsupported; deposits and pool funding that do not arrive in full revert.
/// @custom:invariant collateralToken.balanceOf(market) == pool + Σ accounts[i].collateral
///                   (claims are debts of the pool, paid out of `pool`, never tokens of their
///                   own). Tested by a stateful property test.
/// @custom:invariant exposure == Σ accounts[i].reserve + Σ accounts[i].claim, and every future
///                   payment from the pool to traders is bounded by it; `defundPool` leaves
///                   pool ≥ exposure. Tested by a stateful property test.
/// @custom:invariant No position is liquidated or marked on a stale, tripped, paused or
///                   low-confidence price. Tested by a stateful property test.
interface IFuturesMarket {
    /// @dev Three slots: (collateral, reserve) change on every realization, (size, entryPrice)
    ///      on every open, mark and close, `claim` only when the pool is short.
    struct Account {
        /// Realized collateral, in collateral base units.
        uint128 collateral;
        /// What the open position may still take from the pool (0 when flat), collateral units.
        uint128 reserve;
        /// Signed position size; 0 = flat.
        int128 size;
        /// Price the open PnL is measured from (last mark or open), feed decimals.
        int128 entryPrice;
        /// Profit owed by the pool that it could not pay yet, collateral units.
        uint256 claim;
    }

    struct RiskParams {
        /// Largest accepted price age in seconds (the hub's own max staleness also applies).
        uint256 maxPriceAge;
        /// Largest accepted node dispersion in basis points.
        uint256 maxSpreadBps;
        /// Margin to open / to withdraw down to, in bps of notional (1000 = 10x max leverage).
        uint256 initialMarginBps;
        /// Equity below this share of notional is liquidatable, in bps.
        uint256 maintenanceMarginBps;
        /// Liquidator's bounty in bps of notional, paid from the liquidated collateral.
        uint256 liquidationBountyBps;
        /// Smallest notional a position may open with, collateral units; below half of it,
        /// anyone may close the position (`closeDust`).
        uint256 minNotional;
        /// Smallest collateral to open with and to keep through withdrawals while a position is
        /// open, collateral units.
        uint256 minCollateral;
        /// Most a position can take from the pool over its life, net of what it paid in, in bps
        /// of its notional at opening (shorts: at most 10,000, their profit if the price hits 0).
        uint256 maxProfitBps;
    }

    // -- Events --

    /// @notice Collateral was deposited.
    /// @param trader The depositor.
    /// @param amount Tokens received.
    /// @param collateral The account's collateral after the deposit.
    event Deposited(address indexed trader, uint256 amount, uint256 collateral);
    /// @notice Collateral was withdrawn.
    /// @param trader The account and recipient.
    /// @param amount Tokens sent.
    /// @param collateral The account's collateral after the withdrawal.
    event Withdrawn(address indexed trader, uint256 amount, uint256 collateral);
    /// @notice The pool owner added tokens to the pool.
    /// @param caller The pool owner.
    /// @param amount Tokens received.
    /// @param pool The pool after funding.
    event PoolFunded(address indexed caller, uint256 amount, uint256 pool);
    /// @notice The pool owner took tokens out of the pool's free part.
    /// @param caller The pool owner.
    /// @param amount Tokens sent.
    /// @param pool The pool after defunding.
    event PoolDefunded(address indexed caller, uint256 amount, uint256 pool);
    /// @notice A position was opened.
    /// @param trader The account.
    /// @param size Signed size.
    /// @param price The oracle price it opened at (the entry).
    /// @param notional |size| × price / 10^decimals, collateral units.
    /// @param maxProfit The reserve set aside for it: the most it can take from the pool.
    /// @param roundId The hub round of `price`.
    event PositionOpened(address indexed trader, int256 size, int256 price, uint256 notional, uint256 maxProfit, uint256 roundId);
    /// @notice PnL realized at `price` (by `mark`, `closePosition`, `liquidate` or `closeDust`).
    /// @param trader The account.
    /// @param caller Who triggered the realization.
    /// @param price The oracle price, now the entry.
    /// @param pnl The PnL since the previous entry (before any cap).
    /// @param collateral The account's collateral afterwards.
    /// @param roundId The hub round of `price`.
    event PositionMarked(address indexed trader, address indexed caller, int256 price, int256 pnl, uint256 collateral, uint256 roundId);
    /// @notice A position was closed (by its owner, a liquidation or `closeDust`).
    /// @param trader The account.
    /// @param price The oracle price it closed at.
    /// @param collateral The account's collateral afterwards.
    event PositionClosed(address indexed trader, int256 price, uint256 collateral);
    /// @notice An account below maintenance was liquidated.
    /// @param trader The account.
    /// @param liquidator The caller, paid the bounty.
    /// @param price The oracle price.
    /// @param bounty Tokens paid to the liquidator.
    /// @param collateralLeft The account's collateral afterwards.
    event Liquidated(address indexed trader, address indexed liquidator, int256 price, uint256 bounty, uint256 collateralLeft);
    /// @notice A position whose notional fell below the dust threshold was closed by `caller`.
    /// @param trader The account.
    /// @param caller Who closed it (anyone).
    /// @param notional Its notional at the closing price.
    /// @param dustNotional The threshold it was below (half of `minNotional`).
    event DustClosed(address indexed trader, address indexed caller, uint256 notional, uint256 dustNotional);
    /// @notice A profit exceeded what the position may still take from the pool; the excess
    ///         is not owed (the position's `maxProfitBps` cap).
    /// @param trader The account.
    /// @param profit The PnL realized.
    /// @param credited The part owed to the trader (its remaining reserve).
    event ProfitCapped(address indexed trader, uint256 profit, uint256 credited);
    /// @notice The pool could not pay an owed profit; the unpaid part is kept as a claim.
    /// @param trader The account.
    /// @param amount The unpaid part added to the claim.
    /// @param claim The account's claim afterwards.
    event ClaimAccrued(address indexed trader, uint256 amount, uint256 claim);
    /// @notice The pool paid (part of) a claim into the account's collateral.
    /// @param trader The account.
    /// @param caller Who triggered the payment (anyone).
    /// @param amount Tokens moved from the pool to the collateral.
    /// @param claim The claim left.
    event ClaimPaid(address indexed trader, address indexed caller, uint256 amount, uint256 claim);
    /// @notice A loss beyond the collateral was set off against the account's claim.
    /// @param trader The account.
    /// @param amount The part of the loss set off.
    /// @param claim The claim left.
    event ClaimSetOff(address indexed trader, uint256 amount, uint256 claim);
    /// @notice A loss exceeded the trader's collateral and claim; the pool absorbed the rest.
    /// @param trader The account.
    /// @param shortfall The part of the loss nobody paid.
    event BadDebt(address indexed trader, uint256 shortfall);

    // -- Errors --

    /// @notice An amount of 0 was given.
    error ZeroAmount();
    /// @notice A withdrawal of `requested` exceeds the account's collateral `available`.
    /// @param requested The amount asked for.
    /// @param available The account's collateral.
    error InsufficientCollateral(uint256 requested, uint256 available);
    /// @notice After the action the account's equity would be `equity`, below the `required` margin.
    /// @param equity Collateral + claim + open PnL after the action (collateral alone when opening).
    /// @param required The initial margin at the current price.
    error InsufficientMargin(int256 equity, uint256 required);
    /// @notice The account already holds a position.
    /// @param trader The account.
    /// @param size Its current size.
    error PositionAlreadyOpen(address trader, int256 size);
    /// @notice The account holds no position.
    /// @param trader The account.
    error NoPosition(address trader);
    /// @notice A size of 0 was given.
    error ZeroSize();
    /// @notice The position's notional at the oracle price is below the opening minimum.
    /// @param notional The notional the position would open with.
    /// @param minNotional The minimum.
    error NotionalBelowMinimum(uint256 notional, uint256 minNotional);
    /// @notice Opening, or withdrawing while a position is open, would leave less collateral
    ///         than the minimum.
    /// @param collateral The collateral the account would have.
    /// @param minCollateral The minimum.
    error CollateralBelowMinimum(uint256 collateral, uint256 minCollateral);
    /// @notice The account is at or above the maintenance margin.
    /// @param trader The account.
    /// @param equity Its equity at the oracle price.
    /// @param maintenance The maintenance margin at that price.
    error NotLiquidatable(address trader, int256 equity, uint256 maintenance);
    /// @notice The position's notional is not below the dust threshold; only its owner or a
    ///         liquidation may close it.
    /// @param trader The account.
    /// @param notional Its notional at the oracle price.
    /// @param dustNotional The threshold (half of `minNotional`).
    error NotDust(address trader, uint256 notional, uint256 dustNotional);
    /// @notice The account has no claim to pay.
    /// @param trader The account.
    error NoClaim(address trader);
    /// @notice Only the pool owner may fund and defund the pool.
    /// @param caller The caller.
    /// @param poolOwner The pool owner.
    error NotPoolOwner(address caller, address poolOwner);
    /// @notice The pool backs what traders are owed or may still win: only `free` of it may
    ///         leave, `exposure` stays.
    /// @param requested The amount asked for.
    /// @param free pool − exposure (0 when the pool is short).
    /// @param exposure Σ reserve + Σ claim.
    error PoolLocked(uint256 requested, uint256 free, uint256 exposure);
    /// @notice More than the pool holds was asked for.
    /// @param requested The amount asked for.
    /// @param available The pool.
    error InsufficientPool(uint256 requested, uint256 available);
    /// @notice A transfer into the market delivered a different amount than asked for
    ///         (fee-on-transfer or rebasing collateral, which this market does not support).
    /// @param expected The amount passed to `transferFrom`.
    /// @param received The change of the market's balance.
    error FeeOnTransferUnsupported(uint256 expected, uint256 received);
    /// @notice The feed's breaker has tripped: no marking, opening, closing or liquidating.
    /// @param feedId The feed.
    error PriceTripped(bytes32 feedId);
    /// @notice The guardian paused the feed.
    /// @param feedId The feed.
    error PricePaused(bytes32 feedId);
    /// @notice The committee suspended the feed (it signed that it cannot price it): no marking,
    ///         opening, closing or liquidating until a priced report resumes it.
    /// @param feedId The feed.
    error PriceSuspended(bytes32 feedId);
    /// @notice The latest price is `age` seconds old; this market accepts at most `maxAge`
    ///         (or the hub reports the feed stale under its own limit).
    /// @param feedId The feed.
    /// @param age Seconds since the price was observed.
    /// @param maxAge This market's `maxPriceAge`.
    error PriceStale(bytes32 feedId, uint256 age, uint256 maxAge);
    /// @notice The nodes' dispersion `spreadBps` exceeds this market's limit.
    /// @param feedId The feed.
    /// @param spreadBps The round's dispersion.
    /// @param maxSpreadBps This market's limit.
    error PriceLowConfidence(bytes32 feedId, uint256 spreadBps, uint256 maxSpreadBps);
    /// @notice The feed is unknown to the hub or has no round yet.
    /// @param feedId The feed.
    error PriceUnavailable(bytes32 feedId);
    /// @notice The served answer is 0 or negative.
    /// @param feedId The feed.
    /// @param answer The answer.
    error PriceNotPositive(bytes32 feedId, int256 answer);
    /// @notice A constructor parameter is out of range.
    /// @param name The parameter.
    /// @param value Its value.
    error InvalidParameter(string name, uint256 value);

    // -- Actions --

    /// @notice Deposits `amount` collateral; needs no price. Reverts with
    ///         `FeeOnTransferUnsupported` unless exactly `amount` arrives.
    /// @param amount Tokens to pull from the caller (approved beforehand).
    function deposit(uint256 amount) external;
    /// @notice Withdraws realized collateral; with an open position, equity after must keep the
    ///         initial margin and the collateral must stay at or above `minCollateral`.
    /// @param amount Tokens to send to the caller.
    function withdraw(uint256 amount) external;
    /// @notice Adds `amount` to the pool (pool owner only). Reverts with
    ///         `FeeOnTransferUnsupported` unless exactly `amount` arrives.
    /// @param amount Tokens to pull from the pool owner.
    function fundPool(uint256 amount) external;
    /// @notice Takes `amount` out of the pool's free part, `pool − exposure` (pool owner only).
    /// @param amount Tokens to send to the pool owner.
    function defundPool(uint256 amount) external;
    /// @notice Opens a position of `size` at the oracle price; needs a notional of at least
    ///         `minNotional`, collateral of at least `minCollateral` and the initial margin.
    /// @param size Signed size (long > 0, short < 0).
    function openPosition(int256 size) external;
    /// @notice Realizes PnL at the oracle price and closes the caller's position.
    function closePosition() external;
    /// @notice Realizes `trader`'s PnL at the oracle price (variation margin); anyone may call.
    ///         A profit the pool cannot pay becomes the trader's claim, never lost.
    /// @param trader The account to mark.
    function mark(address trader) external;
    /// @notice Closes `trader`'s position when equity < maintenance margin; pays the caller a bounty.
    /// @param trader The account to liquidate.
    function liquidate(address trader) external;
    /// @notice Closes `trader`'s position, realizing its PnL at the oracle price, when its
    ///         notional is below half of `minNotional`; anyone may call, nobody is paid.
    /// @param trader The account to close.
    function closeDust(address trader) external;
    /// @notice Pays as much of `trader`'s claim as the pool holds into the trader's collateral;
    ///         anyone may call, needs no price.
    /// @param trader The account owed.
    function collectClaim(address trader) external;

    // -- Views --

    /// @notice The account's books.
    /// @param trader The account.
    /// @return The account.
    function getAccount(address trader) external view returns (Account memory);
    /// @notice Equity (collateral + claim + open PnL capped at the reserve) at `price`.
    /// @param trader The account.
    /// @param price A price in feed decimals.
    /// @return The equity, collateral units.
    function equityAt(address trader, int256 price) external view returns (int256);
    /// @notice Whether `trader` is liquidatable at `price` (pure arithmetic, no oracle checks).
    /// @param trader The account.
    /// @param price A price in feed decimals.
    /// @return True when equity < maintenance margin.
    function isLiquidatableAt(address trader, int256 price) external view returns (bool);
    /// @notice What the pool owner may take out now: `pool − exposure`, or 0 when the pool is short.
    /// @return The free pool, collateral units.
    function freePool() external view returns (uint256);
    /// @notice The oracle price this market would use now; reverts with the named price errors.
    /// @return price The answer, feed decimals.
    /// @return roundId Its hub round.
    function markPrice() external view returns (int256 price, uint256 roundId);
}
