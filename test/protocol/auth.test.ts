import { describe, expect, it } from 'vitest';
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

describe('Ed25519 on node:crypto', () => {
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
});
