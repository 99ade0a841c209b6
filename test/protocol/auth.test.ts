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
