/**
 * Retention of the anti-equivocation store: pruning keeps the newest `keepRows` epochs per
 * config digest and never the rules. The property test runs random sign / conflicting-sign /
 * old-epoch / prune sequences against a model that remembers every signature ever released,
 * and checks that after any prune the store still never releases a second report for an
 * epoch nor any epoch below the highest signed one.
 */
import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SigningStore, StoreError } from '../../node/store/index.ts';
import { parseNodeConfig, STORE_PRUNE_EVERY_SEC, STORE_RETAIN_ROWS, type NodeConfigInput } from '../../node/config.ts';
import { NodeError } from '../../node/errors.ts';
import { DIGEST, reportHashFor } from './fixtures/report-hash.ts';

const OTHER = `0x${'01'.repeat(32)}`;
const dirs: string[] = [];
function tempDb(): string {
  const dir = mkdtempSync(join(tmpdir(), 'aegis-retention-'));
  dirs.push(dir);
  return join(dir, 'signing.sqlite');
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('SigningStore.prune', () => {
  it('keeps the newest keepRows epochs of every digest, the highest always', () => {
    const store = SigningStore.open(tempDb());
    try {
      for (let e = 1n; e <= 50n; e++) store.checkAndRecord(DIGEST, e, reportHashFor(e));
      for (let e = 1n; e <= 5n; e++) store.checkAndRecord(OTHER, e, reportHashFor(e));
      expect(store.prune(10)).toBe(40);
      expect(store.rowCount(DIGEST)).toBe(10);
      expect(store.rowCount(OTHER)).toBe(5);
      expect(store.highestSigned(DIGEST)?.epoch).toBe(50n);
      // Kept rows still answer idempotent repeats; pruned ones are refused as regressions.
      expect(store.checkAndRecord(DIGEST, 41n, reportHashFor(41n))).toEqual({ ok: true, repeat: true });
      expect(store.checkAndRecord(DIGEST, 40n, reportHashFor(40n))).toMatchObject({ ok: false, reason: 'epoch_regression' });
      expect(store.prune(1)).toBe(9 + 4);
      expect(store.highestSigned(DIGEST)?.epoch).toBe(50n);
      expect(store.checkAndRecord(DIGEST, 50n, reportHashFor(50n, 1))).toMatchObject({ ok: false, reason: 'conflicting_report' });
      expect(store.checkAndRecord(DIGEST, 49n, reportHashFor(49n))).toMatchObject({ ok: false, reason: 'epoch_regression' });
      expect(store.checkAndRecord(DIGEST, 51n, reportHashFor(51n))).toEqual({ ok: true, repeat: false });
    } finally {
      store.close();
    }
  });

  it('deletes at most maxDelete rows per call and continues on the next', () => {
    const store = SigningStore.open(tempDb());
    try {
      for (let e = 1n; e <= 30n; e++) store.checkAndRecord(DIGEST, e, reportHashFor(e));
      expect(store.prune(5, 10)).toBe(10);
      expect(store.prune(5, 10)).toBe(10);
      expect(store.prune(5, 10)).toBe(5);
      expect(store.prune(5, 10)).toBe(0);
      expect(store.rowCount()).toBe(5);
    } finally {
      store.close();
    }
  });

  it('refuses keepRows below 1, naming the setting', () => {
    const store = SigningStore.open(tempDb());
    try {
      expect(() => store.prune(0)).toThrow(StoreError);
      expect(() => store.prune(0)).toThrow(/keepRows 0 must be an integer >= 1 .*store\.retainRows/);
    } finally {
      store.close();
    }
  });

  it('never lets a pruned store sign a conflicting report or an older epoch (property)', () => {
    type Op = { kind: 'sign'; epoch: number; variant: number } | { kind: 'prune'; keep: number };
    const op = fc.oneof(
      fc.record({ kind: fc.constant('sign' as const), epoch: fc.integer({ min: 1, max: 60 }), variant: fc.integer({ min: 0, max: 2 }) }),
      fc.record({ kind: fc.constant('prune' as const), keep: fc.integer({ min: 1, max: 8 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 80 }), (ops: Op[]) => {
        const store = SigningStore.open(tempDb());
        // Everything ever released, never pruned: the truth the store must stay consistent with.
        const released = new Map<number, string>();
        let highest = 0;
        try {
          for (const o of ops) {
            if (o.kind === 'prune') {
              store.prune(o.keep);
              expect(store.highestSigned(DIGEST)?.epoch ?? 0n).toBe(BigInt(highest));
              continue;
            }
            const hash = reportHashFor(BigInt(o.epoch), o.variant);
            const r = store.checkAndRecord(DIGEST, BigInt(o.epoch), hash);
            if (!r.ok) continue;
            const before = released.get(o.epoch);
            // Released: either the same report again, or a new epoch not below the highest.
            if (before !== undefined) expect(before).toBe(hash);
            else expect(o.epoch).toBeGreaterThanOrEqual(highest);
            released.set(o.epoch, hash);
            highest = Math.max(highest, o.epoch);
          }
        } finally {
          store.close();
        }
      }),
      { numRuns: 150 },
    );
  });

  it('stops the file from growing: freed pages are reused once the retention is reached', () => {
    const file = tempDb();
    const store = SigningStore.open(file);
    const size = () => statSync(file).size + statSync(`${file}-wal`, { throwIfNoEntry: false })!.size;
    try {
      const sizes: number[] = [];
      let e = 1n;
      for (let cycle = 0; cycle < 12; cycle++) {
        for (let k = 0; k < 500; k++, e++) store.checkAndRecord(DIGEST, e, reportHashFor(e));
        store.prune(1000);
        sizes.push(size());
      }
      expect(store.rowCount()).toBe(1000);
      // After the retention is reached (cycle 2), later cycles stay within 10 % of it.
      const settled = sizes[3]!;
      for (const s of sizes.slice(3)) expect(s).toBeLessThanOrEqual(settled * 1.1);
    } finally {
      store.close();
    }
  });
});

describe('node config store retention', () => {
  const base = (): NodeConfigInput => ({
    committee: './committee.json',
    keys: { identity: { path: './id.json', passwordEnv: 'ID_PW' }, share: { path: './share.json', passwordFile: './share.pass' } },
    store: './store.sqlite',
    feeds: [{ name: 'BTC/USD', minSources: 1, sources: [{ venue: 'coinbase' }] }],
  });

  it('a plain path gets the default retention', () => {
    const c = parseNodeConfig(base(), '/etc/aegis/node.yaml');
    expect(c.store).toBe('/etc/aegis/store.sqlite');
    expect(c.storeRetention).toEqual({ retainRows: STORE_RETAIN_ROWS, pruneEverySec: STORE_PRUNE_EVERY_SEC });
  });

  it('store.path, store.retainRows and store.pruneEverySec', () => {
    const c = parseNodeConfig({ ...base(), store: { path: './s.sqlite', retainRows: 500, pruneEverySec: 60 } }, '/etc/aegis/node.yaml');
    expect(c.store).toBe('/etc/aegis/s.sqlite');
    expect(c.storeRetention).toEqual({ retainRows: 500, pruneEverySec: 60 });
  });

  it('refuses retainRows 0 naming the field', () => {
    expect(() => parseNodeConfig({ ...base(), store: { path: './s.sqlite', retainRows: 0 } }, '/etc/aegis/node.yaml')).toThrow(NodeError);
    expect(() => parseNodeConfig({ ...base(), store: { path: './s.sqlite', retainRows: 0 } }, '/etc/aegis/node.yaml')).toThrow(/store/);
  });
});
