/**
 * The attack runner: one scenario against the real parts, in simulated time.
 *
 *   simulated venues (sim/market, served over HTTP by sim/venues or in process)   run/market.ts
 *     → n real node services (node/service.ts: production sources, filter, signer, SQLite store)
 *       wrapped by the attackers' node faults                                      run/nodes.ts, run/attackers.ts
 *     → the real round engine (aggregator/round) over an in-memory NodeClient,
 *       the real posting policy (aggregator/policy) and transmitter (aggregator/chain)   run/rounds.ts
 *     → the real AegisHub, FuturesMarket and EuropeanOption on anvil                run/chain.ts, run/settlement.ts
 *       with a keeper acting on them                                               run/keeper.ts
 *
 * Time: a fixed grid of `stepSec` (run/loop.ts). At each step the market advances, the
 * attackers act, every node polls its sources once (`poller.refresh()`, no cron), and a block is
 * mined at the step's timestamp (`evm_mine`); every `roundEverySec` the aggregator runs a round
 * and a keeper acts on the settlement contracts. Every clock (nodes, sources, engine, venues,
 * chain) reads the runner's clock (run/clock.ts), so two hours run in seconds and a seed fixes
 * the result. At the end, run/accounting.ts reads who ends with what and sim/result.ts judges.
 *
 * Committee keys are random per run (they never affect prices); everything else derives from
 * the seed. Processes and servers started here are stopped in `finally`, also when the run is
 * aborted (`signal`: a test timeout, SIGINT); every anvil the simulator starts is registered
 * until stopped, so `stopSimChains()` can stop what an abandoned run left behind.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Contract } from 'ethers';
import { decodeHubError } from '../aggregator/chain/hub-abi.ts';
import { iface } from '../contracts/index.ts';
import { Rng } from './market/index.ts';
import { newLedger } from './attack/index.ts';
import type { Scenario } from './scenario/schema.ts';
import { judge, type RunResult } from './result.ts';
import { answerScale } from './run/accounting.ts';
import { ChainAttacker, attackPlans, nodeFaultsOf } from './run/attackers.ts';
import { deployOracle, openProvider, signersOf, startSharedChain, type SharedChain } from './run/chain.ts';
import { BlockClock, SimClock } from './run/clock.ts';
import { RunLog, receiptRecorder } from './run/events.ts';
import { Keeper } from './run/keeper.ts';
import { runSteps } from './run/loop.ts';
import { buildMarket, serveVenues } from './run/market.ts';
import { faultyLinks, startNodes } from './run/nodes.ts';
import { SimAggregator } from './run/rounds.ts';
import { deploySettlement } from './run/settlement.ts';

export { SIM_EPOCH_SEC, liveSimChains, startSharedChain, stopSimChains, type SharedChain } from './run/chain.ts';

export interface RunOptions {
  seed?: number;
  transport?: 'inproc' | 'http';
  /** Reuse an anvil across runs (sweeps); otherwise one is started and stopped here. */
  chain?: SharedChain;
  onProgress?: (done: number, total: number) => void;
  /**
   * Aborts the run: the step loop stops, an anvil the run started is stopped at once (calls in
   * flight fail instead of waiting), the rest is stopped in `finally`, and the run rejects with
   * the signal's reason. A shared `chain` is left to its owner.
   */
  signal?: AbortSignal;
}

export async function runScenario(scenario: Scenario, opts: RunOptions = {}): Promise<RunResult> {
  const wallStart = performance.now();
  const seed = opts.seed ?? scenario.seed;
  const transport = opts.transport ?? scenario.transport;
  const s = scenario;
  const rng = new Rng(seed);
  opts.signal?.throwIfAborted();
  const cleanup: (() => Promise<void> | void)[] = [];
  const workDir = mkdtempSync(join(tmpdir(), 'aegis-sim-'));
  cleanup.push(() => rmSync(workDir, { recursive: true, force: true }));
  try {
    // -- Market --
    const { venueIds, market, startPrice, venueNoiseBps } = buildMarket(s, rng);

    // -- Chain --
    const chain = opts.chain ?? (await startSharedChain());
    if (!opts.chain) {
      cleanup.push(() => chain.anvil.stop());
      const stopNow = (): void => void chain.anvil.stop();
      opts.signal?.addEventListener('abort', stopNow, { once: true });
      cleanup.push(() => opts.signal?.removeEventListener('abort', stopNow));
    }
    opts.signal?.throwIfAborted();
    const { anvil, compiled } = chain;
    const provider = openProvider(anvil);
    cleanup.push(() => provider.destroy());
    const T0 = chain.nextStartSec;
    chain.nextStartSec = T0 + s.durationSec + 3600;
    const blocks = new BlockClock(provider, Number(await anvil.now()));
    await blocks.mineAt(T0 - 300);
    const { toAnswer, fromAnswer } = answerScale(s.feed.decimals);
    const signers = await signersOf(provider);
    const oracle = await deployOracle(s, { anvil, compiled, clock: blocks, guardian: signers.guardian, toAnswer });
    const { n, t, dealt, hub, hubAddress, hubIface, feedId, committee, identitySecrets, digest } = oracle;

    // -- Settlement contracts --
    const settlement = await deploySettlement(s, { compiled, clock: blocks, signers, hubAddress, feedId });

    // -- Venues and nodes --
    const clock = new SimClock((T0 - 300) * 1000);
    const venues = await serveVenues(transport, { feedName: s.feed.name, venueIds, market, now: clock.now }, cleanup);
    const services = startNodes(s, { workDir, venueIds, urlOf: venues.urlOf, committee, identitySecrets, dealt, now: clock.now }, cleanup);

    // -- Attackers, aggregator, keeper --
    const ledger = newLedger();
    const log = new RunLog();
    const plans = attackPlans(s);
    const faults = nodeFaultsOf(plans, T0, (tSec, what) => log.noteAttack(tSec, what));
    const { handlers, clients } = faultyLinks(services, { identitySecrets, dealt, faults, nowSec: clock.nowSec });
    const record = receiptRecorder(log, { provider, hubIface, fromAnswer });
    const truth = (tSec: number): number => market.truth(tSec);
    const attacker = new ChainAttacker(plans, {
      hub, hubA: hub.connect(signers.attacker) as Contract, feedId, digest, n, t, dealt, t0Sec: T0, clock: blocks, nowSec: clock.nowSec, log, record, truth, toAnswer, handlers, faults,
    });
    const aggregator = new SimAggregator(s, { committee, clients, provider, chainId: BigInt(anvil.chainId), hub, hubAddress, feedId, clock: blocks, nowSec: clock.nowSec, log, record, attacker });
    const keeper = new Keeper(s, {
      hub, feedId, settlement, signers, clock: blocks, log, t0Sec: T0, startPrice, venueNoiseBps, truth, toAnswer, fromAnswer,
      signedHistory: aggregator.signedHistory,
      errors: [iface('FuturesMarket', compiled), iface('EuropeanOption', compiled), hubIface],
    });

    // -- Run --
    const { samples, quorumLostSec } = await runSteps(s, {
      market, venueIds, venues, plans, ledger, services, clock, blocks, t0Sec: T0, hub, feedId, aggregator, keeper, log, fromAnswer,
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });

    // -- Settlement accounting --
    const payouts = await settlement.parties.payouts(settlement.futures);
    await keeper.finish();

    const fut = s.settlement.futures;
    return judge({
      scenario: s,
      seed,
      transport,
      n,
      t,
      samples,
      ledger,
      defences: [...log.defences.values()],
      attackNotes: [...log.attackNotes.values()],
      breakerEvents: log.breakerEvents,
      liquidations: keeper.liquidations,
      option: keeper.optionRecord,
      attackerHoldsOption: s.attacks.some((a) => a.kind === 'expiry-push'),
      bountyBps: fut?.liquidationBountyBps ?? 0,
      positions: fut?.positions ?? [],
      attacked: s.attacks.length > 0,
      quorumLostSec,
      payouts,
      forgedAccepted: log.forgedAccepted,
      reportsAccepted: log.reportsAccepted,
      rounds: aggregator.roundsRun,
      wallMs: performance.now() - wallStart,
    });
  } catch (err) {
    // After an abort, calls against the stopped anvil fail too: report the abort, not them.
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

export { decodeHubError };
