/**
 * One node process per signing store: a second process is refused with a named error while the
 * first lives, and takes over once the first is gone (crash or clean exit). A store path whose
 * folder does not exist yet is created.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SigningStore } from '../../node/store/index.ts';
import { DIGEST, reportHashFor } from './fixtures/report-hash.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const HOLD = resolve(ROOT, 'test/store/fixtures/hold-store.ts');
const dir = mkdtempSync(join(tmpdir(), 'aegis-lock-'));
const children: ChildProcess[] = [];

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** Starts a process that opens `path` and holds it; resolves once it printed "open". */
function holder(path: string): Promise<ChildProcess> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', HOLD, path], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let err = '';
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    child.stdout!.on('data', (c: Buffer) => c.toString().includes('open') && done(child));
    child.on('exit', (code, signal) => fail(new Error(`holder exited early (code ${code}, signal ${signal}): ${err}`)));
  });
}

const exited = (c: ChildProcess): Promise<void> => new Promise((done) => (c.exitCode !== null || c.signalCode !== null ? done() : c.once('exit', () => done())));

describe('signing store instance lock', () => {
  it('refuses a second process while the first lives, naming its PID; takes over after a SIGKILL', async () => {
    const path = join(dir, 'a', 'signing.sqlite');
    const first = await holder(path);
    expect(() => SigningStore.open(path)).toThrowError(expect.objectContaining({ code: 'store_locked', message: expect.stringContaining(`pid ${first.pid}`) }));
    first.kill('SIGKILL');
    await exited(first);
    const store = SigningStore.open(path);
    try {
      expect(store.checkAndRecord(DIGEST, 1n, reportHashFor(1n))).toEqual({ ok: true, repeat: false });
    } finally {
      store.close();
    }
    expect(existsSync(`${path}.lock`)).toBe(false);
  });

  it('refuses a second open in the same process until the first is closed', () => {
    const path = join(dir, 'b', 'signing.sqlite');
    const a = SigningStore.open(path);
    try {
      expect(() => SigningStore.open(path)).toThrowError(expect.objectContaining({ code: 'store_locked', message: expect.stringContaining('already open in this process') }));
    } finally {
      a.close();
    }
    SigningStore.open(path).close();
  });

  it('takes over a lock file left by a process that no longer exists, or a torn one', () => {
    const path = join(dir, 'c', 'signing.sqlite');
    SigningStore.open(path).close();
    // PID 2^22+1 is above Linux's pid_max ceiling: no such process can exist.
    writeFileSync(`${path}.lock`, JSON.stringify({ pid: 4_194_305, startTime: '1' }));
    SigningStore.open(path).close();
    writeFileSync(`${path}.lock`, '{"pid": 12');
    SigningStore.open(path).close();
  });

  it('creates a missing store folder, and names the path when it cannot', () => {
    const path = join(dir, 'deep', 'er', 'signing.sqlite');
    SigningStore.open(path).close();
    expect(existsSync(path)).toBe(true);
    const file = join(dir, 'plain-file');
    writeFileSync(file, 'x');
    expect(() => SigningStore.open(join(file, 'x.sqlite'))).toThrowError(expect.objectContaining({ code: 'open_failed', message: expect.stringContaining(file) }));
  });
});
