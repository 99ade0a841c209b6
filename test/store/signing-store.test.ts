import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SigningStore, StoreError } from '../../node/store/index.ts';
import { DIGEST, reportHashFor } from './fixtures/report-hash.ts';

const dirs: string[] = [];
function tempDb(): string {
  const dir = mkdtempSync(join(tmpdir(), 'aegis-store-'));
  dirs.push(dir);
  return join(dir, 'signing.sqlite');
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('SigningStore', () => {
  it('records a first signature, allows an identical repeat, refuses a conflicting report', () => {
    const store = SigningStore.open(tempDb());
    try {
      expect(store.checkAndRecord(DIGEST, 7n, reportHashFor(7n))).toEqual({ ok: true, repeat: false });
      expect(store.checkAndRecord(DIGEST, 7n, reportHashFor(7n))).toEqual({ ok: true, repeat: true });
      expect(store.checkAndRecord(DIGEST, 7n, reportHashFor(7n).toUpperCase().replace('0X', '0x'))).toEqual({ ok: true, repeat: true });
      const refused = store.checkAndRecord(DIGEST, 7n, reportHashFor(7n, 1));
      expect(refused).toMatchObject({ ok: false, reason: 'conflicting_report' });
      if (!refused.ok) expect(refused.detail).toContain(`epoch 7: already signed report ${reportHashFor(7n)}`);
    } finally {
      store.close();
    }
  });

  it('refuses an epoch below the highest signed one, per config digest', () => {
    const store = SigningStore.open(tempDb());
    try {
      expect(store.checkAndRecord(DIGEST, 10n, reportHashFor(10n)).ok).toBe(true);
      const refused = store.checkAndRecord(DIGEST, 9n, reportHashFor(9n));
      expect(refused).toMatchObject({ ok: false, reason: 'epoch_regression' });
      if (!refused.ok) expect(refused.detail).toMatch(/epoch 9 is below the highest signed epoch 10/);
      const other = `0x${'01'.repeat(32)}`;
      expect(store.checkAndRecord(other, 1n, reportHashFor(1n))).toEqual({ ok: true, repeat: false });
      expect(store.checkAndRecord(DIGEST, 11n, reportHashFor(11n))).toEqual({ ok: true, repeat: false });
      expect(store.highestSigned(DIGEST)).toMatchObject({ epoch: 11n, reportHash: reportHashFor(11n) });
    } finally {
      store.close();
    }
  });

  it('orders epochs numerically across the whole uint64 range', () => {
    const store = SigningStore.open(tempDb());
    try {
      const max = (1n << 64n) - 1n;
      expect(store.checkAndRecord(DIGEST, 9n, reportHashFor(9n)).ok).toBe(true);
      expect(store.checkAndRecord(DIGEST, max, reportHashFor(max)).ok).toBe(true);
      expect(store.checkAndRecord(DIGEST, 10n, reportHashFor(10n))).toMatchObject({ ok: false, reason: 'epoch_regression' });
      expect(() => store.checkAndRecord(DIGEST, max + 1n, reportHashFor(1n))).toThrowError(/epoch 18446744073709551616 is not a uint64/);
      expect(() => store.checkAndRecord(DIGEST, -1n, reportHashFor(1n))).toThrowError(StoreError);
      expect(() => store.checkAndRecord('0x1234', 1n, reportHashFor(1n))).toThrowError(/configDigest 0x1234 is not 0x-prefixed 32-byte hex/);
    } finally {
      store.close();
    }
  });

  it('keeps its records and node state across close and reopen', () => {
    const path = tempDb();
    const first = SigningStore.open(path);
    first.checkAndRecord(DIGEST, 3n, reportHashFor(3n));
    first.setValue('lastObservationEpoch', '42');
    first.close();
    const second = SigningStore.open(path);
    try {
      expect(second.getValue('lastObservationEpoch')).toBe('42');
      expect(second.getValue('missing')).toBeUndefined();
      expect(second.checkAndRecord(DIGEST, 3n, reportHashFor(3n, 1))).toMatchObject({ ok: false, reason: 'conflicting_report' });
    } finally {
      second.close();
    }
  });

  it('fails to open with a clear error naming the file', () => {
    const path = tempDb();
    writeFileSync(path, 'this is not a database, it is a text file that is long enough to have a header');
    expect(() => SigningStore.open(path)).toThrowError(/signing store .*signing\.sqlite: cannot use it \(file is not a database\)/);
    // A store path under a regular file: the folder cannot be created.
    expect(() => SigningStore.open(join(path, 'x.sqlite'))).toThrowError(expect.objectContaining({ code: 'open_failed' }));
  });
});
