/**
 * The run's two clocks (docs/simulator.md §Time). `SimClock` is simulated wall time: every
 * node, source, venue and the round engine read it, so two hours run in seconds and a seed
 * fixes the result. `BlockClock` is chain time: every block is mined at the step's timestamp
 * (`evm_mine`) and every transaction gets the next second (`evm_setNextBlockTimestamp`).
 */

/** Simulated wall time in ms, set by the step loop; `now` and `nowSec` are bound for handing out. */
export class SimClock {
  ms: number;

  constructor(startMs: number) {
    this.ms = startMs;
  }

  readonly now = (): number => this.ms;
  readonly nowSec = (): number => Math.floor(this.ms / 1000);
}

/** What `BlockClock` needs of a provider: raw JSON-RPC. */
export interface RpcSender {
  send(method: string, params: unknown[]): Promise<unknown>;
}

/**
 * Block timestamps, set by the runner. `lastTs` is the timestamp of the last block mined or
 * announced; a block is never mined at or before it.
 */
export class BlockClock {
  #lastTs: number;

  constructor(
    private readonly rpc: RpcSender,
    lastTs: number,
  ) {
    this.#lastTs = lastTs;
  }

  get lastTs(): number {
    return this.#lastTs;
  }

  /** Mines an empty block at `ts`, or one second after the last block if `ts` is not later. */
  async mineAt(ts: number): Promise<void> {
    const at = Math.max(ts, this.#lastTs + 1);
    await this.rpc.send('evm_mine', [at]);
    this.#lastTs = at;
  }

  /** Announces the next transaction's block one second after the last block. */
  async nextTx(): Promise<void> {
    this.#lastTs += 1;
    await this.rpc.send('evm_setNextBlockTimestamp', [this.#lastTs]);
  }

  /** The transaction announced by `nextTx` was not mined (refused before it was sent): its second is free again. */
  unmined(): void {
    this.#lastTs -= 1;
  }
}
