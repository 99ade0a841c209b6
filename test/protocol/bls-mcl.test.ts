/**
 * Cross-implementation properties: the mcl-wasm path of protocol/bls (hash to G1, signing,
 * combining, verifying, decoding) against @noble/curves, the reference it replaced.
 * Seeded from AEGIS_PROPERTY_SEED when set, so a failure can be replayed.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import {
  BlsError,
  G1,
  G2,
  SIGNATURE_DST,
  batchVerifyPartials,
  combinePartials,
  dealerKeygen,
  decodeG1,
  decodeG2,
  hashToG1,
  lagrangeAtZero,
  partialSign,
  verifyGroupSignature,
  verifyPartial,
} from '../../protocol/bls/index.ts';
import { decodeMclG1, decodeMclG2 } from '../../protocol/bls/mcl.ts';

const seed = process.env.AEGIS_PROPERTY_SEED ? Number(process.env.AEGIS_PROPERTY_SEED) : 0x9380;
const vectors = JSON.parse(readFileSync(new URL('../vectors/rfc9380-g1-sha256-sswu-ro.json', import.meta.url), 'utf8'));
const enc = new TextEncoder();
const nobleHash = (m: Uint8Array, dst: string | Uint8Array = SIGNATURE_DST) => bls12_381.G1.hashToCurve(m, { DST: dst });
const R = bls12_381.fields.Fr.ORDER;
const scalar = fc.bigInt({ min: 1n, max: R - 1n });

function outcome(fn: () => { toBytes(): Uint8Array } | { serialize(): Uint8Array }): string {
  try {
    const p = fn();
    return bytesToHex('toBytes' in p ? p.toBytes() : p.serialize());
  } catch (err) {
    return err instanceof BlsError ? `BlsError ${err.code}` : `not a BlsError: ${String(err)}`;
  }
}

describe('hash to G1: mcl equals noble', () => {
  it('RFC 9380 J.9.1 vectors, compressed bytes', () => {
    for (const v of vectors.vectors) {
      const m = enc.encode(v.msg);
      expect(bytesToHex(hashToG1(m, vectors.dst).toBytes())).toBe(bytesToHex(nobleHash(m, vectors.dst).toBytes()));
    }
  });

  it('random messages and DSTs (strings and bytes, up to and past 255 bytes)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 600 }),
        fc.oneof(fc.string({ minLength: 1, maxLength: 80 }), fc.uint8Array({ minLength: 1, maxLength: 320 })),
        (m, dst) => {
          expect(hashToG1(m, dst).equals(nobleHash(m, dst))).toBe(true);
        },
      ),
      { numRuns: 40, seed },
    );
  });

  it('the default DST is the signature DST; an empty DST is refused as RFC 9380 requires', () => {
    const m = enc.encode('aegis');
    expect(hashToG1(m).equals(nobleHash(m))).toBe(true);
    expect(() => hashToG1(m, '')).toThrow(RangeError);
    expect(() => hashToG1(m, new Uint8Array(0))).toThrow(RangeError);
  });
});

describe('signing, combining and verifying: mcl equals noble', () => {
  it('partialSign(s, m) is noble hashToCurve(m).multiply(s)', () => {
    fc.assert(
      fc.property(scalar, fc.uint8Array({ maxLength: 64 }), (secret, m) => {
        const sig = partialSign({ index: 1, secret }, m).signature;
        expect(bytesToHex(sig)).toBe(bytesToHex(nobleHash(m).multiply(secret).toBytes()));
      }),
      { numRuns: 12, seed },
    );
  });

  it('combine is s·H(m) and both verifiers agree, also on a wrong message or key', () => {
    fc.assert(
      fc.property(scalar, fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.integer({ min: 0, max: 2 }), (secret, m, pick) => {
        const committee = dealerKeygen(3, 4, secret);
        const partials = committee.shares.map((s) => partialSign(s, m));
        const subset = [partials.slice(0, 3), partials.slice(1, 4), [partials[3]!, partials[0]!, partials[2]!]][pick]!;
        const sig = combinePartials(subset, 3);
        expect(bytesToHex(sig)).toBe(bytesToHex(nobleHash(m).multiply(secret).toBytes()));
        const lambdas = lagrangeAtZero(subset.map((p) => p.index));
        const nobleSum = subset.reduce((acc, p, k) => acc.add(G1.fromBytes(p.signature).multiply(lambdas[k]!)), G1.ZERO);
        expect(bytesToHex(nobleSum.toBytes())).toBe(bytesToHex(sig));
        const pk = G2.fromBytes(committee.groupPublicKey);
        const other = Uint8Array.from(m, (b, i) => (i === 0 ? b ^ 1 : b));
        const wrongKey = G2.BASE.multiply(secret === 1n ? 2n : 1n);
        for (const [msg, key] of [
          [m, pk],
          [other, pk],
          [m, wrongKey],
        ] as const) {
          const noble = bls12_381.shortSignatures.verify(G1.fromBytes(sig), nobleHash(msg), key);
          expect(verifyGroupSignature(sig, msg, key.toBytes())).toBe(noble);
        }
        expect(verifyGroupSignature(sig, m, committee.groupPublicKey)).toBe(true);
      }),
      { numRuns: 6, seed },
    );
  });

  it('verifyPartial and batchVerifyPartials agree with noble per partial', () => {
    const committee = dealerKeygen(5, 7);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 48 }), fc.array(fc.boolean(), { minLength: 7, maxLength: 7 }), (m, honest) => {
        const partials = committee.shares.map((s, k) => partialSign(honest[k] ? s : { index: s.index, secret: (s.secret % (R - 1n)) + 1n }, m));
        const expected = partials.map((p) =>
          bls12_381.shortSignatures.verify(G1.fromBytes(p.signature), nobleHash(m), G2.fromBytes(committee.publicShares[p.index - 1]!)),
        );
        expect(partials.map((p) => verifyPartial(p, committee.publicShares[p.index - 1]!, m))).toEqual(expected);
        const batch = batchVerifyPartials(partials, committee.publicShares, m);
        expect(batch.valid.map((p) => p.index)).toEqual(partials.filter((_, k) => expected[k]).map((p) => p.index));
        expect(batch.invalid.map((x) => x.index)).toEqual(partials.filter((_, k) => !expected[k]).map((p) => p.index));
      }),
      { numRuns: 5, seed },
    );
  });
});

describe('decoding: mcl accepts what noble accepts, and fails with the same typed error', () => {
  const g1 = G1.BASE.multiply(0xaec15n);
  const g2 = G2.BASE.multiply(0xaec15n);
  const flagged = (len: number, flags: number, last = 0) => {
    const b = new Uint8Array(len);
    b[0] = flags;
    b[len - 1] = last;
    return b;
  };

  it('edge cases: infinity (canonical or not), off curve, small subgroup, x ≥ p, flags, lengths, uncompressed', () => {
    const small = flagged(48, 0x80, 5);
    const offUncompressed = g1.toBytes(false);
    offUncompressed[95] = offUncompressed[95]! ^ 1;
    const cases: [string, Uint8Array][] = [
      ['compressed', g1.toBytes()],
      ['uncompressed', g1.toBytes(false)],
      ['infinity', flagged(48, 0xc0)],
      ['non-canonical infinity', flagged(48, 0xc0, 1)],
      ['infinity with sign bit', flagged(48, 0xe0)],
      ['uncompressed infinity', flagged(96, 0x40)],
      ['small subgroup', small],
      ['off curve, uncompressed', offUncompressed],
      ['x ≥ p', flagged(48, 0x9f).fill(0xff, 1)],
      ['compression flag missing', Uint8Array.from(g1.toBytes(), (b, i) => (i === 0 ? b & 0x7f : b))],
      ['short', new Uint8Array(47)],
    ];
    for (const [name, bytes] of cases) expect(outcome(() => decodeMclG1(bytes)), name).toBe(outcome(() => decodeG1(bytes)));
    expect(outcome(() => decodeMclG1(small))).toBe('BlsError not_in_subgroup');
    expect(outcome(() => decodeMclG1(offUncompressed))).toBe('BlsError not_on_curve');
    expect(outcome(() => decodeMclG1(flagged(48, 0xc0, 1)))).toBe('BlsError bad_encoding');
    const g2Cases: [string, Uint8Array][] = [
      ['compressed', g2.toBytes()],
      ['uncompressed', g2.toBytes(false)],
      ['infinity', flagged(96, 0xc0)],
      ['non-canonical infinity', flagged(96, 0xc0, 1)],
      ['short', new Uint8Array(95)],
    ];
    for (const [name, bytes] of g2Cases) expect(outcome(() => decodeMclG2(bytes)), name).toBe(outcome(() => decodeG2(bytes)));
  });

  it('random bytes and bit flips of valid G1 and G2 encodings', () => {
    const mutated = (valid: Uint8Array) =>
      fc.oneof(
        fc.uint8Array({ minLength: valid.length, maxLength: valid.length }),
        fc.tuple(fc.nat(valid.length * 8 - 1), fc.integer({ min: 0, max: 7 })).map(([bit, flags]) => {
          const b = valid.slice();
          b[bit >> 3] = b[bit >> 3]! ^ (1 << (bit & 7));
          b[0] = (b[0]! & 0x1f) | (flags << 5);
          return b;
        }),
      );
    fc.assert(
      fc.property(mutated(g1.toBytes()), (bytes) => {
        expect(outcome(() => decodeMclG1(bytes))).toBe(outcome(() => decodeG1(bytes)));
      }),
      { numRuns: 150, seed },
    );
    fc.assert(
      fc.property(mutated(g2.toBytes()), (bytes) => {
        expect(outcome(() => decodeMclG2(bytes))).toBe(outcome(() => decodeG2(bytes)));
      }),
      { numRuns: 60, seed },
    );
  });

  it('the round functions report bad points with the decoder codes, never a raw mcl error', () => {
    const committee = dealerKeygen(3, 4);
    const m = enc.encode('round');
    const partials = committee.shares.map((s) => partialSign(s, m));
    partials[1] = { index: 2, signature: flagged(48, 0x80, 5) };
    partials[2] = { index: 3, signature: flagged(48, 0xc0) };
    const batch = batchVerifyPartials(partials, committee.publicShares, m);
    expect(batch.valid.map((p) => p.index)).toEqual([1, 4]);
    expect(batch.invalid.map((x) => x.reason)).toEqual([
      'partial signature of node 2: bad point: not in prime-order subgroup',
      'partial signature of node 3: bad point: infinity is not a valid signature or key',
    ]);
    expect(() => verifyPartial(partials[1]!, committee.publicShares[1]!, m)).toThrow(expect.objectContaining({ code: 'not_in_subgroup' }));
    expect(verifyGroupSignature(flagged(48, 0xc0, 1), m, committee.groupPublicKey)).toBe(false);
    expect(verifyGroupSignature(combinePartials([partials[0]!, partials[3]!, partialSign(committee.shares[1]!, m)], 3), m, flagged(96, 0xc0))).toBe(false);
  });
});
