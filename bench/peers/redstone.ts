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
import { foreignArtifact } from '../../contracts/foreign.ts';
import { committeeWallets, deployArtifact, MAX_TX_DATA_BYTES, PeerError, sendRaw, testAnswer } from './common.ts';
import { compileRedstoneConsumer } from './compile.ts';

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
  const consumer = await deployArtifact(signer, foreignArtifact(compileRedstoneConsumer(), 'RedstonePeerConsumer'), [wallets.map((w) => w.address), opts.threshold]);
  const packages = opts.packages ?? opts.threshold;
  if (packages < opts.threshold || packages > opts.signers) {
    throw new PeerError('peer_bad_committee', `redstone: ${packages} packages per update must lie in [threshold ${opts.threshold}, signers ${opts.signers}]`);
  }
  return { consumer, signers: wallets, threshold: opts.threshold, packages, feedIds: Array.from({ length: opts.feeds }, (_, i) => redstoneFeedId(i)) };
}

/** The RedStone payload (hex, no 0x) for feeds `from … from+count−1` at `timestampMs`. */
export function redstonePayload(s: RedstoneSetup, count: number, step: number, timestampMs: number, from = 0): { payload: string; values: bigint[][] } {
  const values: bigint[][] = [];
  const signed = s.signers.slice(0, s.packages).map((w, j) => {
    const row: bigint[] = [];
    const points = Array.from({ length: count }, (_, c) => {
      const i = from + c;
      const v = testAnswer(i, step, j);
      row.push(v);
      // NumericDataPoint takes a JS number and scales it by 10^decimals (exact for these values).
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
 * When the calldata would exceed `MAX_TX_DATA_BYTES`, the feeds are split evenly over several
 * transactions (each with its own signed packages) and the gas is their sum.
 * Returns the medians the consumer must store: the base parses packages from the end of
 * calldata and counts the first `threshold` unique signers per feed, so the last `threshold`
 * packages.
 */
export async function redstoneUpdate(s: RedstoneSetup, signer: Signer, feeds: number, step: number, timestampMs: number): Promise<{ gas: number; txs: number; medians: bigint[] }> {
  const to = await s.consumer.getAddress();
  const build = (from: number, count: number): { data: string; values: bigint[][] } => {
    const { payload, values } = redstonePayload(s, count, step, timestampMs, from);
    return { data: s.consumer.interface.encodeFunctionData('updatePrices', [s.feedIds.slice(from, from + count)]) + payload, values };
  };
  const whole = { from: 0, count: feeds, ...build(0, feeds) };
  let chunks = Math.max(1, Math.ceil((whole.data.length / 2) / MAX_TX_DATA_BYTES));
  for (;;) {
    const per = Math.ceil(feeds / chunks);
    // One chunk is the whole update already built (signing is deterministic: same bytes).
    const txs = chunks === 1 ? [whole] : Array.from({ length: Math.ceil(feeds / per) }, (_, c) => ({ from: c * per, count: Math.min(per, feeds - c * per) })).map((x) => ({ ...x, ...build(x.from, x.count) }));
    if (txs.some((t) => (t.data.length - 2) / 2 > MAX_TX_DATA_BYTES)) {
      chunks += 1;
      continue;
    }
    let gas = 0;
    const medians: bigint[] = [];
    for (const t of txs) {
      const receipt = await sendRaw(signer, to, t.data, `redstone updatePrices (${s.threshold}-of-${s.signers.length}, feeds ${t.from}..${t.from + t.count - 1})`);
      const ev = receipt.logs.map((l) => s.consumer.interface.parseLog(l)).find((e) => e?.name === 'PricesUpdated');
      if (!ev || Number(ev.args.feeds) !== t.count) throw new PeerError('peer_update_rejected', 'redstone: PricesUpdated missing or wrong feed count');
      gas += Number(receipt.gasUsed);
      for (let c = 0; c < t.count; c++) medians.push(redstoneMedian(t.values.slice(-s.threshold).map((row) => row[c]!)));
    }
    return { gas, txs: txs.length, medians };
  }
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
