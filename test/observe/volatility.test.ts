import { describe, expect, it } from 'vitest';
import { realizedVolatilityBps } from '../../node/observe/index.ts';

describe('realizedVolatilityBps', () => {
  const window = { nowMs: 100_000, windowMs: 60_000, horizonMs: 10_000 };

  it('is zero for a flat series and for fewer than two points', () => {
    expect(realizedVolatilityBps([{ timestampMs: 50_000, price: 100 }, { timestampMs: 60_000, price: 100 }], window)).toBe(0);
    expect(realizedVolatilityBps([{ timestampMs: 50_000, price: 100 }], window)).toBe(0);
    expect(realizedVolatilityBps([], window)).toBe(0);
  });

  it('measures the log-return size per horizon, whatever the sampling', () => {
    const up = Math.exp(0.001); // 10 bps log return every 10 s
    const series = [0, 1, 2, 3].map((i) => ({ timestampMs: 60_000 + i * 10_000, price: 100 * up ** (i % 2) }));
    expect(realizedVolatilityBps(series, window)).toBeCloseTo(10, 9);
    // the same path sampled in a different order gives the same answer
    expect(realizedVolatilityBps([...series].reverse(), window)).toBeCloseTo(10, 9);
  });

  it('ignores points outside the window and garbage', () => {
    const series = [
      { timestampMs: 10_000, price: 1 }, // too old
      { timestampMs: 70_000, price: 100 },
      { timestampMs: 80_000, price: Number.NaN },
      { timestampMs: 90_000, price: 100 },
      { timestampMs: 200_000, price: 1_000 }, // in the future
    ];
    expect(realizedVolatilityBps(series, window)).toBe(0);
  });
});
