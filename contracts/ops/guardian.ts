/**
 * Who governs a hub: its guardian, and what that guardian is — a key (EOA), a Safe (owners and
 * threshold), or a TimelockController (minimum delay, and who may propose and execute, from its
 * role events), followed one level down (a timelock whose proposer is a Safe).
 */
import { Contract, getAddress, id, type Provider } from 'ethers';

const SAFE_ABI = ['function getOwners() view returns (address[])', 'function getThreshold() view returns (uint256)', 'function VERSION() view returns (string)', 'function nonce() view returns (uint256)'];
const TIMELOCK_ABI = [
  'function getMinDelay() view returns (uint256)',
  'function hasRole(bytes32 role, address account) view returns (bool)',
  'event RoleGranted(bytes32 indexed role, address indexed account, address indexed sender)',
  'event RoleRevoked(bytes32 indexed role, address indexed account, address indexed sender)',
];
export const PROPOSER_ROLE = id('PROPOSER_ROLE');
export const EXECUTOR_ROLE = id('EXECUTOR_ROLE');
export const CANCELLER_ROLE = id('CANCELLER_ROLE');

export type Guardian =
  | { kind: 'eoa'; address: string }
  | { kind: 'safe'; address: string; version: string; owners: string[]; threshold: number; nonce: number }
  | { kind: 'timelock'; address: string; minDelaySec: number; proposers: Guardian[]; executors: string[] }
  | { kind: 'contract'; address: string };

/** Role members of a timelock from its RoleGranted/RoleRevoked events, checked with hasRole. */
async function members(t: Contract, role: string): Promise<string[]> {
  const candidates = new Set<string>();
  try {
    for (const log of await t.queryFilter(t.filters.RoleGranted!(role), 0)) candidates.add(getAddress(String((log as unknown as { args: unknown[] }).args[1])));
  } catch {
    return []; // an RPC that limits log ranges: the members stay unknown rather than wrong
  }
  const out: string[] = [];
  for (const a of candidates) if ((await t.getFunction('hasRole').staticCall(role, a)) as boolean) out.push(a);
  return out;
}

export async function describeGuardian(provider: Provider, address: string, depth = 0): Promise<Guardian> {
  const a = getAddress(address);
  if ((await provider.getCode(a)) === '0x') return { kind: 'eoa', address: a };
  const safe = new Contract(a, SAFE_ABI, provider);
  try {
    const [owners, threshold, version, nonce] = await Promise.all([
      safe.getFunction('getOwners').staticCall() as Promise<string[]>,
      safe.getFunction('getThreshold').staticCall() as Promise<bigint>,
      safe.getFunction('VERSION').staticCall() as Promise<string>,
      safe.getFunction('nonce').staticCall() as Promise<bigint>,
    ]);
    return { kind: 'safe', address: a, version, owners: owners.map((o) => getAddress(o)), threshold: Number(threshold), nonce: Number(nonce) };
  } catch {
    /* not a Safe */
  }
  const timelock = new Contract(a, TIMELOCK_ABI, provider);
  try {
    const minDelay = (await timelock.getFunction('getMinDelay').staticCall()) as bigint;
    const proposers = await members(timelock, PROPOSER_ROLE);
    const executors = await members(timelock, EXECUTOR_ROLE);
    return {
      kind: 'timelock',
      address: a,
      minDelaySec: Number(minDelay),
      proposers: depth < 1 ? await Promise.all(proposers.map((p) => describeGuardian(provider, p, depth + 1))) : proposers.map((p) => ({ kind: 'contract' as const, address: p })),
      executors,
    };
  } catch {
    return { kind: 'contract', address: a };
  }
}

/** One line: "Safe 0x… (2 of 3, v1.4.1)" / "timelock 0x… (delay 86400 s) proposed by Safe 0x… (2 of 3)". */
export function guardianLine(g: Guardian): string {
  switch (g.kind) {
    case 'eoa':
      return `key ${g.address}`;
    case 'safe':
      return `Safe ${g.address} (${g.threshold} of ${g.owners.length}, v${g.version})`;
    case 'timelock':
      return `timelock ${g.address} (delay ${g.minDelaySec} s)${g.proposers.length ? ` proposed by ${g.proposers.map(guardianLine).join(', ')}` : ''}`;
    default:
      return `contract ${g.address}`;
  }
}
