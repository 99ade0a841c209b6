import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import {
  BlsError,
  G1,
  batchVerifyPartials,
  combinePartials,
  dealerKeygen,
  decodeG1,
  PartialBatch,
  type PartialSignature,
  decodeG2,
  defaultThreshold,
  g1FromEip2537,
  g1ToEip2537,
  g2FromEip2537,
  g2ToEip2537,
  hashToG1,
  partialSign,
  publicShareFromCommitments,
  signatureToEvm,
  verifyGroupSignature,
  verifyPartial,
  verifyShareAgainstCommitments,
} from '../../protocol/bls/index.ts';

const vectors = JSON.parse(readFileSync(new URL('../vectors/rfc9380-g1-sha256-sswu-ro.json', import.meta.url), 'utf8'));
const committee = dealerKeygen(5, 7);
const msg = new Uint8Array(32).map((_, i) => i);

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof BlsError ? err.code : `not a BlsError: ${String(err)}`;
  }
  return undefined;
}

describe('RFC 9380 hash_to_curve, suite BLS12381G1_XMD:SHA-256_SSWU_RO_', () => {
  for (const v of vectors.vectors) {
    it(`msg ${JSON.stringify(v.msg.slice(0, 16))}${v.msg.length > 16 ? '…' : ''}`, () => {
      const p = hashToG1(new TextEncoder().encode(v.msg), vectors.dst).toAffine();
      expect(p.x).toBe(BigInt(v.P_x));
      expect(p.y).toBe(BigInt(v.P_y));
    });
  }
});

describe('threshold signatures', () => {
  it('default threshold is 2f+1 with f = ⌊(n−1)/3⌋', () => {
    expect([4, 7, 31, 100].map(defaultThreshold)).toEqual([3, 5, 21, 67]);
  });

  it('any t-subset of partials gives the same group signature, which verifies', () => {
    const partials = committee.shares.map((s) => partialSign(s, msg));
    const reference = combinePartials(partials, 5);
    expect(verifyGroupSignature(reference, msg, committee.groupPublicKey)).toBe(true);
    fc.assert(
      fc.property(fc.shuffledSubarray(partials, { minLength: 5, maxLength: 5 }), (subset) => {
        expect(bytesToHex(combinePartials(subset, 5))).toBe(bytesToHex(reference));
      }),
      { numRuns: 8 },
    );
  });

  it('t−1 partials never make a valid signature', () => {
    const partials = committee.shares.map((s) => partialSign(s, msg));
    fc.assert(
      fc.property(fc.shuffledSubarray(partials, { minLength: 4, maxLength: 4 }), (subset) => {
        expect(code(() => combinePartials(subset, 5))).toBe('too_few_partials');
        // Interpolating as if 4 were the threshold gives a point that is not s·H(m).
        expect(verifyGroupSignature(combinePartials(subset, 4), msg, committee.groupPublicKey)).toBe(false);
      }),
      { numRuns: 4 },
    );
  });

  it('a corrupted partial is identified by batch verification and the rest combine', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 6 }), (bad, other) => {
        const partials = committee.shares.map((s) => partialSign(s, msg));
        // node `bad` signs with someone else's share (a valid point, wrong value)
        partials[bad] = { index: bad + 1, signature: partialSign(committee.shares[(bad + 1) % 7]!, msg).signature };
        if (other !== bad) partials[other] = { index: other + 1, signature: G1.BASE.multiply(12345n).toBytes() };
        const result = batchVerifyPartials(partials, committee.publicShares, msg);
        const expectedBad = [...new Set([bad + 1, other + 1])].sort((a, b) => a - b);
        expect(result.invalid.map((x) => x.index)).toEqual(expectedBad);
        expect(result.valid.length).toBe(7 - expectedBad.length);
        expect(verifyGroupSignature(combinePartials(result.valid, 5), msg, committee.groupPublicKey)).toBe(true);
      }),
      { numRuns: 3 },
    );
  });

  it('batch verification reports malformed points and unknown signers instead of throwing', () => {
    const partials = committee.shares.slice(0, 3).map((s) => partialSign(s, msg));
    partials.push({ index: 4, signature: new Uint8Array(48) });
    partials.push({ index: 9, signature: partials[0]!.signature });
    partials.push({ index: 2, signature: partials[1]!.signature });
    const result = batchVerifyPartials(partials, committee.publicShares, msg);
    expect(result.valid.map((p) => p.index)).toEqual([1, 2, 3]);
    expect(result.invalid.map((x) => x.index)).toEqual([2, 4, 9]);
    expect(result.invalid.find((x) => x.index === 9)!.reason).toMatch(/no such node/);
    expect(result.invalid.find((x) => x.index === 2)!.reason).toMatch(/twice/);
  });

  it('PartialBatch, fed one partial at a time and folded at any points, gives the verdicts and reasons of batchVerifyPartials', () => {
    const kinds = ['good', 'wrong_share', 'not_a_point', 'duplicate', 'unknown_node'] as const;
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...kinds), { minLength: 7, maxLength: 7 }), fc.boolean(), fc.array(fc.boolean(), { minLength: 14, maxLength: 14 }), (plan, reversed, folds) => {
        const partials: PartialSignature[] = [];
        plan.forEach((kind, k) => {
          const good = partialSign(committee.shares[k]!, msg);
          if (kind === 'good') partials.push(good);
          if (kind === 'wrong_share') partials.push({ index: k + 1, signature: partialSign(committee.shares[(k + 1) % 7]!, msg).signature });
          if (kind === 'not_a_point') partials.push({ index: k + 1, signature: new Uint8Array(48) });
          if (kind === 'duplicate') partials.push(good, good);
          if (kind === 'unknown_node') partials.push(good, { index: 9 + k, signature: good.signature });
        });
        if (reversed) partials.reverse();
        const stream = new PartialBatch(committee.publicShares, msg);
        partials.forEach((p, k) => {
          stream.add(p);
          if (folds[k]) stream.fold();
        });
        const streamed = stream.result();
        const whole = batchVerifyPartials(partials, committee.publicShares, msg);
        expect(streamed.valid).toEqual(whole.valid);
        expect(streamed.invalid).toEqual(whole.invalid);
        expect([...streamed.points.keys()].sort()).toEqual(streamed.valid.map((p) => p.index));
        const expectedValid = plan.flatMap((kind, k) => (kind === 'good' || kind === 'duplicate' || kind === 'unknown_node' ? [k + 1] : []));
        expect(streamed.valid.map((p) => p.index)).toEqual(expectedValid);
        if (expectedValid.length >= 5) expect(verifyGroupSignature(combinePartials(streamed.valid, 5, streamed.points), msg, committee.groupPublicKey)).toBe(true);
      }),
      { numRuns: 12 },
    );
  });

  it('single partial verification and Feldman public shares agree', () => {
    const p = partialSign(committee.shares[2]!, msg);
    expect(verifyPartial(p, committee.publicShares[2]!, msg)).toBe(true);
    expect(verifyPartial(p, committee.publicShares[3]!, msg)).toBe(false);
    expect(publicShareFromCommitments(committee.commitments, 3).toBytes()).toEqual(committee.publicShares[2]);
    expect(verifyShareAgainstCommitments(committee.shares[2]!, committee.commitments)).toBe(true);
    expect(verifyShareAgainstCommitments({ index: 3, secret: committee.shares[2]!.secret + 1n }, committee.commitments)).toBe(false);
  });

  it('a signature under another committee does not verify', () => {
    const other = dealerKeygen(5, 7);
    const sig = combinePartials(other.shares.map((s) => partialSign(s, msg)), 5);
    expect(verifyGroupSignature(sig, msg, committee.groupPublicKey)).toBe(false);
  });
});

describe('bad input is a typed error naming the problem', () => {
  it('threshold and indices', () => {
    expect(code(() => dealerKeygen(8, 7))).toBe('bad_threshold');
    expect(code(() => dealerKeygen(3, 7))).toBe('bad_threshold');
    expect(code(() => dealerKeygen(1, 300))).toBe('bad_threshold');
    const p = partialSign(committee.shares[0]!, msg);
    expect(code(() => combinePartials([p, p, p, p, p], 5))).toBe('duplicate_index');
    expect(code(() => combinePartials([{ ...p, index: 0 }, ...committee.shares.slice(1, 5).map((s) => partialSign(s, msg))], 5))).toBe('bad_index');
    expect(code(() => partialSign({ index: 1, secret: 0n }, msg))).toBe('bad_scalar');
  });

  it('points: length, curve, subgroup, infinity', () => {
    expect(code(() => decodeG1(new Uint8Array(47)))).toBe('bad_length');
    expect(code(() => decodeG2(new Uint8Array(95)))).toBe('bad_length');
    const infinity = new Uint8Array(48);
    infinity[0] = 0xc0;
    expect(code(() => decodeG1(infinity))).toBe('infinity');
    // x = 5 lies on E(Fp) but not in the prime-order subgroup
    const small = new Uint8Array(48);
    small[0] = 0x80;
    small[47] = 5;
    expect(code(() => decodeG1(small))).toBe('not_in_subgroup');
    // uncompressed (x, y) with y off the curve
    const off = signatureToEvm(partialSign(committee.shares[0]!, msg).signature);
    off[95] = off[95]! ^ 1;
    expect(code(() => decodeG1(off))).toBe('not_on_curve');
    expect(verifyGroupSignature(infinity, msg, committee.groupPublicKey)).toBe(false);
  });

  it('EIP-2537 layouts round-trip and reject bad padding', () => {
    const sig = partialSign(committee.shares[0]!, msg).signature;
    expect(g1ToEip2537(sig).length).toBe(128);
    expect(g1FromEip2537(g1ToEip2537(sig)).toBytes()).toEqual(sig);
    const pk = g2ToEip2537(committee.groupPublicKey);
    expect(pk.length).toBe(256);
    expect(g2FromEip2537(pk).toBytes()).toEqual(committee.groupPublicKey);
    const badPad = g1ToEip2537(sig);
    badPad[0] = 1;
    expect(code(() => g1FromEip2537(badPad))).toBe('bad_encoding');
    expect(signatureToEvm(sig)).toEqual(hexToBytes(bytesToHex(g1ToEip2537(sig).subarray(16, 64)) + bytesToHex(g1ToEip2537(sig).subarray(80, 128))));
  });
});
