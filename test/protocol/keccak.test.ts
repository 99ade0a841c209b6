import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { keccak256Bytes } from '../../protocol/keccak.ts';

describe('keccak256', () => {
  it('equals @noble/hashes keccak_256 for any input, across block boundaries', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 700 }), (data) => {
        expect(keccak256Bytes(data)).toEqual(keccak_256(data));
      }),
      { numRuns: 500 },
    );
    for (const n of [0, 1, 135, 136, 137, 271, 272, 273, 10_000]) {
      const data = Uint8Array.from({ length: n }, (_, i) => (i * 131 + n) & 0xff);
      expect(keccak256Bytes(data)).toEqual(keccak_256(data));
    }
  });

  it('known answers', () => {
    const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
    expect(hex(keccak256Bytes(new Uint8Array()))).toBe('c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470');
    expect(hex(keccak256Bytes(new TextEncoder().encode('abc')))).toBe('4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45');
  });

  it('returns an independent digest per call (the hasher is shared, its output is not)', () => {
    const first = keccak256Bytes(new Uint8Array([1]));
    const copy = first.slice();
    keccak256Bytes(new Uint8Array([2]));
    expect(first).toEqual(copy);
    expect(first.byteLength).toBe(32);
  });
});
