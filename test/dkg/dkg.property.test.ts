/**
 * Property tests of the DKG math: any t of the final shares interpolate the group key in the
 * exponent (Σ λ_i·PK_i = PK and Σ λ_i·s_i·G2 = PK), any t−1 do not. One DKG (7, t=5) and
 * its resharing (10, t=7) are run once; fast-check picks the subsets.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { Fr, G2, type KeyShare, decodeG2, lagrangeAtZero } from '../../protocol/bls/index.ts';
import type { DkgOutput } from '../../protocol/dkg/index.ts';
import { ceremonyFor, dkgPlayers, makeNodes, reshare, run, sharesOf } from './harness.ts';

interface Committee {
  out: DkgOutput;
  shares: KeyShare[];
}
let dkg: Committee;
let reshared: Committee;

beforeAll(() => {
  const nodes = makeNodes(7);
  const outputs = run(dkgPlayers(ceremonyFor('prop-dkg', 5, nodes), nodes)).outputs;
  dkg = { out: [...outputs.values()][0]!, shares: sharesOf(outputs) };
  const newNodes = [nodes[0]!, ...makeNodes(9)];
  const next = new Map([...run(reshare('prop-reshare', nodes, outputs, newNodes, 7).players).outputs].filter(([, o]) => o.share));
  reshared = { out: [...next.values()][0]!, shares: sharesOf(next) };
});

function interpolatesInExponent(c: Committee, indices: number[]): { fromPublic: boolean; fromSecret: boolean } {
  const lambdas = lagrangeAtZero(indices);
  let pub = G2.ZERO;
  let secret = 0n;
  indices.forEach((i, k) => {
    pub = pub.add(decodeG2(c.out.publicShares[i - 1]!).multiply(lambdas[k]!));
    secret = Fr.add(secret, Fr.mul(lambdas[k]!, c.shares.find((s) => s.index === i)!.secret));
  });
  const pk = decodeG2(c.out.groupPublicKey);
  return { fromPublic: pub.equals(pk), fromSecret: secret !== 0n && G2.BASE.multiply(secret).equals(pk) };
}

const subsetOf = (n: number, size: number) => fc.shuffledSubarray(Array.from({ length: n }, (_, i) => i + 1), { minLength: size, maxLength: size });

describe.each([
  ['DKG n=7 t=5', () => dkg],
  ['resharing n=10 t=7', () => reshared],
])('%s', (_name, committee) => {
  it('any t shares interpolate the group key in the exponent', () => {
    const c = committee();
    fc.assert(
      fc.property(subsetOf(c.out.n, c.out.t), (indices) => {
        const r = interpolatesInExponent(c, indices);
        expect(r).toEqual({ fromPublic: true, fromSecret: true });
      }),
      { numRuns: 8 },
    );
  });

  it('no t−1 shares do', () => {
    const c = committee();
    fc.assert(
      fc.property(subsetOf(c.out.n, c.out.t - 1), (indices) => {
        const r = interpolatesInExponent(c, indices);
        expect(r).toEqual({ fromPublic: false, fromSecret: false });
      }),
      { numRuns: 8 },
    );
  });
});
