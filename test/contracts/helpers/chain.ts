/**
 * Shared fixture for the settlement, adapter and governance suites: one anvil, the real
 * AegisHub with a dealer committee (n = 4, t = 3), one feed, and an `Oracle` that signs
 * reports with real threshold BLS (3 partial signatures combined) and transmits them.
 * Also: a revert matcher that decodes custom errors across every contract's ABI, so an error
 * bubbling from the hub through a consumer is named (e.g. `RoundNotFound`).
 */
import { Contract, ErrorDescription, Interface, type LogDescription, hexlify, type InterfaceAbi, type JsonRpcSigner, type TransactionReceipt } from 'ethers';
import { expect } from 'vitest';
import { startAnvil, type Anvil } from '../../../contracts/anvil.ts';
import { artifact, compileContracts, compileTestContracts, testArtifact, type CompileOutput } from '../../../contracts/compile.ts';
import { deploy } from '../../../contracts/deploy.ts';
import { feedConfig as hubFeedConfig, type FeedConfig } from '../../../contracts/hub.ts';
import { combinePartials, dealerKeygen, g2ToEip2537, partialSign, signatureToEvm, type DealerOutput } from '../../../protocol/bls/index.ts';
import { feedId as toFeedId, reportMessage, type Report } from '../../../protocol/report.ts';

export const FEED = toFeedId('ETH/USD');
export const DECIMALS = 8;
export const ONE = 10n ** BigInt(DECIMALS);

/** The hub's default feed config with this fixture's choices: 16-round history, ETH / USD. */
export function feedConfig(over: Partial<FeedConfig> = {}): FeedConfig {
  return hubFeedConfig({ historyCapacity: 16, decimals: DECIMALS, description: 'ETH / USD', ...over });
}

/** Mirrors IAegisFeeds.FeedStatus. */
export const Status = { Unknown: 0n, Active: 1n, Tripped: 2n, Paused: 3n, Stale: 4n } as const;

/** Signs and transmits reports for the hub's committee; epochs increase by one per report. */
export class Oracle {
  epoch = 0n;
  /** observedAt of the last report made here; defaults move strictly forward from it. */
  lastObservedAt = 0n;
  constructor(
    readonly hub: Contract,
    readonly committee: DealerOutput,
  ) {}

  async report(answers: Record<string, bigint>, observedAt: bigint, spreadBps = 10): Promise<{ report: Report; signature: Uint8Array }> {
    const feedIds = Object.keys(answers);
    const report: Report = {
      configDigest: (await this.hub.configDigest!()) as string,
      epoch: ++this.epoch,
      observedAt,
      observationsRoot: hexlify(new Uint8Array(32).fill(0xab)),
      observers: 0b0111n,
      feedIds,
      answers: feedIds.map((f) => answers[f]!),
      spreadBps: feedIds.map(() => spreadBps),
    };
    const m = reportMessage(report);
    const partials = this.committee.shares.slice(0, this.committee.t).map((s) => partialSign(s, m));
    return { report, signature: signatureToEvm(combinePartials(partials, this.committee.t)) };
  }

  /** Transmits one feed's answer observed at `observedAt` (default: the latest block time). */
  async push(answer: bigint, opts: { observedAt?: bigint; spreadBps?: number; feed?: string } = {}): Promise<TransactionReceipt> {
    let observedAt = opts.observedAt ?? (await latestTime(this.hub));
    if (opts.observedAt === undefined && observedAt <= this.lastObservedAt) observedAt = this.lastObservedAt + 1n;
    this.lastObservedAt = observedAt;
    const { report, signature } = await this.report({ [opts.feed ?? FEED]: answer }, observedAt, opts.spreadBps);
    return (await (await this.hub.transmit!(report, signature)).wait())!;
  }
}

export async function latestTime(c: Contract): Promise<bigint> {
  const provider = c.runner!.provider!;
  return BigInt((await provider.getBlock('latest'))!.timestamp);
}

export interface Fixture {
  anvil: Anvil;
  compiled: CompileOutput;
  signers: JsonRpcSigner[];
  deployer: JsonRpcSigner;
  hub: Contract;
  committee: DealerOutput;
  oracle: Oracle;
  /** Every error fragment of every compiled contract (product and test set), for decoding reverts. */
  errors: Interface;
  /** Reverts the chain to the snapshot taken at the end of setup (and takes a new one). */
  reset(): Promise<void>;
  snapshot(): Promise<string>;
  revert(id: string): Promise<void>;
  /** Sets the next block's timestamp and mines one block there. */
  warpTo(ts: bigint): Promise<void>;
  stop(): Promise<void>;
}

export interface FixtureOptions {
  feed?: Partial<FeedConfig>;
  /** Guardian address for the hub (default: the deployer). */
  guardian?: string;
  extraSources?: Record<string, string>;
  /** Initial answer pushed after setup (default 2000.00000000); null for none. */
  initialAnswer?: bigint | null;
}

export async function setup(opts: FixtureOptions = {}): Promise<Fixture> {
  const compiled = compileContracts(opts.extraSources ? { extraSources: opts.extraSources } : {});
  const anvil = await startAnvil();
  try {
    const signers = await Promise.all(Array.from({ length: 10 }, (_, i) => anvil.signer(i)));
    const deployer = signers[0]!;
    const committee = dealerKeygen(3, 4);
    const guardian = opts.guardian ?? (await deployer.getAddress());
    const hub = await deploy(deployer, 'AegisHub', [guardian, 60, 300, { groupPublicKey: hexlify(g2ToEip2537(committee.groupPublicKey)), n: 4, t: 3 }], { compiled });
    if (opts.guardian === undefined) await (await hub.addFeed!(FEED, feedConfig(opts.feed))).wait();
    const oracle = new Oracle(hub, committee);
    if (opts.initialAnswer !== null && opts.guardian === undefined) await oracle.push(opts.initialAnswer ?? 2000n * ONE);

    const seen = new Set<string>();
    const fragments: string[] = [];
    for (const [name, a] of [...Object.entries(compiled.contracts), ...Object.entries(compileTestContracts().contracts)]) {
      if (name.includes(':')) continue;
      for (const f of new Interface(a.abi as InterfaceAbi).fragments) {
        if (f.type !== 'error') continue;
        const sig = f.format('full');
        const key = f.format('sighash');
        if (seen.has(key)) continue;
        seen.add(key);
        fragments.push(sig);
      }
    }
    const errors = new Interface(fragments);
    const send = (m: string, p: unknown[]): Promise<unknown> => anvil.provider.send(m, p);
    // After a revert, mine one block a second after the snapshot's last one: "latest block
    // time" (what `push` stamps reports with) is then strictly newer than every observedAt in
    // the reverted state, and anvil's time offsets from earlier warps do not leak through.
    const freshBlock = async (): Promise<void> => {
      const latest = await anvil.provider.getBlock('latest');
      await send('evm_mine', [latest!.timestamp + 1]);
    };
    let snap = (await send('evm_snapshot', [])) as string;
    return {
      anvil,
      compiled,
      signers,
      deployer,
      hub,
      committee,
      oracle,
      errors,
      reset: async () => {
        if ((await send('evm_revert', [snap])) !== true) throw new Error(`evm_revert(${snap}) returned false: the fixture's snapshot is gone; was it reverted outside reset()?`);
        await freshBlock();
        snap = (await send('evm_snapshot', [])) as string;
        oracle.epoch = (await hub.latestEpoch!()) as bigint;
        oracle.lastObservedAt = 0n;
      },
      snapshot: async () => (await send('evm_snapshot', [])) as string,
      revert: async (id) => {
        // anvil answers false (and keeps the current state) for an unknown or used snapshot id.
        if ((await send('evm_revert', [id])) !== true) throw new Error(`evm_revert(${id}) returned false: no such snapshot (each id reverts once); take a new snapshot after every revert`);
        await freshBlock();
        oracle.epoch = (await hub.latestEpoch!()) as bigint;
        oracle.lastObservedAt = 0n;
      },
      warpTo: async (ts) => {
        await send('evm_setNextBlockTimestamp', [Number(ts)]);
        await send('evm_mine', []);
      },
      stop: () => anvil.stop(),
    };
  } catch (err) {
    await anvil.stop();
    throw err;
  }
}

/** Deploys product contract `name` from the fixture's compile output. */
export function deployWith(f: Fixture, signer: JsonRpcSigner, name: string, args: unknown[] = []): Promise<Contract> {
  return deploy(signer, name, args, { compiled: f.compiled });
}

/** Deploys `name` from the test set (`contracts/test`, `contracts/mock`: tokens, hostile consumers, mock feeds). */
export function deployTest(signer: JsonRpcSigner, name: string, args: unknown[] = []): Promise<Contract> {
  return deploy(signer, name, args, { compiled: compileTestContracts() });
}

/** The contract `c` seen from another signer. */
/** Mints `amount` of `token` to each signer and approves `spender` for all of it (test setup of every settlement suite). */
export async function fundAndApprove(token: Contract, spender: Contract, signers: readonly JsonRpcSigner[], amount: bigint): Promise<void> {
  const to = await spender.getAddress();
  for (const s of signers) {
    await (await token.mint!(await s.getAddress(), amount)).wait();
    await (await as(token, s).approve!(to, 2n ** 255n)).wait();
  }
}

export function as(c: Contract, signer: JsonRpcSigner): Contract {
  return c.connect(signer) as Contract;
}

function revertData(err: unknown): string | undefined {
  const e = err as { data?: unknown; info?: { error?: { data?: unknown } }; error?: { data?: unknown } };
  for (const d of [e.data, e.info?.error?.data, e.error?.data]) {
    if (typeof d === 'string' && d.startsWith('0x')) return d;
    if (d && typeof d === 'object' && typeof (d as { data?: unknown }).data === 'string') return (d as { data: string }).data;
  }
  return undefined;
}

/** Decodes the custom error a failed call or transaction reverted with. */
export function decodeRevert(f: Fixture, err: unknown): ErrorDescription | null {
  const data = revertData(err);
  if (!data) return null;
  return f.errors.parseError(data);
}

/** Asserts that `p` reverts with custom error `name` (and, if given, exactly these args). */
export async function expectRevert(f: Fixture, p: Promise<unknown>, name: string, args?: unknown[]): Promise<ErrorDescription> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  if (err === undefined) throw new Error(`expected a revert with ${name}, but the call succeeded`);
  const d = decodeRevert(f, err);
  if (!d) throw new Error(`expected a revert with ${name}, got an undecodable error: ${(err as Error).message.slice(0, 300)}`);
  expect(d.name).toBe(name);
  if (args) expect([...d.args]).toEqual(args);
  return d;
}

/** The logs of receipt `rc` that `c`'s ABI decodes (emitted by `c`). */
export function events(c: Contract, rc: unknown): LogDescription[] {
  const logs = (rc as { logs: readonly { topics: readonly string[]; data: string }[] }).logs;
  return logs.map((l) => c.interface.parseLog({ topics: [...l.topics], data: l.data })).filter((e): e is LogDescription => e !== null);
}

export { artifact, testArtifact };
