/**
 * `aegis hub plan`: the difference between a hub on chain and its `hub.yaml`, as the fewest
 * calls that close it. Feeds to add go in `addFeeds` batches sized to a gas budget; every other
 * guardian call goes through the hub's `multicall`; adapters through the factory's
 * `createMany`. The guardian hand-over, if any, is always the last call. Nothing here sends.
 */
import { Contract, getAddress, type Provider } from 'ethers';
import { abiOf } from '../abi.ts';
import type { FeedConfig } from '../hub.ts';
import type { DesiredHub } from './hub-config.ts';

/** One guardian or factory call, ready to send or to put in a multisig batch. */
export interface Call {
  to: string;
  data: string;
  /** What it does, for the plan and the Safe batch's description. */
  what: string;
}

export interface Plan {
  /** Human lines, one per change; empty when the hub matches. */
  changes: string[];
  /** Differences no call can close (a history capacity, a feed the file no longer lists). */
  warnings: string[];
  /** Guardian calls to the hub, in order, each a batch (one transaction or one multisig entry). */
  hubCalls: Call[];
  /** Permissionless adapter creations through the factory. */
  factoryCalls: Call[];
  /** Feeds counted by what happens to them. */
  counts: { add: number; configure: number; pause: number; adapters: number };
}

const FIELDS: (keyof FeedConfig)[] = ['minAnswer', 'maxAnswer', 'maxStaleness', 'heartbeat', 'deviationBps', 'confirmations', 'confirmationTime', 'historyCapacity', 'decimals', 'description'];

/** Gas an `addFeeds` entry costs: the history ring pre-initialised (a fresh slot each), config and state slots, the event, the table word. */
export function addFeedGasEstimate(c: FeedConfig): number {
  return 22_200 * c.historyCapacity + 130_000;
}

export interface PlanOptions {
  /** Gas budget per `addFeeds` transaction (default 25,000,000: under a 30 M block). */
  maxGasPerTx?: number;
  /** Calls per multicall batch (default 50). */
  callsPerBatch?: number;
}

export async function planHub(provider: Provider, desired: DesiredHub, o: PlanOptions = {}): Promise<Plan> {
  const chainId = Number((await provider.getNetwork()).chainId);
  if (chainId !== desired.chainId) throw new Error(`hub config is for chain ${desired.chainId}, the RPC serves chain ${chainId}; point --rpc at chain ${desired.chainId}`);
  if ((await provider.getCode(desired.hub)) === '0x') throw new Error(`hub ${desired.hub}: no contract on chain ${chainId}; deploy it first (aegis hub deploy)`);
  const hub = new Contract(desired.hub, abiOf('AegisHub'), provider);
  const call = <T>(name: string, ...args: unknown[]): Promise<T> => hub.getFunction(name).staticCall(...args) as Promise<T>;
  const [ids, paused, guardian] = await Promise.all([call<string[]>('feedIds'), call<boolean>('paused'), call<string>('guardian')]);
  const onChain = new Map<string, FeedConfig>();
  for (const id of ids) {
    const c = await call<FeedConfig>('feedConfig', id);
    onChain.set(id.toLowerCase(), Object.fromEntries(FIELDS.map((k) => [k, typeof c[k] === 'bigint' && k !== 'minAnswer' && k !== 'maxAnswer' ? Number(c[k]) : c[k]])) as unknown as FeedConfig);
  }
  // Per-feed pause flags from the hub's own events (the hub-wide pause masks them in tryRead).
  const feedPaused = new Map<string, boolean>();
  for (const log of await hub.queryFilter(hub.filters.FeedPauseChanged!(), 0)) {
    const args = (log as unknown as { args: [string, string, boolean] }).args;
    feedPaused.set(args[0].toLowerCase(), args[2]);
  }

  const changes: string[] = [];
  const warnings: string[] = [];
  const single: { data: string; what: string }[] = [];
  const adds: typeof desired.feeds = [];
  const counts = { add: 0, configure: 0, pause: 0, adapters: 0 };
  const iface = hub.interface;
  for (const f of desired.feeds) {
    const have = onChain.get(f.id);
    if (!have) {
      adds.push(f);
      changes.push(`+ feed ${f.name}: ${f.config.description}, ${f.config.decimals} decimals, breaker ${f.config.deviationBps / 100} %, heartbeat ${f.config.heartbeat} s, history ${f.config.historyCapacity}`);
      counts.add++;
      if (f.paused) {
        single.push({ data: iface.encodeFunctionData('setFeedPaused', [f.id, true]), what: `pause feed ${f.name}` });
        changes.push(`~ feed ${f.name}: paused`);
        counts.pause++;
      }
      continue;
    }
    const diffs = FIELDS.filter((k) => String(have[k]) !== String(f.config[k]));
    if (diffs.includes('historyCapacity')) {
      warnings.push(`feed ${f.name}: historyCapacity ${have.historyCapacity} on chain, ${f.config.historyCapacity} in the file; the hub fixes it when the feed is added (keep ${have.historyCapacity})`);
    } else if (diffs.length) {
      single.push({ data: iface.encodeFunctionData('configureFeed', [f.id, f.config]), what: `configure feed ${f.name}` });
      changes.push(`~ feed ${f.name}: ${diffs.map((k) => `${k} ${String(have[k])} → ${String(f.config[k])}`).join(', ')}`);
      counts.configure++;
    }
    if ((feedPaused.get(f.id) ?? false) !== f.paused) {
      single.push({ data: iface.encodeFunctionData('setFeedPaused', [f.id, f.paused]), what: `${f.paused ? 'pause' : 'unpause'} feed ${f.name}` });
      changes.push(`~ feed ${f.name}: ${f.paused ? 'paused' : 'unpaused'}`);
      counts.pause++;
    }
  }
  const listed = new Set(desired.feeds.map((f) => f.id));
  for (const id of onChain.keys()) if (!listed.has(id)) warnings.push(`feed ${onChain.get(id)!.description} (${id}) is on the hub but not in the file; feeds cannot be removed (pause it with paused: true instead)`);
  if (desired.paused !== undefined && desired.paused !== paused) {
    single.push({ data: iface.encodeFunctionData(desired.paused ? 'pause' : 'unpause', []), what: desired.paused ? 'pause the hub' : 'unpause the hub' });
    changes.push(`~ hub: ${desired.paused ? 'paused' : 'unpaused'}`);
  }
  const guardianChange = desired.guardian !== undefined && getAddress(desired.guardian) !== getAddress(guardian);
  if (guardianChange) changes.push(`~ guardian ${guardian} → ${getAddress(desired.guardian!)} (applied last)`);

  // Batches: addFeeds by gas budget, then the other calls by count, guardian last.
  const budget = o.maxGasPerTx ?? 25_000_000;
  const perBatch = o.callsPerBatch ?? 50;
  const hubCalls: Call[] = [];
  for (let i = 0; i < adds.length; ) {
    const batch: typeof adds = [];
    let gas = 100_000 + 200 * 32 * (ids.length + adds.length);
    while (i < adds.length && (batch.length === 0 || gas + addFeedGasEstimate(adds[i]!.config) <= budget)) {
      gas += addFeedGasEstimate(adds[i]!.config);
      batch.push(adds[i++]!);
    }
    hubCalls.push({ to: desired.hub, data: iface.encodeFunctionData('addFeeds', [batch.map((f) => f.id), batch.map((f) => f.config)]), what: `add ${batch.length} feed(s): ${batch.map((f) => f.name).join(', ')}` });
  }
  const rest = [...single, ...(guardianChange ? [{ data: iface.encodeFunctionData('setGuardian', [getAddress(desired.guardian!)]), what: `hand the guardian role to ${getAddress(desired.guardian!)}` }] : [])];
  for (let i = 0; i < rest.length; i += perBatch) {
    const chunk = rest.slice(i, i + perBatch);
    hubCalls.push(chunk.length === 1 ? { to: desired.hub, ...chunk[0]! } : { to: desired.hub, data: iface.encodeFunctionData('multicall', [chunk.map((c) => c.data)]), what: chunk.map((c) => c.what).join('; ') });
  }

  // Adapters: missing ones, grouped by kind, through createMany.
  const factoryCalls: Call[] = [];
  if (desired.factory) {
    const factory = new Contract(desired.factory, abiOf('AegisAggregatorV3Factory'), provider);
    const groups = new Map<string, { strict: boolean; maxAge: number; feeds: typeof desired.feeds }>();
    for (const f of desired.feeds) {
      for (const a of f.adapters) {
        const exists = onChain.has(f.id)
          ? ((a.kind === 'lenient' ? await factory.getFunction('adapterOf').staticCall(desired.hub, f.id) : await factory.getFunction('strictAdapterOf').staticCall(desired.hub, f.id, a.maxAgeSec)) as string)
          : '0x0000000000000000000000000000000000000000';
        if (BigInt(exists) !== 0n) continue;
        const key = a.kind === 'lenient' ? 'lenient' : `strict:${a.maxAgeSec}`;
        if (!groups.has(key)) groups.set(key, { strict: a.kind === 'strict', maxAge: a.kind === 'strict' ? a.maxAgeSec : 0, feeds: [] });
        groups.get(key)!.feeds.push(f);
        changes.push(`+ adapter ${a.kind === 'lenient' ? 'lenient' : `strict (max age ${a.maxAgeSec} s)`} for ${f.name}`);
        counts.adapters++;
      }
    }
    for (const g of groups.values()) {
      for (let i = 0; i < g.feeds.length; i += 100) {
        const chunk = g.feeds.slice(i, i + 100);
        factoryCalls.push({ to: desired.factory, data: factory.interface.encodeFunctionData('createMany', [desired.hub, chunk.map((f) => f.id), g.strict, g.maxAge]), what: `create ${chunk.length} ${g.strict ? `strict (max age ${g.maxAge} s)` : 'lenient'} adapter(s)` });
      }
    }
  }
  return { changes, warnings, hubCalls, factoryCalls, counts };
}
