/**
 * Who put what into the settlement contracts and who ends with what (docs/simulator.md, the
 * result's `settlement.payouts`): the parties' register, their funding in the run's test
 * dollar (6 decimals), and the final payouts.
 *
 * A party's final value is its wallet plus what a contract still holds for it: a trader's
 * futures account (collateral and the claim the pool still owes it), the LP's pool minus those
 * claims. The arithmetic is `payoutsOf`, pure over balances read at the end of the run.
 */
import type { Contract, JsonRpcSigner } from 'ethers';
import type { PartyPayout } from '../result.ts';
import type { BlockClock } from './clock.ts';

/** Dollars to the test token's 6-decimal units, rounded to the unit. */
export const usd = (x: number): bigint => BigInt(Math.round(x * 1e6));
/** The test token's 6-decimal units to dollars. */
export const fromUnits = (x: bigint): number => Number(x) / 1e6;

/** Prices to the feed's fixed-point answers and back, with the feed's decimals. */
export function answerScale(decimals: number): { toAnswer: (price: number) => bigint; fromAnswer: (answer: bigint) => number } {
  return {
    toAnswer: (price) => BigInt(Math.round(price * 10 ** decimals)),
    fromAnswer: (a) => Number(a) / 10 ** decimals,
  };
}

/** The party whose pool backs the futures market; its final value is the pool minus the traders' claims. */
export const POOL_PARTY = 'pool (LP)';
/** Traders are named `trader <k> (<side>)`; their futures accounts count towards their value. */
export const isTrader = (name: string): boolean => name.startsWith('trader');

/** One party's balances at the end of a run, in token units. */
export interface PartyHoldings {
  name: string;
  address: string;
  deposited: bigint;
  /** Token balance of the party's wallet. */
  wallet: bigint;
  /** A trader's futures account: collateral and the profit the pool still owes it. */
  account?: { collateral: bigint; claim: bigint };
}

/**
 * Final value and net of every party, in register order. `pool` (the futures pool, when there
 * is a futures market) counts for the LP, less what the pool owes the traders, so a claim is
 * counted once: as the trader's.
 */
export function payoutsOf(parties: readonly PartyHoldings[], pool?: bigint): PartyPayout[] {
  return parties.map((p) => {
    let bal = p.wallet;
    if (p.account) bal += p.account.collateral + p.account.claim;
    if (pool !== undefined && p.name === POOL_PARTY) {
      bal += pool;
      for (const q of parties) if (isTrader(q.name)) bal -= q.account?.claim ?? 0n;
    }
    return { party: p.name, address: p.address, depositedUsd: fromUnits(p.deposited), finalUsd: fromUnits(bal), netUsd: fromUnits(bal - p.deposited) };
  });
}

interface Party {
  name: string;
  signer: JsonRpcSigner;
  deposited: bigint;
}

/** The register of parties, in the order they first appear; funding mints and approves the test token. */
export class Parties {
  readonly #list: Party[] = [];

  constructor(private readonly x: { token: Contract; guardian: JsonRpcSigner; clock: BlockClock }) {}

  /** Registers `name` (once) and returns it. */
  party(name: string, signer: JsonRpcSigner): Party {
    let p = this.#list.find((q) => q.name === name);
    if (!p) this.#list.push((p = { name, signer, deposited: 0n }));
    return p;
  }

  /** Mints `usdAmount` to the party, counts it as deposited, and approves `spender` for it. */
  async fund(name: string, signer: JsonRpcSigner, usdAmount: number, spender: string): Promise<void> {
    const { token, guardian, clock } = this.x;
    const p = this.party(name, signer);
    p.deposited += usd(usdAmount);
    await clock.nextTx();
    await (await (token.connect(guardian) as Contract).getFunction('mint')(await signer.getAddress(), usd(usdAmount))).wait();
    await clock.nextTx();
    await (await (token.connect(signer) as Contract).getFunction('approve')(spender, usd(usdAmount))).wait();
  }

  /** Reads every party's balances and returns the payouts. */
  async payouts(futures: Contract | undefined): Promise<PartyPayout[]> {
    const holdings: PartyHoldings[] = [];
    for (const p of this.#list) {
      const address = await p.signer.getAddress();
      const wallet = BigInt(await this.x.token.getFunction('balanceOf')(address));
      let account: PartyHoldings['account'];
      if (futures && isTrader(p.name)) {
        const acct = await futures.getFunction('getAccount')(address);
        account = { collateral: BigInt(acct[0]), claim: BigInt(acct.claim) };
      }
      holdings.push({ name: p.name, address, deposited: p.deposited, wallet, ...(account ? { account } : {}) });
    }
    const pool = futures ? BigInt(await futures.getFunction('pool')()) : undefined;
    return payoutsOf(holdings, pool);
  }
}
