/**
 * RedStone from `@redstone-finance/evm-connector` 0.9.0: our thin `RedstonePeerConsumer`
 * (inherits the package's `RedstoneConsumerNumericBase`) verifies signed data packages appended
 * to calldata and stores each feed's median.
 *
 * Packages are built and signed with RedStone's own protocol library
 * (`@redstone-finance/protocol`: `DataPackage.sign`, `RedstonePayload.prepare`), exactly as the
 * package's `DataPackagesWrapper` appends them to a transaction: one package per signer carrying
 * every feed of the update (8-decimal numeric data points, 32-byte values), one shared
 * millisecond timestamp, unsigned metadata padded so the payload is a multiple of 32 bytes.
 */
import { DataPackage, NumericDataPoint, RedstonePayload } from '@redstone-finance/protocol';
import { Contract, encodeBytes32String, type Signer, type Wallet } from 'ethers';
import { committeeWallets, deployArtifact, PeerError, sendRaw, testAnswer } from './common.ts';
import { compileRedstoneConsumer, peerArtifact } from './compile.ts';

export interface RedstoneSetup {
  consumer: Contract;
  signers: Wallet[];
  threshold: number;
  /** How many signers' packages go into each update's calldata. */
  packages: number;
  feedIds: string[];
}

export function redstoneFeedId(i: number): string {
  return encodeBytes32String(`F${i}`);
}

/** Deploys a consumer for `signers` authorised signers and `threshold` unique signers. */
export async function setupRedstone(signer: Signer, opts: { signers: number; threshold: number; packages?: number; feeds: number }): Promise<RedstoneSetup> {
  const wallets = committeeWallets('redstone', opts.signers);
  const consumer = await deployArtifact(signer, peerArtifact(compileRedstoneConsumer(), 'RedstonePeerConsumer', 'redstone'), [wallets.map((w) => w.address), opts.threshold]);
  const packages = opts.packages ?? opts.threshold;
  if (packages < opts.threshold || packages > opts.signers) {
    throw new PeerError('peer_bad_committee', `redstone: ${packages} packages per update must lie in [threshold ${opts.threshold}, signers ${opts.signers}]`);
  }
  return { consumer, signers: wallets, threshold: opts.threshold, packages, feedIds: Array.from({ length: opts.feeds }, (_, i) => redstoneFeedId(i)) };
}

/** The RedStone payload (hex, no 0x) for the first `feeds` feeds at `timestampMs`. */
export function redstonePayload(s: RedstoneSetup, feeds: number, step: number, timestampMs: number): { payload: string; values: bigint[][] } {
  const values: bigint[][] = [];
  const signed = s.signers.slice(0, s.packages).map((w, j) => {
    const row: bigint[] = [];
    const points = Array.from({ length: feeds }, (_, i) => {
      const v = testAnswer(i, step, j);
      row.push(v);
      // NumericDataPoint takes a JS number and scales it by 10^decimals; keep it exact.
      return new NumericDataPoint({ dataFeedId: `F${i}`, value: Number(v) / 1e8, decimals: 8 });
    });
    values.push(row);
    return new DataPackage(points, timestampMs, '__ALL_FEEDS__').sign(w.privateKey);
  });
  let metadata = `${timestampMs}#aegis-bench`;
  const first = RedstonePayload.prepare(signed, metadata);
  const pad = (32 - ((first.length / 2) % 32)) % 32;
  metadata += '_'.repeat(pad);
  return { payload: RedstonePayload.prepare(signed, metadata), values };
}

/**
 * One update of the first `feeds` feeds: `updatePrices(feedIds)` with the payload appended.
 * Returns the gas and the medians the consumer must store: the base parses packages from the
 * end of calldata and counts the first `threshold` unique signers per feed, so the last
 * `threshold` packages.
 */
export async function redstoneUpdate(s: RedstoneSetup, signer: Signer, feeds: number, step: number, timestampMs: number): Promise<{ gas: number; medians: bigint[] }> {
  const { payload, values } = redstonePayload(s, feeds, step, timestampMs);
  const data = s.consumer.interface.encodeFunctionData('updatePrices', [s.feedIds.slice(0, feeds)]) + payload;
  const receipt = await sendRaw(signer, await s.consumer.getAddress(), data, `redstone updatePrices (${s.threshold}-of-${s.signers.length}, feeds=${feeds})`);
  const ev = receipt.logs.map((l) => s.consumer.interface.parseLog(l)).find((e) => e?.name === 'PricesUpdated');
  if (!ev || Number(ev.args.feeds) !== feeds) throw new PeerError('peer_update_rejected', `redstone: PricesUpdated missing or wrong feed count`);
  const medians = Array.from({ length: feeds }, (_, i) => redstoneMedian(values.slice(-s.threshold).map((row) => row[i]!)));
  return { gas: Number(receipt.gasUsed), medians };
}

/** `NumericArrayLib.pickMedian`: middle value, or the mean of the two middle values (floor). */
export function redstoneMedian(values: bigint[]): bigint {
  const v = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const m = v.length >> 1;
  return v.length % 2 === 1 ? v[m]! : (v[m - 1]! + v[m]!) / 2n;
}

export async function redstoneRead(s: RedstoneSetup, i: number): Promise<{ value: bigint; timestampMs: bigint }> {
  const [value, timestampMs] = (await s.consumer.prices!(s.feedIds[i]!)) as [bigint, bigint];
  return { value, timestampMs };
}
