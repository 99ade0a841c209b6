/**
 * The on-chain BLS library on a real EVM (anvil, EIP-2537): RFC 9380 hash-to-G1 vectors
 * through the contract, agreement with protocol/bls on the production DST, and pairing
 * verification of real threshold signatures.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { hexlify, toUtf8Bytes, type Contract } from 'ethers';
import { startAnvil, type Anvil } from '../../contracts/anvil.ts';
import { deploy } from '../../contracts/deploy.ts';
import { ROOT } from '../../contracts/compile.ts';
import {
  combinePartials,
  dealerKeygen,
  g2ToEip2537,
  hashToG1,
  partialSign,
  signatureToEvm,
  SIGNATURE_DST,
} from '../../protocol/bls/index.ts';
import { g1ToEip2537 as pointToEip2537 } from '../../protocol/bls/points.ts';
import { compileWithTests } from './helpers.ts';

const vectors = JSON.parse(readFileSync(join(ROOT, 'test', 'vectors', 'rfc9380-g1-sha256-sswu-ro.json'), 'utf8')) as {
  dst: string;
  vectors: { msg: string; P_x: string; P_y: string }[];
};

const pad48 = (h: string): string => '0x' + '00'.repeat(16) + h.slice(2).padStart(96, '0');

let anvil: Anvil;
let bls: Contract;

beforeAll(async () => {
  const compiled = compileWithTests();
  anvil = await startAnvil();
  bls = await deploy(await anvil.signer(0), 'BLSHarness', [], { compiled });
});
afterAll(async () => {
  await anvil?.stop();
});

describe('BLS.hashToG1 (RFC 9380 J.9.1 vectors on anvil)', () => {
  for (const v of vectors.vectors) {
    it(`msg ${JSON.stringify(v.msg.length > 20 ? v.msg.slice(0, 20) + '…' : v.msg)} (${v.msg.length} bytes)`, async () => {
      const out: string = await bls.hashToG1!(toUtf8Bytes(vectors.dst), toUtf8Bytes(v.msg));
      expect(out).toBe(pad48(v.P_x) + pad48(v.P_y).slice(2));
    });
  }
});

describe('BLS production path', () => {
  it('hashDigestToG1 equals the generic path and protocol/bls hashToG1 for random digests', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 32, maxLength: 32 }), async (digest) => {
        const expected = hexlify(pointToEip2537(hashToG1(digest)));
        expect(await bls.hashDigestToG1!(digest)).toBe(expected);
        expect(await bls.hashToG1!(toUtf8Bytes(SIGNATURE_DST), digest)).toBe(expected);
      }),
      { numRuns: 25 },
    );
  });

  it('verifies a combined threshold signature and rejects a wrong message, key, or malformed signature', async () => {
    const c = dealerKeygen(3, 4);
    const other = dealerKeygen(3, 4);
    const msg = new Uint8Array(32).fill(7);
    const sig = combinePartials(c.shares.slice(1, 4).map((s) => partialSign(s, msg)), 3);
    const pk = g2ToEip2537(c.groupPublicKey);
    const evmSig = signatureToEvm(sig);
    expect(await bls.verify!(pk, evmSig, msg)).toBe(true);
    expect(await bls.verify!(pk, evmSig, new Uint8Array(32).fill(8))).toBe(false);
    expect(await bls.verify!(g2ToEip2537(other.groupPublicKey), evmSig, msg)).toBe(false);
    // Not on the curve: flip a bit of y.
    const bad = evmSig.slice();
    bad[95] = bad[95]! ^ 1;
    expect(await bls.verify!(pk, bad, msg)).toBe(false);
    await expect(bls.verify!(pk, evmSig.slice(0, 95), msg)).rejects.toThrow(/BlsSignatureLength|reverted/);
    await expect(bls.verify!(pk, new Uint8Array(96), msg)).rejects.toThrow(/BlsSignatureAtInfinity|reverted/);
  });

  it('isValidPublicKey accepts a group key and rejects infinity and off-curve points', async () => {
    const c = dealerKeygen(1, 1);
    const pk = g2ToEip2537(c.groupPublicKey);
    expect(await bls.isValidPublicKey!(pk)).toBe(true);
    expect(await bls.isValidPublicKey!(new Uint8Array(256))).toBe(false);
    const bad = pk.slice();
    bad[255] = bad[255]! ^ 1;
    expect(await bls.isValidPublicKey!(bad)).toBe(false);
    expect(await bls.isValidPublicKey!(pk.slice(0, 255))).toBe(false);
  });
});
