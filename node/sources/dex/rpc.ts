/**
 * JSON-RPC reads for on-chain sources, over several RPC URLs with failover and a maximum block
 * age.
 *
 * An on-chain price is only as good as the node that serves it: an RPC that is down, lagging
 * behind the chain, or forked off answers with an old state as readily as with the current
 * one. So every read starts by asking the RPC for its latest block; an RPC whose latest block
 * is older than `maxBlockAgeMs` is skipped like one that does not answer, and all reads of one
 * fetch are pinned to that block number, so they describe one state of the chain. The URL that
 * answered last is tried first next time. A revert is the contract's answer, not the RPC's
 * fault: it is reported at once rather than asked of the next RPC.
 */
import axios, { type AxiosInstance } from 'axios';

export interface RpcPoolOptions {
  urls: readonly string[];
  timeoutMs?: number;
  /** A latest block older than this (by its timestamp) means the RPC or the chain is behind. */
  maxBlockAgeMs: number;
  now?: () => number;
}

/** The block all reads of one fetch are pinned to. */
export interface PinnedBlock {
  url: string;
  number: bigint;
  /** Block timestamp, ms since epoch. */
  timestampMs: number;
}

export type RpcFailureKind = 'unreachable' | 'behind' | 'reverted' | 'bad_answer';

export class RpcError extends Error {
  override readonly name = 'RpcError';
  constructor(
    readonly kind: RpcFailureKind,
    message: string,
  ) {
    super(message);
  }
}

interface Client {
  url: string;
  http: AxiosInstance;
}

let nextId = 1;

export class RpcPool {
  readonly #clients: Client[];
  readonly #maxBlockAgeMs: number;
  readonly #now: () => number;
  #preferred = 0;

  constructor(opts: RpcPoolOptions) {
    if (opts.urls.length === 0) throw new TypeError('rpc: give at least one RPC URL');
    this.#clients = opts.urls.map((url) => ({
      url,
      http: axios.create({ baseURL: url, timeout: opts.timeoutMs ?? 3_000, validateStatus: () => true, maxRedirects: 0, headers: { 'content-type': 'application/json' } }),
    }));
    this.#maxBlockAgeMs = opts.maxBlockAgeMs;
    this.#now = opts.now ?? Date.now;
  }

  get urls(): string[] {
    return this.#clients.map((c) => c.url);
  }

  /**
   * Run `reads` against the first RPC (starting from the last good one) whose latest block is
   * recent enough; `call(to, data)` is an `eth_call` pinned to that block. Throws `RpcError`:
   * `reverted` at once, else `behind` when every RPC answered but none was recent enough, else
   * `unreachable` naming every URL and why.
   */
  async read<T>(reads: (call: (to: string, data: string) => Promise<string>, block: PinnedBlock) => Promise<T>): Promise<{ value: T; block: PinnedBlock }> {
    const problems: string[] = [];
    let behind = 0;
    const n = this.#clients.length;
    for (let k = 0; k < n; k++) {
      const i = (this.#preferred + k) % n;
      const client = this.#clients[i]!;
      let block: PinnedBlock;
      try {
        block = await this.#latest(client);
      } catch (err) {
        problems.push(`${client.url}: ${(err as Error).message}`);
        continue;
      }
      const age = this.#now() - block.timestampMs;
      if (age > this.#maxBlockAgeMs) {
        behind++;
        problems.push(`${client.url}: latest block ${block.number} is ${Math.round(age / 1000)} s old, limit ${Math.round(this.#maxBlockAgeMs / 1000)} s`);
        continue;
      }
      const tag = '0x' + block.number.toString(16);
      try {
        const value = await reads((to, data) => this.#rpc(client, 'eth_call', [{ to, data }, tag]) as Promise<string>, block);
        this.#preferred = i;
        return { value, block };
      } catch (err) {
        if (err instanceof RpcError && (err.kind === 'reverted' || err.kind === 'bad_answer')) throw err;
        problems.push(`${client.url}: ${(err as Error).message}`);
      }
    }
    if (behind === n) throw new RpcError('behind', `every RPC is behind: ${problems.join('; ')}`);
    throw new RpcError('unreachable', `no usable RPC among ${n}: ${problems.join('; ')}`);
  }

  async #latest(client: Client): Promise<PinnedBlock> {
    const b = (await this.#rpc(client, 'eth_getBlockByNumber', ['latest', false])) as { number?: string; timestamp?: string } | null;
    if (!b || typeof b.number !== 'string' || typeof b.timestamp !== 'string') throw new Error('eth_getBlockByNumber(latest) gave no block');
    return { url: client.url, number: BigInt(b.number), timestampMs: Number(BigInt(b.timestamp)) * 1000 };
  }

  async #rpc(client: Client, method: string, params: unknown[]): Promise<unknown> {
    let res;
    try {
      res = await client.http.post('', { jsonrpc: '2.0', id: nextId++, method, params });
    } catch (err) {
      const code = axios.isAxiosError(err) ? err.code : undefined;
      throw new Error(`${method}: ${code === 'ECONNABORTED' || code === 'ETIMEDOUT' ? 'timeout' : (code ?? (err as Error).message)}`);
    }
    if (res.status !== 200) throw new Error(`${method}: HTTP ${res.status}`);
    const body = res.data as { result?: unknown; error?: { code?: number; message?: string; data?: unknown } };
    if (typeof body !== 'object' || body === null) throw new Error(`${method}: answer is not JSON-RPC`);
    if (body.error) {
      const msg = String(body.error.message ?? 'error');
      if (method === 'eth_call' && (body.error.code === 3 || /revert/i.test(msg))) {
        throw new RpcError('reverted', `eth_call reverted: ${msg}${typeof body.error.data === 'string' ? ` (${body.error.data.slice(0, 74)})` : ''}`);
      }
      throw new Error(`${method}: JSON-RPC error ${body.error.code ?? ''} ${msg}`);
    }
    if (!('result' in body)) throw new Error(`${method}: answer has neither result nor error`);
    return body.result;
  }
}
