/**
 * The attack runner: one scenario against the real parts, in simulated time.
 *
 *   simulated venues (sim/market, served over HTTP by sim/venues or in process)
 *     → n real node services (node/service.ts: production sources, filter, signer, SQLite store)
 *       wrapped by the attackers' node faults
 *     → the real round engine (aggregator/round) over an in-memory NodeClient,
 *       the real posting policy (aggregator/policy) and transmitter (aggregator/chain)
 *     → the real AegisHub, FuturesMarket and EuropeanOption on anvil.
 *
 * Time: a fixed grid of `stepSec`. At each step the market advances, the attackers act, every
 * node polls its sources once (`poller.refresh()`, no cron), and a block is mined at the step's
 * timestamp (`evm_mine`); every `roundEverySec` the aggregator runs a round and a keeper acts on
 * the settlement contracts. Every clock (nodes, sources, engine, venues, chain) reads the
 * runner's clock, so two hours run in seconds and a seed fixes the result.
 *
 * Committee keys are random per run (they never affect prices); everything else derives from
 * the seed. Processes and servers started here are stopped in `finally`, also when the run is
 * aborted (`signal`: a test timeout, SIGINT); every anvil the simulator starts is registered
 * until stopped, so `stopSimChains()` can stop what an abandoned run left behind.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { Contract, JsonRpcProvider, Network, Wallet, ZeroAddress, hexlify, type Interface, type JsonRpcSigner, type TransactionReceipt } from 'ethers';
import pino from 'pino';
import {
  committeeConfigDigest,
  dealerKeygen,
  feedId as toFeedId,
  parseCommittee,
  reportMessage,
  type NodeClient,
  type NodeHandlers,
  type Report,
} from '../protocol/index.ts';
import { NodeService } from '../node/service.ts';
import { parseNodeConfig } from '../node/config.ts';
import { SigningStore } from '../node/store/index.ts';
import { VENUE_SPECS, type VenueId } from '../node/sources/index.ts';
import { RoundEngine, type RoundResult, type SignedReport } from '../aggregator/round/index.ts';
import { decideBatch, type FeedPolicy } from '../aggregator/policy.ts';
import { EthersHubReader } from '../aggregator/chain/hub.ts';
import { Transmitter } from '../aggregator/chain/transmitter.ts';
import { FEED_STATUS, decodeHubError } from '../aggregator/chain/hub-abi.ts';
import { ANVIL_KEYS, compileContracts, compileTestContracts, deploy, iface, startAnvil, type Anvil, type CompileOutput } from '../contracts/index.ts';
import { addFeeds, deployHub } from '../contracts/hub.ts';
import { createVenueResponder, startVenueServer, type VenueServer } from './venues/index.ts';
import { Rng, SimMarket, csvPath, gbmPath, serveInProcess, type InprocVenues, type VenueFault, type VenueSpec } from './market/index.ts';
import {
  equivocationRequest,
  faultyHandlers,
  forgeSignature,
  moveBps,
  newLedger,
  stepPush,
  stepWash,
  stolenShareSignature,
  tryTransmit,
  type ByzantineSpec,
  type NodeFaults,
  type PushPlan,
  type WashPlan,
} from './attack/index.ts';
import type { Scenario } from './scenario/schema.ts';
import { suspendReasonName } from '../protocol/index.ts';
import { judge, type RunResult, type Sample, type DefenceEvent, type PartyPayout, type LiquidationRecord, type OptionRecord } from './result.ts';

/** Genesis of the simulated chain: 2030-01-01T00:00:00Z, fixed so runs are reproducible. */
export const SIM_EPOCH_SEC = 1_893_456_000;

export interface SharedChain {
  anvil: Anvil;
  compiled: CompileOutput;
  /** Chain time the next run may start at (runs on one chain follow each other in time). */
  nextStartSec: number;
}

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

/** Anvils started by `startSharedChain` and not stopped yet. */
const liveChains = new Set<Anvil>();

/** Start a chain for several runs; stop it with `anvil.stop()` (or `stopSimChains()`). */
export async function startSharedChain(): Promise<SharedChain> {
  const compiled = compileContracts();
  const started = await startAnvil({ args: ['--timestamp', String(SIM_EPOCH_SEC)] });
  const anvil: Anvil = {
    ...started,
    stop: async () => {
      await started.stop();
      liveChains.delete(anvil);
    },
  };
  liveChains.add(anvil);
  return { anvil, compiled, nextStartSec: SIM_EPOCH_SEC + 600 };
}

/** The simulator's anvils still running (what `stopSimChains` would stop). */
export function liveSimChains(): Anvil[] {
  return [...liveChains];
}

/** Stops every anvil the simulator started and has not stopped (signal handlers, test hooks). */
export async function stopSimChains(): Promise<void> {
  await Promise.allSettled([...liveChains].map((a) => a.stop()));
}

const USD = (x: number): bigint => BigInt(Math.round(x * 1e6));
const fromUnits = (x: bigint): number => Number(x) / 1e6;

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
    const venueIds = s.market.venues.map((v) => v.id);
    const venues: VenueSpec[] = s.market.venues.map((v) => {
      const d = { ...s.market.defaults, ...Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined)) } as typeof s.market.defaults & { id: VenueId };
      return {
        id: v.id,
        book: { depthUsdPerBps: d.depthUsdPerBps, depthGrowth: d.depthGrowth, feeBps: d.feeBps, resilienceHalfLifeSec: d.resilienceHalfLifeSec },
        noiseBps: d.noiseBps,
        noiseTauSec: d.noiseTauSec,
        latencyMs: d.latencyMs,
        volume24hUsd: d.volume24hUsd,
        outagesPerDay: d.outagesPerDay,
        outageMeanSec: d.outageMeanSec,
      };
    });
    const path = s.market.path.kind === 'gbm' ? gbmPath(s.market.path, s.durationSec, Math.min(s.stepSec, 10), rng.fork('path'), s.market.moves) : csvPath(s.market.path.file, s.market.moves);
    const faults: VenueFault[] = s.market.faults.map((f) => ({
      venue: f.venue,
      fromSec: f.fromSec,
      toSec: f.toSec,
      cause: 'market',
      behaviour:
        f.kind === 'misprice'
          ? { kind: 'misprice', factor: f.factor ?? 1000 }
          : f.kind === 'stale'
            ? { kind: 'stale', ageMs: f.ageMs ?? 300_000 }
            : f.kind === 'slow'
              ? { kind: 'slow', delayMs: f.delayMs ?? 5_000 }
              : { kind: f.kind },
    }));
    const attackVenues = (v: 'all' | VenueId[]): VenueId[] => (v === 'all' ? venueIds : v);
    for (const a of s.attacks) {
      if (a.kind !== 'dos-sources') continue;
      for (const v of attackVenues(a.venues)) {
        faults.push({ venue: v, fromSec: a.fromSec, toSec: a.toSec, cause: 'attacker', behaviour: a.behaviour === 'slow' ? { kind: 'slow', delayMs: 10_000 } : { kind: a.behaviour } });
      }
    }
    const market = new SimMarket(path, venues, rng.fork('market'), faults);
    const startPrice = path.at(0);

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
    // Our own provider without request batching: ethers waits 10 ms to batch by default, and a
    // run makes thousands of sequential calls.
    const network = Network.from(anvil.chainId);
    const provider = new JsonRpcProvider(anvil.url, network, { staticNetwork: network, batchMaxCount: 1, batchStallTime: 0, cacheTimeout: -1, pollingInterval: 5 });
    cleanup.push(() => provider.destroy());
    const T0 = chain.nextStartSec;
    chain.nextStartSec = T0 + s.durationSec + 3600;
    let lastTs = Number(await anvil.now());
    const mineAt = async (ts: number): Promise<void> => {
      const at = Math.max(ts, lastTs + 1);
      await provider.send('evm_mine', [at]);
      lastTs = at;
    };
    const nextTx = async (): Promise<void> => {
      lastTs += 1;
      await provider.send('evm_setNextBlockTimestamp', [lastTs]);
    };
    await mineAt(T0 - 300);

    const n = s.oracle.nodes;
    const t = s.oracle.threshold ?? 2 * Math.floor((n - 1) / 3) + 1;
    const dealt = dealerKeygen(t, n);
    const signers: JsonRpcSigner[] = await Promise.all([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => provider.getSigner(i)));
    const [guardian, transmitterSigner, attacker, lp, holder] = [signers[0]!, signers[1]!, signers[2]!, signers[3]!, signers[8]!];
    await nextTx();
    const hub = await deployHub(guardian, { groupPublicKey: dealt.groupPublicKey, n, t }, { compiled });
    const hubAddress = await hub.getAddress();
    const dec = s.feed.decimals;
    const toAnswer = (price: number): bigint => BigInt(Math.round(price * 10 ** dec));
    const fromAnswer = (a: bigint): number => Number(a) / 10 ** dec;
    await nextTx();
    const [fid] = await addFeeds(hub, [s.feed.name], {
      deviationBps: s.oracle.hub.deviationBps,
      confirmations: s.oracle.hub.confirmations,
      confirmationTime: s.oracle.hub.confirmationTime,
      maxStaleness: s.oracle.hub.maxStaleness,
      heartbeat: s.oracle.heartbeatSec,
      decimals: dec,
      historyCapacity: 64,
      ...(s.oracle.hub.minPrice !== undefined ? { minAnswer: toAnswer(s.oracle.hub.minPrice) } : {}),
      ...(s.oracle.hub.maxPrice !== undefined ? { maxAnswer: toAnswer(s.oracle.hub.maxPrice) } : {}),
    });
    const feedId = fid!.toLowerCase();
    const hubIface: Interface = iface('AegisHub', compiled);

    const identitySecrets = Array.from({ length: n }, () => ed25519.utils.randomSecretKey());
    const aggregatorSecret = ed25519.utils.randomSecretKey();
    const committee = parseCommittee({
      chainId: String(anvil.chainId),
      hub: hubAddress,
      configVersion: '1',
      t,
      groupPublicKey: hexlify(dealt.groupPublicKey),
      nodes: dealt.publicShares.map((pk, k) => ({ index: k + 1, identityKey: hexlify(ed25519.getPublicKey(identitySecrets[k]!)), publicShare: hexlify(pk) })),
      aggregators: [{ identityKey: hexlify(ed25519.getPublicKey(aggregatorSecret)), name: 'sim-aggregator' }],
    });
    const digest = committeeConfigDigest(committee).toLowerCase();
    const onchainDigest = String(await hub.getFunction('configDigest')()).toLowerCase();
    if (digest !== onchainDigest) throw new Error(`sim: config digest mismatch: committee ${digest}, hub ${onchainDigest}; the hub and the committee file disagree`);

    // -- Settlement contracts --
    await nextTx();
    const token = await deploy(guardian, 'TestToken', ['Sim USD', 'sUSD', 6], { compiled: compileTestContracts() }); // a dev-chain mock (contracts/mock), not a product contract
    const tokenAddr = await token.getAddress();
    const fut = s.settlement.futures;
    const opt = s.settlement.option;
    let futures: Contract | undefined;
    let option: Contract | undefined;
    const parties: { name: string; signer: JsonRpcSigner; deposited: bigint }[] = [];
    const party = (name: string, signer: JsonRpcSigner) => {
      let p = parties.find((x) => x.name === name);
      if (!p) parties.push((p = { name, signer, deposited: 0n }));
      return p;
    };
    const fund = async (name: string, signer: JsonRpcSigner, usd: number, spender: string) => {
      const p = party(name, signer);
      p.deposited += USD(usd);
      await nextTx();
      await (await (token.connect(guardian) as Contract).getFunction('mint')(await signer.getAddress(), USD(usd))).wait();
      await nextTx();
      await (await (token.connect(signer) as Contract).getFunction('approve')(spender, USD(usd))).wait();
    };
    if (fut) {
      await nextTx();
      futures = await deploy(guardian, 'FuturesMarket', [
        hubAddress, feedId, tokenAddr, await lp.getAddress(),
        { maxPriceAge: fut.maxPriceAgeSec, maxSpreadBps: fut.maxSpreadBps, initialMarginBps: fut.initialMarginBps, maintenanceMarginBps: fut.maintenanceMarginBps, liquidationBountyBps: fut.liquidationBountyBps,
          minNotional: USD(fut.minNotionalUsd), minCollateral: USD(fut.minCollateralUsd), maxProfitBps: fut.maxProfitBps },
        ZeroAddress, 0,
      ], { compiled });
      const fa = await futures.getAddress();
      await fund('pool (LP)', lp, fut.poolUsd, fa);
      await nextTx();
      await (await (futures.connect(lp) as Contract).getFunction('fundPool')(USD(fut.poolUsd))).wait();
      party('attacker', attacker);
      for (const [k, pos] of fut.positions.entries()) await fund(`trader ${k + 1} (${pos.side})`, signers[4 + k]!, pos.collateralUsd, fa);
    }
    if (opt) {
      await nextTx();
      // Proposals stay open 60 s after the observation window (challenge period); settlement then has 3600 s.
      option = await deploy(guardian, 'EuropeanOption', [hubAddress, feedId, tokenAddr, opt.settlementWindowSec, 60, 3600, opt.maxSpreadBps, ZeroAddress, 0], { compiled });
    }

    // -- Venues and nodes --
    const symbols: Partial<Record<VenueId, Record<string, { symbol: string; quote: string }>>> = {};
    const [base] = s.feed.name.split('/') as [string];
    for (const v of venueIds) symbols[v] = { [s.feed.name]: { symbol: VENUE_SPECS[v].defaultMarket(base, 'USD').symbol, quote: 'USD' } };
    const clock = { ms: (T0 - 300) * 1000 };
    const now = () => clock.ms;
    const nowSec = () => Math.floor(clock.ms / 1000);
    const priceFn = (venue: VenueId) => market.tick(venue);
    const serverOpts = { feeds: [s.feed.name], venues: venueIds, symbols, price: priceFn, now };
    let server: VenueServer | undefined;
    let inproc: InprocVenues | undefined;
    let setBehaviour: (v: VenueId, b: ReturnType<SimMarket['behaviour']>) => void;
    let urlOf: (v: VenueId) => string;
    if (transport === 'http') {
      const srv = await startVenueServer(serverOpts);
      server = srv;
      cleanup.push(() => srv.close());
      setBehaviour = (v, b) => srv.setBehaviour(v, b);
      urlOf = (v) => srv.url(v);
    } else {
      const responder = createVenueResponder(serverOpts);
      const ip = serveInProcess(responder);
      inproc = ip;
      cleanup.push(() => ip.close());
      setBehaviour = (v, b) => responder.setBehaviour(v, b);
      urlOf = (v) => ip.url(v);
    }
    void server;
    void inproc;

    const services: NodeService[] = [];
    for (let i = 0; i < n; i++) {
      const file = join(workDir, `node-${i + 1}.yaml`);
      const config = parseNodeConfig(
        {
          committee: 'committee.json',
          keys: { identity: { path: 'identity.json', passwordEnv: 'SIM' }, share: { path: 'share.json', passwordEnv: 'SIM' } },
          store: `node-${i + 1}.sqlite`,
          poll: { schedule: '*/5 * * * * *', concurrency: 16 },
          signer: { sanityBandBps: s.oracle.sanityBandBps, maxReportAgeS: Math.max(60, s.stepSec * 2), maxFutureS: 5 },
          venues: Object.fromEntries(venueIds.map((v) => [v, { retries: 0, timeoutMs: 2_000, maxStalenessMs: s.oracle.maxAgeMs }])),
          feeds: [
            {
              name: s.feed.name,
              decimals: dec,
              minSources: s.oracle.minSources,
              maxAgeMs: s.oracle.maxAgeMs,
              band: { madMultiplier: s.oracle.madMultiplier, minBandBps: s.oracle.minBandBps, maxBandBps: s.oracle.maxBandBps },
              ...(s.oracle.volumeCapShare !== undefined ? { volumeWeighting: { capShare: s.oracle.volumeCapShare } } : {}),
              sources: venueIds.map((v) => ({ venue: v, symbol: symbols[v]![s.feed.name]!.symbol, quote: 'USD', baseUrl: urlOf(v) })),
            },
          ],
          log: { level: 'silent' },
        },
        file,
      );
      const store = SigningStore.open(join(workDir, `node-${i + 1}.sqlite`));
      cleanup.push(() => store.close?.());
      services.push(new NodeService({ config, committee, identitySecret: identitySecrets[i]!, share: dealt.shares[i]!, store, logger: pino({ level: 'silent' }), now }));
    }

    // -- Attackers --
    const ledger = newLedger();
    const defences = new Map<string, DefenceEvent>();
    const fired = (tSec: number, defence: string, detail: string) => {
      const key = `${defence}|${detail}`;
      const e = defences.get(key);
      if (e) {
        e.lastSec = tSec;
        e.count++;
      } else defences.set(key, { defence, detail, firstSec: tSec, lastSec: tSec, count: 1 });
    };
    const attackNotes = new Map<string, DefenceEvent>();
    const noteAttack = (tSec: number, what: string) => {
      const e = attackNotes.get(what);
      if (e) {
        e.lastSec = tSec;
        e.count++;
      } else attackNotes.set(what, { defence: 'attack', detail: what, firstSec: tSec, lastSec: tSec, count: 1 });
    };
    const pushes: PushPlan[] = [];
    const washes: WashPlan[] = [];
    const byzantine = new Map<number, ByzantineSpec>();
    const downs: { nodes: Set<number>; fromSec: number; toSec: number }[] = [];
    s.attacks.forEach((a, i) => {
      const label = `${i}:${a.kind}`;
      if (a.kind === 'pump' || a.kind === 'crash') {
        pushes.push({ label, venues: attackVenues(a.venues), targetBps: moveBps(a.movePct, a.kind === 'pump' ? 'up' : 'down'), fromSec: a.fromSec, toSec: a.toSec, rampSec: a.rampSec, ...(a.budgetUsd !== undefined ? { budgetUsd: a.budgetUsd } : {}) });
      } else if (a.kind === 'liquidation-hunt') {
        pushes.push({ label, venues: attackVenues(a.venues), targetBps: moveBps(a.movePct, a.direction), fromSec: a.fromSec, toSec: a.toSec, rampSec: a.rampSec, ...(a.budgetUsd !== undefined ? { budgetUsd: a.budgetUsd } : {}) });
      } else if (a.kind === 'expiry-push') {
        const e = opt!.expirySec;
        pushes.push({ label, venues: attackVenues(a.venues), targetBps: moveBps(a.movePct, a.direction), fromSec: Math.max(0, e - a.beforeSec), toSec: e + a.afterSec, rampSec: Math.min(60, a.beforeSec), ...(a.budgetUsd !== undefined ? { budgetUsd: a.budgetUsd } : {}) });
      } else if (a.kind === 'wash') {
        washes.push({ label, venues: attackVenues(a.venues), usdPerDay: a.usdPerDay, fromSec: a.fromSec, toSec: a.toSec });
      } else if (a.kind === 'byzantine') {
        for (let k = 1; k <= a.nodes; k++) {
          byzantine.set(k, { strategy: a.strategy, factor: a.factor ?? 10, biasBps: a.biasBps ?? Math.floor(s.oracle.sanityBandBps * 0.95), fromSec: a.fromSec, toSec: a.toSec });
        }
      } else if (a.kind === 'dos-nodes') {
        downs.push({ nodes: new Set(Array.from({ length: a.nodes }, (_, k) => n - k)), fromSec: a.fromSec, toSec: a.toSec });
      }
    });
    const t0ms = T0 * 1000;
    const rel = (absSec: number) => absSec - T0;
    const nodeFaults: NodeFaults = {
      byzantine: (index, absSec) => {
        const b = byzantine.get(index);
        const r = rel(absSec);
        return b && r >= b.fromSec && r < b.toSec ? b : undefined;
      },
      down: (index, absSec) => downs.some((d) => d.nodes.has(index) && rel(absSec) >= d.fromSec && rel(absSec) < d.toSec),
      note: (absSec, index, what) => noteAttack(rel(absSec), `node ${index} ${what}`),
    };
    const handlers: { index: number; handlers: NodeHandlers }[] = services.map((svc, k) => ({
      index: k + 1,
      handlers: faultyHandlers(k + 1, svc, { identitySecret: identitySecrets[k]!, share: dealt.shares[k]! }, nodeFaults, nowSec),
    }));
    const clients: NodeClient[] = handlers.map((h) => ({ index: h.index, observe: (call) => h.handlers.observe(call), sign: (call) => h.handlers.sign(call) }));
    const engine = new RoundEngine({ committee, clients, observeTimeoutMs: 5_000, signTimeoutMs: 5_000, graceMs: 0, maxObservationAgeSec: Math.max(120, s.stepSec * 2), nowSec });
    const reader = new EthersHubReader(hubAddress, provider);
    const transmitterWallet = { address: await transmitterSigner.getAddress() };
    void transmitterWallet;
    const transmitter = new Transmitter({
      provider,
      wallet: new Wallet(ANVIL_KEYS[1], provider),
      hub: hubAddress,
      chainId: BigInt(anvil.chainId),
      maxFeePerGasWei: 1_000_000_000_000n,
      priorityFeeWei: 1_000_000_000n,
      pollMs: 2,
      replaceAfterMs: 600_000,
    });
    const policies = new Map<string, FeedPolicy>([[feedId, { deviationPct: s.oracle.deviationPct, heartbeatSec: s.oracle.heartbeatSec }]]);
    const hubA = hub.connect(attacker) as Contract;

    // -- Loop state --
    const samples: Sample[] = [];
    const breakerEvents: { tSec: number; event: string; answer?: number }[] = [];
    const liquidations: LiquidationRecord[] = [];
    let optionRecord: OptionRecord | undefined;
    let forgedAccepted = 0;
    let reportsAccepted = 0;
    let roundsRun = 0;
    let epoch = 0n;
    const signedHistory: SignedReport[] = [];
    let heldStale: { report: SignedReport; releaseSec: number } | undefined;
    const aggregatorAttacks = s.attacks.flatMap((a, i) => (a.kind === 'aggregator' ? a.atSec.map((at) => ({ i, a, at, done: false })) : []));
    const stolenAttacks = s.attacks.flatMap((a, i) => (a.kind === 'stolen-shares' ? a.atSec.map((at) => ({ i, a, at, done: false })) : []));
    let positionsOpen = false;
    let optionId: bigint | undefined;
    let optionDone = false;
    /** Signed reports (by message) and hub rounds the option keeper has proposed already. */
    const proposed = new Set<string>();
    const openSet = new Set<number>();
    const lastExcluded = new Set<string>();
    let quorumLostSec: number | null = null;
    const venueNoiseBps = Math.max(...venues.map((v) => v.noiseBps));

    const logsOf = (receipt: TransactionReceipt | null, tSec: number) => {
      for (const log of receipt?.logs ?? []) {
        let parsed;
        try {
          parsed = hubIface.parseLog(log);
        } catch {
          continue;
        }
        if (!parsed) continue;
        if (parsed.name === 'ReportAccepted') reportsAccepted++;
        if (parsed.name.startsWith('Breaker')) {
          const answer = parsed.args.getValue?.('candidate') ?? parsed.args.getValue?.('answer');
          breakerEvents.push({ tSec, event: parsed.name, ...(answer !== undefined ? { answer: fromAnswer(BigInt(answer)) } : {}) });
          fired(tSec, 'hub breaker', parsed.name);
        }
        if (parsed.name === 'CommitteeSuspendedFeed') {
          const why = suspendReasonName(Number(parsed.args[1]));
          breakerEvents.push({ tSec, event: `CommitteeSuspendedFeed (${why})` });
          fired(tSec, 'committee suspended the feed', why);
        }
        if (parsed.name === 'FeedResumed') {
          breakerEvents.push({ tSec, event: 'FeedResumed', answer: fromAnswer(BigInt(parsed.args[2])) });
          fired(tSec, 'committee resumed the feed', `round ${parsed.args[1]}`);
        }
        if (parsed.name === 'FeedSkipped') fired(tSec, 'hub bounds', `FeedSkipped reason ${['UnknownFeed', 'FeedPaused', 'NotNewer', 'OutOfBounds'][Number(parsed.args[1])] ?? parsed.args[1]}`);
      }
    };

    const transmitHonest = async (signed: SignedReport, tSec: number): Promise<void> => {
      await nextTx();
      const out = await transmitter.transmit(signed);
      if (out.status === 'accepted') {
        logsOf(await provider.getTransactionReceipt(out.txHash), tSec);
      } else if (out.status === 'reverted' || out.status === 'superseded') {
        fired(tSec, 'hub rejected report', out.error?.name ?? out.message.slice(0, 80));
        lastTs -= 1; // nothing was mined
      } else {
        throw new Error(`sim: transmitter failed at t=${tSec}s: ${out.message}`);
      }
    };

    const attackerTry = async (tSec: number, what: string, report: Report, signature: Uint8Array | string) => {
      noteAttack(tSec, what);
      await nextTx();
      const r = await tryTransmit(hubA, report, signature);
      if (r.accepted) {
        forgedAccepted++;
        logsOf(await provider.getTransactionReceipt(r.txHash!), tSec);
        noteAttack(tSec, `${what}: ACCEPTED by the hub`);
      } else {
        lastTs -= 1;
        fired(tSec, 'hub rejected report', `${what}: ${r.error?.split('(')[0] ?? 'reverted'}`);
      }
    };

    const round = async (tSec: number): Promise<void> => {
      roundsRun++;
      epoch = BigInt(await hub.getFunction('latestEpoch')()) + 1n;
      const result: RoundResult = await engine.run(epoch, [feedId], async (aggregate, observedAt) => {
        const states = await reader.feedStates([feedId]);
        const d = decideBatch(aggregate.feeds.map((f) => ({ feed: s.feed.name, feedId: f.feedId, answer: f.answer, observedAt, ...(f.suspendReason !== undefined ? { suspendReason: f.suspendReason } : {}) })), states, policies);
        return { feedIds: d.post.map((p) => p.feedId), skipped: d.hold.map((h) => ({ feedId: h.feedId, reason: h.decision.log })) };
      });
      for (const e of result.excluded) fired(tSec, e.phase === 'observe' ? 'aggregator excluded observation' : 'aggregator excluded partial', `node ${e.index}: ${e.code}`);
      if (result.status === 'failed') fired(tSec, 'round failed', result.failure?.code ?? 'failed');
      // Compromised aggregator / stolen shares act in this round.
      const suppress = heldStale !== undefined && tSec < heldStale.releaseSec;
      for (const x of aggregatorAttacks) {
        if (x.done || tSec < x.at) continue;
        x.done = true;
        const a = x.a;
        const truthAnswer = toAnswer(market.truth(tSec) * (1 + a.movePct / 100));
        const latest = BigInt(await hub.getFunction('latestEpoch')());
        if (a.mode === 'forged') {
          const report: Report = { configDigest: digest, epoch: latest + 1n, observedAt: BigInt(nowSec()), observationsRoot: hexlify(new Uint8Array(32)), observers: (1n << BigInt(n)) - 1n, feedIds: [feedId], answers: [truthAnswer], spreadBps: [0] };
          await attackerTry(tSec, `aggregator forged a report at ${a.movePct}% (own key)`, report, forgeSignature(reportMessage(report)));
        } else if (a.mode === 'altered' && result.signed) {
          const report = { ...result.signed.report, answers: [truthAnswer] };
          await attackerTry(tSec, `aggregator altered a signed report to ${a.movePct}%`, report, result.signed.signatureEvm);
        } else if (a.mode === 'replayed' && signedHistory.length > 0) {
          const old = signedHistory[0]!;
          await attackerTry(tSec, `aggregator replayed the report of epoch ${old.report.epoch}`, old.report, old.signatureEvm);
        } else if (a.mode === 'stale' && result.signed) {
          heldStale = { report: result.signed, releaseSec: tSec + a.delaySec };
          noteAttack(tSec, `aggregator holds the report of epoch ${result.signed.report.epoch} and posts nothing for ${a.delaySec}s`);
        } else if (a.mode === 'equivocate' && result.signed) {
          const honestNodes = handlers.filter((h) => !nodeFaults.byzantine(h.index, nowSec()));
          const r = await equivocationRequest(honestNodes, result.signed.report, result.signed.observations);
          noteAttack(tSec, `aggregator asked ${honestNodes.length} nodes to sign a second report for epoch ${result.signed.report.epoch}`);
          for (const [code, count] of Object.entries(r.refusals)) fired(tSec, 'node refused to sign', `${code} ×${count}`);
          if (r.signed >= t) {
            forgedAccepted++;
            noteAttack(tSec, `equivocation: ${r.signed} nodes signed a second report (≥ t)`);
          }
        }
      }
      for (const x of stolenAttacks) {
        if (x.done || tSec < x.at) continue;
        x.done = true;
        const latest = BigInt(await hub.getFunction('latestEpoch')());
        const report: Report = { configDigest: digest, epoch: latest + 1n, observedAt: BigInt(nowSec()), observationsRoot: hexlify(new Uint8Array(32)), observers: (1n << BigInt(n)) - 1n, feedIds: [feedId], answers: [toAnswer(market.truth(tSec) * (1 + x.a.movePct / 100))], spreadBps: [0] };
        const sig = stolenShareSignature(dealt.shares.slice(0, x.a.shares), t, n, reportMessage(report));
        await attackerTry(tSec, `${x.a.shares} stolen shares (t=${t}) signed a report at ${x.a.movePct}%`, report, sig);
      }
      if (heldStale && tSec >= heldStale.releaseSec) {
        const held = heldStale.report;
        heldStale = undefined;
        noteAttack(tSec, `aggregator posts the held report of epoch ${held.report.epoch} (observed ${tSec - rel(Number(held.report.observedAt))}s ago)`);
        await nextTx();
        const r = await tryTransmit(hubA, held.report, held.signatureEvm);
        if (r.accepted) logsOf(await provider.getTransactionReceipt(r.txHash!), tSec);
        else {
          lastTs -= 1;
          fired(tSec, 'hub rejected report', `stale report: ${r.error?.split('(')[0]}`);
        }
        return;
      }
      if (result.signed) {
        signedHistory.push(result.signed);
        if (!suppress) await transmitHonest(result.signed, tSec);
        else noteAttack(tSec, 'aggregator suppressed a signed report');
      }
    };

    const tryCall = async (c: Contract, fn: string, args: unknown[]): Promise<{ ok: true } | { ok: false; error: string }> => {
      try {
        await c.getFunction(fn).staticCall(...args);
      } catch (err) {
        const data = (err as { data?: string }).data;
        let name = (err as Error).message.slice(0, 80);
        if (data) {
          for (const ifc of [iface('FuturesMarket', compiled), iface('EuropeanOption', compiled), hubIface]) {
            try {
              const e = ifc.parseError(data);
              if (e) {
                name = e.name;
                break;
              }
            } catch {
              /* next */
            }
          }
        }
        return { ok: false, error: name };
      }
      await nextTx();
      await (await c.getFunction(fn)(...args)).wait();
      return { ok: true };
    };

    const keeper = async (tSec: number): Promise<void> => {
      const latestRound = BigInt(await hub.getFunction('latestRoundId')(feedId));
      if (latestRound === 0n) return;
      if (futures && fut && !positionsOpen) {
        positionsOpen = true;
        for (const [k, pos] of fut.positions.entries()) {
          const sgn = signers[4 + k]!;
          const f = futures.connect(sgn) as Contract;
          await nextTx();
          await (await f.getFunction('deposit')(USD(pos.collateralUsd))).wait();
          const units = pos.notionalUsd / startPrice;
          const size = BigInt(Math.round(units * 1e6)) * (pos.side === 'long' ? 1n : -1n);
          const r = await tryCall(f, 'openPosition', [size]);
          if (r.ok) openSet.add(k);
          else fired(tSec, 'futures refused to open', r.error);
        }
      }
      if (futures && fut) {
        const fA = futures.connect(attacker) as Contract;
        for (const k of [...openSet]) {
          const addr = await signers[4 + k]!.getAddress();
          // Judged before the liquidation: afterwards the position is gone and no price makes
          // it liquidatable (that had every liquidation read as unjustified).
          const truth = market.truth(tSec);
          const liquidatableAt = async (price: number): Promise<boolean> => Boolean(await futures!.getFunction('isLiquidatableAt')(addr, toAnswer(price)));
          const read = await hub.getFunction('tryRead')(feedId);
          // The oracle's resolution: no post below the deviation threshold, the committee's
          // dispersion in the served round, and the venues' own noise (result.ts, Verdict).
          const spreadBps = Number(read[2]);
          const resolutionPct = s.oracle.deviationPct + spreadBps / 100 + venueNoiseBps / 100;
          const justified = await liquidatableAt(truth);
          const withinResolution = justified || (await liquidatableAt(truth * (1 - resolutionPct / 100))) || (await liquidatableAt(truth * (1 + resolutionPct / 100)));
          const r = await tryCall(fA, 'liquidate', [addr]);
          if (r.ok) {
            openSet.delete(k);
            const served = fromAnswer(BigInt(read[0]));
            const judgement = justified ? 'justified' : withinResolution ? 'early within resolution' : s.attacks.length > 0 ? 'manipulated price' : 'oracle error';
            liquidations.push({ tSec, trader: `trader ${k + 1}`, price: served, truePrice: truth, justified, resolution: { pct: Number(resolutionPct.toFixed(4)), postingThresholdPct: s.oracle.deviationPct, spreadBps, venueNoiseBps }, withinResolution, judgement });
            if (judgement === 'manipulated price') noteAttack(tSec, `trader ${k + 1} liquidated at ${served.toPrecision(6)} while the true price ${truth.toPrecision(6)} did not justify it, beyond the oracle's resolution of ${resolutionPct.toFixed(3)} %`);
          } else if (r.error !== 'NotLiquidatable') {
            const wouldBe = Boolean(await futures.getFunction('isLiquidatableAt')(addr, BigInt((await hub.getFunction('tryRead')(feedId))[0])));
            if (wouldBe) fired(tSec, 'futures refused liquidation', r.error);
          }
        }
      }
      if (option && opt && optionId === undefined) {
        const strike = toAnswer(startPrice * (opt.strikePct / 100));
        const width = BigInt(Math.max(1, Number(toAnswer(startPrice * (opt.widthPct / 100)))));
        const quantity = BigInt(Math.round(opt.quantity * 1e6));
        const collateral = (width * quantity) / 10n ** BigInt(dec);
        const oa = await option.getAddress();
        const holderSigner = s.attacks.some((a) => a.kind === 'expiry-push') ? attacker : holder;
        await fund('option writer (LP)', lp, fromUnits(collateral) + 1, oa);
        await fund(holderSigner === attacker ? 'attacker' : 'option holder', holderSigner, opt.premiumUsd + 1, oa);
        await nextTx();
        const w = option.connect(lp) as Contract;
        const id = await w.getFunction('write').staticCall(opt.isCall, strike, width, quantity, USD(opt.premiumUsd), BigInt(T0 + opt.expirySec));
        await (await w.getFunction('write')(opt.isCall, strike, width, quantity, USD(opt.premiumUsd), BigInt(T0 + opt.expirySec))).wait();
        await nextTx();
        await (await (option.connect(holderSigner) as Contract).getFunction('buy')(id)).wait();
        optionId = BigInt(id);
      }
      if (option && opt && optionId !== undefined && !optionDone && tSec >= opt.expirySec) {
        // An honest keeper: until the proposal deadline it proposes the committee's signed
        // prices observed at or after expiry, nearest first (the aggregator's signed reports,
        // which pull mode serves, and the first hub round); the option keeps the nearest valid
        // one. After the deadline it settles on that candidate, or refunds when there is none.
        const expiry = BigInt(T0 + opt.expirySec);
        const o = option.connect(holder) as Contract;
        const proposalDeadline = Number(await option.getFunction('proposalDeadline')(optionId));
        if (lastTs + 1 <= proposalDeadline) {
          const fresh = signedHistory.filter((x) => x.report.observedAt >= expiry && !proposed.has(x.message)).sort((a, b) => Number(a.report.observedAt - b.report.observedAt));
          for (const x of fresh) {
            if (lastTs + 1 > proposalDeadline) break;
            proposed.add(x.message);
            const r = await tryCall(o, 'proposeReport', [optionId, x.report, x.signatureEvm]);
            if (r.ok) break;
            if (r.error !== 'ProposalNotBetter') fired(tSec, 'option refused a proposal', r.error);
          }
          // The first served round observed at or after expiry (push mode).
          let first: bigint | undefined;
          for (let r = latestRound; r >= 1n && r > latestRound - 60n; r--) {
            try {
              const g = await hub.getFunction('getRound')(feedId, r);
              if (BigInt(g[1]) >= expiry) first = r;
              else break;
            } catch {
              break;
            }
          }
          if (first !== undefined && !proposed.has(`round ${first}`) && lastTs + 1 <= proposalDeadline) {
            proposed.add(`round ${first}`);
            const r = await tryCall(o, 'proposeRound', [optionId, first]);
            if (!r.ok && r.error !== 'ProposalNotBetter') fired(tSec, 'option refused a proposal', r.error);
          }
        } else if (lastTs > proposalDeadline) {
          const truthAtExpiry = market.truth(opt.expirySec);
          const honestPayout = fromUnits(BigInt(await option.getFunction('payoffAt')(optionId, toAnswer(truthAtExpiry))));
          const c = await option.getFunction('getCandidate')(optionId);
          const candidate = Number(c.source) !== 0 ? BigInt(c.answer) : undefined;
          const settled = await tryCall(o, 'settle', [optionId]);
          if (settled.ok) {
            optionDone = true;
            optionRecord = { tSec, outcome: 'settled', roundPrice: fromAnswer(candidate!), truePriceAtExpiry: truthAtExpiry, holderPayoutUsd: fromUnits(BigInt(await option.getFunction('payoffAt')(optionId, candidate!))), honestPayoutUsd: honestPayout };
          } else {
            const refund = await tryCall(o, 'refundAfterDeadline', [optionId]);
            if (refund.ok) {
              optionDone = true;
              fired(tSec, 'option refunded', settled.error);
              optionRecord = { tSec, outcome: `refunded (${settled.error})`, ...(candidate !== undefined ? { roundPrice: fromAnswer(candidate) } : {}), truePriceAtExpiry: truthAtExpiry, holderPayoutUsd: 0, honestPayoutUsd: honestPayout };
            }
          }
        }
      }
    };

    // -- Run --
    const steps = Math.floor(s.durationSec / s.stepSec) + 1;
    for (let k = 0; k < steps; k++) {
      opts.signal?.throwIfAborted();
      const tSec = k * s.stepSec;
      clock.ms = t0ms + tSec * 1000;
      market.advance(tSec);
      for (const p of pushes) stepPush(market, p, tSec, ledger);
      for (const w of washes) stepWash(market, w, tSec, s.stepSec, ledger);
      for (const v of venueIds) setBehaviour(v, market.behaviour(v));
      await Promise.all(services.map((svc) => svc.poller.refresh()));
      // What node 1's filter did with the venues (the same view for every honest node).
      const view = services[0]!.views().get(s.feed.name);
      const excludedNow = new Set<string>();
      // A fresh, valid quote carries no exclusion reason: it went unused because the feed had no observation.
      for (const src of view?.result?.sources ?? []) if (!src.used) excludedNow.add(`${src.source}: ${src.reason ?? `fresh but unused, the feed has no observation (${view && !view.ok ? view.reason : 'priced without it'})`}`);
      for (const x of view?.excluded ?? []) excludedNow.add(`${x.source}: ${x.reason}`);
      for (const x of excludedNow) fired(tSec, 'node filter dropped source', x);
      if (view && !view.ok) {
        fired(tSec, 'node withheld observation', view.reason);
        if (quorumLostSec === null) quorumLostSec = tSec;
      }
      lastExcluded.clear();
      for (const x of excludedNow) lastExcluded.add(x);
      await mineAt(T0 + tSec);
      if (tSec % s.oracle.roundEverySec === 0) {
        await round(tSec);
        await keeper(tSec);
      }
      const r = await hub.getFunction('tryRead')(feedId);
      const status = FEED_STATUS[Number(r[4])] ?? 'unknown';
      const roundId = BigInt(r[3]);
      const observedAt = Number(r[1]);
      const consumerMaxAge = fut ? Math.min(fut.maxPriceAgeSec, s.oracle.hub.maxStaleness) : s.oracle.hub.maxStaleness;
      const usable = roundId > 0n && status === 'active' && lastTs - observedAt <= consumerMaxAge;
      const truth = market.truth(tSec);
      const served = roundId > 0n ? fromAnswer(BigInt(r[0])) : null;
      const venuesNow: Record<string, number | null> = {};
      for (const v of venueIds) venuesNow[v] = market.behaviour(v).kind === 'normal' ? (market.tick(v)?.price ?? null) : null;
      samples.push({ tSec, truth, venues: venuesNow, served, status, usable, spendUsd: ledger.spendUsd, age: roundId > 0n ? lastTs - observedAt : null });
      opts.onProgress?.(k + 1, steps);
    }

    // -- Settlement accounting --
    const payouts: PartyPayout[] = [];
    for (const p of parties) {
      const addr = await p.signer.getAddress();
      let bal = BigInt(await token.getFunction('balanceOf')(addr));
      if (futures && p.name.startsWith('trader')) {
        const acct = await futures.getFunction('getAccount')(addr);
        bal += BigInt(acct[0]) + BigInt(acct.claim); // a claim is profit the pool still owes
      }
      if (futures && p.name === 'pool (LP)') {
        bal += BigInt(await futures.getFunction('pool')());
        for (const q of parties) if (q.name.startsWith('trader')) bal -= BigInt((await futures.getFunction('getAccount')(await q.signer.getAddress())).claim);
      }
      payouts.push({ party: p.name, address: addr, depositedUsd: fromUnits(p.deposited), finalUsd: fromUnits(bal), netUsd: fromUnits(bal - p.deposited) });
    }
    if (option && optionId !== undefined && !optionDone) optionRecord = { tSec: s.durationSec, outcome: 'not settled by the end of the run', holderPayoutUsd: 0, honestPayoutUsd: fromUnits(BigInt(await option.getFunction('payoffAt')(optionId, toAnswer(market.truth(opt!.expirySec))))) };

    return judge({
      scenario: s,
      seed,
      transport,
      n,
      t,
      samples,
      ledger,
      defences: [...defences.values()],
      attackNotes: [...attackNotes.values()],
      breakerEvents,
      liquidations,
      option: optionRecord,
      attackerHoldsOption: s.attacks.some((a) => a.kind === 'expiry-push'),
      bountyBps: fut?.liquidationBountyBps ?? 0,
      positions: fut?.positions ?? [],
      attacked: s.attacks.length > 0,
      quorumLostSec,
      payouts,
      forgedAccepted,
      reportsAccepted,
      rounds: roundsRun,
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
