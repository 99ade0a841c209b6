import { x25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { dealerKeygen, decodeG2, publicShareFromCommitments } from '../../protocol/bls/index.ts';
import {
  DealSchema,
  canonicalJson,
  ceremonyDigest,
  decryptShare,
  encryptShare,
  evalCommitmentsAt,
  parseCeremony,
  signingBytes,
  toHex,
} from '../../protocol/dkg/index.ts';
import { ceremonyFor, makeNodes } from './harness.ts';

describe('canonical encoding and wire formats', () => {
  it('canonical JSON sorts keys at every level and omits undefined fields', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 'x', c: null }], e: undefined })).toBe('{"a":[{"c":null,"d":"x"}],"b":1}');
    expect(() => canonicalJson({ a: 1.5 })).toThrow('canonical encoding: 1.5 is not a safe integer');
  });

  it('the signed bytes do not depend on key order or on the signature field', () => {
    const digest = new Uint8Array(32).fill(1);
    const a = signingBytes('COMPLAINT', digest, { ceremonyId: 'x', recipient: 1, complaints: [] });
    const b = signingBytes('COMPLAINT', digest, { complaints: [], recipient: 1, ceremonyId: 'x', signature: '0xff' });
    expect(toHex(a)).toBe(toHex(b));
    expect(toHex(signingBytes('RESPONSE', digest, { ceremonyId: 'x', recipient: 1, complaints: [] }))).not.toBe(toHex(a));
  });

  it('the ceremony digest binds every field and ignores participant order', () => {
    const nodes = makeNodes(4);
    const c = ceremonyFor('digest', 3, nodes);
    const shuffled = { ...c, participants: [...c.participants].reverse() };
    expect(toHex(ceremonyDigest(parseCeremony(shuffled)))).toBe(toHex(ceremonyDigest(parseCeremony(c))));
    expect(toHex(ceremonyDigest(parseCeremony({ ...c, t: 4 })))).not.toBe(toHex(ceremonyDigest(parseCeremony(c))));
  });

  it('schemas reject uppercase hex and unknown fields (one encoding per message)', () => {
    const deal = { ceremonyId: 'x', dealer: 1, commitments: ['0x' + 'AB'.repeat(96)], pop: '0x' + '00'.repeat(48), ephemeralKey: '0x' + '00'.repeat(32), shares: [{ recipient: 1, ciphertext: '0x' + '00'.repeat(72) }], signature: '0x' + '00'.repeat(64) };
    expect(DealSchema.safeParse(deal).success).toBe(false);
    expect(DealSchema.safeParse({ ...deal, commitments: ['0x' + 'ab'.repeat(96)] }).success).toBe(true);
    expect(DealSchema.safeParse({ ...deal, commitments: ['0x' + 'ab'.repeat(96)], extra: 1 }).success).toBe(false);
  });
});

describe('share encryption', () => {
  const eph = x25519.utils.randomSecretKey();
  const rec = x25519.utils.randomSecretKey();
  const ctx = { digest: new Uint8Array(32).fill(9), dealer: 2, recipient: 5, ephemeralKey: x25519.getPublicKey(eph), recipientKey: x25519.getPublicKey(rec), commitmentsHash: new Uint8Array(32).fill(3) };

  it('opens for its recipient in its context only', () => {
    const ct = encryptShare(123456789n, eph, ctx);
    expect(ct).toHaveLength(72);
    expect(decryptShare(ct, rec, ctx)).toBe(123456789n);
    expect(decryptShare(ct, x25519.utils.randomSecretKey(), ctx)).toBeNull();
    expect(decryptShare(ct, rec, { ...ctx, recipient: 6 })).toBeNull();
    expect(decryptShare(ct, rec, { ...ctx, dealer: 3 })).toBeNull();
    expect(decryptShare(ct, rec, { ...ctx, digest: new Uint8Array(32) })).toBeNull();
    expect(decryptShare(ct, rec, { ...ctx, commitmentsHash: new Uint8Array(32) })).toBeNull();
    const flipped = ct.slice();
    flipped[40]! ^= 1;
    expect(decryptShare(flipped, rec, ctx)).toBeNull();
  });
});

describe('Feldman evaluation by Horner (protocol/bls/feldman.ts)', () => {
  it('equals publicShareFromCommitments', () => {
    const d = dealerKeygen(5, 7);
    const points = d.commitments.map((c) => decodeG2(c));
    for (const i of [1, 2, 7, 200, 65535]) expect(evalCommitmentsAt(points, i).equals(publicShareFromCommitments(d.commitments, i))).toBe(true);
  });
});
