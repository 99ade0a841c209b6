/**
 * The simulated chain: anvil from a fixed genesis, a provider without request batching, the
 * run's accounts in their roles, the hub deployed for the run's committee, and a call helper
 * that names a refused call's contract error (docs/design.md §Simulation, §Hub). Block time is
 * the runner's (clock.ts, `BlockClock`).
 *
 * Anvils started here are registered until stopped, so `stopSimChains()` can stop what an
 * abandoned run left behind (signal handlers, test hooks).
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { JsonRpcProvider, Network, hexlify, type Contract, type Interface, type JsonRpcSigner } from 'ethers';
import { committeeConfigDigest, dealerKeygen, parseCommittee, type Committee, type DealerOutput } from '../../protocol/index.ts';
import { compileContracts, iface, startAnvil, type Anvil, type CompileOutput } from '../../contracts/index.ts';
import { addFeeds, deployHub } from '../../contracts/hub.ts';
import type { Scenario } from '../scenario/schema.ts';
import type { BlockClock } from './clock.ts';

/** Genesis of the simulated chain: 2030-01-01T00:00:00Z, fixed so runs are reproducible. */
export const SIM_EPOCH_SEC = 1_893_456_000;

export interface SharedChain {
  anvil: Anvil;
  compiled: CompileOutput;
  /** Chain time the next run may start at (runs on one chain follow each other in time). */
  nextStartSec: number;
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

/**
 * Our own provider without request batching: ethers waits 10 ms to batch by default, and a run
 * makes thousands of sequential calls.
 */
export function openProvider(anvil: Anvil): JsonRpcProvider {
  const network = Network.from(anvil.chainId);
  return new JsonRpcProvider(anvil.url, network, { staticNetwork: network, batchMaxCount: 1, batchStallTime: 0, cacheTimeout: -1, pollingInterval: 5 });
}

/** The signature threshold of a scenario: its own, else 2⌊(n−1)/3⌋+1 (docs/design.md §Trust model). */
export function thresholdOf(nodes: number, threshold: number | undefined): number {
  return threshold ?? 2 * Math.floor((nodes - 1) / 3) + 1;
}

export interface Signers {
  all: JsonRpcSigner[];
  guardian: JsonRpcSigner;
  transmitter: JsonRpcSigner;
  /** The attacker; also the liquidation keeper (sim/README.md). */
  attacker: JsonRpcSigner;
  lp: JsonRpcSigner;
  holder: JsonRpcSigner;
}

/** Anvil's first ten accounts in their roles; traders are accounts 4.. (`all[4 + k]`). */
export async function signersOf(provider: JsonRpcProvider): Promise<Signers> {
  const all: JsonRpcSigner[] = await Promise.all([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => provider.getSigner(i)));
  return { all, guardian: all[0]!, transmitter: all[1]!, attacker: all[2]!, lp: all[3]!, holder: all[8]! };
}

export interface OracleDeployment {
  n: number;
  t: number;
  dealt: DealerOutput;
  hub: Contract;
  hubAddress: string;
  hubIface: Interface;
  /** The feed's id, lower case. */
  feedId: string;
  committee: Committee;
  identitySecrets: Uint8Array[];
  /** The committee's config digest, lower case (equal to the hub's). */
  digest: string;
}

/**
 * Deals the committee's keys (random per run: they never affect prices), deploys the hub with
 * the scenario's feed, and checks the committee file's digest against the hub's.
 */
export async function deployOracle(
  s: Scenario,
  chain: { anvil: Anvil; compiled: CompileOutput; clock: BlockClock; guardian: JsonRpcSigner; toAnswer: (price: number) => bigint },
): Promise<OracleDeployment> {
  const { anvil, compiled, clock, guardian, toAnswer } = chain;
  const n = s.oracle.nodes;
  const t = thresholdOf(n, s.oracle.threshold);
  const dealt = dealerKeygen(t, n);
  await clock.nextTx();
  const hub = await deployHub(guardian, { groupPublicKey: dealt.groupPublicKey, n, t }, { compiled });
  const hubAddress = await hub.getAddress();
  await clock.nextTx();
  const [fid] = await addFeeds(hub, [s.feed.name], {
    deviationBps: s.oracle.hub.deviationBps,
    confirmations: s.oracle.hub.confirmations,
    confirmationTime: s.oracle.hub.confirmationTime,
    maxStaleness: s.oracle.hub.maxStaleness,
    heartbeat: s.oracle.heartbeatSec,
    decimals: s.feed.decimals,
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
  return { n, t, dealt, hub, hubAddress, hubIface, feedId, committee, identitySecrets, digest };
}

/**
 * Sends `fn(...args)` if a static call of it succeeds; otherwise returns the contract error's
 * name (decoded with the given interfaces) without sending, so no block is mined for it.
 */
export async function tryCall(c: Contract, fn: string, args: unknown[], ctx: { clock: BlockClock; errors: readonly Interface[] }): Promise<{ ok: true } | { ok: false; error: string }> {
  try {
    await c.getFunction(fn).staticCall(...args);
  } catch (err) {
    return { ok: false, error: errorName(err, ctx.errors) };
  }
  await ctx.clock.nextTx();
  await (await c.getFunction(fn)(...args)).wait();
  return { ok: true };
}

/** The custom error's name when one of `ifaces` knows its selector, else the message's first 80 characters. */
export function errorName(err: unknown, ifaces: readonly Interface[]): string {
  const data = (err as { data?: string }).data;
  let name = (err as Error).message.slice(0, 80);
  if (data) {
    for (const ifc of ifaces) {
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
  return name;
}
