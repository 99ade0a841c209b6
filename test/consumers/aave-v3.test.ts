/**
 * Aave v3 reading Aegis, with Aave's own contracts from @aave/core-v3 1.19.3 compiled the way
 * Aave builds them (solc 0.8.10, optimizer 100,000 runs, EVM london): `AaveOracle` behind a real
 * `PoolAddressesProvider` and `ACLManager`, and a real Aave v3 pool (Pool and PoolConfigurator
 * behind the provider's proxies, Aave's logic libraries linked, AToken / debt token
 * implementations, the default rate strategy) whose ETH and USDC prices are Aegis feeds, on
 * anvil with real threshold-signed reports.
 *
 * `AaveOracle.getAssetPrice` calls `latestAnswer()` and has no staleness check: with the lenient
 * adapter it serves the hub's answer in every hub state (held while tripped, paused or stale);
 * with the strict adapter it reverts unless the feed is Active, and so do borrow, withdraw of
 * collateral backing a debt and liquidation, while supply and repay go on (the guide's table).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MaxUint256, type Contract, type JsonRpcSigner } from 'ethers';
import { compileForeign, deployForeign, foreignArtifact, type ForeignArtifact } from '../../contracts/foreign.ts';
import { feedId } from '../../protocol/report.ts';
import { as, expectRevert, feedConfig, setup, type Fixture } from '../contracts/helpers/chain.ts';
import { adapters, FEED, hubView, ONE, Status, walkHubStates } from './helpers.ts';

const AAVE = '@aave/core-v3/contracts/';
/** Aave v3's own build settings (its hardhat config, as recorded in the package's build-info). */
function compileAave(): Record<string, ForeignArtifact> {
  return compileForeign({
    label: 'aave-v3',
    solc: 'solc-0.8.10',
    optimizerRuns: 100_000,
    evmVersion: 'london',
    entries: [
      'misc/AaveOracle.sol',
      'protocol/configuration/PoolAddressesProvider.sol',
      'protocol/configuration/ACLManager.sol',
      'protocol/pool/Pool.sol',
      'protocol/pool/PoolConfigurator.sol',
      'protocol/tokenization/AToken.sol',
      'protocol/tokenization/StableDebtToken.sol',
      'protocol/tokenization/VariableDebtToken.sol',
      'protocol/pool/DefaultReserveInterestRateStrategy.sol',
      'mocks/tokens/MintableERC20.sol',
      'misc/AaveProtocolDataProvider.sol',
    ].map((e) => AAVE + e),
  });
}

const USDC_FEED = feedId('USDC/USD');
const ZERO = '0x0000000000000000000000000000000000000000';
const RAY = 10n ** 27n;
const WAD = 10n ** 18n;
const USDC = 10n ** 6n;
const VARIABLE = 2;

let f: Fixture;
let arts: Record<string, ForeignArtifact>;
let ethLenient: Contract;
let ethStrict: Contract;
let usdcLenient: Contract;
let provider: Contract;
let acl: Contract;
let oracle: Contract;
let pool: Contract;
let configurator: Contract;
let weth: Contract;
let usdc: Contract;
let lender: JsonRpcSigner;
let borrower: JsonRpcSigner;
let liquidator: JsonRpcSigner;

/** Deploys Aave's logic libraries in dependency order and returns their addresses by name. */
async function deployLibraries(names: string[]): Promise<Record<string, string>> {
  const libs: Record<string, string> = {};
  const pending = new Set(names);
  while (pending.size > 0) {
    const ready = [...pending].filter((n) => Object.values(foreignArtifact(arts, n).linkReferences).every((l) => Object.keys(l).every((dep) => dep in libs)));
    if (ready.length === 0) throw new Error(`deployLibraries: circular or missing library links among ${[...pending].join(', ')}`);
    for (const n of ready) {
      libs[n] = await (await deployForeign(f.deployer, foreignArtifact(arts, n), [], libs)).getAddress();
      pending.delete(n);
    }
  }
  return libs;
}

async function listReserve(asset: Contract, decimals: number, symbol: string, strategy: string, impls: { aToken: string; stable: string; variable: string }): Promise<void> {
  const input = {
    aTokenImpl: impls.aToken,
    stableDebtTokenImpl: impls.stable,
    variableDebtTokenImpl: impls.variable,
    underlyingAssetDecimals: decimals,
    interestRateStrategyAddress: strategy,
    underlyingAsset: await asset.getAddress(),
    treasury: await f.signers[9]!.getAddress(),
    incentivesController: ZERO,
    aTokenName: `Aave ${symbol}`,
    aTokenSymbol: `a${symbol}`,
    variableDebtTokenName: `Aave variable debt ${symbol}`,
    variableDebtTokenSymbol: `variableDebt${symbol}`,
    stableDebtTokenName: `Aave stable debt ${symbol}`,
    stableDebtTokenSymbol: `stableDebt${symbol}`,
    params: '0x',
  };
  await (await configurator.initReserves!([input])).wait();
}

async function mintAndApprove(token: Contract, who: JsonRpcSigner, amount: bigint): Promise<void> {
  await (await token['mint(address,uint256)']!(await who.getAddress(), amount)).wait();
  await (await as(token, who).approve!(await pool.getAddress(), MaxUint256)).wait();
}

beforeAll(async () => {
  arts = compileAave();
  f = await setup();
  [lender, borrower, liquidator] = [f.signers[1]!, f.signers[2]!, f.signers[3]!];
  await (await f.hub.addFeed!(USDC_FEED, feedConfig({ description: 'USDC / USD' }))).wait();
  await f.oracle.push(1n * ONE, { feed: USDC_FEED });
  const a = await adapters(f);
  [ethLenient, ethStrict] = [a.lenient, a.strict];
  await (await a.factory.create!(await f.hub.getAddress(), USDC_FEED)).wait();
  usdcLenient = ethLenient.attach(await a.factory.adapterOf!(await f.hub.getAddress(), USDC_FEED)) as Contract;

  const me = await f.deployer.getAddress();
  provider = await deployForeign(f.deployer, foreignArtifact(arts, 'PoolAddressesProvider'), ['Aegis market', me]);
  await (await provider.setACLAdmin!(me)).wait();
  acl = await deployForeign(f.deployer, foreignArtifact(arts, 'ACLManager'), [await provider.getAddress()]);
  await (await provider.setACLManager!(await acl.getAddress())).wait();
  await (await acl.addPoolAdmin!(me)).wait();

  weth = await deployForeign(f.deployer, foreignArtifact(arts, 'MintableERC20'), ['Wrapped Ether', 'WETH', 18]);
  usdc = await deployForeign(f.deployer, foreignArtifact(arts, 'MintableERC20'), ['USD Coin', 'USDC', 6]);
  // Base currency USD with 8 decimals, as Aave's USD markets; no fallback oracle.
  oracle = await deployForeign(f.deployer, foreignArtifact(arts, 'AaveOracle'), [
    await provider.getAddress(),
    [await weth.getAddress(), await usdc.getAddress()],
    [await ethLenient.getAddress(), await usdcLenient.getAddress()],
    ZERO,
    ZERO,
    ONE,
  ]);
  await (await provider.setPriceOracle!(await oracle.getAddress())).wait();
}, 600_000);
afterAll(async () => {
  await f?.stop();
});

describe('AaveOracle (PoolAddressesProvider + ACLManager) on Aegis adapters', () => {
  it('the lenient adapter: getAssetPrice equals the hub answer in every hub state, never reverting', async () => {
    const states = await walkHubStates(f, async (_state, hub) => {
      expect(await oracle.getAssetPrice!(await weth.getAddress())).toBe(hub.answer);
      expect([...(await oracle.getAssetsPrices!([await weth.getAddress(), await usdc.getAddress()]))]).toEqual([hub.answer, (await f.hub.tryRead!(USDC_FEED))[0]]);
    });
    expect(states.length).toBe(9);
  });

  it('the strict adapter, set by a pool admin through the ACLManager: the hub answer while Active, FeedNotActive otherwise', async () => {
    const wethAddress = await weth.getAddress();
    await expectRevert(f, as(oracle, liquidator).setAssetSources!([wethAddress], [await ethStrict.getAddress()]), 'Error'); // not an admin: Aave's require string
    await (await oracle.setAssetSources!([wethAddress], [await ethStrict.getAddress()])).wait();
    expect(await oracle.getSourceOfAsset!(wethAddress)).toBe(await ethStrict.getAddress());
    const reverted: string[] = [];
    await walkHubStates(f, async (state, hub) => {
      if (hub.status === Status.Active) expect(await oracle.getAssetPrice!(wethAddress)).toBe(hub.answer);
      else {
        await expectRevert(f, oracle.getAssetPrice!(wethAddress), 'FeedNotActive', [FEED, hub.status]);
        reverted.push(state);
      }
    });
    expect(reverted).toEqual(['tripped', 'paused', 'suspended', 'stale']);
    await (await oracle.setAssetSources!([wethAddress], [await ethLenient.getAddress()])).wait();
  });
});

describe('a real Aave v3 pool priced by Aegis', () => {
  beforeAll(async () => {
    const me = await f.deployer.getAddress();
    const libs = await deployLibraries(['BorrowLogic', 'BridgeLogic', 'EModeLogic', 'FlashLoanLogic', 'LiquidationLogic', 'PoolLogic', 'SupplyLogic', 'ConfiguratorLogic']);
    const poolImpl = await deployForeign(f.deployer, foreignArtifact(arts, 'Pool'), [await provider.getAddress()], libs);
    await (await provider.setPoolImpl!(await poolImpl.getAddress())).wait();
    pool = poolImpl.attach(await provider.getPool!()) as Contract;
    const configuratorImpl = await deployForeign(f.deployer, foreignArtifact(arts, 'PoolConfigurator'), [], libs);
    await (await provider.setPoolConfiguratorImpl!(await configuratorImpl.getAddress())).wait();
    configurator = configuratorImpl.attach(await provider.getPoolConfigurator!()) as Contract;
    expect(await acl.isPoolAdmin!(me)).toBe(true);

    const poolAddress = await pool.getAddress();
    const impls = {
      aToken: await (await deployForeign(f.deployer, foreignArtifact(arts, 'AToken'), [poolAddress])).getAddress(),
      stable: await (await deployForeign(f.deployer, foreignArtifact(arts, 'StableDebtToken'), [poolAddress])).getAddress(),
      variable: await (await deployForeign(f.deployer, foreignArtifact(arts, 'VariableDebtToken'), [poolAddress])).getAddress(),
    };
    // Aave's usual volatile-asset curve: 80 % optimal usage, 4 % / 75 % slopes.
    const strategy = await deployForeign(f.deployer, foreignArtifact(arts, 'DefaultReserveInterestRateStrategy'), [
      await provider.getAddress(), (80n * RAY) / 100n, 0n, (4n * RAY) / 100n, (75n * RAY) / 100n, (2n * RAY) / 100n, (75n * RAY) / 100n, (2n * RAY) / 100n, (5n * RAY) / 100n, (20n * RAY) / 100n,
    ]);
    await listReserve(weth, 18, 'WETH', await strategy.getAddress(), impls);
    await listReserve(usdc, 6, 'USDC', await strategy.getAddress(), impls);
    // WETH: LTV 80 %, liquidation threshold 82.5 %, bonus 5 % (Aave's Ethereum WETH parameters).
    await (await configurator.configureReserveAsCollateral!(await weth.getAddress(), 8000, 8250, 10500)).wait();
    await (await configurator.setReserveBorrowing!(await usdc.getAddress(), true)).wait();

    await mintAndApprove(usdc, lender, 100_000n * USDC);
    await (await as(pool, lender).supply!(await usdc.getAddress(), 100_000n * USDC, await lender.getAddress(), 0)).wait();
    await mintAndApprove(weth, borrower, 20n * WAD);
    await mintAndApprove(usdc, borrower, 10_000n * USDC); // to repay with
    await mintAndApprove(usdc, liquidator, 50_000n * USDC);
  }, 300_000);

  /** The borrower's account in the pool's base currency (USD, 8 decimals). */
  async function account(): Promise<{ collateral: bigint; debt: bigint; healthFactor: bigint }> {
    const [collateral, debt, , , , healthFactor] = (await pool.getUserAccountData!(await borrower.getAddress())) as bigint[];
    return { collateral: collateral!, debt: debt!, healthFactor: healthFactor! };
  }

  it('supply and borrow are priced at exactly the hub answer', async () => {
    await f.oracle.push(2000n * ONE);
    await f.oracle.push(1n * ONE, { feed: USDC_FEED });
    const hub = await hubView(f);
    expect(hub.status).toBe(Status.Active);
    await (await as(pool, borrower).supply!(await weth.getAddress(), 10n * WAD, await borrower.getAddress(), 0)).wait();
    expect((await account()).collateral).toBe(10n * hub.answer);
    // 15,900 of the 16,000 USDC an 80 % LTV allows at 2,000.
    await (await as(pool, borrower).borrow!(await usdc.getAddress(), 15_900n * USDC, VARIABLE, 0, await borrower.getAddress())).wait();
    expect(await usdc.balanceOf!(await borrower.getAddress())).toBe(25_900n * USDC);
    const { collateral, debt, healthFactor } = await account();
    expect(collateral).toBe(10n * hub.answer);
    // Aave's health factor from that collateral: percentMul(82.5 %) then wadDiv, both rounding half up.
    expect(healthFactor).toBe((((collateral * 8250n + 5000n) / 10_000n) * WAD + debt / 2n) / debt);
  });

  it('tripped feed, lenient adapter: the pool keeps pricing at the held answer (borrow, repay, withdraw go through)', async () => {
    await f.oracle.push(2600n * ONE);
    const hub = await hubView(f);
    expect([hub.status, hub.answer]).toEqual([Status.Tripped, 2000n * ONE]);
    expect((await account()).collateral).toBe(10n * 2000n * ONE);
    await (await as(pool, borrower).borrow!(await usdc.getAddress(), 50n * USDC, VARIABLE, 0, await borrower.getAddress())).wait();
    await (await as(pool, borrower).repay!(await usdc.getAddress(), 50n * USDC, VARIABLE, await borrower.getAddress())).wait();
    await (await as(pool, borrower).withdraw!(await weth.getAddress(), WAD / 10n, await borrower.getAddress())).wait();
    await (await as(pool, borrower).supply!(await weth.getAddress(), WAD / 10n, await borrower.getAddress(), 0)).wait();
  });

  it('tripped feed, strict adapter: borrow, withdraw of collateral and liquidation revert FeedNotActive; supply, repay and a debt-free withdraw go through', async () => {
    const wethAddress = await weth.getAddress();
    await (await oracle.setAssetSources!([wethAddress], [await ethStrict.getAddress()])).wait();
    const me = await borrower.getAddress();
    const notActive = [FEED, Status.Tripped];
    await expectRevert(f, as(pool, borrower).borrow!(await usdc.getAddress(), 100n * USDC, VARIABLE, 0, me), 'FeedNotActive', notActive);
    await expectRevert(f, as(pool, borrower).withdraw!(wethAddress, WAD / 10n, me), 'FeedNotActive', notActive);
    await expectRevert(f, as(pool, liquidator).liquidationCall!(wethAddress, await usdc.getAddress(), me, 1_000n * USDC, false), 'FeedNotActive', notActive);
    await (await as(pool, borrower).repay!(await usdc.getAddress(), 100n * USDC, VARIABLE, me)).wait();
    await (await as(pool, borrower).supply!(wethAddress, WAD / 10n, me, 0)).wait();
    // A withdrawal that no debt depends on reads no price either.
    await (await as(pool, lender).withdraw!(await usdc.getAddress(), 1_000n * USDC, await lender.getAddress())).wait();
    await (await oracle.setAssetSources!([wethAddress], [await ethLenient.getAddress()])).wait();
  });

  it('a price drop served by Aegis makes the position liquidatable; the liquidation seizes exactly what the hub answer prices', async () => {
    await f.oracle.push(2010n * ONE); // clears the breaker
    expect((await hubView(f)).status).toBe(Status.Active);
    await f.oracle.push(1820n * ONE); // −9.5 %: inside the 10 % breaker, served
    const hub = await hubView(f);
    expect([hub.status, hub.answer]).toEqual([Status.Active, 1820n * ONE]);
    expect((await account()).healthFactor).toBeLessThan(WAD);
    const me = await borrower.getAddress();
    const collateralBefore = (await account()).collateral;
    const usdcPrice = (await f.hub.tryRead!(USDC_FEED))[0] as bigint;
    const debtToCover = 5_000n * USDC;
    const wethBefore = (await weth.balanceOf!(await liquidator.getAddress())) as bigint;
    await (await as(pool, liquidator).liquidationCall!(await weth.getAddress(), await usdc.getAddress(), me, debtToCover, false)).wait();
    const seized = ((await weth.balanceOf!(await liquidator.getAddress())) as bigint) - wethBefore;
    // Aave's formula: debt value / collateral price, plus the 5 % bonus (percentMul rounds half up).
    const base = (usdcPrice * debtToCover * WAD) / (hub.answer * USDC);
    expect(seized).toBe((base * 10_500n + 5_000n) / 10_000n);
    expect(collateralBefore - (await account()).collateral).toBeGreaterThan(0n);
  });
});
