/**
 * The hand-written fast validators of the hot messages (`parseObserveRequest`,
 * `parseObserveResponse`) must accept exactly what the zod schemas accept: same verdict on
 * valid, mutated and junk bodies, and the same data when accepted (rejections are zod's own).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ObserveRequestSchema, ObserveResponseSchema, parseObserveRequest, parseObserveResponse } from '../../protocol/index.ts';

const hex = (bytes: number) => fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => `0x${Buffer.from(b).toString('hex')}`);
const junk = fc.oneof(
  fc.anything(),
  fc.constantFrom('', '0x', '0X00', '-1', '-', '1e3', ' 1', '1\n', '9'.repeat(78), '9'.repeat(79), '0x' + 'zz'.repeat(32), '0x' + 'ab'.repeat(31) + 'a', null, [], {}, true, 0, 1.5, 257, -0),
);
// Mostly valid values, so that many whole requests are valid and the rest differ in one place.
const maybe = <T,>(good: fc.Arbitrary<T>) => fc.oneof({ weight: 30, arbitrary: good }, { weight: 1, arbitrary: junk });
/** Sometimes one more key, set through JSON as a parsed body would have it ("__proto__" an own key). */
const withExtra = <T extends object>(rec: fc.Arbitrary<T>) =>
  fc
    .tuple(rec, fc.oneof({ weight: 20, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom('extra', '__proto__', 'constructor', 'reason') }), junk)
    .map(([o, k, v]) => (k === undefined ? o : JSON.parse(JSON.stringify({ ...o, extra: v }).replace(/"extra":/, `${JSON.stringify(k)}:`))));

/** Encodings: valid hex of any length around the bounds, odd or non-hex strings. */
const encoded = fc.oneof(
  fc.uint8Array({ maxLength: 64 }).map((b) => `0x${Buffer.from(b).toString('hex')}`),
  fc.constantFrom(`0x${'ab'.repeat(24_229)}`, `0x${'ab'.repeat(24_230)}`, '0xabc', '0xg0', 'ab', '0X00', ' 0x00', '0x00 '),
  // Characters Node's hex decoder would read by their low byte ("١" is U+0661, "İ" U+0130).
  fc.constantFrom('0x١٢', '0xİİ', '0xab\u00e9f', '0x\ud800a', '0xa\u0000'),
);
const signed = withExtra(fc.record({ encoded: maybe(encoded), signature: maybe(hex(64)) }));
const feedIds = maybe(fc.oneof(fc.array(maybe(hex(32)), { maxLength: 4 }), fc.constant(Array.from({ length: 1001 }, () => `0x${'44'.repeat(32)}`))));
/** Reasons by feed id: mostly valid, sometimes a bad key, a long reason or a non-string. */
const reasons = fc.dictionary(
  fc.oneof({ weight: 10, arbitrary: hex(32) }, { weight: 1, arbitrary: fc.constantFrom('0x12', '__proto__', 'BTC') }),
  fc.oneof({ weight: 10, arbitrary: fc.string({ maxLength: 3 }) }, { weight: 1, arbitrary: fc.oneof(fc.string({ minLength: 499, maxLength: 501 }), junk) }),
  { maxKeys: 3 },
);

function sameVerdict(fast: { success: boolean; data?: unknown }, zod: { success: boolean; data?: unknown }): void {
  expect(fast.success).toBe(zod.success);
  if (zod.success) expect(fast.data).toEqual(zod.data);
}

describe('fast validators of the hot messages', () => {
  it('parseObserveResponse accepts exactly what ObserveResponseSchema accepts', () => {
    const response = withExtra(fc.record({ observation: maybe(signed), reasons: maybe(reasons) }, { requiredKeys: [] }));
    expect(fc.sample(response, 2000).filter((b) => ObserveResponseSchema.safeParse(b).success).length).toBeGreaterThan(50);
    fc.assert(
      fc.property(fc.oneof(response, junk), (body) => sameVerdict(parseObserveResponse(body), ObserveResponseSchema.safeParse(body))),
      { numRuns: 4000 },
    );
  });

  it('parseObserveRequest accepts exactly what ObserveRequestSchema accepts', () => {
    const request = withExtra(
      fc.record(
        {
          configDigest: maybe(hex(32)),
          epoch: maybe(fc.oneof(fc.bigInt({ min: 0n, max: 1n << 70n }).map(String), fc.constantFrom('9'.repeat(78), '9'.repeat(79), '-1', '01', '1.0'))),
          feedIds,
        },
        { requiredKeys: ['configDigest', 'epoch', 'feedIds'] },
      ),
    );
    expect(fc.sample(request, 1000).filter((b) => ObserveRequestSchema.safeParse(b).success).length).toBeGreaterThan(50);
    fc.assert(
      fc.property(fc.oneof(request, junk), (body) => sameVerdict(parseObserveRequest(body), ObserveRequestSchema.safeParse(body))),
      { numRuns: 4000 },
    );
  });

  it('accepts a valid answer on the fast path and rejects a bad one with zod’s message', () => {
    const observation = { encoded: `0x${'11'.repeat(155)}`, signature: `0x${'33'.repeat(64)}` };
    expect(parseObserveResponse({ observation }).success).toBe(true);
    const bad = parseObserveResponse({ observation: { ...observation, encoded: '0x1' } });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(['observation', 'encoded']);
  });
});
