// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title IAegisFeeds
/// @notice The read side of the Aegis hub: what consumers (settlement contracts, Chainlink
///         adapters, protocols) rely on. Reads never let a caller pick among several valid
///         signed prices: state only moves forward, and every reverting read takes a maximum
///         age from the caller.
interface IAegisFeeds {
    /// @notice Stored status of a feed. Staleness is derived from age, see `tryRead`.
    ///         `Suspended` (appended, values never renumbered): the committee signed, with the
    ///         same threshold as a price, that it cannot price the feed now; the last served
    ///         answer is held and not usable until a priced report resumes the feed.
    enum FeedStatus {
        Unknown,
        Active,
        Tripped,
        Paused,
        Stale,
        Suspended
    }

    /// @notice The feed id is not configured on this hub.
    /// @param feedId The feed id asked for.
    error FeedUnknown(bytes32 feedId);
    /// @notice The feed's deviation circuit breaker has tripped; the last served answer is held.
    /// @param feedId The tripped feed.
    error FeedTripped(bytes32 feedId);
    /// @notice The guardian paused the feed.
    /// @param feedId The paused feed.
    error FeedPaused(bytes32 feedId);
    /// @notice The latest answer is older than the caller's (or the feed's) maximum age.
    /// @param feedId The feed.
    /// @param age Seconds since the latest answer's observedAt.
    /// @param maxAge The maximum age that applied: the smaller of the caller's and the feed's
    ///        `maxStaleness`, seconds.
    error FeedStale(bytes32 feedId, uint256 age, uint256 maxAge);
    /// @notice The committee suspended the feed: `t` of its nodes signed that they cannot price it.
    /// @param feedId The feed.
    /// @param reason Why, as the nodes signed it: 0 unspecified, 1 too few fresh sources,
    ///        2 sources in disagreement beyond the band, 3 out of range, 4 no snapshot yet,
    ///        5 not configured on the nodes (docs/suspension.md).
    /// @param suspendedAt Observation time (unix seconds) of the latest suspension report.
    error FeedSuspended(bytes32 feedId, uint32 reason, uint256 suspendedAt);
    /// @notice No such round in the feed's bounded history (never existed or overwritten).
    /// @param feedId The feed.
    /// @param roundId The round asked for.
    error RoundNotFound(bytes32 feedId, uint256 roundId);

    /// @notice The latest served answer; reverts with a named error when the feed is unknown,
    ///         paused, suspended (`FeedSuspended`), tripped, or older than `maxAge` seconds (0 = the feed's configured
    ///         maximum staleness; the smaller of the two always applies).
    ///         Age is `block.timestamp - observedAt`, and 0 while `observedAt` is still ahead of
    ///         the block (an accepted report may lead the chain's clock by up to
    ///         `maxFutureDrift`); `observedAt` is returned as signed. The Chainlink adapters'
    ///         `updatedAt = min(observedAt, block.timestamp)` gives their consumers the same age.
    /// @param feedId The feed id: its name as a `bytes32` string, e.g. "ETH/USD".
    /// @param maxAge The caller's maximum age in seconds; 0 for the feed's `maxStaleness`.
    /// @return answer The answer, in the feed's `decimals`.
    /// @return observedAt The observation time the committee signed (unix seconds).
    /// @return spreadBps The spread of the sources around the answer, in basis points.
    /// @return roundId The served round's id.
    function read(bytes32 feedId, uint256 maxAge)
        external
        view
        returns (int256 answer, uint256 observedAt, uint256 spreadBps, uint256 roundId);

    /// @notice The latest served answer and the feed's status, never reverting. While the feed
    ///         is `Suspended`, the answer, observedAt, spreadBps and roundId are those of the last
    ///         served round (its true observation time, so age-based checks keep working).
    /// @param feedId The feed id: its name as a `bytes32` string, e.g. "ETH/USD".
    /// @return answer The latest served answer (0 before the first round).
    /// @return observedAt Its observation time (unix seconds).
    /// @return spreadBps Its spread in basis points.
    /// @return roundId Its round id (0 before the first round).
    /// @return status The feed's status, `Stale` when the answer is older than `maxStaleness`.
    function tryRead(bytes32 feedId)
        external
        view
        returns (int256 answer, uint256 observedAt, uint256 spreadBps, uint256 roundId, FeedStatus status);

    /// @notice A served round from the bounded history; reverts `RoundNotFound` otherwise.
    /// @param feedId The feed id: its name as a `bytes32` string, e.g. "ETH/USD".
    /// @param roundId The round, at most `latestRoundId` and within the last `historyCapacity`.
    /// @return answer The round's answer.
    /// @return observedAt The round's observation time (unix seconds).
    /// @return spreadBps The round's spread in basis points.
    function getRound(bytes32 feedId, uint256 roundId)
        external
        view
        returns (int256 answer, uint256 observedAt, uint256 spreadBps);

    /// @notice The id of the latest served round (0 before the first). Round ids are
    ///         continuous per feed: `roundId - 1` is the previous round while in the history.
    /// @param feedId The feed id: its name as a `bytes32` string, e.g. "ETH/USD".
    function latestRoundId(bytes32 feedId) external view returns (uint256);

    /// @notice The feed's fixed-point decimals.
    /// @param feedId The feed id: its name as a `bytes32` string, e.g. "ETH/USD".
    function decimals(bytes32 feedId) external view returns (uint8);

    /// @notice The feed's human-readable description, e.g. "BTC / USD".
    /// @param feedId The feed id: its name as a `bytes32` string, e.g. "ETH/USD".
    function description(bytes32 feedId) external view returns (string memory);
}
