/**
 * The page's view of the hub, read with `fetch` over JSON-RPC: through the aggregator's
 * read-only pass-through (`api/rpc`) or straight from any RPC URL (read-only mode). Every
 * number a feed page shows (answer, age, round, status, breaker, history) comes from here, not
 * from the aggregator's memory (docs/design.md §Hub: the hub is the record).
 */
import { id as keccakId, Interface, type InterfaceAbi, type Log } from 'ethers';
import hubAbiJson from '../../contracts/abi/AegisHub.json' with { type: 'json' };

// The ABIs are parsed into ethers Interfaces on first use: parsing the hub's ~90 fragments took
// ~25 ms of the page's start on a busy 2-core machine, and the feed list needs only selectors.
let hubInterface: Interface | undefined;
let consumerInterface: Interface | undefined;

/** The hub's ABI generated from the compiled contract (contracts/abi, `npm run compile`): the page cannot drift from the hub's events and views. */
export function hubAbi(): Interface {
  return (hubInterface ??= new Interface(hubAbiJson as InterfaceAbi));
}

/** What a settlement contract exposes about the feed it reads (contracts/src/settlement). */
export function consumerAbi(): Interface {
  return (consumerInterface ??= new Interface([
    'function hub() view returns (address)',
    'function feedId() view returns (bytes32)',
    'function markPrice() view returns (int256 price, uint256 roundId)',
    'function settlementWindow() view returns (uint256)',
  ]));
}

interface AbiParam {
  type: string;
  components?: readonly AbiParam[];
}

/** The canonical type of an ABI parameter, as function signatures spell it (tuples expanded). */
function canonicalType(p: AbiParam): string {
  return p.type.startsWith('tuple') ? `(${(p.components ?? []).map(canonicalType).join(',')})${p.type.slice('tuple'.length)}` : p.type;
}

/** A hub function's selector, from the same generated ABI file the Interface reads. */
function hubSelector(name: string): string {
  const f = (hubAbiJson as readonly { type: string; name?: string; inputs?: readonly AbiParam[] }[]).find((e) => e.type === 'function' && e.name === name);
  if (!f) throw new Error(`contracts/abi/AegisHub.json has no function ${name}; run \`npm run compile\` and rebuild the dashboard`);
  return keccakId(`${name}(${(f.inputs ?? []).map(canonicalType).join(',')})`).slice(0, 10);
}

export interface Consumer {
  address: string;
  feedId: string;
  kind: 'futures market' | 'European option' | 'contract';
  /** A futures market's mark price now, or why it has none (its own revert). */
  mark?: { price: bigint; roundId: bigint } | { error: string };
}

/** IAegisFeeds.FeedStatus in declaration order. */
export const FEED_STATUS = ['unknown', 'active', 'tripped', 'paused', 'stale', 'suspended'] as const;

export interface FeedView {
  id: string;
  name: string;
  description: string;
  decimals: number;
  answer: bigint;
  observedAt: number;
  spreadBps: number;
  roundId: bigint;
  status: (typeof FEED_STATUS)[number];
  maxStaleness: number;
  heartbeat: number;
  deviationBps: number;
  confirmations: number;
  confirmationTime: number;
  breaker: { tripped: boolean; candidate: bigint; since: number; lastAt: number; seen: number };
}

export interface HubView {
  blockNumber: number;
  blockTime: number;
  paused: boolean;
  feeds: FeedView[];
}

export interface HistoryPoint {
  time: number;
  answer: bigint;
  roundId: bigint;
  block: number;
  tx: string;
}

export interface BreakerMark {
  time: number;
  kind: 'tripped' | 'confirmed' | 'cleared' | 'resolved' | 'rejected';
  value: bigint;
  block: number;
}

export class RpcError extends Error {}

export function nameOf(id: string): string {
  // A bytes32 string: UTF-8, zero-padded, at most 31 bytes (ethers' encodeBytes32String). Read
  // here rather than by ethers' decodeBytes32String, whose hex parsing cost ~12 ms for 100 feeds.
  if (!/^0x[0-9a-fA-F]{64}$/.test(id)) return id;
  const bytes = hexToBytes(id);
  if (bytes[31] !== 0) return id;
  let length = 31;
  while (length > 0 && bytes[length - 1] === 0) length--;
  try {
    return UTF8.decode(bytes.subarray(0, length));
  } catch {
    return id;
  }
}

interface RpcCall {
  method: string;
  params: unknown[];
}

/** The part of `IAegisHub.FeedConfig` the pages show. */
interface FeedConfigView {
  description: string;
  decimals: number;
  maxStaleness: number;
  heartbeat: number;
  deviationBps: number;
  confirmations: number;
  confirmationTime: number;
}

// -- ABI reading for the feed list --
// The feed list is one multicall answer of about 140 kB for 100 feeds. Ethers' generic decoder
// spent 100–300 ms of the page's main thread on it (hex to bytes and back per element); these
// readers slice the hex string by word position, in the layouts the hub's ABI fixes (tryRead:
// five static words; feedConfig: a tuple with one string; multicall: bytes[]), and check every
// length they rely on.

const UTF8 = new TextDecoder('utf-8', { fatal: true });

function assertHex(hex: unknown, what: string): asserts hex is string {
  if (typeof hex !== 'string' || !/^0x(?:[0-9a-fA-F]{2})*$/.test(hex)) throw new RpcError(`${what}: the RPC answered ${String(hex).slice(0, 40)}, not hex data`);
}

function wordAt(hex: string, byte: number, what: string): string {
  const start = 2 + byte * 2;
  const w = hex.slice(start, start + 64);
  if (w.length !== 64) throw new RpcError(`${what}: ABI data of ${(hex.length - 2) / 2} bytes ends before the word at byte ${byte}; is the hub address right?`);
  return w;
}

function uintAt(hex: string, byte: number, what: string): bigint {
  return BigInt('0x' + wordAt(hex, byte, what));
}

/** A word that must fit a JavaScript number (offsets, lengths, small config fields). */
function numAt(hex: string, byte: number, what: string): number {
  const v = uintAt(hex, byte, what);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new RpcError(`${what}: word at byte ${byte} is ${v}, too large for an offset, length or small field`);
  return Number(v);
}

/** The byte string at ABI offset `byte` (length word, then the bytes), as 0x-hex. */
function bytesAt(hex: string, byte: number, what: string): string {
  const len = numAt(hex, byte, what);
  const start = 2 + (byte + 32) * 2;
  const body = hex.slice(start, start + len * 2);
  if (body.length !== len * 2) throw new RpcError(`${what}: ABI data ends inside a ${len}-byte value at byte ${byte + 32}`);
  return '0x' + body;
}

/** The hub's `multicall` answer (`bytes[] results`), each result as 0x-hex. */
export function decodeMulticall(hex: string): string[] {
  const what = 'multicall';
  assertHex(hex, what);
  const head = numAt(hex, 0, what);
  const n = numAt(hex, head, what);
  const base = head + 32;
  const out: string[] = new Array(n);
  for (let k = 0; k < n; k++) out[k] = bytesAt(hex, base + numAt(hex, base + 32 * k, what), what);
  return out;
}

/** `tryRead(feedId)`: (int256 answer, uint256 observedAt, uint256 spreadBps, uint256 roundId, uint8 status). */
export function decodeTryRead(hex: string): { answer: bigint; observedAt: number; spreadBps: number; roundId: bigint; status: number } {
  const what = 'tryRead';
  return {
    answer: BigInt.asIntN(256, uintAt(hex, 0, what)),
    observedAt: numAt(hex, 32, what),
    spreadBps: numAt(hex, 64, what),
    roundId: uintAt(hex, 96, what),
    status: numAt(hex, 128, what),
  };
}

/** `feedConfig(feedId)`: one FeedConfig tuple (nine static fields, then `string description`). */
export function decodeFeedConfig(hex: string): FeedConfigView {
  const what = 'feedConfig';
  const t = numAt(hex, 0, what);
  const field = (i: number) => numAt(hex, t + 32 * i, what);
  const description = bytesAt(hex, t + field(9), what);
  let text: string;
  try {
    text = UTF8.decode(hexToBytes(description));
  } catch {
    throw new RpcError(`${what}: description ${description.slice(0, 42)}… is not UTF-8`);
  }
  // Fields 0 and 1 (minAnswer, maxAnswer) are not shown on the pages.
  return { maxStaleness: field(2), heartbeat: field(3), deviationBps: field(4), confirmations: field(5), confirmationTime: field(6), decimals: field(8), description: text };
}

/** `feedIds()`: bytes32[]. */
export function decodeFeedIds(hex: string): string[] {
  const what = 'feedIds';
  assertHex(hex, what);
  const head = numAt(hex, 0, what);
  const n = numAt(hex, head, what);
  return Array.from({ length: n }, (_, k) => '0x' + wordAt(hex, head + 32 + 32 * k, what));
}

function hexToBytes(hex: string): Uint8Array {
  const out = new Uint8Array((hex.length - 2) / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(2 + 2 * i, 2), 16);
  return out;
}

/** `multicall(calls)` calldata: the selector, then `bytes[]` in the standard ABI layout. */
function encodeMulticall(calls: readonly string[]): string {
  const word = (n: number) => n.toString(16).padStart(64, '0');
  const bodies = calls.map((c) => {
    // A shape check only (a regex per call cost ~15 ms here): the RPC refuses bytes that are not hex.
    if (c.length % 2 !== 0 || !c.startsWith('0x')) throw new RpcError(`multicall: call data ${c.slice(0, 20)}… is not 0x-prefixed hex of whole bytes`);
    const data = c.slice(2);
    return word(data.length / 2) + data.padEnd(Math.ceil(data.length / 64) * 64, '0');
  });
  const offsets: string[] = [];
  let at = 32 * calls.length;
  for (const b of bodies) {
    offsets.push(word(at));
    at += b.length / 2;
  }
  return sel().multicall + word(32) + word(calls.length) + offsets.join('') + bodies.join('');
}

let selectors: Record<'multicall' | 'tryRead' | 'feedConfig' | 'feedIds' | 'paused', string> | undefined;
function sel(): NonNullable<typeof selectors> {
  return (selectors ??= { multicall: hubSelector('multicall'), tryRead: hubSelector('tryRead'), feedConfig: hubSelector('feedConfig'), feedIds: hubSelector('feedIds'), paused: hubSelector('paused') });
}

export class HubClient {
  #id = 0;
  #configs = new Map<string, FeedConfigView>();
  constructor(
    readonly rpcUrl: string,
    readonly hub: string,
  ) {}

  async batch(calls: RpcCall[]): Promise<unknown[]> {
    if (calls.length === 0) return [];
    const body = calls.map((c) => ({ jsonrpc: '2.0', id: ++this.#id, method: c.method, params: c.params }));
    let res: Response;
    try {
      res = await fetch(this.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    } catch (err) {
      throw new RpcError(`RPC ${this.rpcUrl}: unreachable (${(err as Error).message}); check the URL, or that it allows this page's origin (CORS)`);
    }
    if (!res.ok) throw new RpcError(`RPC ${this.rpcUrl}: HTTP ${res.status}`);
    const out = (await res.json()) as { id: number; result?: unknown; error?: { message: string; data?: unknown } }[];
    if (!Array.isArray(out)) throw new RpcError(`RPC ${this.rpcUrl}: a batch request got a non-batch answer; use an RPC that supports JSON-RPC batches`);
    const byId = new Map(out.map((r) => [r.id, r]));
    return body.map((b) => {
      const r = byId.get(b.id);
      if (!r) throw new RpcError(`RPC ${this.rpcUrl}: no answer to ${b.method}`);
      if (r.error) return new RpcError(`${b.method}: ${r.error.message}${typeof r.error.data === 'string' ? ` (data ${r.error.data})` : ''}`);
      return r.result;
    });
  }

  /** `calls` (encoded hub calls) through `multicall` in one eth_call; each result raw, as `batch` gives it. */
  async multicall(calls: string[]): Promise<string[]> {
    if (calls.length === 0) return [];
    const [raw] = await this.batch([{ method: 'eth_call', params: [{ to: this.hub, data: encodeMulticall(calls) }, 'latest'] }]);
    if (raw instanceof Error) throw raw;
    return decodeMulticall(raw as string);
  }

  callOf(fn: string, args: unknown[] = []): RpcCall {
    return { method: 'eth_call', params: [{ to: this.hub, data: hubAbi().encodeFunctionData(fn, args) }, 'latest'] };
  }

  decode(fn: string, raw: unknown): ReturnType<Interface['decodeFunctionResult']> {
    if (raw instanceof Error) throw raw;
    return hubAbi().decodeFunctionResult(fn, raw as string);
  }

  /**
   * Every feed of the hub with its served state, configuration and breaker: two round trips
   * (a third only when a feed is tripped, for its pending candidate). Feed configurations change
   * only by the guardian (`FeedConfigured`), so they are read once per feed and kept.
   */
  async hubView(): Promise<HubView> {
    const s = sel();
    const call = (data: string): RpcCall => ({ method: 'eth_call', params: [{ to: this.hub, data }, 'latest'] });
    const [idsRaw, pausedRaw, block] = await this.batch([call(s.feedIds), call(s.paused), { method: 'eth_getBlockByNumber', params: ['latest', false] }]);
    for (const r of [idsRaw, pausedRaw, block]) if (r instanceof Error) throw r;
    const ids = decodeFeedIds(idsRaw as string);
    assertHex(pausedRaw, 'paused');
    const paused = uintAt(pausedRaw, 0, 'paused') !== 0n;
    const needConfig = ids.filter((id) => !this.#configs.has(id));
    // One eth_call for every feed: the hub's own multicall runs the reads in one EVM execution.
    const raw = await this.multicall([...ids.map((id) => s.tryRead + id.slice(2)), ...needConfig.map((id) => s.feedConfig + id.slice(2))]);
    needConfig.forEach((id, k) => this.#configs.set(id, decodeFeedConfig(raw[ids.length + k]!)));
    const reads = ids.map((_, k) => decodeTryRead(raw[k]!));
    const tripped = ids.filter((_, k) => reads[k]!.status === 2);
    const breakerRaw = await this.batch(tripped.map((id) => this.callOf('breakerState', [id])));
    const breakers = new Map(tripped.map((id, k) => [id, this.decode('breakerState', breakerRaw[k])]));
    const feeds = ids.map((id, k): FeedView => {
      const r = reads[k]!;
      const c = this.#configs.get(id)!;
      const b = breakers.get(id);
      return {
        id,
        name: nameOf(id),
        description: c.description,
        decimals: c.decimals,
        answer: r.answer,
        observedAt: r.observedAt,
        spreadBps: r.spreadBps,
        roundId: r.roundId,
        status: FEED_STATUS[r.status] ?? 'unknown',
        maxStaleness: c.maxStaleness,
        heartbeat: c.heartbeat,
        deviationBps: c.deviationBps,
        confirmations: c.confirmations,
        confirmationTime: c.confirmationTime,
        breaker: b ? { tripped: Boolean(b[0]), candidate: BigInt(b[1]), since: Number(b[2]), lastAt: Number(b[3]), seen: Number(b[4]) } : { tripped: false, candidate: 0n, since: 0, lastAt: 0, seen: 0 },
      };
    });
    const blk = block as { number: string; timestamp: string };
    return { blockNumber: Number(blk.number), blockTime: Number(blk.timestamp), paused, feeds };
  }

  /** Forget cached feed configurations (after a `FeedConfigured` event). */
  forgetConfigs(): void {
    this.#configs.clear();
  }

  async blockNumber(): Promise<number> {
    const [n] = await this.batch([{ method: 'eth_blockNumber', params: [] }]);
    if (n instanceof Error) throw n;
    return Number(n);
  }

  /**
   * A feed's history from the hub's events since `fromBlock`: every `FeedUpdated` with the
   * observation time of its report (`ReportAccepted` in the same transaction) and the round id
   * (rounds are continuous), and the breaker's events.
   */
  async history(feed: Pick<FeedView, 'id'> & { roundId?: bigint }, fromBlock = 0): Promise<{ points: HistoryPoint[]; marks: BreakerMark[]; decimals: number }> {
    const topic = (name: string) => hubAbi().getEvent(name)!.topicHash;
    const filter = (topics: (string | string[] | null)[]) => ({ method: 'eth_getLogs', params: [{ address: this.hub, fromBlock: '0x' + fromBlock.toString(16), toBlock: 'latest', topics }] });
    const breakerTopics = ['BreakerTripped', 'BreakerConfirmed', 'BreakerCleared', 'BreakerResolved', 'BreakerRejected'].map(topic);
    // The feed's decimals come along, so the chart can be drawn before the hub read lands.
    const [updatesRaw, acceptedRaw, breakerRaw, decimalsRaw] = await this.batch([filter([topic('FeedUpdated'), feed.id]), filter([topic('ReportAccepted')]), filter([breakerTopics, feed.id]), this.callOf('decimals', [feed.id])]);
    for (const r of [updatesRaw, acceptedRaw, breakerRaw]) if (r instanceof Error) throw r;
    const decimals = Number(this.decode('decimals', decimalsRaw)[0]);
    const observedAtByTx = new Map<string, number>();
    // Both events carry one data word (observedAt, uint64; answer, int256): read it directly,
    // cheaper than a generic log parser over 1,000-round histories.
    for (const l of acceptedRaw as Log[]) observedAtByTx.set(l.transactionHash, Number(BigInt(l.data)));
    const updates = updatesRaw as Log[];
    const points: HistoryPoint[] = updates.map((l, k) => ({
      time: observedAtByTx.get(l.transactionHash) ?? 0,
      answer: BigInt.asIntN(256, BigInt(l.data)),
      // From block 0 every round of the feed is here (rounds are continuous from 1); from a later
      // block, counted back from the served round.
      roundId: fromBlock === 0 || feed.roundId === undefined ? BigInt(k + 1) : feed.roundId - BigInt(updates.length - 1 - k),
      block: Number(l.blockNumber),
      tx: l.transactionHash,
    }));
    const marks: BreakerMark[] = (breakerRaw as Log[]).map((l) => {
      const e = hubAbi().parseLog(l)!;
      const kind = e.name.replace('Breaker', '').toLowerCase() as BreakerMark['kind'];
      const value = BigInt(e.args.candidate ?? e.args.answer ?? 0);
      return { time: observedAtByTx.get(l.transactionHash) ?? Number(e.args.observedAt ?? 0), kind, value, block: Number(l.blockNumber) };
    });
    return { points, marks, decimals };
  }

  /**
   * Which of the given contracts read a feed of this hub: each answers `hub()` and `feedId()`
   * (the settlement contracts do); a futures market also its mark price. Contracts that read
   * another hub, or answer neither, are left out.
   */
  async consumers(addresses: readonly string[]): Promise<Consumer[]> {
    const call = (to: string, fn: string) => ({ method: 'eth_call', params: [{ to, data: consumerAbi().encodeFunctionData(fn, []) }, 'latest'] });
    const raw = await this.batch(addresses.flatMap((a) => [call(a, 'hub'), call(a, 'feedId'), call(a, 'markPrice'), call(a, 'settlementWindow')]));
    const out: Consumer[] = [];
    addresses.forEach((address, k) => {
      const [hubRaw, feedRaw, markRaw, windowRaw] = raw.slice(4 * k, 4 * k + 4);
      try {
        if (hubRaw instanceof Error || feedRaw instanceof Error) return;
        const hub = String(consumerAbi().decodeFunctionResult('hub', hubRaw as string)[0]);
        if (hub.toLowerCase() !== this.hub.toLowerCase()) return;
        const feedId = String(consumerAbi().decodeFunctionResult('feedId', feedRaw as string)[0]);
        // An option answers settlementWindow(); a futures market answers markPrice() or reverts it
        // with a named error (revert data); a contract without either reverts with no data.
        const isOption = !(windowRaw instanceof Error) && typeof windowRaw === 'string' && windowRaw.length > 2;
        const isFutures = !isOption && (!(markRaw instanceof Error) || /\(data 0x[0-9a-fA-F]{8,}/.test(markRaw.message));
        const kind: Consumer['kind'] = isOption ? 'European option' : isFutures ? 'futures market' : 'contract';
        let mark: Consumer['mark'];
        if (kind === 'futures market') {
          if (markRaw instanceof Error) mark = { error: describeRevert(markRaw.message) };
          else {
            const m = consumerAbi().decodeFunctionResult('markPrice', markRaw as string);
            mark = { price: BigInt(m[0]), roundId: BigInt(m[1]) };
          }
        }
        out.push({ address, feedId, kind, ...(mark ? { mark } : {}) });
      } catch {
        // Not a contract that reads a feed: left out.
      }
    });
    return out;
  }

  /** The committee as the hub stores it: the key a report's signature must verify against. */
  async committee(): Promise<{ configDigest: string; configVersion: bigint; n: number; t: number; groupPublicKey: string }> {
    const [raw] = await this.batch([this.callOf('committee')]);
    const c = this.decode('committee', raw)[0];
    return { configDigest: String(c.configDigest), configVersion: BigInt(c.configVersion), n: Number(c.n), t: Number(c.t), groupPublicKey: String(c.groupPublicKey) };
  }
}

// One formatter for every answer, made on first use: the first Intl.NumberFormat of a page loads
// ICU's number data (40–60 ms in Chromium on this machine), which the page does while its first
// hub read is in flight (`warmFormatter`), not before the read starts nor after it lands.
let grouped: Intl.NumberFormat | undefined;

/** Makes the number formatter now (see above); the page calls it once the first hub read is sent. */
export function warmFormatter(): void {
  grouped ??= new Intl.NumberFormat('en-US');
}

/** A fixed-point answer as a decimal string with `decimals` places, trimmed for display. */
export function formatAnswer(v: bigint, decimals: number, places?: number): string {
  const neg = v < 0n;
  const a = neg ? -v : v;
  const base = 10n ** BigInt(decimals);
  const int = a / base;
  const frac = (a % base).toString().padStart(decimals, '0');
  const show = places ?? (int >= 100n ? 2 : int >= 1n ? 4 : Math.min(decimals, 8));
  const f = frac.slice(0, show);
  return `${neg ? '-' : ''}${(grouped ??= new Intl.NumberFormat('en-US')).format(int)}${show > 0 ? '.' + f : ''}`;
}

export function toNumber(v: bigint, decimals: number): number {
  return Number(v) / 10 ** decimals;
}

/** A revert message as the reader should see it (the hub's named errors come through as data). */
function describeRevert(message: string): string {
  const data = /\(data (0x[0-9a-fA-F]{8,})\)/.exec(message)?.[1];
  if (data) {
    try {
      const e = feedErrorAbi().parseError(data);
      if (e) return `${e.name}(${e.args.map(String).join(', ')})`;
    } catch {
      // not one of the feed errors
    }
  }
  return message;
}

let feedErrors: Interface | undefined;
function feedErrorAbi(): Interface {
  return (feedErrors ??= new Interface([
  'error FeedUnknown(bytes32 feedId)',
  'error FeedTripped(bytes32 feedId)',
  'error FeedPaused(bytes32 feedId)',
  'error FeedStale(bytes32 feedId, uint256 age, uint256 maxAge)',
]));
}
