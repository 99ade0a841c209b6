// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title IFuturesMarket
/// @notice A margined futures market on one Aegis feed against a liquidity pool. Traders deposit
///         ERC20 collateral, open one long or short position at the oracle price with leverage
///         bounded by the initial margin, and are marked to the oracle: `mark` realizes the
///         variation margin (PnL moves between the trader's collateral and the pool and the entry
///         resets to the mark), `closePosition` realizes and closes, `liquidate` closes an account
///         whose equity fell below the maintenance margin and pays the liquidator a bounty.
///         Every price-dependent action uses a fresh, untripped, unpaused, confident oracle price
///         or reverts with a named error; deposits never need a price.
/// @dev Units: `size` is signed (long > 0, short < 0) in collateral base units per 1.0 of price
///      move; `pnl = size * (price - entry) / 10^decimals`, `notional = |size| * price / 10^decimals`.
/// @custom:invariant collateralToken.balanceOf(market) == pool + Σ accounts[i].collateral
///                   (tokens only move on deposit, withdraw, fundPool, defundPool and the bounty,
///                   which leaves an account's collateral). Tested by a stateful property test.
/// @custom:invariant No position is liquidated or marked on a stale, tripped, paused or
///                   low-confidence price. Tested by a stateful property test.
interface IFuturesMarket {
    struct Account {
        /// Realized collateral, in collateral base units.
        uint256 collateral;
        /// Signed position size; 0 = flat.
        int256 size;
        /// Price the open PnL is measured from (last mark or open), feed decimals.
        int256 entryPrice;
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
    }

    // -- Events --

    event Deposited(address indexed trader, uint256 amount, uint256 collateral);
    event Withdrawn(address indexed trader, uint256 amount, uint256 collateral);
    event PoolFunded(address indexed caller, uint256 amount, uint256 pool);
    event PoolDefunded(address indexed caller, uint256 amount, uint256 pool);
    event PositionOpened(address indexed trader, int256 size, int256 price, uint256 notional, uint256 roundId);
    /// @notice PnL realized at `price` (by `mark`, `closePosition` or `liquidate`).
    event PositionMarked(address indexed trader, address indexed caller, int256 price, int256 pnl, uint256 collateral, uint256 roundId);
    event PositionClosed(address indexed trader, int256 price, uint256 collateral);
    event Liquidated(address indexed trader, address indexed liquidator, int256 price, uint256 bounty, uint256 collateralLeft);
    /// @notice The pool could not pay the whole profit; `paid` of `owed` was credited.
    event ProfitCapped(address indexed trader, uint256 owed, uint256 paid);
    /// @notice A loss exceeded the trader's collateral; the pool absorbed `shortfall` less than owed.
    event BadDebt(address indexed trader, uint256 shortfall);

    // -- Errors --

    error ZeroAmount();
    error InsufficientCollateral(uint256 requested, uint256 available);
    /// @notice After the action the account's equity would be `equity`, below the `required` margin.
    error InsufficientMargin(int256 equity, uint256 required);
    error PositionAlreadyOpen(address trader, int256 size);
    error NoPosition(address trader);
    error ZeroSize();
    error NotLiquidatable(address trader, int256 equity, uint256 maintenance);
    error NotPoolOwner(address caller, address poolOwner);
    /// @notice The pool backs open positions; it can be defunded only when all are closed.
    error PoolLocked(uint256 openPositions);
    error InsufficientPool(uint256 requested, uint256 available);
    /// @notice The feed's breaker has tripped: no marking, opening, closing or liquidating.
    error PriceTripped(bytes32 feedId);
    /// @notice The guardian paused the feed.
    error PricePaused(bytes32 feedId);
    /// @notice The latest price is `age` seconds old; this market accepts at most `maxAge`
    ///         (or the hub reports the feed stale under its own limit).
    error PriceStale(bytes32 feedId, uint256 age, uint256 maxAge);
    /// @notice The nodes' dispersion `spreadBps` exceeds this market's limit.
    error PriceLowConfidence(bytes32 feedId, uint256 spreadBps, uint256 maxSpreadBps);
    /// @notice The feed is unknown to the hub or has no round yet.
    error PriceUnavailable(bytes32 feedId);
    error PriceNotPositive(bytes32 feedId, int256 answer);
    error InvalidParameter(string name, uint256 value);

    // -- Actions --

    function deposit(uint256 amount) external;
    /// @notice Withdraws realized collateral; with an open position, equity after must keep the initial margin.
    function withdraw(uint256 amount) external;
    function fundPool(uint256 amount) external;
    function defundPool(uint256 amount) external;
    /// @notice Opens a position of `size` at the oracle price; needs collateral ≥ initial margin.
    function openPosition(int256 size) external;
    /// @notice Realizes PnL at the oracle price and closes the caller's position.
    function closePosition() external;
    /// @notice Realizes `trader`'s PnL at the oracle price (variation margin); anyone may call.
    function mark(address trader) external;
    /// @notice Closes `trader`'s position when equity < maintenance margin; pays the caller a bounty.
    function liquidate(address trader) external;

    // -- Views --

    function getAccount(address trader) external view returns (Account memory);
    /// @notice Equity (collateral + open PnL) at `price`.
    function equityAt(address trader, int256 price) external view returns (int256);
    /// @notice Whether `trader` is liquidatable at `price` (pure arithmetic, no oracle checks).
    function isLiquidatableAt(address trader, int256 price) external view returns (bool);
    /// @notice The oracle price this market would use now; reverts with the named price errors.
    function markPrice() external view returns (int256 price, uint256 roundId);
}
