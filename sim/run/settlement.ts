/**
 * The settlement contracts a run reads the oracle through (docs/design.md §Settlement): the
 * test dollar, the FuturesMarket with the LP's pool and the traders' funding, and the
 * EuropeanOption. Positions are opened and the option written by the keeper once the feed has
 * a first round (keeper.ts).
 */
import { ZeroAddress, type Contract, type JsonRpcSigner } from 'ethers';
import { compileTestContracts, deploy, type CompileOutput } from '../../contracts/index.ts';
import type { Scenario } from '../scenario/schema.ts';
import { POOL_PARTY, Parties, usd } from './accounting.ts';
import type { Signers } from './chain.ts';
import type { BlockClock } from './clock.ts';

export interface Settlement {
  token: Contract;
  futures?: Contract;
  option?: Contract;
  parties: Parties;
}

/** A trader's party name: `trader <k + 1> (<side>)`; trader k trades from anvil account 4 + k. */
export const traderName = (k: number, side: string): string => `trader ${k + 1} (${side})`;
export const traderSigner = (signers: Signers, k: number): JsonRpcSigner => signers.all[4 + k]!;

/** Deploys the token and the scenario's settlement contracts; funds the pool and the traders. */
export async function deploySettlement(s: Scenario, x: { compiled: CompileOutput; clock: BlockClock; signers: Signers; hubAddress: string; feedId: string }): Promise<Settlement> {
  const { compiled, clock, signers, hubAddress, feedId } = x;
  const { guardian, lp, attacker } = signers;
  await clock.nextTx();
  const token = await deploy(guardian, 'TestToken', ['Sim USD', 'sUSD', 6], { compiled: compileTestContracts() }); // a dev-chain mock (contracts/mock), not a product contract
  const tokenAddr = await token.getAddress();
  const fut = s.settlement.futures;
  const opt = s.settlement.option;
  const parties = new Parties({ token, guardian, clock });
  let futures: Contract | undefined;
  let option: Contract | undefined;
  if (fut) {
    await clock.nextTx();
    futures = await deploy(guardian, 'FuturesMarket', [
      hubAddress, feedId, tokenAddr, await lp.getAddress(),
      { maxPriceAge: fut.maxPriceAgeSec, maxSpreadBps: fut.maxSpreadBps, initialMarginBps: fut.initialMarginBps, maintenanceMarginBps: fut.maintenanceMarginBps, liquidationBountyBps: fut.liquidationBountyBps,
        minNotional: usd(fut.minNotionalUsd), minCollateral: usd(fut.minCollateralUsd), maxProfitBps: fut.maxProfitBps },
      ZeroAddress, 0,
    ], { compiled });
    const fa = await futures.getAddress();
    await parties.fund(POOL_PARTY, lp, fut.poolUsd, fa);
    await clock.nextTx();
    await (await (futures.connect(lp) as Contract).getFunction('fundPool')(usd(fut.poolUsd))).wait();
    parties.party('attacker', attacker);
    for (const [k, pos] of fut.positions.entries()) await parties.fund(traderName(k, pos.side), traderSigner(signers, k), pos.collateralUsd, fa);
  }
  if (opt) {
    await clock.nextTx();
    // Proposals stay open 60 s after the observation window (challenge period); settlement then has 3600 s.
    option = await deploy(guardian, 'EuropeanOption', [hubAddress, feedId, tokenAddr, opt.settlementWindowSec, 60, 3600, opt.maxSpreadBps, ZeroAddress, 0], { compiled });
  }
  return { token, ...(futures ? { futures } : {}), ...(option ? { option } : {}), parties };
}
