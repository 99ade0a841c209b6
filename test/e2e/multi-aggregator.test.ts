/**
 * Two aggregator processes (`aegis aggregator start`) for one committee on an ordered
 * schedule: the active one posts every tick, the standby watches the hub and skips; when the
 * active process is SIGKILLed, the standby takes over within two ticks. Exactly one report is
 * accepted per epoch and no transaction to the hub reverts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeHubError, hubInterface } from '../../aggregator/chain/hub-abi.ts';
import { tickOf } from '../../aggregator/schedule.ts';
import { RoundStore } from '../../aggregator/store.ts';
import { freePort, setupNetwork, sleep, type E2eNetwork } from './harness.ts';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
// Generous slots: two cores run anvil, four nodes and two aggregators at once.
const SCHEDULE = { intervalMs: 5000, slotMs: 2500 };

const ROUND = { observeTimeoutMs: 2500, signTimeoutMs: 2500, graceMs: 300, maxObservationAgeSec: 30 };
let net: E2eNetwork;
const procs: ChildProcess[] = [];

function spawnAggregator(config: string): ChildProcess {
  // `node --import tsx` so the PID is the aggregator itself (a tsx wrapper's child would survive a SIGKILL).
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'aegis.ts'), 'aggregator', 'start', '--config', config], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (b: Buffer) => (log = (log + b.toString()).slice(-20_000)));
  child.stderr!.on('data', (b: Buffer) => (log = (log + b.toString()).slice(-20_000)));
  (child as ChildProcess & { log: () => string }).log = () => log;
  procs.push(child);
  return child;
}

async function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

interface Accepted {
  epoch: bigint;
  transmitter: string;
  block: number;
}

async function accepted(): Promise<Accepted[]> {
  const logs = await net.anvil.provider.getLogs({ address: net.hubAddress, fromBlock: 0, toBlock: 'latest', topics: [hubInterface.getEvent('ReportAccepted')!.topicHash] });
  return logs.map((l) => {
    const e = hubInterface.parseLog(l)!;
    return { epoch: BigInt(e.args.epoch), transmitter: String(e.args.transmitter).toLowerCase(), block: l.blockNumber };
  });
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}; logs:\n${procs.map((p) => (p as ChildProcess & { log: () => string }).log?.().slice(-3000)).join('\n----\n')}`);
    await sleep(250);
  }
}

beforeAll(async () => {
  net = await setupNetwork({ n: 4, t: 3 });
});

afterAll(async () => {
  for (const p of procs) await stopProcess(p, 'SIGKILL').catch(() => undefined);
  await net?.close();
});

describe('several aggregators for one committee (real processes)', () => {
  it('one accepted report per epoch, no reverted transactions, and the standby takes over within two ticks', async () => {
    const active = net.aggregatorConfig(0, { schedule: { ...SCHEDULE, position: 0, of: 2 }, round: ROUND, listen: { port: await freePort() } });
    const standby = net.aggregatorConfig(1, { schedule: { ...SCHEDULE, position: 1, of: 2 }, round: ROUND, listen: { port: await freePort() } });
    const a = spawnAggregator(active);
    const b = spawnAggregator(standby);
    const A = net.transmitterAddress(0).toLowerCase();
    const B = net.transmitterAddress(1).toLowerCase();

    // Let the active one post for a few ticks while the standby watches.
    await waitFor('three reports by the active aggregator', async () => ((await accepted()).filter((x) => x.transmitter === A).length >= 3 ? true : undefined), 60_000);
    const beforeKill = await accepted();
    // After the standby's first check (one tick), every report is the active one's.
    const settled = beforeKill.slice(2);
    expect(settled.length).toBeGreaterThan(0);
    const diag = () => {
      const st = new RoundStore(join(net.dir, 'agg0.db'));
      const rows = st.recent(20).map((r) => `${r.epoch} ${r.status} ${r.failureCode ?? ''} ${r.txStatus ?? ''} ${JSON.stringify(r.timings)} ${r.txDetail ?? ''}`);
      st.close();
      return `accepted: ${beforeKill.map((x) => `${x.epoch}:${x.transmitter === A ? 'A' : 'B'}`).join(' ')}\nactive rounds:\n${rows.join('\n')}`;
    };
    expect(settled.every((x) => x.transmitter === A), diag()).toBe(true);

    const killTick = tickOf(Date.now(), SCHEDULE);
    await stopProcess(a, 'SIGKILL');
    const takeover = await waitFor('a report by the standby', async () => (await accepted()).find((x) => x.transmitter === B && x.block > beforeKill.at(-1)!.block), 30_000);
    // Standby epochs are the tick's start in ms, even, plus 1: the tick it posted in is within
    // two ticks of the kill.
    const takeoverTick = tickOf(Number(takeover.epoch - 1n), SCHEDULE);
    expect(takeover.epoch % 2n).toBe(1n);
    expect(takeoverTick - killTick).toBeLessThanOrEqual(2);

    // It keeps posting on its own.
    await waitFor('a second report by the standby', async () => ((await accepted()).filter((x) => x.transmitter === B).length >= 2 ? true : undefined), 30_000);
    await stopProcess(b, 'SIGTERM');

    const all = await accepted();
    const epochs = all.map((x) => x.epoch);
    expect(new Set(epochs).size).toBe(epochs.length);
    expect([...epochs].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0))).toEqual(epochs);

    // No storm of reverted transactions: every transaction to the hub succeeded.
    const latest = await net.anvil.provider.getBlockNumber();
    let reverted = 0;
    const why: string[] = [];
    for (let n = 0; n <= latest; n++) {
      const block = await net.anvil.provider.getBlock(n, true);
      for (const tx of block?.prefetchedTransactions ?? []) {
        if (tx.to?.toLowerCase() !== net.hubAddress.toLowerCase()) continue;
        const r = await net.anvil.provider.getTransactionReceipt(tx.hash);
        if (r?.status === 0) {
          reverted++;
          let reason = '?';
          try {
            await net.anvil.provider.call({ from: tx.from, to: tx.to, data: tx.data, blockTag: n - 1 });
            reason = 'succeeds at the parent block';
          } catch (err) {
            reason = decodeHubError((err as { data?: string }).data)?.text ?? String((err as Error).message).slice(0, 200);
          }
          why.push(`block ${n} from ${tx.from.toLowerCase() === A ? 'A' : tx.from.toLowerCase() === B ? 'B' : tx.from} nonce ${tx.nonce}: ${reason}`);
        }
      }
    }
    expect(reverted, why.join('\n') + '\n' + diag()).toBe(0);

    // Both aggregators recorded their rounds; the standby's history shows the skips' absence and its posts.
    const sb = new RoundStore(join(net.dir, 'agg1.db'));
    try {
      const rounds = sb.recent(100);
      expect(rounds.filter((r) => r.txStatus === 'accepted').length).toBeGreaterThanOrEqual(2);
      expect(rounds.filter((r) => r.txStatus === 'reverted')).toEqual([]);
    } finally {
      sb.close();
    }
  });
});
