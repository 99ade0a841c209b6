/**
 * Ceremonies with faulty participants over loopback: a dealer that sends one bad share (a
 * Byzantine HTTP node speaking the ceremony endpoints), participants that are offline or never
 * answer, and too few dealers. The coordinator leaves them out at the phase deadline, names
 * them with the phase, and never hangs.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { x25519 } from '@noble/curves/ed25519.js';
import { afterEach, describe, expect, it } from 'vitest';
import { randomScalar } from '../../protocol/index.ts';
import {
  type ComplaintMessage,
  type DealMessage,
  buildDeal,
  ceremonyDigest,
  commitmentsHash,
  encryptShare,
  fromHex,
  parseCeremony,
  signMessage,
  toHex,
} from '../../protocol/dkg/index.ts';
import { CoordinatorError, buildCeremonyFile, runCeremony } from '../../node/dkg/coordinator.ts';
import { encryptionSecretFor } from '../../node/dkg/service.ts';
import { loadShare, setupDkgNodes, type DkgFixture, type DkgNode } from '../../sim/devnet/dkg-nodes.ts';

let fx: DkgFixture | undefined;
const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => { s.closeAllConnections(); s.close(r); });
  await fx?.close();
  fx = undefined;
});

async function listen(app: express.Express): Promise<string> {
  const s: Server = await new Promise((resolve) => {
    const srv = app.listen(0, '127.0.0.1', () => resolve(srv));
  });
  servers.push(s);
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

/**
 * Node `node` turned Byzantine: it deals a bundle whose share for `victim` does not match its
 * commitments, never answers the complaint, sends an empty complaint list itself and refuses
 * to finalize. Its messages are properly signed with its identity key.
 */
async function byzantineDealer(node: DkgNode, dealer: number, victim: number): Promise<string> {
  const app = express();
  app.use(express.json({ limit: '16mb' }));
  let ceremony: ReturnType<typeof parseCeremony> | undefined;
  app.get('/v1/dkg/keys', (req, res) => {
    const id = String(req.query.ceremonyId);
    res.json({ identityKey: node.identityKey, encryptionKey: toHex(x25519.getPublicKey(encryptionSecretFor(node.identitySecret, id))) });
  });
  app.post('/v1/dkg/deal', (req, res) => {
    ceremony = parseCeremony(req.body.ceremony);
    const c = ceremony;
    const coefficients = Array.from({ length: c.t }, () => randomScalar());
    const ephemeralSecret = x25519.utils.randomSecretKey();
    const honest = buildDeal({ ceremony: c, dealer, identitySecret: node.identitySecret, coefficients, ephemeralSecret });
    const ctx = { digest: ceremonyDigest(c), dealer, recipient: victim, ephemeralKey: fromHex(honest.ephemeralKey), recipientKey: fromHex(c.participants[victim - 1]!.encryptionKey), commitmentsHash: commitmentsHash(honest.commitments) };
    const { signature: _s, ...body } = honest;
    const deal = signMessage<DealMessage>('DEAL', c, { ...body, shares: body.shares.map((s) => (s.recipient === victim ? { ...s, ciphertext: toHex(encryptShare(12345n, ephemeralSecret, ctx)) } : s)) }, node.identitySecret);
    res.json({ deal, dealer, recipient: dealer });
  });
  app.post('/v1/dkg/complaints', (_req, res) => {
    res.json({ complaint: signMessage<ComplaintMessage>('COMPLAINT', ceremony!, { ceremonyId: ceremony!.ceremonyId, recipient: dealer, complaints: [] }, node.identitySecret), rejected: [] });
  });
  app.post('/v1/dkg/responses', (_req, res) => {
    res.json({ response: null, pending: [dealer] });
  });
  app.post('/v1/dkg/finalize', (_req, res) => {
    res.status(409).json({ error: { code: 'byzantine', message: 'this node does not finalize' } });
  });
  return listen(app);
}

/** A server that accepts connections and never answers: a hung participant. */
async function hungNode(node: DkgNode): Promise<string> {
  const app = express();
  app.get('/v1/dkg/keys', (req, res) => {
    res.json({ identityKey: node.identityKey, encryptionKey: toHex(x25519.getPublicKey(encryptionSecretFor(node.identitySecret, String(req.query.ceremonyId)))) });
  });
  app.post('/v1/dkg/deal', () => undefined);
  return listen(app);
}

describe('DKG with faulty participants (n=7, t=5)', () => {
  it('a dealer that sends one bad share is exposed by the complaint and disqualified; the ceremony completes without it', async () => {
    fx = await setupDkgNodes(7, { start: false });
    for (const [k, node] of fx.nodes.entries()) if (k !== 2) await fx.start(node);
    fx.nodes[2]!.url = await byzantineDealer(fx.nodes[2]!, 3, 5);
    const file = await buildCeremonyFile({ ceremonyId: 'e2e-bad-share', t: 5, nodes: fx.nodes.map((n) => n.url) });
    fx.approve(file);
    const lines: string[] = [];
    const res = await runCeremony(file, { coordinatorSecret: fx.coordinatorSecret, phaseTimeoutMs: 20_000, progress: (l) => lines.push(l) });
    expect(lines.some((l) => l.includes('dealer 3 accused by 5'))).toBe(true);
    expect(res.verification.qualified).toEqual([1, 2, 4, 5, 6, 7]);
    expect(res.verification.disqualified.map((d) => [d.dealer, d.code])).toEqual([[3, 'unanswered_complaint']]);
    expect(res.excluded).toEqual([{ node: `node 3 (${fx.nodes[2]!.url})`, phase: 'finalize', reason: expect.stringContaining('byzantine') }]);
    // The victim's share (repaired without dealer 3) matches its public share.
    const victim = await loadShare(fx.nodes[4]!.shareFile);
    expect(victim.publicShare).toBe(res.verification.publicShares[4]);
  });

  it('two participants offline (one unreachable, one hung) are left out at the deadline; the ceremony completes with 5', async () => {
    fx = await setupDkgNodes(7);
    const file = await buildCeremonyFile({ ceremonyId: 'e2e-two-offline', t: 5, nodes: fx.nodes.map((n) => n.url) });
    fx.approve(file);
    // After the ceremony file is agreed, node 6 goes down and node 7 hangs.
    await fx.stop(fx.nodes[5]!);
    const hung = await hungNode(fx.nodes[6]!);
    (file.participants as { url: string }[])[6]!.url = hung;
    const res = await runCeremony(file, { coordinatorSecret: fx.coordinatorSecret, phaseTimeoutMs: 3_000 });
    expect(res.verification.qualified).toEqual([1, 2, 3, 4, 5]);
    expect(res.excluded.map((e) => [e.node.split(' (')[0], e.phase])).toEqual([
      ['node 6', 'deal'],
      ['node 7', 'deal'],
    ]);
    expect(res.excluded[0]!.reason).toMatch(/unreachable/);
    expect(res.excluded[1]!.reason).toMatch(/no answer within the phase deadline/);
    expect(res.shareFiles.map((s) => s.index)).toEqual([1, 2, 3, 4, 5]);
    // Absent nodes have a public share (they get a share at the next resharing).
    expect(res.verification.publicShares).toHaveLength(7);
  });

  it('with deadlines in the ceremony file, an offline node makes every node close each phase at its deadline, not before', async () => {
    fx = await setupDkgNodes(7);
    const file = await buildCeremonyFile({ ceremonyId: 'e2e-deadlines', t: 5, nodes: fx.nodes.map((n) => n.url), phaseMs: 5_000 });
    fx.approve(file);
    const deadlines = file.deadlines as { deal: number; complaints: number; responses: number };
    await fx.stop(fx.nodes[6]!);
    const lines: string[] = [];
    const res = await runCeremony(file, { coordinatorSecret: fx.coordinatorSecret, progress: (l) => lines.push(l) });
    expect(res.verification.qualified).toEqual([1, 2, 3, 4, 5, 6]);
    expect(lines.filter((l) => l.includes('waiting for the phase deadline')).map((l) => l.trim().split(':')[0])).toEqual(['deal', 'complaints']);
    expect(Date.now()).toBeGreaterThanOrEqual(deadlines.complaints);
    // The transcript carries the deadlines the nodes enforced.
    expect((res.transcript as { ceremony: { deadlines: unknown } }).ceremony.deadlines).toEqual(deadlines);
  });

  it('with three participants offline only 4 dealers remain and the ceremony fails naming them', async () => {
    fx = await setupDkgNodes(7);
    const file = await buildCeremonyFile({ ceremonyId: 'e2e-too-few', t: 5, nodes: fx.nodes.map((n) => n.url) });
    fx.approve(file);
    for (const k of [1, 4, 6]) await fx.stop(fx.nodes[k]!);
    const err = await runCeremony(file, { coordinatorSecret: fx.coordinatorSecret, phaseTimeoutMs: 3_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CoordinatorError);
    expect((err as CoordinatorError).code).toBe('too_few_dealers');
    const msg = (err as Error).message;
    expect(msg).toMatch(/^dkg phase "deal": only 4 dealers dealt \(1, 3, 4, 6\), need 5\. Missing: node 2 \(http/);
    for (const k of [2, 5, 7]) expect(msg).toContain(`node ${k} (${fx.nodes[k - 1]!.url}): unreachable`);
    // The nodes that dealt were told to abort.
    const status = (await (await fetch(`${fx.nodes[0]!.url}/v1/dkg/status`)).json()) as { ceremonies: { phase: string }[] };
    expect(status.ceremonies[0]!.phase).toBe('failed');
  });
});
