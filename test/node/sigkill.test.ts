/**
 * The anti-equivocation store the hard way: a real node process (`aegis node start`) signs in a
 * loop over HTTP, is SIGKILLed with a sign request in flight, restarts on the same store, and
 * is asked to sign a conflicting (otherwise valid) report for every epoch it signed before.
 * Every one must be refused: zero equivocations across the restarts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeRefusal, type FeedObservation } from '../../protocol/index.ts';
import { HttpNodeClient } from '../../protocol/http-node-client.ts';
import { FEEDS, observationBy, reportOf, setupFixture, waitReady, type Fixture } from './harness.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

let fx: Fixture;
let port: number;
const spawned: ChildProcess[] = [];
const logs: string[] = [];

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

function startProcess(): ChildProcess {
  // `node --import tsx` rather than the tsx wrapper: the wrapper runs the script in a child process,
  // so a SIGKILL to its PID would leave the real node running.
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/aegis.ts', 'node', 'start', '--config', fx.configFile], {
    cwd: ROOT,
    env: { ...process.env, ...fx.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  spawned.push(child);
  child.stdout?.on('data', (d: Buffer) => logs.push(...d.toString().split('\n').filter(Boolean)));
  child.stderr?.on('data', (d: Buffer) => logs.push(...d.toString().split('\n').filter(Boolean)));
  return child;
}

function kill(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

beforeAll(async () => {
  fx = await setupFixture();
  port = await freePort();
  fx.writeConfig({ listen: { host: '127.0.0.1', port }, log: { level: 'info' } });
});

afterAll(async () => {
  for (const child of spawned) await kill(child);
  await fx?.close();
});

describe('SIGKILL in the middle of a signing loop', () => {
  it('refuses every conflicting report after restart: zero equivocations', async () => {
    const url = `http://127.0.0.1:${port}`;
    const client = new HttpNodeClient({ index: 1, url, identitySecret: fx.aggregatorSecret, timeoutMs: 20_000 });
    const signed = new Map<bigint, string>();
    let epoch = 0n;
    let equivocations = 0;
    let refusals = 0;

    try {
      for (let cycle = 0; cycle < 2; cycle++) {
        const child = startProcess();
        await waitReady(url, 60_000);
        await expectServedBy(url, child);

        // Every epoch signed so far (in any earlier life): a conflicting report is refused.
        for (const [e] of signed) {
          const answers = await currentAnswers(client, epoch + 1000n);
          const conflicting = [2, 3, 4].map((i) => observationBy(fx, i, e, answers));
          const report = reportOf(fx, e, conflicting, [FEEDS.BTC, FEEDS.ETH]);
          const outcome = await client.sign({ report, observations: conflicting }).then(
            () => 'signed' as const,
            (err: unknown) => err,
          );
          if (outcome === 'signed') equivocations++;
          else {
            expect(outcome).toBeInstanceOf(NodeRefusal);
            expect(['conflicting_report', 'epoch_regression']).toContain((outcome as NodeRefusal).code);
            refusals++;
          }
        }

        // Sign a run of honest reports, then kill with one in flight.
        const rounds = 6 + cycle * 3;
        for (let k = 0; k < rounds; k++) {
          const e = ++epoch;
          const own = await client.observe({ configDigest: fx.digest, epoch: e, feedIds: [FEEDS.BTC, FEEDS.ETH] });
          const feeds = own.observation.feeds.map((f) => ({ feedId: f.feedId, answer: f.answer }));
          const observations = [own, observationBy(fx, 2, e, feeds), observationBy(fx, 3, e, feeds)];
          const report = reportOf(fx, e, observations, [FEEDS.BTC, FEEDS.ETH]);
          if (k < rounds - 1) {
            await client.sign({ report, observations });
            signed.set(e, 'signed');
          } else {
            const inflight = client.sign({ report, observations }).then(
              () => signed.set(e, 'signed'),
              () => undefined,
            );
            await new Promise((r) => setTimeout(r, cycle * 3));
            await kill(child);
            await inflight;
            // The process is gone: nothing answers on its port any more.
            await expect(fetch(`${url}/v1/health`)).rejects.toThrow();
          }
        }
      }

      // Final life: every signed epoch once more.
      const last = startProcess();
      await waitReady(url, 60_000);
      await expectServedBy(url, last);
      for (const [e] of signed) {
        const answers = await currentAnswers(client, epoch + 1000n);
        const conflicting = [2, 3, 4].map((i) => observationBy(fx, i, e, answers));
        const outcome = await client.sign({ report: reportOf(fx, e, conflicting, [FEEDS.BTC, FEEDS.ETH]), observations: conflicting }).then(
          () => 'signed' as const,
          (err: unknown) => err,
        );
        if (outcome === 'signed') equivocations++;
        else refusals++;
      }
    } finally {
      for (const child of spawned) await kill(child);
    }

    expect(signed.size).toBeGreaterThanOrEqual(13);
    expect(equivocations).toBe(0);
    expect(refusals).toBeGreaterThanOrEqual(signed.size);
    // Structured logs: one JSON line per round action, refusals with their code and reason.
    const actions = logs.flatMap((l) => {
      try {
        return [JSON.parse(l) as { action?: string; outcome?: string; code?: string; reason?: string }];
      } catch {
        return [];
      }
    });
    expect(actions.some((a) => a.action === 'sign' && a.outcome === 'signed')).toBe(true);
    // A kill can land after the store committed an epoch but before its answer arrived; the
    // conflicting requests are then all below the highest signed epoch (epoch_regression).
    expect(actions.some((a) => a.action === 'sign' && a.outcome === 'refused' && (a.code === 'conflicting_report' || a.code === 'epoch_regression') && typeof a.reason === 'string')).toBe(true);
  });
});

/** The node answering on `url` is the process just spawned, not a survivor of an earlier life. */
async function expectServedBy(url: string, child: ChildProcess): Promise<void> {
  const health = (await (await fetch(`${url}/v1/health`)).json()) as { pid?: number };
  expect(health.pid).toBe(child.pid);
}

/** The node's own current answers, so a conflicting report stays inside its sanity band. */
async function currentAnswers(client: HttpNodeClient, epoch: bigint): Promise<FeedObservation[]> {
  const own = await client.observe({ configDigest: fx.digest, epoch, feedIds: [FEEDS.BTC, FEEDS.ETH] });
  return own.observation.feeds.map((f) => ({ feedId: f.feedId, answer: f.answer }));
}
