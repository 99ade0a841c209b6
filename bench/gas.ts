/**
 * Gas measurements of the hub, for the benchmark (`npm run bench`) and the gas snapshot:
 * total transaction gas (receipt gasUsed) on anvil's default hardfork, in steady state
 * (feeds already updated twice, history ring pre-initialised, warm-up reports sent).
 *
 *   const g = await measureHubGas({ n: 31, feeds: [1, 10, 100] });
 *   // { n: 31, t: 21, verify: 14xxxx, transmit: { 1: …, 10: …, 100: … }, updateAndRead: … }
 *
 * Each call starts its own anvil (unless one is passed) and stops what it started.
 */
import type { GasRow } from './stats.ts';
import type { Contract } from 'ethers';
import { SUSPENDED_ANSWER, SuspendReason, feedId, reportMessage, type Report } from '../protocol/report.ts';
import { startAnvil, type Anvil } from '../contracts/anvil.ts';
import { compileContracts } from '../contracts/compile.ts';
import { dealerKeygen } from '../protocol/index.ts';
import { deployHub, feedConfig, makeReport, secretSign, type FeedConfig, type TestCommittee } from '../contracts/hub.ts';

export interface HubGasOptions {
  /** Committee size; t defaults to 2⌊(n−1)/3⌋+1. */
  n: number;
  /** Feed counts per report to measure `transmit` for; default [1, 10, 100]. */
  feeds?: number[];
  /** Feed configuration (default: 10 % breaker, 32-round history). */
  feedConfig?: Partial<FeedConfig>;
  /** Reuse a running anvil (not stopped here). */
  anvil?: Anvil;
}

export interface HubGas {
  n: number;
  t: number;
  /** `verifyReport` of a one-feed report, sent as a transaction. */
  verify: number;
  /** `transmit` gas by feed count. */
  transmit: Record<number, number>;
  /** `updateAndRead` of one feed with a fresh report (pull mode). */
  updateAndRead: number;
  /** `transmit` of a one-feed report that suspends an active feed (docs/suspension.md). */
  suspend: number;
  /** `transmit` of a one-feed priced report that resumes the suspended feed. */
  resume: number;
}

interface Ctx {
  hub: Contract;
  secret: bigint;
  ids: string[];
  epoch: bigint;
  observedAt: bigint;
  step: number;
}

/**
 * The next report, observed one second before the block it will be mined in (`blockTime`,
 * pinned by `send`): every measured transaction sees the same age (1 s), so gas does not depend
 * on how long signing and RPC took, and no time boundary can pass between a check and mining.
 */
async function nextReport(ctx: Ctx, count: number, anvil: Anvil): Promise<{ report: Report; signature: Uint8Array; blockTime: bigint }> {
  ctx.epoch += 1n;
  ctx.step += 1;
  const now = await anvil.now();
  ctx.observedAt = ctx.observedAt >= now ? ctx.observedAt + 1n : now;
  // Alternate small moves (well inside the breaker) so answers change every round.
  const answers = ctx.ids.slice(0, count).map((_, i) => 6_000_000_000_000n + BigInt(i) * 1_000_000n + BigInt(ctx.step % 2) * 1_000_000_000n);
  const report = await makeReport(ctx.hub, { epoch: ctx.epoch, observedAt: ctx.observedAt, feedIds: ctx.ids.slice(0, count), answers });
  return { report, signature: secretSign(ctx.secret, reportMessage(report)), blockTime: ctx.observedAt + 1n };
}

/**
 * Genesis timestamp of every benchmark anvil (2025-10-09, so timestamps have today's byte
 * length). With a fixed genesis and one second per block (`anvil_setBlockTimestampInterval`),
 * every timestamp a report or signed payload carries depends only on how many blocks were mined
 * before it, not on the wall clock: the calldata, and so the gas (4 per zero byte, 16 per
 * nonzero byte), is identical run to run. With the wall clock a signature's zero bytes moved
 * the same row by multiples of 12 gas between runs (transmit n=4, 1 feed: 167,722 and 167,746).
 */
export const BENCH_GENESIS = 1_760_000_000;

/** An anvil for gas measurements: 1e9 block gas limit, the deterministic clock above. */
export async function startBenchAnvil(): Promise<Anvil> {
  const anvil = await startAnvil({ gasLimit: 1_000_000_000n, args: ['--timestamp', String(BENCH_GENESIS)] });
  try {
    await anvil.provider.send('anvil_setBlockTimestampInterval', [1]);
  } catch (err) {
    await anvil.stop();
    throw err;
  }
  return anvil;
}

/**
 * The committee of every measurement, from a fixed group secret (bench-only, 31 bytes so below
 * the group order): `testCommittee` draws a random one, and the signature's zero bytes then
 * moved the gas between runs just as the wall clock did.
 */
const BENCH_SECRET = 0x0a15c0ffee0a15c0ffee0a15c0ffee0a15c0ffee0a15c0ffee0a15c0ffee0an;

const committees = new Map<number, TestCommittee>();

/** Memoized: dealing n shares costs about a second at n = 100, and the gas section and peers ask for each n again. */
function benchCommittee(n: number): TestCommittee {
  let c = committees.get(n);
  if (!c) committees.set(n, (c = { ...dealerKeygen(2 * Math.floor((n - 1) / 3) + 1, n, BENCH_SECRET), secret: BENCH_SECRET }));
  return c;
}

/**
 * Explicit limit, never estimateGas: anvil's estimate is exact for the block it simulates, and
 * `updateAndRead`'s read costs a few gas more when the mined block is later than observedAt
 * (`_age` subtracts) than when it is not. A transaction sent with the estimate and mined a
 * second later ran out of gas at exactly the limit (status 0, ~171.1k gas: the flake seen at
 * n = 4 under load). gasUsed does not depend on the limit.
 */
const GAS_LIMIT = 16_000_000n;
const LIMIT = { gasLimit: GAS_LIMIT };

export class GasMeasurementError extends Error {
  override readonly name = 'GasMeasurementError';
  readonly code = 'gas_measurement_failed';
}

/** Mines `send()` in a block at `blockTime` and returns its gasUsed; a revert is named. */
async function gasOf(anvil: Anvil, op: string, blockTime: bigint, send: () => Promise<{ hash: string; wait(): Promise<{ gasUsed: bigint } | null> }>): Promise<number> {
  await anvil.setNextTimestamp(blockTime);
  const tx = await send();
  try {
    const receipt = await tx.wait();
    return Number(receipt!.gasUsed);
  } catch (err) {
    const receipt = (err as { receipt?: { gasUsed: bigint; status: number } }).receipt;
    if (!receipt) throw err;
    const trace = (await anvil.provider.send('debug_traceTransaction', [tx.hash, { tracer: 'callTracer' }]).catch(() => ({}))) as { output?: string; error?: string };
    const why = receipt.gasUsed >= GAS_LIMIT ? 'out of gas' : `${trace.error ?? 'reverted'} ${trace.output ?? ''}`.trim();
    throw new GasMeasurementError(`${op}: transaction ${tx.hash} failed (${why}; gasUsed ${receipt.gasUsed} of ${GAS_LIMIT}); decode the output with the hub ABI`);
  }
}

/** Gas limit of one `addFeed` (it uses about 0.2M); 100 of them must fit one 1e9-gas block. */
const ADD_FEED_GAS_LIMIT = 2_000_000n;

/**
 * Adds the feeds in one block: every `addFeed` sent with automine off (anvil orders them by
 * nonce), then one block mined at the timestamp one block per feed would have reached, so every
 * later timestamp, report and signature, and therefore the gas, is what it was with hub.ts
 * `addFeeds` — which waits for each receipt (about 6 s per committee for 100 feeds).
 */
async function addFeedsInOneBlock(anvil: Anvil, hub: Contract, ids: string[], cfg: Partial<FeedConfig>): Promise<string[]> {
  const from = await (await anvil.signer(0)).getAddress();
  const to = await hub.getAddress();
  const hashes: string[] = [];
  const last = await anvil.now();
  await anvil.provider.send('evm_setAutomine', [false]);
  try {
    for (const id of ids) {
      const data = hub.interface.encodeFunctionData('addFeed', [id, feedConfig({ description: id, ...cfg })]);
      hashes.push((await anvil.provider.send('eth_sendTransaction', [{ from, to, data, gas: '0x' + ADD_FEED_GAS_LIMIT.toString(16) }])) as string);
    }
    await anvil.setNextTimestamp(last + BigInt(ids.length));
    await anvil.provider.send('evm_mine', []);
  } finally {
    await anvil.provider.send('evm_setAutomine', [true]);
  }
  for (const [i, hash] of hashes.entries()) {
    const r = (await anvil.provider.send('eth_getTransactionReceipt', [hash])) as { status: string } | null;
    if (r?.status !== '0x1') throw new GasMeasurementError(`addFeed ${ids[i]}: transaction ${hash} ${r ? 'reverted' : 'was not mined in the setup block'}; check the feed config and ADD_FEED_GAS_LIMIT (${ADD_FEED_GAS_LIMIT})`);
  }
  return ids;
}

/** Measures verify, transmit at each feed count, and updateAndRead, for committee size n. */
export async function measureHubGas(opts: HubGasOptions): Promise<HubGas> {
  const counts = opts.feeds ?? [1, 10, 100];
  const own = opts.anvil ? undefined : await startBenchAnvil();
  const anvil = (opts.anvil ?? own)!;
  try {
    const compiled = compileContracts();
    const c = benchCommittee(opts.n);
    const signer = await anvil.signer(0);
    const hub = await deployHub(signer, c, { compiled });
    const max = Math.max(...counts, 1);
    const ids = await addFeedsInOneBlock(anvil, hub, Array.from({ length: max }, (_, i) => feedId(`F${i}/USD`)), opts.feedConfig ?? {});
    const ctx: Ctx = { hub, secret: c.secret, ids, epoch: 0n, observedAt: 0n, step: 0 };
    // Warm-up: every feed served twice, so all slots hold nonzero values.
    for (let k = 0; k < 2; k++) {
      const { report, signature, blockTime } = await nextReport(ctx, max, anvil);
      await gasOf(anvil, 'warm-up transmit', blockTime, () => hub.transmit!(report, signature, LIMIT));
    }
    const one = await nextReport(ctx, 1, anvil);
    const verify = await gasOf(anvil, 'verifyReport', one.blockTime, () => hub.verifyReport!.send(one.report, one.signature, LIMIT));
    const transmit: Record<number, number> = {};
    for (const count of counts) {
      const { report, signature, blockTime } = await nextReport(ctx, count, anvil);
      transmit[count] = await gasOf(anvil, `transmit of ${count} feeds`, blockTime, () => hub.transmit!(report, signature, LIMIT));
    }
    const pull = await nextReport(ctx, 1, anvil);
    await hub.updateAndRead!.staticCall(pull.report, pull.signature, ids[0], 0); // surfaces a named error
    const updateAndRead = await gasOf(anvil, 'updateAndRead', pull.blockTime, () => hub.updateAndRead!(pull.report, pull.signature, ids[0], 0, LIMIT));
    // The same one-feed round, but the committee cannot price the feed: the suspension entry
    // (same report format) against the active feed, then the priced round that resumes it.
    const down = await nextReport(ctx, 1, anvil);
    const suspension = await makeReport(hub, { epoch: down.report.epoch, observedAt: down.report.observedAt, feedIds: down.report.feedIds, answers: [SUSPENDED_ANSWER], spreadBps: [SuspendReason.too_few_sources] });
    const suspendSig = secretSign(ctx.secret, reportMessage(suspension));
    const suspend = await gasOf(anvil, 'transmit of a suspension', down.blockTime, () => hub.transmit!(suspension, suspendSig, LIMIT));
    const up = await nextReport(ctx, 1, anvil);
    const resume = await gasOf(anvil, 'transmit that resumes', up.blockTime, () => hub.transmit!(up.report, up.signature, LIMIT));
    return { n: c.n, t: c.t, verify, transmit, updateAndRead, suspend, resume };
  } finally {
    await own?.stop();
  }
}

/** Gas of the verify-only transaction at committee size n. */
export async function measureVerifyGas(n: number, anvil?: Anvil): Promise<number> {
  return (await measureHubGas({ n, feeds: [1], anvil })).verify;
}

/** Gas of `transmit` with `feeds` feeds at committee size n. */
export async function measureTransmitGas(n: number, feeds: number, anvil?: Anvil, cfg?: Partial<FeedConfig>): Promise<number> {
  return (await measureHubGas({ n, feeds: [feeds], anvil, feedConfig: cfg })).transmit[feeds]!;
}

/** Rows in the benchmark's JSON shape: {system, op, n, feeds, gas}. */
export async function hubGasRows(ns: number[] = [4, 31, 100], feeds: number[] = [1, 10, 100]): Promise<{ system: string; op: string; n: number; feeds: number; gas: number }[]> {
  const rows: { system: string; op: string; n: number; feeds: number; gas: number }[] = [];
  const anvil = await startBenchAnvil();
  try {
    for (const n of ns) {
      const g = await measureHubGas({ n, feeds, anvil });
      rows.push({ system: 'aegis', op: 'verify', n, feeds: 1, gas: g.verify });
      for (const f of feeds) rows.push({ system: 'aegis', op: 'transmit', n, feeds: f, gas: g.transmit[f]! });
      rows.push({ system: 'aegis', op: 'updateAndRead', n, feeds: 1, gas: g.updateAndRead });
      rows.push({ system: 'aegis', op: 'suspend', n, feeds: 1, gas: g.suspend });
      rows.push({ system: 'aegis', op: 'resume', n, feeds: 1, gas: g.resume });
    }
  } finally {
    await anvil.stop();
  }
  return rows;
}

const NOTES: Record<string, string> = {
  transmit: 'breaker + 32-round history',
  verify: 'report signature check only, one feed',
  updateAndRead: 'pull mode: submit and read one feed',
  suspend: 'committee-signed suspension of an active feed (same report format)',
  resume: 'first priced report after a suspension',
};

/**
 * `npm run bench` section: hub gas at n = 4, 31, 100 for 1, 10, 100 feeds (breaker on,
 * 32-round history), plus the same hub with breaker and history off at n = 31 (the
 * foundation's bare transmit).
 */
export async function benchSection(o: { quick: boolean; progress: (msg: string) => void }): Promise<{ gas: GasRow[] }> {
  const ns = o.quick ? [4, 31] : [4, 31, 100];
  const feeds = o.quick ? [1, 10] : [1, 10, 100];
  o.progress(`hub gas at n=${ns.join(',')} × feeds=${feeds.join(',')}`);
  const gas: GasRow[] = (await hubGasRows(ns, feeds)).map((r) => ({ ...r, note: NOTES[r.op] ?? r.op }));
  o.progress('bare transmit (breaker and history off) at n=31');
  const bare = await measureHubGas({ n: 31, feeds, feedConfig: { deviationBps: 0, confirmations: 0, historyCapacity: 0 } });
  for (const f of feeds) gas.push({ system: 'aegis', op: 'transmit', n: 31, feeds: f, gas: bare.transmit[f]!, note: 'breaker and history off' });
  return { gas };
}
