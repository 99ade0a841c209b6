/**
 * The node's `configDigest` pin against a committee file that serves several hubs
 * (docs/design.md §Committee file): one digest or a list; the committee file must give exactly
 * the pinned digests, and the refusal names what is missing on either side.
 */
import { describe, expect, it } from 'vitest';
import { NodeConfigSchema, configDigestPinMismatch } from '../../node/config.ts';

const A = '0x' + 'aa'.repeat(32);
const B = '0x' + 'bb'.repeat(32);
const C = '0x' + 'cc'.repeat(32);
const pin = (configDigest?: string | string[]) => ({ committee: '/etc/aegis/committee.json', ...(configDigest !== undefined ? { configDigest } : {}) });

describe('configDigest pin', () => {
  it('no pin, or a pin equal to the committee file digests, passes (case-insensitive, any order)', () => {
    expect(configDigestPinMismatch(pin(), [A, B])).toBeUndefined();
    expect(configDigestPinMismatch(pin(A.toUpperCase().replace('0X', '0x')), [A])).toBeUndefined();
    expect(configDigestPinMismatch(pin([B, A]), [A, B])).toBeUndefined();
  });

  it('a single pin against a single digest keeps the message it always had', () => {
    expect(configDigestPinMismatch(pin(C), [A])).toBe(`config digest mismatch: expected ${C}, got ${A} from committee file /etc/aegis/committee.json; use the committee file of the deployed hub or update configDigest`);
  });

  it('a committee file that grew a hub the pin does not list, or lost one it lists, is refused by name', () => {
    expect(configDigestPinMismatch(pin(A), [A, B])).toMatch(new RegExp(`expected ${A}, got ${A}, ${B} .*\\(in the file but not pinned: ${B}\\); pin every hub's digest \\(configDigest: \\[${A}, ${B}\\]\\)`));
    expect(configDigestPinMismatch(pin([A, C]), [A, B])).toMatch(new RegExp(`\\(pinned but not in the file: ${C}\\) \\(in the file but not pinned: ${B}\\)`));
  });

  it('the YAML takes one digest or a list of them', () => {
    const base = { committee: 'c.json', keys: { identity: { path: 'i', passwordEnv: 'X' }, share: { path: 's', passwordEnv: 'X' } }, store: 's.sqlite', feeds: [{ name: 'BTC/USD', minSources: 1, sources: [{ venue: 'coinbase' }] }] };
    expect(NodeConfigSchema.safeParse({ ...base, configDigest: A }).success).toBe(true);
    expect(NodeConfigSchema.safeParse({ ...base, configDigest: [A, B] }).success).toBe(true);
    expect(NodeConfigSchema.safeParse({ ...base, configDigest: [] }).success).toBe(false);
    expect(NodeConfigSchema.safeParse({ ...base, configDigest: ['0x12'] }).success).toBe(false);
  });
});
