/**
 * `aegis hub status`: what a hub serves and who governs it, read from the chain only — every
 * feed's answer, age, round, status, spread and breaker candidate, the committee (digest,
 * version, n, t), the epoch, pause state, clock bounds and the guardian chain.
 */
import { Contract, type Provider } from 'ethers';
import { artifact, compileContracts } from '../compile.ts';
import { describeGuardian, type Guardian } from './guardian.ts';

export const STATUS_NAMES = ['unknown', 'active', 'tripped', 'paused', 'stale', 'suspended'] as const;

export interface FeedStatusRow {
  feedId: string;
  description: string;
  decimals: number;
  answer: string;
  /** The answer scaled by its decimals, as a decimal string. */
  price: string;
  observedAt: number;
  ageSec: number;
  roundId: number;
  status: string;
  spreadBps: number;
  deviationBps: number;
  heartbeatSec: number;
  maxStalenessSec: number;
  breaker?: { candidate: string; since: number; confirmationsSeen: number; confirmationsNeeded: number };
}

export interface HubStatus {
  hub: string;
  chainId: number;
  blockNumber: number;
  blockTime: number;
  committee: { configDigest: string; configVersion: number; n: number; t: number };
  latestEpoch: string;
  paused: boolean;
  maxFutureDriftSec: number;
  maxReportAgeSec: number;
  guardian: Guardian;
  feeds: FeedStatusRow[];
}

/** `answer` / 10^decimals as an exact decimal string (no float rounding). */
export function scaled(answer: bigint, decimals: number): string {
  const neg = answer < 0n;
  const s = (neg ? -answer : answer).toString().padStart(decimals + 1, '0');
  const int = s.slice(0, s.length - decimals);
  const frac = s.slice(s.length - decimals).replace(/0+$/, '');
  return `${neg ? '-' : ''}${int}${frac ? `.${frac}` : ''}`;
}

export async function hubStatus(provider: Provider, hubAddress: string): Promise<HubStatus> {
  if ((await provider.getCode(hubAddress)) === '0x') throw new Error(`hub ${hubAddress}: no contract at this address on chain ${(await provider.getNetwork()).chainId}; check --hub and --rpc`);
  const hub = new Contract(hubAddress, artifact('AegisHub', compileContracts()).abi as never, provider);
  const call = <T>(name: string, ...args: unknown[]): Promise<T> => hub.getFunction(name).staticCall(...args) as Promise<T>;
  const block = (await provider.getBlock('latest'))!;
  const [c, epoch, paused, drift, maxAge, guardian, ids] = await Promise.all([
    call<{ configDigest: string; configVersion: bigint; n: bigint; t: bigint }>('committee'),
    call<bigint>('latestEpoch'),
    call<boolean>('paused'),
    call<bigint>('maxFutureDrift'),
    call<bigint>('maxReportAge'),
    call<string>('guardian'),
    call<string[]>('feedIds'),
  ]);
  const feeds: FeedStatusRow[] = [];
  for (const id of ids) {
    const [r, cfg] = await Promise.all([call<[bigint, bigint, bigint, bigint, bigint]>('tryRead', id), call<{ description: string; decimals: bigint; deviationBps: bigint; heartbeat: bigint; maxStaleness: bigint; confirmations: bigint }>('feedConfig', id)]);
    const [answer, observedAt, spreadBps, roundId, status] = r;
    const row: FeedStatusRow = {
      feedId: id,
      description: cfg.description,
      decimals: Number(cfg.decimals),
      answer: answer.toString(),
      price: scaled(answer, Number(cfg.decimals)),
      observedAt: Number(observedAt),
      ageSec: Math.max(0, block.timestamp - Number(observedAt)),
      roundId: Number(roundId),
      status: STATUS_NAMES[Number(status)] ?? `status ${status}`,
      spreadBps: Number(spreadBps),
      deviationBps: Number(cfg.deviationBps),
      heartbeatSec: Number(cfg.heartbeat),
      maxStalenessSec: Number(cfg.maxStaleness),
    };
    const b = await call<[boolean, bigint, bigint, bigint, bigint]>('breakerState', id);
    if (b[0]) row.breaker = { candidate: scaled(b[1], row.decimals), since: Number(b[2]), confirmationsSeen: Number(b[4]), confirmationsNeeded: Number(cfg.confirmations) };
    feeds.push(row);
  }
  return {
    hub: await hub.getAddress(),
    chainId: Number((await provider.getNetwork()).chainId),
    blockNumber: block.number,
    blockTime: block.timestamp,
    committee: { configDigest: c.configDigest, configVersion: Number(c.configVersion), n: Number(c.n), t: Number(c.t) },
    latestEpoch: epoch.toString(),
    paused,
    maxFutureDriftSec: Number(drift),
    maxReportAgeSec: Number(maxAge),
    guardian: await describeGuardian(provider, guardian),
    feeds,
  };
}
