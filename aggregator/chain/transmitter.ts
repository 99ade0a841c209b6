/**
 * Posts signed reports to the hub (docs/design.md §Round protocol, step 5) with ethers v6:
 *
 *   1. `eth_call` simulation first: a report the hub would reject is never sent. A revert
 *      `EpochNotAboveLast` means another aggregator already posted this epoch or a later
 *      one — expected when several aggregators run, logged as such, not as an error. Every
 *      other hub error is decoded by name.
 *   2. EIP-1559 fees: maxFee = 2·baseFee + tip, capped by the operator's `maxFeePerGas`; if
 *      baseFee + tip already exceeds the cap, nothing is sent and the reason says so.
 *   3. One nonce manager per transmitter key; transmissions are serialized.
 *   4. A transaction not mined within `replaceAfterMs` is replaced (same nonce) with fees
 *      bumped by `feeBumpPct` (at least the 10 % clients require), up to the cap; if the
 *      chain moved past the report meanwhile, the replacement is a cancel (0-value transfer
 *      to self) instead, so no gas is burnt on a certain revert.
 *   5. Transport-level RPC failures are retried with exponential backoff.
 */
import { isError, type JsonRpcProvider, type Wallet } from 'ethers';
import type { Logger } from 'pino';
import type { SignedReport } from '../round/types.ts';
import { decodeHubError, hubInterface, SUPERSEDED_ERRORS, type DecodedRevert } from './hub-abi.ts';
import { DEFAULT_RETRY, withRetry, type RetryOptions } from './retry.ts';
import { describeError } from '../errors.ts';

export interface TransmitterOptions {
  provider: JsonRpcProvider;
  wallet: Wallet;
  hub: string;
  chainId: bigint;
  /** Hard cap on maxFeePerGas, wei. */
  maxFeePerGasWei: bigint;
  /** Priority fee (tip), wei; default: the node's `eth_maxPriorityFeePerGas`. */
  priorityFeeWei?: bigint;
  replaceAfterMs?: number;
  feeBumpPct?: number;
  maxReplacements?: number;
  confirmTimeoutMs?: number;
  pollMs?: number;
  gasLimitMarginPct?: number;
  retry?: RetryOptions;
  logger?: Logger;
}

export type TransmitOutcome =
  | { status: 'accepted'; txHash: string; gasUsed: bigint; effectiveGasPrice: bigint; feeWei: bigint; blockNumber: number; replacements: number }
  | { status: 'superseded'; stage: 'simulation' | 'onchain' | 'cancelled'; error: DecodedRevert; message: string; txHash?: string; gasUsed?: bigint; feeWei?: bigint }
  | { status: 'reverted'; stage: 'simulation' | 'onchain'; error: DecodedRevert | null; message: string; txHash?: string; gasUsed?: bigint; feeWei?: bigint }
  | { status: 'failed'; code: 'fee_cap_exceeded' | 'rpc_failed' | 'timeout'; message: string; txHash?: string };

/** Hands out nonces for one key; resyncs from the chain's pending count after any doubt. */
export class NonceManager {
  private next: number | null = null;
  constructor(
    private readonly provider: JsonRpcProvider,
    private readonly address: string,
    private readonly retry: RetryOptions,
  ) {}

  async take(): Promise<number> {
    if (this.next === null) this.next = await withRetry('eth_getTransactionCount', () => this.provider.getTransactionCount(this.address, 'pending'), this.retry);
    return this.next++;
  }

  /** Forget the local count (a send failed, a nonce was reported too low, a wait timed out). */
  resync(): void {
    this.next = null;
  }
}

interface Fees {
  maxFeePerGas: bigint;
  maxPriorityFeePerGas: bigint;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Transmitter {
  readonly nonces: NonceManager;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly o: Required<Omit<TransmitterOptions, 'priorityFeeWei' | 'logger'>> & Pick<TransmitterOptions, 'priorityFeeWei' | 'logger'>;

  constructor(options: TransmitterOptions) {
    this.o = {
      replaceAfterMs: 20_000,
      feeBumpPct: 15,
      maxReplacements: 4,
      confirmTimeoutMs: 180_000,
      pollMs: 250,
      gasLimitMarginPct: 30,
      retry: DEFAULT_RETRY,
      ...options,
    };
    if (this.o.feeBumpPct < 10) throw new RangeError(`feeBumpPct ${this.o.feeBumpPct}: clients reject replacements bumped by less than 10 %; use 10 or more`);
    this.nonces = new NonceManager(this.o.provider, this.o.wallet.address, this.o.retry);
  }

  get address(): string {
    return this.o.wallet.address;
  }

  /** Calldata of `transmit(report, signature96)`. */
  calldata(signed: Pick<SignedReport, 'report' | 'signatureEvm'>): string {
    return hubInterface.encodeFunctionData('transmit', [signed.report, signed.signatureEvm]);
  }

  /** Simulates, then sends and follows one transmission. Serialized per transmitter. */
  transmit(signed: Pick<SignedReport, 'report' | 'signatureEvm'>): Promise<TransmitOutcome> {
    const run = this.queue.then(() => this.transmitNow(this.calldata(signed), signed.report.epoch));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** `eth_call` of the calldata; null when it would succeed, else the decoded revert. */
  async simulate(data: string, blockTag?: number): Promise<{ error: DecodedRevert | null; message: string } | null> {
    try {
      await withRetry('eth_call transmit', () => this.o.provider.call({ from: this.address, to: this.o.hub, data, ...(blockTag !== undefined ? { blockTag } : {}) }), this.o.retry);
      return null;
    } catch (err) {
      if (!isError(err, 'CALL_EXCEPTION')) throw err;
      const decoded = decodeHubError(err.data);
      return { error: decoded, message: decoded ? decoded.text : `reverted without a hub error (${err.shortMessage})` };
    }
  }

  private async fees(): Promise<Fees> {
    const block = await withRetry('eth_getBlockByNumber', () => this.o.provider.getBlock('latest'), this.o.retry);
    const base = block?.baseFeePerGas ?? 0n;
    const tip = this.o.priorityFeeWei ?? BigInt(await withRetry('eth_maxPriorityFeePerGas', () => this.o.provider.send('eth_maxPriorityFeePerGas', []), this.o.retry));
    const cap = this.o.maxFeePerGasWei;
    if (base + tip > cap) {
      throw Object.assign(new Error(`base fee ${base} + tip ${tip} wei exceeds the cap maxFeePerGas=${cap} wei; raise chain.maxFeePerGasGwei or wait for lower fees`), { feeCap: true });
    }
    const maxFee = 2n * base + tip;
    return { maxFeePerGas: maxFee > cap ? cap : maxFee, maxPriorityFeePerGas: tip };
  }

  private bump(f: Fees): Fees | null {
    const pct = BigInt(this.o.feeBumpPct);
    const tip = (f.maxPriorityFeePerGas * (100n + pct) + 99n) / 100n + 1n;
    let max = (f.maxFeePerGas * (100n + pct) + 99n) / 100n + 1n;
    if (max > this.o.maxFeePerGasWei) max = this.o.maxFeePerGasWei;
    const minMax = (f.maxFeePerGas * 110n + 99n) / 100n;
    if (max < minMax) return null; // at the cap: a replacement would be rejected as underpriced
    return { maxFeePerGas: max, maxPriorityFeePerGas: tip > max ? max : tip };
  }

  private async send(tx: { to: string; data: string; gasLimit: bigint; nonce: number; value?: bigint }, fees: Fees): Promise<string> {
    const signed = await this.o.wallet.signTransaction({ type: 2, chainId: this.o.chainId, ...tx, value: tx.value ?? 0n, ...fees });
    try {
      const res = await withRetry('eth_sendRawTransaction', () => this.o.provider.broadcastTransaction(signed), this.o.retry);
      return res.hash;
    } catch (err) {
      if (/already known/i.test(describeError(err))) {
        const { Transaction } = await import('ethers');
        return Transaction.from(signed).hash!;
      }
      throw err;
    }
  }

  private async transmitNow(data: string, epoch: bigint): Promise<TransmitOutcome> {
    const log = this.o.logger?.child({ epoch: epoch.toString() });
    let stage = 'simulation';
    try {
      const sim = await this.simulate(data);
      if (sim) {
        if (sim.error && SUPERSEDED_ERRORS.has(sim.error.name)) {
          log?.info({ revert: sim.error.text }, 'transmit: skipped, another aggregator already posted this epoch or a later one (expected with several aggregators)');
          return { status: 'superseded', stage: 'simulation', error: sim.error, message: `another aggregator already posted: ${sim.error.text}` };
        }
        log?.error({ revert: sim.message }, 'transmit: simulation reverted; not sent');
        return { status: 'reverted', stage: 'simulation', error: sim.error, message: `simulation reverted: ${sim.message}` };
      }
      stage = 'fees';
      let fees: Fees;
      try {
        fees = await this.fees();
      } catch (err) {
        if ((err as { feeCap?: boolean }).feeCap) {
          log?.warn({ err: describeError(err) }, 'transmit: fee cap exceeded; not sent');
          return { status: 'failed', code: 'fee_cap_exceeded', message: describeError(err) };
        }
        throw err;
      }
      stage = 'estimate';
      const estimate = await withRetry('eth_estimateGas', () => this.o.provider.estimateGas({ from: this.address, to: this.o.hub, data }), this.o.retry);
      const gasLimit = (estimate * BigInt(100 + this.o.gasLimitMarginPct)) / 100n;
      stage = 'send';
      let nonce = await this.nonces.take();
      let hash: string;
      try {
        hash = await this.send({ to: this.o.hub, data, gasLimit, nonce }, fees);
      } catch (err) {
        this.nonces.resync();
        if (!isError(err, 'NONCE_EXPIRED') && !/nonce too low/i.test(describeError(err))) throw err;
        nonce = await this.nonces.take();
        hash = await this.send({ to: this.o.hub, data, gasLimit, nonce }, fees);
      }
      log?.info({ tx: hash, nonce, maxFeePerGas: fees.maxFeePerGas.toString(), tip: fees.maxPriorityFeePerGas.toString() }, 'transmit: sent');
      stage = 'confirm';
      return await this.follow(data, epoch, nonce, gasLimit, fees, hash);
    } catch (err) {
      log?.error({ err: describeError(err), stage }, 'transmit: RPC failure');
      return { status: 'failed', code: 'rpc_failed', message: `transmit epoch ${epoch} (${stage}): ${describeError(err)}` };
    }
  }

  private async follow(data: string, epoch: bigint, nonce: number, gasLimit: bigint, firstFees: Fees, firstHash: string): Promise<TransmitOutcome> {
    const log = this.o.logger?.child({ epoch: epoch.toString(), nonce });
    const hashes = [firstHash];
    let fees = firstFees;
    let sentAt = Date.now();
    let replacements = 0;
    let cancelled = false;
    let cancelledFor: DecodedRevert | undefined;
    const deadline = Date.now() + this.o.confirmTimeoutMs;
    while (Date.now() < deadline) {
      for (const h of hashes) {
        const receipt = await withRetry('eth_getTransactionReceipt', () => this.o.provider.getTransactionReceipt(h), this.o.retry);
        if (!receipt) continue;
        const feeWei = receipt.gasUsed * receipt.gasPrice;
        if (receipt.status === 1 && !cancelled) {
          log?.info({ tx: h, gasUsed: receipt.gasUsed.toString(), block: receipt.blockNumber, replacements }, 'transmit: report accepted on-chain');
          return { status: 'accepted', txHash: h, gasUsed: receipt.gasUsed, effectiveGasPrice: receipt.gasPrice, feeWei, blockNumber: receipt.blockNumber, replacements };
        }
        if (cancelled && receipt.to?.toLowerCase() !== this.o.hub.toLowerCase()) {
          const error = cancelledFor ?? { name: 'EpochNotAboveLast', args: {}, text: 'EpochNotAboveLast' };
          const why = error.name === 'ReportTooOld' ? 'the report grew older than the hub accepts while it was pending' : 'the chain moved past this report while it was pending';
          return { status: 'superseded', stage: 'cancelled', error, message: `${why}; the transaction was cancelled`, txHash: h, gasUsed: receipt.gasUsed, feeWei };
        }
        if (receipt.status === 1) {
          return { status: 'accepted', txHash: h, gasUsed: receipt.gasUsed, effectiveGasPrice: receipt.gasPrice, feeWei, blockNumber: receipt.blockNumber, replacements };
        }
        const why = await this.simulate(data, receipt.blockNumber);
        const error = why?.error ?? null;
        if (error && SUPERSEDED_ERRORS.has(error.name)) {
          log?.info({ tx: h, revert: error.text }, 'transmit: reverted on-chain because another aggregator posted first (expected with several aggregators)');
          return { status: 'superseded', stage: 'onchain', error, message: `another aggregator posted first: ${error.text}`, txHash: h, gasUsed: receipt.gasUsed, feeWei };
        }
        log?.error({ tx: h, revert: why?.message }, 'transmit: reverted on-chain');
        return { status: 'reverted', stage: 'onchain', error, message: `reverted on-chain: ${why?.message ?? 'unknown reason'}`, txHash: h, gasUsed: receipt.gasUsed, feeWei };
      }
      if (Date.now() - sentAt >= this.o.replaceAfterMs && replacements < this.o.maxReplacements) {
        const bumped = this.bump(fees);
        if (!bumped) {
          log?.warn({ maxFeePerGas: fees.maxFeePerGas.toString() }, 'transmit: pending and already at the fee cap; waiting');
          sentAt = Date.now();
        } else {
          const sim = cancelled ? null : await this.simulate(data);
          // A replacement that would certainly revert is sent as a cancel instead: another
          // aggregator posted, or the report outlived the hub's maxReportAge while pending.
          const supersededNow = sim?.error && (SUPERSEDED_ERRORS.has(sim.error.name) || sim.error.name === 'ReportTooOld');
          if (supersededNow) cancelledFor = sim!.error ?? undefined;
          const tx = supersededNow || cancelled ? { to: this.address, data: '0x', gasLimit: 21_000n, nonce } : { to: this.o.hub, data, gasLimit, nonce };
          try {
            const h = await this.send(tx, bumped);
            hashes.push(h);
            fees = bumped;
            replacements++;
            if (supersededNow) cancelled = true;
            log?.warn({ tx: h, replaces: hashes[hashes.length - 2], maxFeePerGas: bumped.maxFeePerGas.toString(), cancel: cancelled }, cancelled ? 'transmit: stuck and superseded; cancelled with a bumped fee' : 'transmit: stuck; replaced with a bumped fee');
          } catch (err) {
            const msg = describeError(err);
            if (/nonce too low|NONCE_EXPIRED/i.test(msg) || isError(err, 'NONCE_EXPIRED')) {
              // One of our hashes was mined between the receipt poll and the replacement.
            } else if (!/underpriced/i.test(msg)) throw err;
            else fees = bumped;
          }
          sentAt = Date.now();
        }
      }
      await sleep(this.o.pollMs);
    }
    this.nonces.resync();
    log?.error({ hashes }, 'transmit: not mined before the confirmation timeout');
    return { status: 'failed', code: 'timeout', message: `epoch ${epoch}: no receipt within ${this.o.confirmTimeoutMs} ms for ${hashes.join(', ')}; the nonce is resynced from the chain`, txHash: hashes[hashes.length - 1]! };
  }
}
