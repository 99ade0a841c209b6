/**
 * Uniswap v3 pools as a price source: the time-weighted average price over a configured window,
 * read from the pool's own oracle with `observe([windowS, 0])`, never the spot price in
 * `slot0` (docs/design.md §Round protocol, step 2: a node prices from sources it can trust not to
 * be moved within one round; a spot price moves as far as one swap pushes it, inside one
 * block, for the cost of a flash loan's fee).
 *
 * What it reads, all pinned to one recent block (see `rpc.ts` for failover and block age):
 * - per pool: `token0`, `token1`, their `decimals()` (cached), and
 *   `observe([windowS, 0])`: tick cumulatives (TWAP tick = their difference over the window,
 *   rounded toward −∞ as Uniswap's `OracleLibrary.consult` does) and seconds-per-liquidity
 *   cumulatives (the window's harmonic-mean in-range liquidity, which a single block cannot
 *   inflate either);
 * - chained pools (TOKEN/WETH then WETH/USDC): each hop's price in the next token, multiplied,
 *   with each pool's orientation (token0/token1) and decimals handled.
 *
 * Weight: the cost, in the feed's quote currency, of moving the TWAP by 1 %. Holding a pool's
 * price 1 % off for the whole window moves its TWAP 1 %; with in-range liquidity L around price
 * P (token1 per token0, raw units) that needs a swap of L·√P·(√1.01 − 1) token1 (both
 * directions agree to first order), and a shorter hold needs a larger move (1.01^(window/held)).
 * For a chain the cheapest hop bounds it. The quote's `volume` is that cost expressed in the
 * base asset (cost / price) times `weightScale`, so the volume-weighted median and its per-source
 * cap treat a DEX pool and an exchange's 24 h volume on one scale the operator tunes.
 */
import { Interface, getAddress } from 'ethers';
import { CircuitBreaker } from '../breaker.ts';
import { SourceError } from '../errors.ts';
import type { MarketRef, PriceSource, SourceQuote } from '../types.ts';
import { RpcError, RpcPool } from './rpc.ts';

export const UNISWAP_V3 = 'uniswap-v3';

export interface UniswapV3SourceOptions {
  /** Source id in quotes and messages; default `uniswap-v3`. */
  id?: string;
  /** The feed this source prices (`WETH/USD`). */
  feed: string;
  /** RPC URLs, tried in order with failover. */
  rpcUrls: readonly string[];
  /** Pool addresses, hop by hop from `baseToken` to the quote token. */
  pools: readonly string[];
  /** The token the feed prices (its base). */
  baseToken: string;
  /** The token the price is in after the last hop; checked when given. */
  quoteToken?: string;
  /** Currency code of the quote token as feeds name it (`USDC`); default the feed's quote. */
  quote?: string;
  /** TWAP window in seconds; default 1800. */
  windowS?: number;
  /** A latest block older than this skips the RPC (failover); default 60 s. */
  maxBlockAgeMs?: number;
  /** Multiplies the weight (base-asset units an attacker must trade to move the TWAP 1 %); default 1. */
  weightScale?: number;
  timeoutMs?: number;
  failureThreshold?: number;
  coolDownMs?: number;
  now?: () => number;
}

/** What a DEX quote adds to a quote, for status pages, `node check` and the simulator. */
export interface DexQuoteDetail {
  block: string;
  rpcUrl: string;
  windowS: number;
  /** TWAP tick per hop, in each pool's own orientation. */
  ticks: number[];
  /** Harmonic-mean in-range liquidity over the window, per hop (raw). */
  liquidity: string[];
  /** Cost of moving the TWAP 1 %, in the quote currency (the cheapest hop). */
  costToMove1Pct: number;
}

const POOL = new Interface([
  'function token0() view returns (address)',
  'function token1() view returns (address)',
  'function observe(uint32[] secondsAgos) view returns (int56[] tickCumulatives, uint160[] secondsPerLiquidityCumulativeX128s)',
]);
const ERC20 = new Interface(['function decimals() view returns (uint8)']);
const SQRT_1_01_MINUS_1 = Math.sqrt(1.01) - 1;

/** Mean tick over `windowS` from two tick cumulatives, rounded toward −∞ (Uniswap's `OracleLibrary.consult`). */
export function meanTick(cumulativeThen: bigint, cumulativeNow: bigint, windowS: number): number {
  const delta = cumulativeNow - cumulativeThen;
  const w = BigInt(windowS);
  let tick = delta / w;
  if (delta < 0n && delta % w !== 0n) tick -= 1n;
  return Number(tick);
}

/** Harmonic-mean in-range liquidity over `windowS` from two seconds-per-liquidity cumulatives (X128). */
export function harmonicMeanLiquidity(splThen: bigint, splNow: bigint, windowS: number): bigint {
  const delta = splNow - splThen;
  if (delta <= 0n) return 0n;
  return (BigInt(windowS) << 128n) / delta;
}

/** Token1 per token0 in whole tokens at `tick`. */
export function tickToPrice(tick: number, decimals0: number, decimals1: number): number {
  return Math.pow(1.0001, tick) * Math.pow(10, decimals0 - decimals1);
}

/** Whole token1 that moves the price 1 % at in-range liquidity `liquidity` around `tick`. */
export function costToMove1PctToken1(liquidity: bigint, tick: number, decimals1: number): number {
  const sqrtP = Math.pow(1.0001, tick / 2);
  return (Number(liquidity) * sqrtP * SQRT_1_01_MINUS_1) / Math.pow(10, decimals1);
}

export function createUniswapV3Source(opts: UniswapV3SourceOptions): PriceSource & { readonly lastDetail: DexQuoteDetail | undefined } {
  const id = opts.id ?? UNISWAP_V3;
  const now = opts.now ?? Date.now;
  const windowS = opts.windowS ?? 1800;
  const maxBlockAgeMs = opts.maxBlockAgeMs ?? 60_000;
  const weightScale = opts.weightScale ?? 1;
  const pools = opts.pools.map((p) => getAddress(p));
  const base = getAddress(opts.baseToken);
  const quoteToken = opts.quoteToken ? getAddress(opts.quoteToken) : undefined;
  const [, feedQuote] = opts.feed.split('/');
  const market: MarketRef = { symbol: `${UNISWAP_V3}:${pools.join('>')}`, quote: opts.quote ?? feedQuote ?? '' };
  const rpc = new RpcPool({ urls: opts.rpcUrls, maxBlockAgeMs, now, ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}) });
  const breaker = new CircuitBreaker({ failureThreshold: opts.failureThreshold ?? 3, coolDownMs: opts.coolDownMs ?? 30_000, transportCoolDownMs: 3_000, now });
  const decimals = new Map<string, number>();
  let lastDetail: DexQuoteDetail | undefined;

  const fail = (kind: 'http' | 'stale' | 'bad_response', what: string): SourceError => new SourceError(kind, what, { source: id, feed: opts.feed });

  async function read(call: (to: string, data: string) => Promise<string>) {
    const decode = <T>(iface: Interface, fn: string, raw: string, what: string): T => {
      try {
        return iface.decodeFunctionResult(fn, raw) as unknown as T;
      } catch {
        throw new RpcError('bad_answer', `${what}: ${fn}() answered ${raw.slice(0, 20)}…, not its ABI (is this a Uniswap v3 pool / an ERC-20?)`);
      }
    };
    const tokenDecimals = async (token: string): Promise<number> => {
      const known = decimals.get(token);
      if (known !== undefined) return known;
      const [d] = decode<[bigint]>(ERC20, 'decimals', await call(token, ERC20.encodeFunctionData('decimals')), `token ${token}`);
      decimals.set(token, Number(d));
      return Number(d);
    };
    let current = base;
    let price = 1;
    const hops: { cost: number; inTo: boolean; hopPrice: number; tick: number; liquidity: bigint }[] = [];
    for (const pool of pools) {
      const [t0] = decode<[string]>(POOL, 'token0', await call(pool, POOL.encodeFunctionData('token0')), `pool ${pool}`);
      const [t1] = decode<[string]>(POOL, 'token1', await call(pool, POOL.encodeFunctionData('token1')), `pool ${pool}`);
      const token0 = getAddress(t0);
      const token1 = getAddress(t1);
      if (current !== token0 && current !== token1) {
        throw new RpcError('bad_answer', `pool ${pool} holds ${token0}/${token1}, not ${current}; list pools hop by hop from the base token to the quote token`);
      }
      let observed: [bigint[], bigint[]];
      try {
        observed = decode<[bigint[], bigint[]]>(POOL, 'observe', await call(pool, POOL.encodeFunctionData('observe', [[windowS, 0]])), `pool ${pool}`);
      } catch (err) {
        if (err instanceof RpcError && err.kind === 'reverted') {
          throw new RpcError('reverted', `pool ${pool}: observe([${windowS}, 0]) reverted (${err.message}); the pool's oracle holds less than ${windowS} s of history: raise its observation cardinality (increaseObservationCardinalityNext) and wait, or shorten windowS`);
        }
        throw err;
      }
      const [tc, spl] = observed;
      const tick = meanTick(tc[0]!, tc[1]!, windowS);
      const liquidity = harmonicMeanLiquidity(spl[0]!, spl[1]!, windowS);
      const [d0, d1] = [await tokenDecimals(token0), await tokenDecimals(token1)];
      const p01 = tickToPrice(tick, d0, d1);
      const forward = current === token0;
      const hopPrice = forward ? p01 : 1 / p01;
      const cost1 = costToMove1PctToken1(liquidity, tick, d1);
      // The hop's cost in its `to` token: token1 already when forward; else token1 is the from token.
      hops.push({ cost: forward ? cost1 : cost1 * hopPrice, inTo: true, hopPrice, tick, liquidity });
      price *= hopPrice;
      current = forward ? token1 : token0;
    }
    if (quoteToken !== undefined && current !== quoteToken) {
      throw new RpcError('bad_answer', `the pools end at ${current}, not the configured quote token ${quoteToken}`);
    }
    // Each hop's cost valued in the final quote token: times the product of the later hops' prices.
    let later = 1;
    let cheapest = Infinity;
    for (let i = hops.length - 1; i >= 0; i--) {
      cheapest = Math.min(cheapest, hops[i]!.cost * later);
      later *= hops[i]!.hopPrice;
    }
    return { price, cheapest, hops };
  }

  async function fetch(feed: string): Promise<SourceQuote> {
    if (feed !== opts.feed) throw new SourceError('unknown_feed', `this pool source prices ${opts.feed}, not ${feed}`, { source: id, feed });
    const admission = breaker.admit();
    if (!admission.allowed) {
      throw new SourceError('cooling_down', `cooling down after ${breaker.consecutiveFailures} consecutive failures, next try in ${admission.retryAfterMs} ms`, { source: id, feed, retryAfterMs: admission.retryAfterMs });
    }
    let out;
    try {
      out = await rpc.read((call) => read(call));
    } catch (err) {
      if (!(err instanceof RpcError)) throw err;
      const transport = err.kind === 'unreachable';
      breaker.recordFailure(undefined, transport);
      throw fail(err.kind === 'behind' ? 'stale' : transport ? 'http' : 'bad_response', err.message);
    }
    const receivedAtMs = now();
    const { value, block } = out;
    if (!Number.isFinite(value.price) || value.price <= 0) {
      breaker.recordFailure();
      throw fail('bad_response', `TWAP price ${value.price} is not a positive number (ticks ${value.hops.map((h) => h.tick).join(', ')})`);
    }
    breaker.recordSuccess();
    lastDetail = {
      block: block.number.toString(),
      rpcUrl: block.url,
      windowS,
      ticks: value.hops.map((h) => h.tick),
      liquidity: value.hops.map((h) => h.liquidity.toString()),
      costToMove1Pct: value.cheapest,
    };
    return {
      source: id,
      feed,
      price: value.price,
      volume: (value.cheapest / value.price) * weightScale,
      // The TWAP describes the chain as of this block: its time dates the quote.
      venueTimestampMs: block.timestampMs,
      receivedAtMs,
      market: market.symbol,
      quote: market.quote,
    };
  }

  return {
    id,
    venue: UNISWAP_V3,
    fetch,
    market: (feed) => (feed === opts.feed ? market : undefined),
    health: () => breaker.health(),
    get lastDetail() {
      return lastDetail;
    },
  };
}
