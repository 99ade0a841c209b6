/**
 * The Uniswap v3 source against the real contracts: factory, pools, SwapRouter and
 * NonfungiblePositionManager deployed on anvil from the artifacts in `@uniswap/v3-core` /
 * `@uniswap/v3-periphery`, pools moved by real swaps. What it must do: price from the TWAP of
 * `observe()` (a single-block 10× spot manipulation, swapped back in the same block, does not
 * move it; a move held for part of the window moves it by exactly the geometric share), handle
 * decimals, pool orientation and chained pools, weight a pool by the cost of moving its TWAP 1 %
 * (checked against a real swap), and read through several RPCs with failover and a maximum
 * block age.
 */
import { createServer } from 'node:net';
import { Interface, MaxUint256 } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAnvil, type Anvil } from '../../contracts/anvil.ts';
import { SourceError } from '../../node/sources/index.ts';
import { createUniswapV3Source, type UniswapV3SourceOptions } from '../../node/sources/dex/uniswap-v3.ts';
import { POOL_ABI, deployUniswapV3, sqrtPriceX96, type PoolHandle, type Token, type UniswapV3 } from '../../sim/dex/uniswap.ts';

let anvil: Anvil;
let behind: Anvil;
let uni: UniswapV3;
let usdc: Token;
let weth: Token;
let tkn: Token;
let wethUsdc: PoolHandle;
let tknWeth: PoolHandle;
let closedUrl: string;
/** The node's clock follows the chain's (anvil time is moved forward by the tests). */
let nowMs = 0;
const sync = async () => {
  nowMs = (await uni.chainTime()) * 1000 + 500;
};
const WINDOW = 1800;

/** Raw amounts for a pool in its own token order. */
const amounts = (pool: PoolHandle, raw: Record<string, bigint>): [bigint, bigint] => [raw[pool.token0.symbol]!, raw[pool.token1.symbol]!];
const whole = (t: Token, n: number) => BigInt(Math.round(n * 1e6)) * 10n ** BigInt(t.decimals) / 1_000_000n;

function source(over: Partial<UniswapV3SourceOptions> = {}) {
  return createUniswapV3Source({
    feed: 'WETH/USDC',
    rpcUrls: [anvil.url],
    pools: [wethUsdc.address],
    baseToken: weth.address,
    quoteToken: usdc.address,
    windowS: WINDOW,
    maxBlockAgeMs: 60_000,
    now: () => nowMs,
    ...over,
  });
}

async function rejection(p: Promise<unknown>): Promise<SourceError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SourceError);
  return err as SourceError;
}

beforeAll(async () => {
  anvil = await startAnvil();
  // A second chain whose newest block is a day old: an RPC that is behind.
  behind = await startAnvil({ args: ['--timestamp', String(Math.floor(Date.now() / 1000) - 86_400)] });
  const probe = createServer();
  const port = await new Promise<number>((ok) => probe.listen(0, '127.0.0.1', () => ok((probe.address() as { port: number }).port)));
  await new Promise<void>((ok) => probe.close(() => ok()));
  closedUrl = `http://127.0.0.1:${port}`;

  uni = await deployUniswapV3(anvil.provider, anvil.wallet(0));
  usdc = await uni.token('USDC', 6);
  weth = await uni.token('WETH', 18);
  tkn = await uni.token('TKN', 18);
  wethUsdc = await uni.createPool(weth, usdc, 3000, 3000);
  await uni.addLiquidity(wethUsdc, ...amounts(wethUsdc, { WETH: whole(weth, 1_000), USDC: whole(usdc, 3_000_000) }));
  tknWeth = await uni.createPool(tkn, weth, 3000, 0.001);
  await uni.addLiquidity(tknWeth, ...amounts(tknWeth, { TKN: whole(tkn, 1_000_000), WETH: whole(weth, 1_000) }));
  // A window's worth of history.
  await uni.mine(WINDOW + 600);
  await sync();
}, 120_000);

afterAll(async () => {
  await anvil?.stop();
  await behind?.stop();
});

describe('Uniswap v3 TWAP source on the real contracts', () => {
  it('prices WETH in USDC from the TWAP, with both tokens\' decimals (18 and 6) and either pool orientation', async () => {
    const q = await source().fetch('WETH/USDC');
    expect(q.price / 3000 - 1).toBeLessThan(1e-4);
    expect(q.price / 3000 - 1).toBeGreaterThan(-1e-4);
    expect(q.quote).toBe('USDC');
    expect(q.venueTimestampMs).toBe((await uni.chainTime()) * 1000);
    const inverse = await source({ feed: 'USDC/WETH', baseToken: usdc.address, quoteToken: weth.address }).fetch('USDC/WETH');
    expect(inverse.price * q.price).toBeCloseTo(1, 8);
  });

  it('chains pools: TKN → WETH → USDC', async () => {
    const q = await source({ feed: 'TKN/USDC', pools: [tknWeth.address, wethUsdc.address], baseToken: tkn.address }).fetch('TKN/USDC');
    expect(Math.abs(q.price / 3 - 1)).toBeLessThan(2e-4);
  });

  it('weighs a pool by the cost of moving its TWAP 1 %, and a real swap costs that much', async () => {
    const s = source();
    const q = await s.fetch('WETH/USDC');
    const cost = s.lastDetail!.costToMove1Pct;
    expect(q.volume).toBeCloseTo(cost / q.price, 6);
    // Move the spot 1 % with a real swap and compare what went in (net of the 0.3 % fee).
    const before = await uni.spot(wethUsdc);
    const moved = await uni.swapToPrice(wethUsdc, before * 1.01);
    expect(moved.tokenIn.symbol).toBe('USDC');
    const paid = (Number(moved.amountIn) / 1e6) * (1 - 0.003);
    expect(Math.abs(paid / cost - 1)).toBeLessThan(0.005);
    await uni.swapToPrice(wethUsdc, before);
    await uni.mine(WINDOW);
    await sync();
  });

  it('a 10× spot manipulation swapped back in the same block (a flash loan) does not move the TWAP', async () => {
    const s = source();
    const before = await s.fetch('WETH/USDC');
    const spot = await uni.spot(wethUsdc);
    const me = await uni.signer.getAddress();
    const deadline = MaxUint256;
    const router = uni.router;
    await anvil.provider.send('evm_setAutomine', [false]);
    let pump, dump;
    try {
      // Explicit gas limits: estimating the second swap against the state before the first would revert.
      pump = await router.getFunction('exactInputSingle')(
        { tokenIn: usdc.address, tokenOut: weth.address, fee: 3000, recipient: me, deadline, amountIn: whole(usdc, 1e9), amountOutMinimum: 0, sqrtPriceLimitX96: limitFor(wethUsdc, spot * 10) },
        { gasLimit: 1_000_000 },
      );
      dump = await router.getFunction('exactInputSingle')(
        { tokenIn: weth.address, tokenOut: usdc.address, fee: 3000, recipient: me, deadline, amountIn: whole(weth, 1e6), amountOutMinimum: 0, sqrtPriceLimitX96: limitFor(wethUsdc, spot) },
        { gasLimit: 1_000_000 },
      );
      await anvil.provider.send('evm_mine', []);
    } finally {
      await anvil.provider.send('evm_setAutomine', [true]);
    }
    const [r1, r2] = [await pump.wait(), await dump.wait()];
    expect(r1!.blockNumber).toBe(r2!.blockNumber);
    // The pump really took the pool to 10× (the pool's own Swap event), inside that block.
    const swapped = new Interface(POOL_ABI).parseLog(r1!.logs.find((l: { address: string }) => l.address === wethUsdc.address)!)!;
    const pumped = (Number(swapped.args.sqrtPriceX96) / 2 ** 96) ** 2 * 1e12;
    expect(pumped / spot).toBeGreaterThan(9.99);
    await uni.mine(12);
    await sync();
    const after = await s.fetch('WETH/USDC');
    expect(Math.abs(after.price / before.price - 1) * 100).toBeLessThan(0.1);
  });

  it('a move held for part of the window moves the TWAP by that share of it, geometrically', async () => {
    const s = source();
    const base = (await s.fetch('WETH/USDC')).price;
    const spot = await uni.spot(wethUsdc);
    await uni.swapToPrice(wethUsdc, spot * 1.2);
    await uni.mine(WINDOW / 2);
    await sync();
    const held = (await s.fetch('WETH/USDC')).price;
    // Half the window at 1.2×: the TWAP is the geometric mean, 1.2^(1/2) ≈ 1.0954×.
    expect(Math.abs(held / (base * Math.sqrt(1.2)) - 1)).toBeLessThan(0.002);
    await uni.swapToPrice(wethUsdc, spot);
    await uni.mine(WINDOW);
    await sync();
  });
});

describe('RPC failover and block age', () => {
  it('skips an unreachable RPC and one whose latest block is too old, and reads from the next', async () => {
    const s = source({ rpcUrls: [closedUrl, behind.url, anvil.url] });
    const q = await s.fetch('WETH/USDC');
    expect(q.price).toBeGreaterThan(2990);
    expect(s.lastDetail!.rpcUrl).toBe(anvil.url);
  });

  it('fails with both reasons named when no RPC is usable, and as stale when every RPC is behind', async () => {
    const err = await rejection(source({ rpcUrls: [closedUrl, behind.url] }).fetch('WETH/USDC'));
    expect(err.kind).toBe('http');
    expect(err.message).toContain(closedUrl);
    expect(err.message).toMatch(/latest block 0 is \d+ s old, limit 60 s/);
    const stale = await rejection(source({ rpcUrls: [behind.url] }).fetch('WETH/USDC'));
    expect(stale.kind).toBe('stale');
  });
});

describe('what it refuses', () => {
  it('a pool whose oracle holds less history than the window, naming the fix', async () => {
    const fresh = await uni.createPool(tkn, usdc, 3000, 3, 1);
    await uni.addLiquidity(fresh, ...amounts(fresh, { TKN: whole(tkn, 1000), USDC: whole(usdc, 3000) }));
    await uni.mine(60);
    await uni.swap(fresh, usdc, whole(usdc, 1));
    await sync();
    const err = await rejection(source({ feed: 'TKN/USDC', pools: [fresh.address], baseToken: tkn.address }).fetch('TKN/USDC'));
    expect(err.kind).toBe('bad_response');
    expect(err.message).toMatch(/observe\(\[1800, 0\]\) reverted .*increaseObservationCardinalityNext/);
  });

  it('pools listed out of order, naming the pool and the token it lacks', async () => {
    const err = await rejection(source({ feed: 'TKN/USDC', pools: [wethUsdc.address, tknWeth.address], baseToken: tkn.address }).fetch('TKN/USDC'));
    expect(err.kind).toBe('bad_response');
    expect(err.message).toContain(`pool ${wethUsdc.address} holds`);
  });
});

function limitFor(pool: PoolHandle, price: number): bigint {
  return sqrtPriceX96(price * 10 ** (pool.token1.decimals - pool.token0.decimals));
}
