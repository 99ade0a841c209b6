import { describe, expect, it } from 'vitest';
import { getBytes } from 'ethers';
import { SUSPENDED_ANSWER, feedId, observationsRoot, reportMessage, verifyGroupSignature, decodeReport } from '../../protocol/index.ts';
import { RoundEngine } from '../../aggregator/round/index.ts';
import { makeReferenceNodes, makeTestCommittee, type PriceSource } from '../../testkit/reference-node/node.ts';

const BTC = feedId('BTC/USD');
const ETH = feedId('ETH/USD');
const price: PriceSource = (id, node) => (id === BTC ? 6_000_000_000_000n + BigInt(node) * 1_000_000n : id === ETH ? 300_000_000_000n + BigInt(node) : null);

function setup(n = 7) {
  const tc = makeTestCommittee({ n });
  const { nodes, clients } = makeReferenceNodes(tc, price);
  const engine = new RoundEngine({ committee: tc.committee, clients, observeTimeoutMs: 1000, signTimeoutMs: 1000, graceMs: 50 });
  return { tc, nodes, clients, engine };
}

describe('round engine with in-memory nodes', () => {
  it('signs a report every node agrees with and the group key verifies', async () => {
    const { tc, engine } = setup();
    const r = await engine.run(1n, [BTC, ETH]);
    await r.rest;
    expect(r.status).toBe('signed');
    expect(r.participants.observed).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(r.participants.signed).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(r.excluded).toEqual([]);
    const s = r.signed!;
    expect(s.report.answers).toEqual([6_000_000_000_000n + 4_000_000n, 300_000_000_000n + 4n]);
    expect(s.report.observationsRoot).toBe(observationsRoot(s.observations.map((o) => o.observation)));
    expect(decodeReport(s.encoded)).toEqual(s.report);
    expect(verifyGroupSignature(getBytes(s.signature), reportMessage(s.report), getBytes(tc.committee.groupPublicKey))).toBe(true);
    expect(getBytes(s.signatureEvm)).toHaveLength(96);
    for (const k of ['observeMs', 'buildMs', 'signMs', 'verifyMs', 'combineMs', 'totalMs'] as const) expect(r.timings[k]).toBeGreaterThanOrEqual(0);
  });

  it('completes with a node down and names it', async () => {
    const { nodes, engine } = setup();
    nodes[2]!.fault = { kind: 'down' };
    const r = await engine.run(2n, [BTC]);
    await r.rest;
    expect(r.status).toBe('signed');
    expect(r.participants.observed).toEqual([1, 2, 4, 5, 6, 7]);
    expect(r.excluded.map((e) => [e.index, e.phase, e.code])).toEqual([
      [3, 'observe', 'unreachable'],
      [3, 'sign', 'unreachable'],
    ]);
    expect(r.excluded[0]!.reason).toMatch(/node 3: observe failed: .*ECONNREFUSED/);
  });

  it('excludes and names a Byzantine node whose partial does not verify, and still completes', async () => {
    const { nodes, engine, tc } = setup();
    nodes[4]!.fault = { kind: 'bad_partial' };
    const r = await engine.run(3n, [BTC, ETH]);
    await r.rest;
    expect(r.status).toBe('signed');
    expect(r.participants.signed).toEqual([1, 2, 3, 4, 6, 7]);
    const bad = r.excluded.filter((e) => e.code === 'bad_partial');
    expect(bad).toHaveLength(1);
    expect(bad[0]).toMatchObject({ index: 5, phase: 'sign' });
    expect(bad[0]!.reason).toMatch(/node 5: .*does not verify against its public share/);
    expect(verifyGroupSignature(getBytes(r.signed!.signature), reportMessage(r.signed!.report), getBytes(tc.committee.groupPublicKey))).toBe(true);
  });

  it('names a bad partial whether it is among the first t combined or after them', async () => {
    for (const bad of [1, 7]) {
      const { nodes, engine, tc } = setup();
      nodes[bad - 1]!.fault = { kind: 'bad_partial' };
      const r = await engine.run(3n, [BTC]);
      await r.rest;
      expect(r.status).toBe('signed');
      expect(r.excluded.map((e) => [e.index, e.code])).toEqual([[bad, 'bad_partial']]);
      expect(r.participants.signed).toEqual([1, 2, 3, 4, 5, 6, 7].filter((i) => i !== bad));
      expect(verifyGroupSignature(getBytes(r.signed!.signature), reportMessage(r.signed!.report), getBytes(tc.committee.groupPublicKey))).toBe(true);
    }
  });

  it('returns the signature on the first t partials; late partials are checked and named afterwards (rest)', async () => {
    const { nodes, engine, tc } = setup();
    // Nodes 6 and 7 sign 30 ms late with partials that do not verify: the phase returns on the
    // first t = 5 without waiting for them, and names them once they are in.
    nodes[5]!.fault = { kind: 'bad_partial', ms: 30 };
    nodes[6]!.fault = { kind: 'bad_partial', ms: 30 };
    const r = await engine.run(3n, [BTC]);
    expect(r.status).toBe('signed');
    expect(verifyGroupSignature(getBytes(r.signed!.signature), reportMessage(r.signed!.report), getBytes(tc.committee.groupPublicKey))).toBe(true);
    // Returned before nodes 6 and 7 answered: only the first five signed, nobody named yet.
    expect(r.participants.signed).toEqual([1, 2, 3, 4, 5]);
    expect(r.excluded).toEqual([]);
    expect(r.rest).toBeDefined();
    const late = await r.rest;
    expect(late!.map((e) => [e.index, e.phase, e.code])).toEqual([
      [6, 'sign', 'bad_partial'],
      [7, 'sign', 'bad_partial'],
    ]);
    expect(r.excluded.map((e) => [e.index, e.code])).toEqual([
      [6, 'bad_partial'],
      [7, 'bad_partial'],
    ]);
    expect(r.participants.signed).toEqual([1, 2, 3, 4, 5]);
  });

  it('excludes an observation with a bad identity signature', async () => {
    const { nodes, engine } = setup();
    nodes[0]!.fault = { kind: 'bad_observation_signature' };
    const r = await engine.run(4n, [BTC]);
    await r.rest;
    expect(r.status).toBe('signed');
    expect(r.excluded).toContainEqual(expect.objectContaining({ index: 1, phase: 'observe', code: 'bad_observation_signature' }));
    expect(r.participants.observed).not.toContain(1);
  });

  it('with fewer than t live nodes produces no report and says why', async () => {
    const { nodes, engine } = setup();
    for (const k of [0, 1, 2]) nodes[k]!.fault = { kind: 'down' }; // n=7, t=5: 4 left
    const r = await engine.run(5n, [BTC]);
    await r.rest;
    expect(r.status).toBe('failed');
    expect(r.signed).toBeUndefined();
    expect(r.failure?.code).toBe('too_few_observations');
    expect(r.failure?.message).toMatch(/4 valid observation\(s\) of 7 nodes, need t=5/);
  });

  it('with t observers but more than n−t bad signers fails with too_few_partials', async () => {
    const { nodes, engine } = setup();
    nodes[0]!.fault = { kind: 'bad_partial' };
    nodes[1]!.fault = { kind: 'bad_partial' };
    nodes[2]!.fault = { kind: 'bad_partial' };
    const r = await engine.run(6n, [BTC]);
    await r.rest;
    expect(r.status).toBe('failed');
    expect(r.failure?.code).toBe('too_few_partials');
    expect(r.excluded.filter((e) => e.code === 'bad_partial').map((e) => e.index)).toEqual([1, 2, 3]);
  });

  it('cuts off a slow node after the quorum grace instead of waiting for its timeout', async () => {
    const { nodes, engine } = setup();
    nodes[6]!.fault = { kind: 'slow', ms: 5000 };
    const r = await engine.run(7n, [BTC]);
    await r.rest;
    expect(r.status).toBe('signed');
    expect(r.excluded).toContainEqual(expect.objectContaining({ index: 7, phase: 'observe', code: 'timeout' }));
  });

  it('skips a feed with fewer than t observations and reports the rest', async () => {
    const tc = makeTestCommittee({ n: 4 });
    const sparse: PriceSource = (id, node) => (id === ETH && node <= 2 ? null : price(id, node, 0));
    const { clients } = makeReferenceNodes(tc, sparse);
    const engine = new RoundEngine({ committee: tc.committee, clients });
    const r = await engine.run(8n, [BTC, ETH]);
    await r.rest;
    expect(r.status).toBe('signed');
    expect(r.signed!.report.feedIds).toEqual([BTC.toLowerCase()]);
    expect(r.skipped).toEqual([{ feedId: ETH.toLowerCase(), reason: 'ETH/USD: 2 node(s) observed it, need t=3' }]);
  });

  it('signs a suspension entry for a feed t nodes signed that they cannot price, beside the priced one', async () => {
    const tc = makeTestCommittee({ n: 4 });
    const dark: PriceSource = (id, node) => (id === ETH && node <= 3 ? null : price(id, node, 0));
    const { clients } = makeReferenceNodes(tc, dark);
    const engine = new RoundEngine({ committee: tc.committee, clients });
    const r = await engine.run(10n, [BTC, ETH]);
    await r.rest;
    expect(r.status).toBe('signed');
    expect(r.signed!.report.feedIds).toEqual([BTC.toLowerCase(), ETH.toLowerCase()]);
    expect(r.signed!.report.answers[1]).toBe(SUSPENDED_ANSWER);
    expect(r.candidates[1]).toMatchObject({ feedId: ETH.toLowerCase(), suspendReason: 0, contributors: [1, 2, 3] });
    expect(verifyGroupSignature(getBytes(r.signed!.signature), reportMessage(r.signed!.report), getBytes(tc.committee.groupPublicKey))).toBe(true);
  });

  it('asks for partials only on the feeds the selector keeps; none → no sign phase', async () => {
    const { engine } = setup();
    const only = await engine.run(9n, [BTC, ETH], (agg) => ({ feedIds: [ETH], skipped: agg.feeds.filter((f) => f.feedId !== ETH.toLowerCase()).map((f) => ({ feedId: f.feedId, reason: 'no deviation' })) }));
    await only.rest;
    expect(only.signed!.report.feedIds).toEqual([ETH.toLowerCase()]);
    expect(only.candidates).toHaveLength(2);
    const none = await engine.run(10n, [BTC, ETH], () => ({ feedIds: [], skipped: [] }));
    await none.rest;
    expect(none.status).toBe('nothing_to_post');
    expect(none.participants.signed).toEqual([]);
  });

  it('rejects a committee/digest mismatch at construction', () => {
    const tc = makeTestCommittee({ n: 4 });
    expect(() => new RoundEngine({ committee: tc.committee, clients: [], configDigest: '0x' + '00'.repeat(32) })).toThrow(/config digest mismatch/);
  });
});
