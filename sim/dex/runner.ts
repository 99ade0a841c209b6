/**
 * The DEX attack runner: one DEX scenario against a real Uniswap v3 pool on anvil and the
 * node's real pricing (config, poller with the Uniswap v3 TWAP source and the exchange
 * adapters, outlier filter and weighted median), in chain time.
 *
 *   anvil: Uniswap v3 factory, router, position manager, the pool (sim/dex/uniswap.ts)
 *     → the node's sources: the pool's TWAP over JSON-RPC, exchanges from the venue simulator
 *     → the node's filter and median (node/pricing.ts): the price every honest node signs.
 *
 * One block per step (`stepSec`, 12 s by default), mined at the step's timestamp with
 * automine off, so that the arbitrageur's swap (pulling the pool back to the true price, first
 * in the block) and the attacker's swaps (after it, or a swap and its reversal together for a
 * flash loan) land in one block as they would on a chain. The attacker's spend is measured from
 * its token balances, valued at the true price: what the real swaps cost it. The closed form is
 * the same cost on the constant-product curve a full-range pool is (see `closedFormPushUsd`).
 *
 * "served" here is the price the nodes would sign (the committee's median of identical honest
 * answers is that price); the on-chain legs of a round are the main runner's (`sim/runner.ts`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Interface, NonceManager, type ContractTransactionResponse, type Signer } from 'ethers';
import { startAnvil, type Anvil } from '../../contracts/anvil.ts';
import { parseNodeConfig } from '../../node/config.ts';
import { SourcePoller } from '../../node/poller.ts';
import { priceFeeds } from '../../node/pricing.ts';
import { startVenueServer, type VenueServer } from '../venues/index.ts';
import type { DexAttack, DexScenario } from './scenario.ts';
import { POOL_ABI, deployUniswapV3, sqrtPriceX96, type PoolHandle, type Token, type UniswapV3 } from './uniswap.ts';

/** Genesis of the DEX runner's chain: 2030-01-01T00:00:00Z, fixed so runs are reproducible. */
export const DEX_SIM_EPOCH_SEC = 1_893_456_000;
const DEX_SOURCE_ID = 'uniswap-v3';
const HUGE = 10n ** 30n;

export interface DexSample {
  tSec: number;
  truth: number;
  /** Pool spot at the end of the block (for the report; the source never reads it). */
  spot: number;
  twap: number | null;
  served: number | null;
}

export interface DexRunResult {
  kind: 'dex';
  scenario: string;
  description: string;
  incident?: DexScenario['incident'];
  seed: number;
  verdict: 'defended' | 'breached';
  reasons: string[];
  expectations: { field: string; expected: unknown; actual: unknown; ok: boolean }[];
  attacker: {
    /** What the real swaps cost the attacker, valued at the true price, USD. */
    spendUsd: number;
    /** The same on the constant-product curve, in closed form, USD (null without attacks). */
    closedFormUsd: number | null;
    /** Swaps that moved the pool (re-pushes after arbitrage included). */
    pushes: number;
    /** Largest move of the pool's spot the attacker reached inside a block, percent. */
    maxSpotMovePct: number;
  };
  served: {
    maxDeviationPct: number;
    maxDeviationAtSec: number | null;
    tolerancePct: number;
    /** The pool source's TWAP, largest distance from the truth, percent. */
    twapMaxDeviationPct: number;
    /** Steps at which the nodes had no price. */
    unpricedSteps: number;
  };
  pool: { address: string; liquidityUsd: number; feeTier: number; windowS: number };
  defences: { tSec: number; defence: string; detail: string }[];
  timeline: DexSample[];
  timing: { wallMs: number; steps: number };
}

export interface DexRunOptions {
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Cost of moving a full-range pool from the true price by `factor`, on its constant-product
 * curve with virtual quote reserve `quoteReserve` (whole quote tokens) and fee `fee`: the
 * price-path loss Y·(√F − 1)²/√F (bought above, valued at the truth) plus the fee on the input,
 * f/(1 − f) × its value at the truth (Y·(√F − 1) quote when pushing up, Y·(1/√F − 1) in base
 * when pushing down).
 */
export function closedFormPushUsd(quoteReserve: number, factor: number, fee: number): number {
  const r = Math.sqrt(factor);
  const path = (quoteReserve * (r - 1) ** 2) / r;
  const input = factor >= 1 ? quoteReserve * (r - 1) : quoteReserve * (1 / r - 1);
  return path + (input * fee) / (1 - fee);
}

/** A swap out and back inside one block: no path loss, the fee on both legs. */
export function closedFormRoundTripUsd(quoteReserve: number, factor: number, fee: number): number {
  const r = Math.sqrt(factor);
  return ((Math.abs(r - 1) + Math.abs(1 - 1 / r)) * quoteReserve * fee) / (1 - fee);
}

const whole = (n: number, decimals: number): bigint => (BigInt(Math.round(n * 1e6)) * 10n ** BigInt(decimals)) / 1_000_000n;

export async function runDexScenario(s: DexScenario, opts: DexRunOptions = {}): Promise<DexRunResult> {
  const wallStart = performance.now();
  const cleanup: (() => Promise<void> | void)[] = [];
  const workDir = mkdtempSync(join(tmpdir(), 'aegis-dex-sim-'));
  cleanup.push(() => rmSync(workDir, { recursive: true, force: true }));
  let anvil: Anvil | undefined;
  const onAbort = (): void => void anvil?.stop();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  cleanup.push(() => opts.signal?.removeEventListener('abort', onAbort));
  try {
    opts.signal?.throwIfAborted();
    anvil = await startAnvil({ args: ['--timestamp', String(DEX_SIM_EPOCH_SEC)] });
    const chain = anvil;
    cleanup.push(() => chain.stop());
    const provider = chain.provider;
    const fee = s.pool.feeTier / 1e6;
    const truthAt = (_tSec: number) => s.feed.price;
    const [baseSymbol] = s.feed.name.split('/') as [string];

    // -- Pool --
    const uni = await deployUniswapV3(provider, chain.wallet(0));
    const base = await uni.token(baseSymbol, s.pool.baseDecimals, 10n ** 15n);
    const usdc = await uni.token('USDC', 6, 10n ** 15n);
    const pool = await uni.createPool(base, usdc, s.pool.feeTier, s.feed.price, 1000);
    const half = s.pool.liquidityUsd / 2;
    const amount = (t: Token) => (t === base ? whole(half / s.feed.price, base.decimals) : whole(half, 6));
    await uni.addLiquidity(pool, amount(pool.token0), amount(pool.token1));
    const attacker = await fund(uni, chain.wallet(2), [base, usdc]);
    const arbitrageur = await fund(uni, chain.wallet(3), [base, usdc]);
    const L = BigInt(await pool.contract.getFunction('liquidity')());
    // Virtual quote reserve of the full-range position at price P: L·√(P in raw units), in whole USDC.
    const quoteReserveAt = (price: number) => (Number(L) * Math.sqrt(price * 10 ** (6 - base.decimals))) / 1e6;

    // A window of history before the run, so the TWAP is defined from the first step.
    let lastTs = (await uni.chainTime()) + s.oracle.windowS + 60;
    await provider.send('evm_mine', [lastTs]);
    await provider.send('evm_setAutomine', [false]);
    const T0 = lastTs + s.stepSec;

    // -- Node --
    let clockMs = lastTs * 1000;
    const clock = () => clockMs;
    let venues: VenueServer | undefined;
    if (s.oracle.venues.length) {
      const srv = await startVenueServer({ feeds: [s.feed.name], venues: s.oracle.venues, now: clock, price: (_v, _f, nowMs) => ({ price: truthAt((nowMs / 1000 - T0) | 0), volume: 1_000 }) });
      venues = srv;
      cleanup.push(() => srv.close());
    }
    const config = parseNodeConfig(
      {
        committee: 'committee.json',
        keys: { identity: { path: 'identity.json', passwordEnv: 'SIM' }, share: { path: 'share.json', passwordEnv: 'SIM' } },
        store: 'node.sqlite',
        feeds: [
          {
            name: s.feed.name,
            minSources: s.oracle.minSources,
            maxAgeMs: Math.max(60_000, s.stepSec * 3_000),
            ...(s.oracle.volumeCapShare !== undefined ? { volumeWeighting: { capShare: s.oracle.volumeCapShare } } : {}),
            sources: [
              ...s.oracle.venues.map((venue) => ({ venue, baseUrl: venues!.url(venue) })),
              { dex: 'uniswap-v3' as const, id: DEX_SOURCE_ID, rpcUrls: [chain.url], pools: [pool.address], baseToken: base.address, quoteToken: usdc.address, windowS: s.oracle.windowS, maxBlockAgeS: Math.max(60, s.stepSec * 5) },
            ],
          },
        ],
        log: { level: 'silent' },
      },
      join(workDir, 'node.yaml'),
    );
    const poller = new SourcePoller({ config, now: clock });
    cleanup.push(() => poller.stop());

    // -- Run --
    const startBalances = await balances(attacker, base, usdc);
    const swapIface = new Interface(POOL_ABI);
    const timeline: DexSample[] = [];
    const defences = new Map<string, { tSec: number; defence: string; detail: string }>();
    let pushes = 0;
    let closedForm = 0;
    let maxSpotMovePct = 0;
    const baseSpot = async () => {
      const p = await uni.spot(pool);
      return pool.token0 === base ? p : 1 / p;
    };
    let spot = await baseSpot();
    let served = { max: 0, at: null as number | null, twapMax: 0, unpriced: 0 };
    const steps = Math.floor(s.durationSec / s.stepSec) + 1;
    for (let k = 0; k < steps; k++) {
      opts.signal?.throwIfAborted();
      const tSec = k * s.stepSec;
      const truth = truthAt(tSec);
      const ts = T0 + tSec;
      const sent: { tx: ContractTransactionResponse; attack: boolean }[] = [];
      let price = spot;
      // Arbitrage first in the block: back to the true price.
      const arbBlocked = s.attacks.some((a) => 'blockArbitrage' in a && a.blockArbitrage && tSec > a.fromSec && tSec < a.toSec);
      if (s.arbitrage && !arbBlocked && Math.abs(price / truth - 1) > 1e-9) {
        sent.push({ tx: await swapTo(uni, arbitrageur, pool, price, truth), attack: false });
        price = truth;
      }
      for (const a of s.attacks) {
        const targets = attackTargets(a, tSec, s.stepSec, truth);
        // A pool already where the attacker wants it (no arbitrage since the last push) needs no swap.
        const moves = targets.filter((target, i) => Math.abs((i === 0 ? price : targets[i - 1]!) / target - 1) > 1e-9);
        if (moves.length === 0) continue;
        const from = price;
        for (const target of moves) {
          sent.push({ tx: await swapTo(uni, attacker, pool, price, target), attack: true });
          price = target;
        }
        // Closed form from the price the push starts at: the truth when arbitrage ran first in the
        // block, which is how every library scenario's pushes start (spend is valued at the truth).
        const reserve = quoteReserveAt(from);
        if (moves.length === 2) closedForm += closedFormRoundTripUsd(reserve, moves[0]! / from, fee);
        else closedForm += closedFormPushUsd(reserve, moves[0]! / from, fee);
        pushes += 1;
      }
      await provider.send('evm_mine', [ts]);
      lastTs = ts;
      for (const { tx, attack } of sent) {
        const receipt = await provider.getTransactionReceipt(tx.hash);
        if (!receipt || receipt.status !== 1) throw new Error(`dex sim: a ${attack ? 'attacker' : 'arbitrage'} swap at ${tSec} s failed (tx ${tx.hash}); the pool or the funding is misconfigured`);
        if (!attack) continue;
        for (const log of receipt.logs) {
          if (log.address !== pool.address) continue;
          const ev = swapIface.parseLog(log);
          if (ev?.name !== 'Swap') continue;
          const p = (Number(ev.args.sqrtPriceX96) / 2 ** 96) ** 2 * 10 ** (pool.token0.decimals - pool.token1.decimals);
          const basePrice = pool.token0 === base ? p : 1 / p;
          maxSpotMovePct = Math.max(maxSpotMovePct, Math.abs(basePrice / truth - 1) * 100);
        }
      }
      spot = await baseSpot();
      const spotBase = spot;

      clockMs = ts * 1000 + 500;
      const snapshot = await poller.refresh();
      const view = priceFeeds({ feeds: config.feeds, snapshot, nowMs: clockMs }).get(s.feed.name)!;
      const dexEntry = snapshot.feeds.get(s.feed.name)?.find((e) => e.source === DEX_SOURCE_ID);
      const twap = dexEntry?.quote && !dexEntry.error ? dexEntry.quote.price : null;
      if (twap !== null) served.twapMax = Math.max(served.twapMax, Math.abs(twap / truth - 1) * 100);
      if (dexEntry?.error) defences.set(`source error ${dexEntry.error.kind}`, { tSec, defence: 'pool source failed', detail: dexEntry.error.message });
      for (const v of view.result?.sources ?? []) {
        if (!v.used) defences.set(`${v.source} ${v.reason}`, { tSec, defence: 'node filter dropped source', detail: `${v.source}: ${v.reason ?? 'unused'}${v.detail ? ` (${v.detail})` : ''}` });
      }
      const servedPrice = view.ok ? view.price : null;
      if (servedPrice === null) {
        served.unpriced++;
        defences.set(`withheld ${view.ok ? '' : view.reason}`, { tSec, defence: 'node withheld observation', detail: view.ok ? '' : view.detail });
      } else {
        const dev = Math.abs(servedPrice / truth - 1) * 100;
        if (dev > served.max) served = { ...served, max: dev, at: tSec };
      }
      timeline.push({ tSec, truth, spot: spotBase, twap, served: servedPrice });
      opts.onProgress?.(k + 1, steps);
    }

    const endBalances = await balances(attacker, base, usdc);
    const truthEnd = truthAt(s.durationSec);
    const spendUsd = startBalances.usdc - endBalances.usdc + (startBalances.base - endBalances.base) * truthEnd;
    const closedFormUsd = s.attacks.length ? closedForm : null;

    const expectations: DexRunResult['expectations'] = [];
    if (s.expect.maxServedDeviationPct !== undefined) expectations.push({ field: 'served.maxDeviationPct', expected: `< ${s.expect.maxServedDeviationPct}`, actual: served.max, ok: served.max < s.expect.maxServedDeviationPct });
    if (s.expect.closedFormWithinPct !== undefined) {
      const off = closedFormUsd ? Math.abs(spendUsd / closedFormUsd - 1) * 100 : Infinity;
      expectations.push({ field: 'attacker.spendUsd vs attacker.closedFormUsd (%)', expected: `≤ ${s.expect.closedFormWithinPct}`, actual: off, ok: off <= s.expect.closedFormWithinPct });
    }
    const verdict: DexRunResult['verdict'] = served.max <= s.tolerancePct ? 'defended' : 'breached';
    if (s.expect.verdict) expectations.push({ field: 'verdict', expected: s.expect.verdict, actual: verdict, ok: verdict === s.expect.verdict });
    const reasons = [
      `the attacker moved the pool's spot up to ${maxSpotMovePct.toFixed(1)} % off the truth and spent ${Math.round(spendUsd).toLocaleString('en-US')} USD in real swaps` +
        (closedFormUsd !== null ? ` (closed form ${Math.round(closedFormUsd).toLocaleString('en-US')} USD)` : ''),
      `the pool's ${s.oracle.windowS} s TWAP moved at most ${served.twapMax.toFixed(4)} %; the served price at most ${served.max.toFixed(4)} %${served.at !== null ? ` (at ${served.at} s)` : ''}`,
      ...[...new Set([...defences.values()].map((d) => `${d.defence}: ${d.detail.split(' (')[0]}`))].slice(0, 5),
    ];
    return {
      kind: 'dex',
      scenario: s.name,
      description: s.description,
      ...(s.incident ? { incident: s.incident } : {}),
      seed: s.seed,
      verdict,
      reasons,
      expectations,
      attacker: { spendUsd, closedFormUsd, pushes, maxSpotMovePct },
      served: { maxDeviationPct: served.max, maxDeviationAtSec: served.at, tolerancePct: s.tolerancePct, twapMaxDeviationPct: served.twapMax, unpricedSteps: served.unpriced },
      pool: { address: pool.address, liquidityUsd: s.pool.liquidityUsd, feeTier: s.pool.feeTier, windowS: s.oracle.windowS },
      defences: [...defences.values()],
      timeline,
      timing: { wallMs: performance.now() - wallStart, steps },
    };
  } catch (err) {
    throw opts.signal?.aborted ? opts.signal.reason : err;
  } finally {
    for (const c of cleanup.reverse()) {
      try {
        await c();
      } catch {
        /* best effort: keep stopping the rest */
      }
    }
  }
}

/** Prices (of the base in the quote) the attacker swaps the pool to in the block at `tSec`. */
function attackTargets(a: DexAttack, tSec: number, stepSec: number, truth: number): number[] {
  switch (a.kind) {
    case 'single-block':
      // The first block at or after atSec: out to factor × and back, in that one block.
      return tSec >= a.atSec && tSec < a.atSec + stepSec ? [truth * a.factor, truth] : [];
    case 'hold':
      return tSec >= a.fromSec && tSec < a.toSec ? [truth * (1 + a.movePct / 100)] : [];
    case 'drain':
      // On a constant-product curve the quote reserve scales with √price: r % left is r² of the price.
      return tSec >= a.fromSec && tSec < a.toSec ? [truth * (a.remainPct / 100) ** 2] : [];
  }
}

async function fund(uni: UniswapV3, wallet: Signer, tokens: Token[]): Promise<Signer> {
  const signer = new NonceManager(wallet);
  const me = await signer.getAddress();
  for (const t of tokens) {
    await (await t.contract.getFunction('mint')(me, 10n ** 15n * 10n ** BigInt(t.decimals))).wait();
    await (await t.contract.connect(signer).getFunction('approve')(await uni.router.getAddress(), 2n ** 256n - 1n)).wait();
  }
  return signer;
}

async function balances(who: Signer, base: Token, usdc: Token): Promise<{ base: number; usdc: number }> {
  const me = await who.getAddress();
  const b = BigInt(await base.contract.getFunction('balanceOf')(me));
  const u = BigInt(await usdc.contract.getFunction('balanceOf')(me));
  return { base: Number(b) / 10 ** base.decimals, usdc: Number(u) / 1e6 };
}

/**
 * Queue (automine is off) a swap taking the pool from `from` to `to` (price of the base in
 * USDC): exact input with a price limit, so the pool takes only what reaching `to` costs. The
 * gas limit is given because an estimate would run against the state before the block's
 * earlier swaps.
 */
async function swapTo(uni: UniswapV3, signer: Signer, pool: PoolHandle, from: number, to: number): Promise<ContractTransactionResponse> {
  const baseIs0 = pool.token0.symbol !== 'USDC';
  const base = baseIs0 ? pool.token0 : pool.token1;
  const usdc = baseIs0 ? pool.token1 : pool.token0;
  const tokenIn = to > from ? usdc : base;
  const tokenOut = tokenIn === usdc ? base : usdc;
  const p01 = baseIs0 ? to : 1 / to;
  const limit = sqrtPriceX96(p01 * 10 ** (pool.token1.decimals - pool.token0.decimals));
  const params = { tokenIn: tokenIn.address, tokenOut: tokenOut.address, fee: pool.fee, recipient: await signer.getAddress(), deadline: 2n ** 64n, amountIn: HUGE, amountOutMinimum: 0, sqrtPriceLimitX96: limit };
  return (await uni.router.connect(signer).getFunction('exactInputSingle')(params, { gasLimit: 2_000_000 })) as ContractTransactionResponse;
}
