import { describe, expect, it } from 'vitest';
import { priceText } from '../../node/cli.ts';

describe('aegis node check: prices as people write them', () => {
  it('drops binary float noise and keeps real digits', () => {
    expect(priceText(60062.95999999999)).toBe('60062.96');
    expect(priceText(0.1 + 0.2)).toBe('0.3');
    expect(priceText(3000.5)).toBe('3000.5');
    expect(priceText(1)).toBe('1');
    expect(priceText(0.000012345678912)).toBe('0.0000123456789');
  });
});
