import { describe, expect, it } from 'vitest';
import { combinePartials, partialSign, publicShareOf, verifyGroupSignature, verifyPartial } from '../../protocol/bls/index.ts';
import { evalPolynomial, randomScalar } from '../../protocol/bls/index.ts';
import {
  type ComplaintMessage,
  type DealMessage,
  DkgError,
  DkgParticipant,
  type ResponseMessage,
  buildDeal,
  ceremonyDigest,
  commitmentsHash,
  encryptShare,
  fromHex,
  parseCeremony,
  signMessage,
  toHex,
  verifyTranscript,
} from '../../protocol/dkg/index.ts';
import { ceremonyFor, dkgPlayers, makeNodes, run, sharesOf, type Script } from './harness.ts';

const MESSAGE = new TextEncoder().encode('AEGIS test report: BTC/USD 64000.00');

function signsWith(outputs: ReturnType<typeof run>['outputs'], t: number): boolean {
  const first = [...outputs.values()][0]!;
  const shares = sharesOf(outputs);
  const partials = shares.slice(-t).map((s) => partialSign(s, MESSAGE));
  for (const p of partials) expect(verifyPartial(p, first.publicShares[p.index - 1]!, MESSAGE)).toBe(true);
  return verifyGroupSignature(combinePartials(partials, t), MESSAGE, first.groupPublicKey);
}

/** A dishonest dealer: deals honestly except for one recipient, then answers as told. */
function badDealer(ceremonyInput: unknown, dealer: number, identitySecret: Uint8Array, victim: number, answer: 'none' | 'wrong' | 'honest', wrongCiphertext: 'bad_share' | 'garbage' = 'bad_share'): Script {
  const ceremony = parseCeremony(ceremonyInput);
  const coefficients = Array.from({ length: ceremony.t }, () => randomScalar());
  const ephemeralSecret = new Uint8Array(32).fill(7);
  return {
    deal: () => {
      const honest = buildDeal({ ceremony, dealer, identitySecret, coefficients, ephemeralSecret });
      const victimKey = fromHex(ceremony.participants[victim - 1]!.encryptionKey);
      const ctx = { digest: ceremonyDigest(ceremony), dealer, recipient: victim, ephemeralKey: fromHex(honest.ephemeralKey), recipientKey: victimKey, commitmentsHash: commitmentsHash(honest.commitments) };
      const bad = wrongCiphertext === 'bad_share' ? toHex(encryptShare(12345n, ephemeralSecret, ctx)) : toHex(new Uint8Array(72).fill(1));
      const { signature: _s, ...body } = honest;
      return signMessage<DealMessage>('DEAL', ceremony, { ...body, shares: body.shares.map((s) => (s.recipient === victim ? { ...s, ciphertext: bad } : s)) }, identitySecret);
    },
    respond: () => {
      if (answer === 'none') return undefined;
      const share = answer === 'honest' ? evalPolynomial(coefficients, BigInt(victim)) : 999n;
      return signMessage<ResponseMessage>('RESPONSE', ceremony, { ceremonyId: ceremony.ceremonyId, dealer, reveals: [{ recipient: victim, share: share.toString() }] }, identitySecret);
    },
  };
}

describe('DKG n=7, t=5', () => {
  it('every node ends with the same group key and public shares, and t shares sign a message that verifies under the group key', () => {
    const nodes = makeNodes(7);
    const ceremony = ceremonyFor('dkg-happy-1', 5, nodes);
    const res = run(dkgPlayers(ceremony, nodes));
    const outs = [...res.outputs.values()];
    expect(outs).toHaveLength(7);
    for (const o of outs) {
      expect(o.qualified).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect(o.disqualified).toEqual([]);
      expect(toHex(o.groupPublicKey)).toBe(toHex(outs[0]!.groupPublicKey));
      expect(o.transcriptDigest).toBe(outs[0]!.transcriptDigest);
      expect(toHex(publicShareOf(o.share!))).toBe(toHex(o.publicShares[o.share!.index - 1]!));
    }
    expect(res.complaints.every((c) => c.complaints.length === 0)).toBe(true);
    expect(res.responses).toEqual([]);
    expect(signsWith(res.outputs, 5)).toBe(true);
    const v = verifyTranscript(JSON.parse(JSON.stringify(outs[0]!.transcript)));
    expect(v.ok).toBe(true);
    if (v.ok) {
      expect(v.qualified).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect(v.groupPublicKey).toBe(toHex(outs[0]!.groupPublicKey));
      expect(v.publicShares).toEqual(outs[0]!.publicShares.map(toHex));
    }
  });

  it('a dealer that sends one bad share and does not answer the complaint is disqualified; the ceremony completes', () => {
    const nodes = makeNodes(7);
    const ceremony = ceremonyFor('dkg-bad-share-silent', 5, nodes);
    const players = dkgPlayers(ceremony, nodes, [3]);
    const res = run(players, new Map([['3', badDealer(ceremony, 3, nodes[2]!.identitySecret, 5, 'none')]]));
    const complaint = res.complaints.find((c) => c.recipient === 5)!;
    expect(complaint.complaints).toEqual([{ dealer: 3, reason: 'bad_share' }]);
    const out = res.outputs.get('1')!;
    expect(out.qualified).toEqual([1, 2, 4, 5, 6, 7]);
    expect(out.disqualified).toEqual([
      { dealer: 3, code: 'unanswered_complaint', phase: 'responses', reason: 'dkg phase "responses": dealer 3 did not answer complaint by node 5 before the deadline; dealer 3 disqualified' },
    ]);
    expect(signsWith(res.outputs, 5)).toBe(true);
    const v = verifyTranscript(out.transcript);
    expect(v.ok && v.qualified).toEqual([1, 2, 4, 5, 6, 7]);
  });

  it('a dealer that answers the complaint with a wrong share is disqualified', () => {
    const nodes = makeNodes(7);
    const ceremony = ceremonyFor('dkg-bad-share-lies', 5, nodes);
    const res = run(dkgPlayers(ceremony, nodes, [3]), new Map([['3', badDealer(ceremony, 3, nodes[2]!.identitySecret, 5, 'wrong')]]));
    const out = res.outputs.get('5')!;
    expect(out.disqualified.map((d) => d.reason)).toEqual([
      'dkg phase "responses": dealer 3 answered complaint by node 5 with a share that does not match its commitments; dealer 3 disqualified',
    ]);
    expect(signsWith(res.outputs, 5)).toBe(true);
    expect(verifyTranscript(out.transcript).ok).toBe(true);
  });

  it('a dealer whose ciphertext does not decrypt but who reveals the right share stays qualified, and the accuser uses the revealed share', () => {
    const nodes = makeNodes(7);
    const ceremony = ceremonyFor('dkg-undecryptable', 5, nodes);
    const res = run(dkgPlayers(ceremony, nodes, [3]), new Map([['3', badDealer(ceremony, 3, nodes[2]!.identitySecret, 5, 'honest', 'garbage')]]));
    expect(res.complaints.find((c) => c.recipient === 5)!.complaints).toEqual([{ dealer: 3, reason: 'undecryptable' }]);
    const out = res.outputs.get('5')!;
    expect(out.qualified).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(toHex(publicShareOf(out.share!))).toBe(toHex(out.publicShares[4]!));
    expect(signsWith(res.outputs, 5)).toBe(true);
    expect(verifyTranscript(out.transcript).ok).toBe(true);
  });

  it('an honest dealer falsely accused reveals the share and stays qualified', () => {
    const nodes = makeNodes(7);
    const ceremony = parseCeremony(ceremonyFor('dkg-false-complaint', 5, nodes));
    const liar: Script = {
      complain: () => signMessage<ComplaintMessage>('COMPLAINT', ceremony, { ceremonyId: ceremony.ceremonyId, recipient: 6, complaints: [{ dealer: 2, reason: 'bad_share' }] }, nodes[5]!.identitySecret),
    };
    const res = run(dkgPlayers(ceremony, nodes, [6]), new Map([['6', liar]]));
    expect(res.responses.map((r) => [r.dealer, r.reveals.map((x) => x.recipient)])).toEqual([[2, [6]]]);
    // Node 6 dealt nothing (scripted), so it is absent as a dealer; dealer 2 stays in.
    expect(res.outputs.get('1')!.qualified).toEqual([1, 2, 3, 4, 5, 7]);
    expect(signsWith(res.outputs, 5)).toBe(true);
  });

  it('two absent nodes: the ceremony completes without them and the rest sign', () => {
    const nodes = makeNodes(7);
    const ceremony = ceremonyFor('dkg-two-absent', 5, nodes);
    const res = run(dkgPlayers(ceremony, nodes, [2, 6]));
    const out = res.outputs.get('1')!;
    expect(out.qualified).toEqual([1, 3, 4, 5, 7]);
    expect(out.disqualified.map((d) => d.reason)).toEqual([
      'dkg phase "deal": dealer 2 sent no valid deal bundle before the deadline; dealer 2 disqualified',
      'dkg phase "deal": dealer 6 sent no valid deal bundle before the deadline; dealer 6 disqualified',
    ]);
    expect(out.publicShares).toHaveLength(7);
    expect(signsWith(res.outputs, 5)).toBe(true);
    expect(verifyTranscript(out.transcript).ok).toBe(true);
  });

  it('fewer than t qualified dealers fails with a clear error and moves every participant to "failed"', () => {
    const nodes = makeNodes(7);
    const ceremony = ceremonyFor('dkg-too-few', 5, nodes);
    const players = dkgPlayers(ceremony, nodes, [2, 4, 6]);
    let caught: unknown;
    try {
      run(players);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(DkgError);
    expect((caught as DkgError).code).toBe('too_few_qualified');
    expect((caught as DkgError).message).toBe(
      'dkg phase "finalize": only 4 qualified dealers (1, 3, 5, 7), need t=5. Disqualified: dealer 2 sent no valid deal bundle before the deadline; dealer 2 disqualified; dealer 4 sent no valid deal bundle before the deadline; dealer 4 disqualified; dealer 6 sent no valid deal bundle before the deadline; dealer 6 disqualified. Bring the missing nodes online and start a new ceremony with a new id.',
    );
    expect(players.get('1')!.status).toBe('failed');
  });
});

describe('phases and deadlines', () => {
  it('a phase does not close before its deadline while messages are missing, and closes at the deadline', () => {
    const nodes = makeNodes(4);
    const ceremony = ceremonyFor('dkg-deadlines', 3, nodes, { deadlines: { deal: 1000, complaints: 2000, responses: 3000 } });
    const players = dkgPlayers(ceremony, nodes, [4]);
    const deals = [...players.values()].map((p) => p.deal()!);
    const p1 = players.get('1')!;
    expect(() => p1.closeDeals(deals, 999)).toThrow('dkg phase "deal": 3 of 4 deal bundles received and the deadline 1970-01-01T00:00:01.000Z has not passed; wait for the rest or for the deadline');
    expect(p1.status).toBe('dealt');
    const complaints = [...players.values()].map((p) => p.closeDeals(deals, 1000)!);
    expect(() => p1.closeComplaints(complaints, 1500)).toThrow(/dkg phase "complaints": 3 of 4 complaint messages received/);
    const responses = [...players.values()].map((p) => p.closeComplaints(complaints, 2000)).filter((r) => r !== undefined);
    // No complaints: nothing to wait for, the response phase closes at once.
    const out = p1.finalize(responses, 2001);
    expect(out.qualified).toEqual([1, 2, 3]);
  });

  it.each([
    ['closeDeals before deal', (p: DkgParticipant) => p.closeDeals([], 0), 'dkg phase "deal": cannot close the deal phase in status "created": deal() first'],
    ['closeComplaints before deal', (p: DkgParticipant) => p.closeComplaints([], 0), 'dkg phase "deal": cannot close the complaint phase in status "created": deal() first'],
    ['finalize before deal', (p: DkgParticipant) => p.finalize([], 0), 'dkg phase "deal": cannot finalize in status "created": deal() first'],
    ['transcript before finalize', (p: DkgParticipant) => p.transcript(), 'dkg phase "deal": no transcript in status "created": deal() first'],
    ['deal twice', (p: DkgParticipant) => (p.deal(), p.deal()), 'dkg phase "deal": cannot deal in status "dealt": close the deal phase first (closeDeals)'],
    ['finalize before complaints', (p: DkgParticipant) => (p.deal(), p.finalize([], 0)), 'dkg phase "deal": cannot finalize in status "dealt": close the deal phase first (closeDeals)'],
    ['deal after abort', (p: DkgParticipant) => (p.abort('operator cancelled'), p.deal()), 'dkg phase "finalize": cannot deal in status "failed": the ceremony failed; start a new ceremony with a new id'],
    ['abort twice', (p: DkgParticipant) => (p.abort('operator cancelled'), p.abort('again')), 'dkg phase "finalize": cannot abort in status "failed": the ceremony failed; start a new ceremony with a new id'],
  ])('%s is refused with a named error', (_name, act, message) => {
    const nodes = makeNodes(4);
    const p = dkgPlayers(ceremonyFor('dkg-transitions', 3, nodes), nodes).get('1')!;
    let caught: unknown;
    try {
      act(p);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(DkgError);
    expect((caught as DkgError).code).toBe('bad_transition');
    expect((caught as DkgError).message).toBe(message);
  });

  it('rejects a ceremony file with a bad threshold, duplicate keys or gaps in indices, naming the problem', () => {
    const nodes = makeNodes(4);
    expect(() => parseCeremony(ceremonyFor('c', 2, nodes))).toThrow('dkg: ceremony c: threshold t=2: must exceed n/2 (n=4) so two disjoint quorums cannot sign conflicting reports; use t=3');
    const dup = ceremonyFor('c', 3, [nodes[0]!, nodes[1]!, nodes[0]!]);
    expect(() => parseCeremony(dup)).toThrow(/identity key 0x.* is listed twice/);
    const gap = ceremonyFor('c', 3, nodes);
    gap.participants[3]!.index = 9;
    expect(() => parseCeremony(gap)).toThrow('dkg: ceremony c: participant indices must be 1..4 each once, got 1,2,3,9');
    expect(() => new DkgParticipant({ ceremony: ceremonyFor('c', 3, nodes), identitySecret: makeNodes(1)[0]!.identitySecret })).toThrow(/is not listed; check the ceremony file/);
    const lowOrder = ceremonyFor('c', 3, nodes);
    lowOrder.participants[1]!.encryptionKey = '0x' + '00'.repeat(32);
    expect(() => parseCeremony(lowOrder)).toThrow("dkg: ceremony c: participant 2's encryption key is not a usable X25519 public key (low order); the node must generate a new one");
  });

  it('ignores forged, replayed and equivocating messages and says why', () => {
    const nodes = makeNodes(4);
    const ceremony = ceremonyFor('dkg-forgery', 3, nodes);
    const other = ceremonyFor('dkg-other', 3, nodes);
    const players = dkgPlayers(ceremony, nodes);
    const deals = [...players.values()].map((p) => p.deal()!);
    const forged = { ...deals[1]!, pop: deals[2]!.pop };
    const replayed = new DkgParticipant({ ceremony: other, identitySecret: nodes[3]!.identitySecret, encryptionSecret: nodes[3]!.encryptionSecret }).deal()!;
    const p1 = players.get('1')!;
    p1.closeDeals([deals[1]!, forged, deals[2]!, replayed, { hello: 'world' }], 0);
    const reasons = p1.rejected.map((r) => r.reason);
    expect(reasons).toContain('deal message from dealer 2: identity signature does not verify (forged, altered, or signed for another ceremony description); ignored');
    expect(reasons).toContain('deal message from dealer 4 is for ceremony dkg-other, not dkg-forgery; ignored');
    expect(reasons.some((r) => r.startsWith('deal message rejected: '))).toBe(true);
  });
});

describe('transcript verification', () => {
  const nodes = makeNodes(5);
  const ceremony = ceremonyFor('dkg-transcript', 3, nodes);
  const res = run(dkgPlayers(ceremony, nodes, [4]), new Map([['4', badDealer(ceremony, 4, nodes[3]!.identitySecret, 2, 'honest')]]));
  const transcript = res.outputs.get('1')!.transcript;
  const copy = () => JSON.parse(JSON.stringify(transcript));

  it('an untouched transcript verifies to the participants\' result', () => {
    const v = verifyTranscript(copy());
    expect(v.ok).toBe(true);
    if (!v.ok) return;
    expect(v.qualified).toEqual([1, 2, 3, 4, 5]);
    expect(v.groupPublicKey).toBe(toHex(res.outputs.get('1')!.groupPublicKey));
    expect(v.transcriptDigest).toBe(res.outputs.get('1')!.transcriptDigest);
  });

  it.each([
    ['a changed commitment', (t: any) => { t.deals[0].commitments[1] = t.deals[1].commitments[1]; }, /transcript contains a message that does not verify: deal message from dealer 1: identity signature does not verify/],
    ['a changed group key', (t: any) => { t.result.groupPublicKey = t.deals[0].commitments[0]; }, /transcript claims group key 0x.* but its messages give 0x/],
    ['a dropped response', (t: any) => { t.responses = []; }, 'transcript claims qualified dealers 1, 2, 3, 4, 5 but its messages qualify 1, 2, 3, 5'],
    ['a dropped deal', (t: any) => { t.deals.splice(2, 1); }, 'transcript claims qualified dealers 1, 2, 3, 4, 5 but its messages qualify 1, 2, 4, 5'],
    ['a swapped public share', (t: any) => { [t.result.publicShares[0], t.result.publicShares[1]] = [t.result.publicShares[1], t.result.publicShares[0]]; }, 'transcript claims a public share for node 1 that does not follow from the commitments'],
    ['a changed threshold', (t: any) => { t.ceremony.t = 4; }, /identity signature does not verify/],
    ['a changed revealed share', (t: any) => { t.responses[0].reveals[0].share = '5'; }, /response message from dealer 4: identity signature does not verify/],
    ['a duplicated complaint', (t: any) => { t.complaints.push(t.complaints[0]); }, 'transcript lists 5 complaint messages but only 4 distinct senders; a message is duplicated'],
    ['garbage', (t: any) => { t.deals = 'x'; }, /^transcript: /],
  ])('detects %s', (_name, tamper, reason) => {
    const t = copy();
    tamper(t);
    const v = verifyTranscript(t);
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.reason).toMatch(reason);
  });
});
