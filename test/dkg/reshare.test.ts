import { beforeAll, describe, expect, it } from 'vitest';
import { combinePartials, partialSign, randomScalar, verifyGroupSignature, verifyPartial } from '../../protocol/bls/index.ts';
import { type DkgOutput, DkgError, DkgParticipant, buildDeal, parseCeremony, toHex, verifyTranscript } from '../../protocol/dkg/index.ts';
import { ceremonyFor, dkgPlayers, makeNodes, type NodeKeys, reshare, run, sharesOf } from './harness.ts';

const MESSAGE = new TextEncoder().encode('AEGIS report after rotation');

let oldNodes: NodeKeys[];
let oldOutputs: Map<string, DkgOutput>;
let newNodes: NodeKeys[];

beforeAll(() => {
  oldNodes = makeNodes(7);
  oldOutputs = run(dkgPlayers(ceremonyFor('genesis', 5, oldNodes), oldNodes)).outputs;
  // New committee of 10: old nodes 2, 4 and 6 stay (at new indices 1..3), 7 join.
  newNodes = [oldNodes[1]!, oldNodes[3]!, oldNodes[5]!, ...makeNodes(7)];
});

let firstTranscript: unknown;

function newMemberOutputs(outputs: Map<string, DkgOutput>): Map<string, DkgOutput> {
  return new Map([...outputs].filter(([, o]) => o.share !== undefined));
}

describe('resharing 7 → 10 (t 5 → 7)', () => {
  it('keeps the group key; the new shares sign; the old shares are not shares of the new polynomial', () => {
    const groupKey = toHex([...oldOutputs.values()][0]!.groupPublicKey);
    const { players } = reshare('reshare-7-10', oldNodes, oldOutputs, newNodes, 7);
    expect(players.size).toBe(7 + 7); // 7 old dealers (3 of them also new members) + 7 newcomers
    const res = run(players);
    const outs = newMemberOutputs(res.outputs);
    expect(outs.size).toBe(10);
    for (const o of res.outputs.values()) {
      expect(toHex(o.groupPublicKey)).toBe(groupKey);
      expect(o.t).toBe(7);
      expect(o.n).toBe(10);
      expect(o.qualified).toEqual([1, 2, 3, 4, 5, 6, 7]);
    }
    const shares = sharesOf(outs);
    expect(shares.map((s) => s.index)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const pub = [...outs.values()][0]!;
    const partials = shares.slice(3).map((s) => partialSign(s, MESSAGE));
    for (const p of partials) expect(verifyPartial(p, pub.publicShares[p.index - 1]!, MESSAGE)).toBe(true);
    expect(verifyGroupSignature(combinePartials(partials, 7), MESSAGE, pub.groupPublicKey)).toBe(true);
    // 6 new partials (below the new t) do not make a valid signature.
    expect(verifyGroupSignature(combinePartials(partials.slice(0, 6), 6), MESSAGE, pub.groupPublicKey)).toBe(false);
    firstTranscript = JSON.parse(JSON.stringify(pub.transcript));
    const v = verifyTranscript(firstTranscript);
    expect(v.ok && v.groupPublicKey).toBe(groupKey);
  });

  it('an absent old member and one that deals a different constant term are left out; the group key is kept', () => {
    const groupKey = toHex([...oldOutputs.values()][0]!.groupPublicKey);
    const { ceremony, players } = reshare('reshare-cheat', oldNodes, oldOutputs, newNodes, 7, { absentDealers: [4, 7] });
    const parsed = parseCeremony(ceremony);
    const cheat = { deal: () => buildDeal({ ceremony: parsed, dealer: 7, identitySecret: oldNodes[6]!.identitySecret, coefficients: Array.from({ length: 7 }, () => randomScalar()) }) };
    const res = run(players, new Map([['old7', cheat]]));
    const out = [...newMemberOutputs(res.outputs).values()][0]!;
    expect(out.qualified).toEqual([1, 2, 3, 5, 6]);
    expect(out.disqualified.map((d) => d.reason)).toEqual([
      'dkg phase "deal": dealer 4 sent no valid deal bundle before the deadline; dealer 4 disqualified',
      "dkg phase \"deal\": dealer 7's constant-term commitment C_0 is not its public share PK_7 in the current committee (it did not reshare its own share); dealer 7 disqualified",
    ]);
    expect(toHex(out.groupPublicKey)).toBe(groupKey);
    // Old node 4 is new member 2: absent in both roles, so it holds no new share (yet).
    const shares = sharesOf(newMemberOutputs(res.outputs));
    expect(shares.map((s) => s.index)).toEqual([1, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(out.publicShares).toHaveLength(10);
    expect(verifyGroupSignature(combinePartials(shares.slice(0, 7).map((s) => partialSign(s, MESSAGE)), 7), MESSAGE, out.groupPublicKey)).toBe(true);
    expect(verifyTranscript(out.transcript).ok).toBe(true);
  });

  it('fails clearly with fewer than the current t old dealers', () => {
    const { players } = reshare('reshare-too-few', oldNodes, oldOutputs, newNodes, 7, { absentDealers: [1, 3, 5] });
    expect(() => run(players)).toThrow(
      /^dkg phase "finalize": only 4 qualified dealers \(2, 4, 6, 7\), need the previous committee's t=5 to keep the group key\. Disqualified: dealer 1 sent no valid deal bundle/,
    );
  });

  it('refuses a dealer whose loaded share is not its share in the current committee', () => {
    const { ceremony } = reshare('reshare-wrong-share', oldNodes, oldOutputs, newNodes, 7);
    const wrong = sharesOf(oldOutputs)[0]!; // share 1, loaded by node 5
    let caught: unknown;
    try {
      new DkgParticipant({ ceremony, identitySecret: oldNodes[4]!.identitySecret, currentShare: wrong });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(DkgError);
    expect((caught as DkgError).code).toBe('share_mismatch');
    expect((caught as DkgError).message).toBe("dkg: ceremony reshare-wrong-share: the loaded share (index 1) is not share 5 of the current committee (its public share differs); load this committee's keystore");
  });

  it('a transcript whose previous committee was swapped does not verify', () => {
    // Uses the transcript of the first test in this file.
    expect(firstTranscript).toBeDefined();
    const t = JSON.parse(JSON.stringify(firstTranscript));
    t.ceremony.previous.groupPublicKey = t.ceremony.previous.publicShares[0];
    const v = verifyTranscript(t);
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.reason).toMatch(/identity signature does not verify/);
  });
});
