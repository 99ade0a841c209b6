import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { NonceCache, signRequest, verifyRequest } from '../../protocol/auth.ts';

describe('request authentication', () => {
  const sk = ed25519.utils.randomSecretKey();
  const key = bytesToHex(ed25519.getPublicKey(sk));
  const req = { method: 'POST', path: '/v1/observe', body: '{"a":1}' };
  const opts = () => ({ allowedKeys: new Set([key]), nonces: new NonceCache(30_000), maxSkewMs: 30_000 });

  it('accepts a listed key once and refuses the replay', () => {
    const o = opts();
    const headers = signRequest(sk, req);
    expect(verifyRequest(headers, req, o)).toEqual({ ok: true, key });
    expect(verifyRequest(headers, req, o)).toMatchObject({ ok: false, reason: 'replayed_nonce' });
  });

  it('refuses unknown keys, altered bodies or paths, skewed clocks and missing headers', () => {
    const other = ed25519.utils.randomSecretKey();
    expect(verifyRequest(signRequest(other, req), req, opts())).toMatchObject({ ok: false, reason: 'unknown_key' });
    expect(verifyRequest(signRequest(sk, req), { ...req, body: '{"a":2}' }, opts())).toMatchObject({ ok: false, reason: 'bad_signature' });
    expect(verifyRequest(signRequest(sk, req), { ...req, path: '/v1/sign' }, opts())).toMatchObject({ ok: false, reason: 'bad_signature' });
    expect(verifyRequest(signRequest(sk, req, Date.now() - 60_000), req, opts())).toMatchObject({ ok: false, reason: 'clock_skew' });
    expect(verifyRequest({}, req, opts())).toMatchObject({ ok: false, reason: 'missing_headers' });
  });
});

describe('Ed25519 on libsodium', () => {
  it('is RFC 8032 compatible with @noble/curves both ways and rejects malformed input', async () => {
    const { edPublicKey, edSign, edVerify } = await import('../../protocol/ed25519.ts');
    const sk = ed25519.utils.randomSecretKey();
    const msg = new TextEncoder().encode('aegis');
    expect(edPublicKey(sk)).toEqual(ed25519.getPublicKey(sk));
    expect(edSign(msg, sk)).toEqual(ed25519.sign(msg, sk));
    expect(edVerify(ed25519.sign(msg, sk), msg, ed25519.getPublicKey(sk))).toBe(true);
    expect(ed25519.verify(edSign(msg, sk), msg, edPublicKey(sk))).toBe(true);
    expect(edVerify(edSign(msg, sk), new Uint8Array(5), edPublicKey(sk))).toBe(false);
    expect(edVerify(new Uint8Array(63), msg, edPublicKey(sk))).toBe(false);
    expect(edVerify(edSign(msg, sk), msg, new Uint8Array(31))).toBe(false);
  });

  it('agrees with @noble/curves on random keys and messages, also for views into larger buffers, and refuses any flipped bit', async () => {
    const { edPublicKey, edSign, edVerify } = await import('../../protocol/ed25519.ts');
    // Inputs at a non-zero byteOffset: the binding must read the view, not its whole buffer.
    const within = (b: Uint8Array) => {
      const big = new Uint8Array(b.length + 7).fill(0xee);
      big.set(b, 3);
      return big.subarray(3, 3 + b.length);
    };
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 300 }), fc.nat(511), (sk, msg, bit) => {
        const sig = edSign(within(msg), within(sk));
        expect(sig).toEqual(ed25519.sign(msg, sk));
        expect(edVerify(within(sig), within(msg), within(edPublicKey(sk)))).toBe(true);
        const bad = sig.slice();
        bad[bit >> 3]! ^= 1 << (bit & 7);
        expect(edVerify(bad, msg, edPublicKey(sk))).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it('refuses a small-order public key (the identity point) whatever the signature', async () => {
    const { edVerify } = await import('../../protocol/ed25519.ts');
    const identity = new Uint8Array(32);
    identity[0] = 1;
    const sig = new Uint8Array(64);
    sig[0] = 1; // R = identity, S = 0: "valid" for the identity key under cofactor-less checks
    expect(edVerify(sig, new TextEncoder().encode('anything'), identity)).toBe(false);
  });
});
