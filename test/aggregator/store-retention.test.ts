/** Round history retention: `RoundStore.prune` keeps the newest rounds and the reserved epoch. */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RoundStore } from '../../aggregator/store.ts';
import { AggregatorConfigSchema } from '../../aggregator/config.ts';
import type { RoundResult } from '../../aggregator/round/types.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempStore(): { store: RoundStore; file: string } {
  const d = mkdtempSync(join(tmpdir(), 'aegis-rounds-'));
  dirs.push(d);
  const file = join(d, 'agg.sqlite');
  return { store: new RoundStore(file), file };
}

function round(epoch: bigint): RoundResult {
  return {
    epoch,
    configDigest: `0x${'ae'.repeat(32)}`,
    status: 'failed',
    failure: { code: 'too_few_observations', message: `round ${epoch}: 2 of 5 observations` },
    feedIds: [`0x${'11'.repeat(32)}`],
    candidates: [],
    skipped: [],
    participants: { observed: [1, 2], signed: [] },
    excluded: [{ index: 3, phase: 'observe', code: 'timeout', reason: 'no answer within 1500 ms '.repeat(8) }],
    timings: { observeMs: 10, buildMs: 1, signMs: 0, verifyMs: 0, totalMs: 11 },
    startedAt: 1_700_000_000_000 + Number(epoch),
  } as unknown as RoundResult;
}

describe('RoundStore.prune', () => {
  it('keeps the newest keepRounds rounds and the reserved epoch', () => {
    const { store } = tempStore();
    try {
      for (let e = 1n; e <= 40n; e++) {
        store.reserveEpoch(e * 1000n);
        store.recordRound(round(e * 1000n), { reason: null, decisions: [] });
      }
      expect(store.prune(15)).toBe(25);
      expect(store.count()).toBe(15);
      expect(store.recent(100).map((r) => r.epoch)).toEqual(Array.from({ length: 15 }, (_, k) => BigInt(40 - k) * 1000n));
      expect(store.reservedEpoch()).toBe(40_000n);
      expect(() => store.reserveEpoch(39_000n)).toThrow(/not above the reserved epoch 40000/);
      expect(store.prune(15)).toBe(0);
      expect(store.prune(1, 5)).toBe(5);
      expect(() => store.prune(0)).toThrow(/keepRounds 0 must be an integer >= 1; set dbRetention\.retainRounds/);
    } finally {
      store.close();
    }
  });

  it('the file stops growing once the retention is reached', () => {
    const { store, file } = tempStore();
    const size = () => statSync(file).size + (statSync(`${file}-wal`, { throwIfNoEntry: false })?.size ?? 0);
    try {
      const sizes: number[] = [];
      let e = 1n;
      for (let cycle = 0; cycle < 10; cycle++) {
        for (let k = 0; k < 200; k++, e++) store.recordRound(round(e), { reason: null, decisions: [] });
        store.prune(400);
        sizes.push(size());
      }
      const settled = sizes[3]!;
      for (const s of sizes.slice(3)) expect(s).toBeLessThanOrEqual(settled * 1.1);
    } finally {
      store.close();
    }
  });

  it('dbRetention defaults to 20,000 rounds pruned every 600 s; 0 rounds is refused', () => {
    expect(AggregatorConfigSchema.shape.dbRetention.parse(undefined)).toEqual({ retainRounds: 20_000, pruneEverySec: 600 });
    expect(AggregatorConfigSchema.shape.dbRetention.parse({ retainRounds: 500 })).toEqual({ retainRounds: 500, pruneEverySec: 600 });
    expect(AggregatorConfigSchema.shape.dbRetention.safeParse({ retainRounds: 0 }).success).toBe(false);
  });
});
