/**
 * Real Uniswap v3 on a local anvil: the factory, pools, `SwapRouter` and
 * `NonfungiblePositionManager` deployed from the compiled artifacts that ship in the npm
 * packages `@uniswap/v3-core` and `@uniswap/v3-periphery` (the bytecode Uniswap deployed), ERC-20
 * tokens from the repository's test token. Pools are moved by real swaps through the router, so
 * what the DEX source reads, and what an attack costs, is what the contracts compute.
 *
 * Used by the DEX source tests and by the simulator's DEX attacks (docs/design.md §Simulation: the
 * simulator drives the same code as production against simulated venues; here the venue is the
 * real contract).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Contract, ContractFactory, MaxUint256, NonceManager, getAddress, type ContractRunner, type InterfaceAbi, type JsonRpcProvider, type Signer } from 'ethers';
import { ROOT } from '../../contracts/compile.ts';

const require = createRequire(import.meta.url);

/**
 * The pools' ERC-20s: OpenZeppelin's ERC20 with open minting and chosen decimals, compiled here
 * with solc-js on its own (seconds, cached by source hash) rather than with the whole contract
 * tree, whose via-IR build takes minutes whenever any contract changes.
 */
const TOKEN_SOURCE = `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
/// @notice Simulator and test token: open minting, configurable decimals. Never deploy outside a local chain.
contract DexTestToken is ERC20 {
    uint8 private immutable _decimals;
    constructor(string memory name_, string memory symbol_, uint8 decimals_) ERC20(name_, symbol_) { _decimals = decimals_; }
    function decimals() public view override returns (uint8) { return _decimals; }
    function mint(address to, uint256 amount) external { _mint(to, amount); }
}
`;

let tokenArtifact: UniArtifact | undefined;
function testToken(): UniArtifact {
  if (tokenArtifact) return tokenArtifact;
  const solc = require('solc') as { version(): string; compile(input: string, opts: { import: (p: string) => { contents: string } | { error: string } }): string };
  const key = createHash('sha256').update(solc.version()).update(TOKEN_SOURCE).update(readFileSync(require.resolve('@openzeppelin/contracts/package.json'))).digest('hex').slice(0, 32);
  const cache = join(ROOT, '.cache', 'solc-dex', `${key}.json`);
  if (existsSync(cache)) return (tokenArtifact = JSON.parse(readFileSync(cache, 'utf8')) as UniArtifact);
  const input = {
    language: 'Solidity',
    sources: { 'DexTestToken.sol': { content: TOKEN_SOURCE } },
    settings: { optimizer: { enabled: true, runs: 200 }, evmVersion: 'cancun', outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } } },
  };
  const out = JSON.parse(
    solc.compile(JSON.stringify(input), {
      import: (p) => {
        try {
          return { contents: readFileSync(require.resolve(p), 'utf8') };
        } catch {
          return { error: `not found: ${p}` };
        }
      },
    }),
  ) as { errors?: { severity: string; formattedMessage: string }[]; contracts: Record<string, Record<string, { abi: InterfaceAbi; evm: { bytecode: { object: string } } }>> };
  const errors = (out.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length) throw new Error(`DexTestToken does not compile: ${errors.map((e) => e.formattedMessage).join('\n')}`);
  const c = out.contracts['DexTestToken.sol']!['DexTestToken']!;
  tokenArtifact = { abi: c.abi, bytecode: '0x' + c.evm.bytecode.object };
  mkdirSync(dirname(cache), { recursive: true });
  writeFileSync(`${cache}.${process.pid}`, JSON.stringify(tokenArtifact));
  renameSync(`${cache}.${process.pid}`, cache);
  return tokenArtifact;
}

interface UniArtifact {
  abi: InterfaceAbi;
  bytecode: string;
}

function uniArtifact(pkg: '@uniswap/v3-core' | '@uniswap/v3-periphery', name: string): UniArtifact {
  const file = require.resolve(`${pkg}/artifacts/contracts/${name}.sol/${name}.json`);
  const a = JSON.parse(readFileSync(file, 'utf8')) as UniArtifact;
  return { abi: a.abi, bytecode: a.bytecode };
}

/** The pool ABI from `@uniswap/v3-core` (tests read `slot0` to check the source never needs it). */
export const POOL_ABI = uniArtifact('@uniswap/v3-core', 'UniswapV3Pool').abi;

/** Fee tier → tick spacing, as the factory enables them. */
export const TICK_SPACING: Record<number, number> = { 500: 10, 3000: 60, 10000: 200 };
const MIN_TICK = -887272;
const MAX_TICK = 887272;

export interface Token {
  address: string;
  symbol: string;
  decimals: number;
  contract: Contract;
}

export interface PoolHandle {
  address: string;
  token0: Token;
  token1: Token;
  fee: number;
  contract: Contract;
}

export interface UniswapV3 {
  provider: JsonRpcProvider;
  signer: Signer;
  factory: Contract;
  router: Contract;
  positions: Contract;
  /** Deploy an ERC-20, mint `supply` whole tokens to the signer, approve router and position manager. */
  token(symbol: string, decimals: number, supply?: bigint): Promise<Token>;
  /**
   * Create and initialize a pool at `price` (whole `b` per whole `a`), with room for
   * `cardinality` oracle observations.
   */
  createPool(a: Token, b: Token, fee: number, price: number, cardinality?: number): Promise<PoolHandle>;
  /** Add liquidity: `amountA` of the pool's first-given token and the matching other side, full range unless ticks are given. */
  addLiquidity(pool: PoolHandle, amount0: bigint, amount1: bigint, range?: { lower: number; upper: number }): Promise<void>;
  /** Swap exactly `amountIn` (raw) of `tokenIn` for the pool's other token; returns the raw amount out. */
  swap(pool: PoolHandle, tokenIn: Token, amountIn: bigint): Promise<bigint>;
  /** Swap `tokenIn` until the pool's spot price (token1 per token0, whole tokens) reaches `price`; returns the raw amount in. */
  swapToPrice(pool: PoolHandle, price: number): Promise<{ tokenIn: Token; amountIn: bigint; amountOut: bigint }>;
  /** Spot price of token0 in token1 (whole tokens) from `slot0`; for tests and attack accounting only. */
  spot(pool: PoolHandle): Promise<number>;
  /** Latest block timestamp (s). */
  chainTime(): Promise<number>;
  /** Advance chain time by `seconds` and mine one block. */
  mine(seconds: number): Promise<void>;
}

/** sqrtPriceX96 for a price of token0 in token1 in raw units. */
export function sqrtPriceX96(rawPrice: number): bigint {
  const sqrt = Math.sqrt(rawPrice);
  // Split into integer-exact pieces: 2^96 exceeds double precision, the product does not need it.
  return BigInt(Math.floor(sqrt * 2 ** 48)) * 2n ** 48n;
}

/** Price limit of a swap moving token0's price in token1 to `rawPrice`. */
function rawOf(price: number, d0: number, d1: number): number {
  return price * 10 ** (d1 - d0);
}

export async function deployUniswapV3(provider: JsonRpcProvider, signer: Signer): Promise<UniswapV3> {
  const s: Signer = signer instanceof NonceManager ? signer : new NonceManager(signer);
  const me = await s.getAddress();
  const deploy = async (a: UniArtifact, ...args: unknown[]) => {
    const c = await new ContractFactory(a.abi, a.bytecode, s).deploy(...args);
    await c.waitForDeployment();
    return new Contract(await c.getAddress(), a.abi, s);
  };
  const factory = await deploy(uniArtifact('@uniswap/v3-core', 'UniswapV3Factory'));
  const token = testToken();
  // WETH9 is only used by the periphery to wrap ETH, which nothing here does: a plain token stands in.
  const wethStandIn = await new ContractFactory(token.abi, token.bytecode, s).deploy('Wrapped Ether stand-in', 'WETH9', 18);
  await wethStandIn.waitForDeployment();
  const router = await deploy(uniArtifact('@uniswap/v3-periphery', 'SwapRouter'), await factory.getAddress(), await wethStandIn.getAddress());
  // The token descriptor only renders NFT metadata; no call here reads it.
  const positions = await deploy(uniArtifact('@uniswap/v3-periphery', 'NonfungiblePositionManager'), await factory.getAddress(), await wethStandIn.getAddress(), me);
  const deadline = () => BigInt(Math.floor(Date.now() / 1000) + 10 * 365 * 86_400);
  /**
   * Send a contract call with a padded gas limit, capped at the block's: the estimate is taken
   * in the current block's second, and a pool writes an oracle observation (more storage) when
   * the block that includes the call has a later timestamp, so an exact estimate can run out of
   * gas; a call that grows the observation ring needs most of a block, and a limit above the
   * block's is refused outright.
   */
  const blockGasLimit = (await provider.getBlock('latest'))!.gasLimit;
  const send = async (c: Contract, fn: string, ...args: unknown[]) => {
    const f = c.getFunction(fn);
    const gas = (await f.estimateGas(...args)) + 100_000n;
    return (await f(...args, { gasLimit: gas < blockGasLimit ? gas : blockGasLimit })).wait();
  };
  const pools = new Map<string, PoolHandle>();

  const api: UniswapV3 = {
    provider,
    signer: s,
    factory,
    router,
    positions,
    async token(symbol, decimals, supply = 10n ** 12n) {
      const c = await new ContractFactory(token.abi, token.bytecode, s).deploy(`${symbol} test token`, symbol, decimals);
      await c.waitForDeployment();
      const contract = new Contract(await c.getAddress(), token.abi, s);
      await (await contract.getFunction('mint')(me, supply * 10n ** BigInt(decimals))).wait();
      await (await contract.getFunction('approve')(await router.getAddress(), MaxUint256)).wait();
      await (await contract.getFunction('approve')(await positions.getAddress(), MaxUint256)).wait();
      return { address: await contract.getAddress(), symbol, decimals, contract };
    },
    async createPool(a, b, fee, price, cardinality = 500) {
      const [token0, token1] = BigInt(a.address) < BigInt(b.address) ? [a, b] : [b, a];
      const p01 = token0 === a ? price : 1 / price;
      await send(factory, 'createPool', token0.address, token1.address, fee);
      const address = getAddress(await factory.getFunction('getPool')(token0.address, token1.address, fee));
      const contract = new Contract(address, POOL_ABI, s);
      await send(contract, 'initialize', sqrtPriceX96(rawOf(p01, token0.decimals, token1.decimals)));
      await send(contract, 'increaseObservationCardinalityNext', cardinality);
      const pool = { address, token0, token1, fee, contract };
      pools.set(address, pool);
      return pool;
    },
    async addLiquidity(pool, amount0, amount1, range) {
      const spacing = TICK_SPACING[pool.fee] ?? 60;
      const lower = range?.lower ?? Math.ceil(MIN_TICK / spacing) * spacing;
      const upper = range?.upper ?? Math.floor(MAX_TICK / spacing) * spacing;
      await send(positions, 'mint', {
        token0: pool.token0.address, token1: pool.token1.address, fee: pool.fee, tickLower: lower, tickUpper: upper,
        amount0Desired: amount0, amount1Desired: amount1, amount0Min: 0, amount1Min: 0, recipient: me, deadline: deadline(),
      });
    },
    async swap(pool, tokenIn, amountIn) {
      const tokenOut = tokenIn.address === pool.token0.address ? pool.token1 : pool.token0;
      const before = (await tokenOut.contract.getFunction('balanceOf')(me)) as bigint;
      const params = { tokenIn: tokenIn.address, tokenOut: tokenOut.address, fee: pool.fee, recipient: me, deadline: deadline(), amountIn, amountOutMinimum: 0, sqrtPriceLimitX96: 0 };
      await send(router, 'exactInputSingle', params);
      return ((await tokenOut.contract.getFunction('balanceOf')(me)) as bigint) - before;
    },
    async swapToPrice(pool, price) {
      const now = await api.spot(pool);
      // Raising token0's price means paying token1 in; lowering it, token0 in.
      const tokenIn = price > now ? pool.token1 : pool.token0;
      const tokenOut = tokenIn === pool.token0 ? pool.token1 : pool.token0;
      const inBefore = (await tokenIn.contract.getFunction('balanceOf')(me)) as bigint;
      const outBefore = (await tokenOut.contract.getFunction('balanceOf')(me)) as bigint;
      const limit = sqrtPriceX96(rawOf(price, pool.token0.decimals, pool.token1.decimals));
      const params = { tokenIn: tokenIn.address, tokenOut: tokenOut.address, fee: pool.fee, recipient: me, deadline: deadline(), amountIn: inBefore, amountOutMinimum: 0, sqrtPriceLimitX96: limit };
      await send(router, 'exactInputSingle', params);
      const amountIn = inBefore - ((await tokenIn.contract.getFunction('balanceOf')(me)) as bigint);
      const amountOut = ((await tokenOut.contract.getFunction('balanceOf')(me)) as bigint) - outBefore;
      return { tokenIn, amountIn, amountOut };
    },
    async spot(pool) {
      const slot0 = (await pool.contract.getFunction('slot0')()) as [bigint];
      const sqrt = Number(slot0[0]) / 2 ** 96;
      return sqrt * sqrt * 10 ** (pool.token0.decimals - pool.token1.decimals);
    },
    async chainTime() {
      const b = await provider.getBlock('latest');
      return b!.timestamp;
    },
    async mine(seconds) {
      await provider.send('evm_increaseTime', [seconds]);
      await provider.send('evm_mine', []);
    },
  };
  return api;
}

/** A runner-less view of a pool for reads (the simulator's accounting). */
export function poolAt(address: string, runner: ContractRunner): Contract {
  return new Contract(address, POOL_ABI, runner);
}
