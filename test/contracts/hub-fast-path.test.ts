/**
 * The hub's assembly fast path against its general path: two hubs, one compiled from the
 * product source and one from the same source with the fast path switched off (its entry
 * condition made false, nothing else touched), get the same random reports in the same blocks.
 * Every storage slot either transaction writes (geth's prestate tracer in diff mode), every
 * event and every outcome must be equal; only the hubs' own addresses and code-blob addresses
 * differ. A fast path that drifted from `_apply` in any slot fails here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { Contract, ContractFactory, hexlify, type InterfaceAbi } from 'ethers';
import { startAnvil, type Anvil } from '../../contracts/anvil.ts';
import { artifact, compileContracts, SOURCES_DIR } from '../../contracts/compile.ts';
import { committeeConfig, feedConfig, makeReport, secretSign } from '../../contracts/hub.ts';
import { dealerKeygen } from '../../protocol/bls/index.ts';
import { feedId, reportMessage } from '../../protocol/report.ts';

const FAST_ENTRY = 'if eq(and(shr(S_FLAGS, st), 0xff), 1) {';
const SECRET = 0x1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdefn;
const FEEDS = ['A/USD', 'B/USD', 'C/USD'].map((n) => feedId(n));
const ONE = 10n ** 8n;

let anvil: Anvil;
let fast: Contract;
let general: Contract;

function generalPathSource(): string {
  const src = readFileSync(join(SOURCES_DIR, 'AegisHub.sol'), 'utf8');
  if (src.split(FAST_ENTRY).length !== 2) throw new Error(`AegisHub.sol: the fast path's entry "${FAST_ENTRY}" is not there exactly once; update this test with the hub`);
  return src.replace(FAST_ENTRY, 'if and(0, eq(and(shr(S_FLAGS, st), 0xff), 1)) {').replace('contract AegisHub is', 'contract AegisHubGeneralPath is');
}

beforeAll(async () => {
  anvil = await startAnvil({ gasLimit: 60_000_000n });
  const compiled = compileContracts({ extraSources: { 'src/AegisHubGeneralPath.sol': generalPathSource() } });
  const committee = dealerKeygen(3, 4, SECRET);
  const signer = await anvil.signer(0);
  const args = [await signer.getAddress(), 60, 300, committeeConfig(committee)];
  const deployed: Contract[] = [];
  for (const name of ['AegisHub', 'AegisHubGeneralPath']) {
    const a = artifact(name, compiled);
    const c = await new ContractFactory(a.abi as InterfaceAbi, a.bytecode, signer).deploy(...args);
    await c.waitForDeployment();
    deployed.push(new Contract(await c.getAddress(), a.abi as InterfaceAbi, signer));
  }
  [fast, general] = deployed as [Contract, Contract];
  for (const hub of deployed) {
    for (const [k, id] of FEEDS.entries()) {
      // Feed C has no history ring and no breaker: the fast path's other branches.
      const cfg = k === 2 ? feedConfig({ historyCapacity: 0, deviationBps: 0, confirmations: 0, minAnswer: 1n, maxAnswer: 1_000_000n * ONE }) : feedConfig({ historyCapacity: 4, deviationBps: 1000, minAnswer: 10n * ONE, maxAnswer: 10_000n * ONE });
      await (await hub.addFeed!(id, cfg)).wait();
    }
  }
});
afterAll(async () => {
  await anvil?.stop();
});

interface Step {
  feeds: { k: number; move: number; spread: number }[];
  olderBy: number;
  pause?: number | null;
}

/** Both hubs' transactions in one block; returns each one's receipt status, logs and storage writes. */
async function sameBlock(datas: [string, string]): Promise<{ status: number; logs: { topics: string[]; data: string }[]; storage: Record<string, string> }[]> {
  const from = await (await anvil.signer(0)).getAddress();
  await anvil.provider.send('evm_setAutomine', [false]);
  const hashes: string[] = [];
  try {
    for (const [k, data] of datas.entries()) hashes.push((await anvil.provider.send('eth_sendTransaction', [{ from, to: await [fast, general][k]!.getAddress(), data, gas: '0x' + (5_000_000).toString(16) }])) as string);
    await anvil.provider.send('evm_mine', []);
  } finally {
    await anvil.provider.send('evm_setAutomine', [true]);
  }
  const out = [];
  for (const [k, hash] of hashes.entries()) {
    const hub = (await [fast, general][k]!.getAddress()).toLowerCase();
    const r = (await anvil.provider.getTransactionReceipt(hash))!;
    const diff = (await anvil.provider.send('debug_traceTransaction', [hash, { tracer: 'prestateTracer', tracerConfig: { diffMode: true } }])) as { post: Record<string, { storage?: Record<string, string> }> };
    const blob = String(((await [fast, general][k]!.committee!()) as { blob: string }).blob).toLowerCase().slice(2);
    const storage: Record<string, string> = {};
    for (const [slot, value] of Object.entries(diff.post[hub]?.storage ?? {})) storage[slot] = value.toLowerCase().replace(blob, '<blob>');
    out.push({ status: r.status ?? 0, logs: r.logs.map((l) => ({ topics: [...l.topics], data: l.data })), storage });
  }
  return out;
}

describe('hub fast path = general path', () => {
  it('writes the same slots, emits the same events and decides the same for random report sequences', async () => {
    let price = [1000n * ONE, 2000n * ONE, 500n * ONE];
    let epoch = BigInt(Date.now());
    let compared = 0;
    let fastHits = 0;
    const step = fc.record({
      feeds: fc.uniqueArray(fc.record({ k: fc.integer({ min: 0, max: 2 }), move: fc.oneof(fc.integer({ min: -900, max: 900 }), fc.integer({ min: -9000, max: 30000 })), spread: fc.oneof(fc.integer({ min: 0, max: 500 }), fc.constant(2 ** 32 - 1)) }), { minLength: 1, maxLength: 3, selector: (f) => f.k }),
      olderBy: fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 1, max: 30 })),
      pause: fc.option(fc.integer({ min: 0, max: 2 }), { freq: 8 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 4, maxLength: 8 }), async (steps: Step[]) => {
        for (const s of steps) {
          if (s.pause !== undefined && s.pause !== null) {
            const paused = ((await fast.tryRead!(FEEDS[s.pause]!)) as bigint[])[4] === 3n;
            for (const hub of [fast, general]) await (await hub.setFeedPaused!(FEEDS[s.pause]!, !paused)).wait();
          }
          const now = BigInt((await anvil.provider.getBlock('latest'))!.timestamp) + 1n;
          const answers = s.feeds.map((f) => (price[f.k]! * BigInt(10_000 + f.move)) / 10_000n);
          epoch += 1000n;
          const datas: string[] = [];
          for (const hub of [fast, general]) {
            const report = await makeReport(hub, { epoch, observedAt: now - BigInt(s.olderBy), feedIds: s.feeds.map((f) => FEEDS[f.k]!), answers, spreadBps: s.feeds.map((f) => f.spread) });
            datas.push(hub.interface.encodeFunctionData('transmit', [report, secretSign(SECRET, reportMessage(report))]));
          }
          await anvil.setNextTimestamp(now);
          const [a, b] = await sameBlock(datas as [string, string]);
          expect(a!.status).toBe(b!.status);
          expect(a!.logs).toEqual(b!.logs);
          expect(a!.storage).toEqual(b!.storage);
          compared++;
          if (a!.status === 1) {
            const served = (await Promise.all(FEEDS.map((id) => fast.tryRead!(id)))) as bigint[][];
            price = served.map((r, k) => (r[0]! > 0n ? r[0]! : price[k]!));
            fastHits += a!.logs.filter((l) => l.topics[0] === fast.interface.getEvent('FeedUpdated')!.topicHash).length;
          }
        }
      }),
      { numRuns: 12, endOnFailure: true },
    );
    expect(compared).toBeGreaterThan(40);
    expect(fastHits).toBeGreaterThan(10); // the fast path really ran
  });
});
