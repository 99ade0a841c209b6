/**
 * Crash safety with a real process: a child records epochs in a tight loop and prints each one
 * after its commit; we SIGKILL it mid-loop, reopen the store and check every printed epoch is
 * there and cannot be re-signed with a different report. Three kill/restart cycles.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SigningStore } from '../../node/store/index.ts';
import { DIGEST, reportHashFor } from './fixtures/report-hash.ts';

// `node --import tsx` (not the tsx CLI, which forks a grandchild) so the PID we SIGKILL is the signer itself.
const ROOT = resolve(import.meta.dirname, '../..');
const LOOP = resolve(ROOT, 'test/store/fixtures/sign-loop.ts');
const dir = mkdtempSync(join(tmpdir(), 'aegis-crash-'));
const dbPath = join(dir, 'signing.sqlite');
const children: ChildProcess[] = [];

afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** Run the loop until it has printed at least `count` epochs, then SIGKILL it; return what it printed. */
function runAndKill(count: number): Promise<bigint[]> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', LOOP, dbPath], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    let err = '';
    let killed = false;
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (!killed && out.split('\n').length - 1 >= count) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', fail);
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') return fail(new Error(`sign loop exited with code ${code} signal ${signal}: ${err}`));
      // Only complete lines were printed after a commit; a torn last line is ignored.
      const lines = out.split('\n').slice(0, -1);
      done(lines.map((l) => BigInt(l)));
    });
  });
}

describe('SigningStore crash safety', () => {
  it('keeps every epoch a SIGKILLed signer printed, and refuses conflicts for them after restart', async () => {
    const printed: bigint[] = [];
    for (let cycle = 0; cycle < 3; cycle++) {
      const epochs = await runAndKill(100 + cycle * 50);
      expect(epochs.length).toBeGreaterThanOrEqual(100);
      if (printed.length > 0) expect(epochs[0]! > printed[printed.length - 1]!).toBe(true); // restarted after the highest
      printed.push(...epochs);
    }
    const store = SigningStore.open(dbPath);
    try {
      for (const epoch of printed) {
        expect(store.checkAndRecord(DIGEST, epoch, reportHashFor(epoch))).toEqual({ ok: true, repeat: true });
        expect(store.checkAndRecord(DIGEST, epoch, reportHashFor(epoch, 1))).toMatchObject({ ok: false, reason: 'conflicting_report' });
      }
      const highest = store.highestSigned(DIGEST)!.epoch;
      expect(highest >= printed[printed.length - 1]!).toBe(true);
      expect(store.checkAndRecord(DIGEST, 0n, reportHashFor(0n))).toMatchObject({ ok: false, reason: 'epoch_regression' });
    } finally {
      store.close();
    }
  });
});
