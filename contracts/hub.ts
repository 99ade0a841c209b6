/**
 * TypeScript side of the AegisHub: deploy it for a committee, add feeds, sign and send
 * reports. Uses protocol/bls and protocol/report (the encodings the contract matches byte for
 * byte) and the harness (compile, deploy).
 */
import { getBytes, hexlify, type Contract, type Signer, type TransactionReceipt } from 'ethers';
import {
  combinePartials,
  dealerKeygen,
  g2ToEip2537,
  hashToG1,
  partialSign,
  signatureToEvm,
  type DealerOutput,
  type KeyShare,
} from '../protocol/bls/index.ts';
import { feedId as toFeedId, reportMessage, type Report } from '../protocol/report.ts';
import { compileContracts, type CompileOutput } from './compile.ts';
import { deploy } from './deploy.ts';

/** Mirrors `IAegisHub.FeedConfig`. */
export interface FeedConfig {
  minAnswer: bigint;
  maxAnswer: bigint;
  maxStaleness: number;
  heartbeat: number;
  deviationBps: number;
  confirmations: number;
  confirmationTime: number;
  historyCapacity: number;
  decimals: number;
  description: string;
}

/** Mirrors `IAegisFeeds.FeedStatus`. */
export enum FeedStatus {
  Unknown = 0,
  Active = 1,
  Tripped = 2,
  Paused = 3,
  Stale = 4,
  Suspended = 5,
}

/** Mirrors `IAegisHub.SkipReason`. */
export enum SkipReason {
  UnknownFeed = 0,
  FeedPaused = 1,
  NotNewer = 2,
  OutOfBounds = 3,
}

export const INT96_MAX = (1n << 95n) - 1n;

/** A permissive default: 8 decimals, bounds (0, 2^95), 1 h staleness, 10 % breaker, 32 rounds. */
export function feedConfig(overrides: Partial<FeedConfig> = {}): FeedConfig {
  return {
    minAnswer: 1n,
    maxAnswer: INT96_MAX,
    maxStaleness: 3600,
    heartbeat: 3600,
    deviationBps: 1000,
    confirmations: 2,
    confirmationTime: 60,
    historyCapacity: 32,
    decimals: 8,
    description: 'TEST / USD',
    ...overrides,
  };
}

/** The committee as the hub's constructor / rotateCommittee take it. */
export function committeeConfig(c: Pick<DealerOutput, 'groupPublicKey' | 'n' | 't'>): { groupPublicKey: string; n: number; t: number } {
  return { groupPublicKey: hexlify(g2ToEip2537(c.groupPublicKey)), n: c.n, t: c.t };
}

/** A dealer committee with its group secret kept (tests and benchmarks only). */
export interface TestCommittee extends DealerOutput {
  secret: bigint;
}

export function testCommittee(n: number, t = 2 * Math.floor((n - 1) / 3) + 1): TestCommittee {
  // Any scalar in [1, r−1]; drawn from 31 random bytes so it is below r.
  const secret = BigInt(hexlify(crypto.getRandomValues(new Uint8Array(31)))) + 1n;
  return { ...dealerKeygen(t, n, secret), secret };
}

/** Signs a 32-byte message as the committee would: t partials (by the given shares) combined. */
export function thresholdSign(shares: readonly KeyShare[], t: number, message: Uint8Array): Uint8Array {
  return signatureToEvm(combinePartials(shares.slice(0, t).map((s) => partialSign(s, message)), t));
}

/** The same group signature computed from the group secret (fast path for benchmarks). */
export function secretSign(secret: bigint, message: Uint8Array): Uint8Array {
  return signatureToEvm(hashToG1(message).multiply(secret).toBytes());
}

/** Signs a report with the committee (threshold path). Returns the 96-byte x‖y signature. */
export function signReport(c: DealerOutput, report: Report, signers?: readonly KeyShare[]): Uint8Array {
  return thresholdSign(signers ?? c.shares, c.t, reportMessage(report));
}

export interface DeployHubOptions {
  guardian?: string;
  maxFutureDrift?: number;
  /** Seconds a report may be old at acceptance (default 300; 1 to 86,400). */
  maxReportAge?: number;
  compiled?: CompileOutput;
}

/** The hub's default bound on report age at acceptance: long enough for a pull-mode consumer to fetch and submit a report, short enough that a stock of old signed reports is useless. */
export const DEFAULT_MAX_REPORT_AGE_S = 300;

/** Deploys an AegisHub for committee `c` (configVersion 1). */
export async function deployHub(signer: Signer, c: Pick<DealerOutput, 'groupPublicKey' | 'n' | 't'>, opts: DeployHubOptions = {}): Promise<Contract> {
  const guardian = opts.guardian ?? (await signer.getAddress());
  return deploy(signer, 'AegisHub', [guardian, opts.maxFutureDrift ?? 60, opts.maxReportAge ?? DEFAULT_MAX_REPORT_AGE_S, committeeConfig(c)], { compiled: opts.compiled ?? compileContracts() });
}

/** Adds feeds by name (or bytes32 id) with one config; returns their ids. */
export async function addFeeds(hub: Contract, names: readonly string[], cfg: Partial<FeedConfig> = {}): Promise<string[]> {
  const ids: string[] = [];
  for (const name of names) {
    const id = name.startsWith('0x') && name.length === 66 ? name : toFeedId(name);
    await (await hub.addFeed!(id, feedConfig({ description: name, ...cfg }))).wait();
    ids.push(id);
  }
  return ids;
}

/** A report for the hub's current digest. */
export async function makeReport(hub: Contract, fields: Partial<Report> & Pick<Report, 'epoch' | 'observedAt' | 'feedIds' | 'answers'>): Promise<Report> {
  return {
    configDigest: (await hub.configDigest!()) as string,
    observationsRoot: hexlify(new Uint8Array(32).fill(0xab)),
    observers: 0xfn,
    spreadBps: fields.feedIds.map(() => 12),
    ...fields,
  };
}

/** Sends `transmit` and returns the mined receipt. */
export async function transmit(hub: Contract, report: Report, signature: Uint8Array): Promise<TransactionReceipt> {
  const tx = await hub.transmit!(report, signature);
  return (await tx.wait())!;
}

export { getBytes };

/**
 * A committee file (protocol/committee.ts shape) for a dealer committee on `chainId`, with
 * placeholder identity keys and URLs: what `aegis hub deploy` takes in tests and benchmarks.
 * The hub address is a placeholder the deployment replaces.
 */
export function devCommitteeFile(c: Pick<DealerOutput, 'groupPublicKey' | 'publicShares' | 'shares' | 't'>, chainId: number): Record<string, unknown> {
  return {
    chainId,
    hub: '0x0000000000000000000000000000000000000001',
    configVersion: 1,
    t: c.t,
    groupPublicKey: hexlify(c.groupPublicKey),
    nodes: c.shares.map((s, k) => ({ index: s.index, identityKey: hexlify(new Uint8Array(32).fill(k + 1)), publicShare: hexlify(c.publicShares[k]!), url: `http://127.0.0.1:${9000 + k}` })),
    aggregators: [],
  };
}
