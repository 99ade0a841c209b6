/**
 * Adversarial: a compromised aggregator (or coordinator) tries to steal the group secret with a
 * fake resharing, against four real running nodes (`startNode`: keystores, committee file,
 * HTTP API with the ceremony endpoints mounted) of a committee n = 4, t = 3.
 *
 * The attack: in a resharing a dealer's constant term is its current share, so a "resharing"
 * to a committee of one member (the attacker, t' = 1, n' = 1) makes each dealing node send the
 * attacker its current share, encrypted to the attacker's key; t of them interpolate to the
 * group secret. The first test shows, in-process and without any node, that such a deal bundle
 * really carries the share (what the nodes must never send). Then each denied capability is
 * one test, over HTTP with request authentication, asserting the refusal code and that the
 * answer carries no deal bundle, hence no encrypted share:
 *  - an aggregator key is no coordinator (403 unknown_key);
 *  - a coordinator key without the operator's approval of that exact ceremony
 *    (403 ceremony_not_approved), also for a changed recipient list;
 *  - an approved resharing that lowers t (403 threshold_lowered);
 *  - an approved resharing that lies about the current committee (409 previous_committee_mismatch);
 *  - a rotation signature for another chain, hub or config version (409 rotation_target_mismatch);
 *  - a flood of ceremony ids does not grow the node's state beyond its bound (429 too_many_ceremonies).
 * Honest controls (an approved resharing that runs to the end, a correct rotation signature)
 * show the refusals come from the checks, not from a broken node.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { getBytes, hexlify } from 'ethers';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { Fr, G2, dealerKeygen, g2ToEip2537, lagrangeAtZero, parseCommittee, rotationTo, scalarToBytes, signRequest, verifyPartial, type Committee, type DealerOutput } from '../../protocol/index.ts';
import { DkgParticipant, approvalDigest, ceremonyDigest, commitmentsHash, decryptShare, fromHex, parseCeremony, toHex, type Ceremony, type DealMessage } from '../../protocol/dkg/index.ts';
import { loadNodeConfig } from '../../node/config.ts';
import { importBlsShare, importIdentity, type KdfChoice } from '../../node/keys/index.ts';
import { writeApproval, type ApprovalRecord } from '../../node/dkg/approvals.ts';
import { buildCeremonyFile, runCeremony } from '../../node/dkg/coordinator.ts';
import { approveCeremonyFile } from '../../node/dkg/server.ts';
import { MAX_CEREMONIES } from '../../node/dkg/service.ts';
import { startNode, type RunningNode } from '../../node/start.ts';

const KDF: KdfChoice = { function: 'pbkdf2', c: 16 };
const PASSWORD = 'adversarial dkg password';
const N = 4;
const T = 3;

interface Member {
  dir: string;
  configFile: string;
  identitySecret: Uint8Array;
  node?: RunningNode;
  url: string;
}

/** POST with request authentication by `secret`; the raw answer. */
async function post(url: string, path: string, body: unknown, secret: Uint8Array): Promise<{ status: number; json: any }> {
  const text = JSON.stringify(body);
  const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...signRequest(secret, { method: 'POST', path, body: text }) }, body: text });
  return { status: res.status, json: await res.json() };
}

/** What the attacker recovers from a deal answer: each share addressed to its key, decrypted. */
function loot(answer: unknown, ceremony: Ceremony, attackerX25519: Uint8Array): bigint[] {
  const deal = (answer as { deal?: DealMessage | null } | undefined)?.deal;
  if (!deal || !Array.isArray(deal.shares)) return [];
  const digest = ceremonyDigest(ceremony);
  const mine = toHex(x25519.getPublicKey(attackerX25519));
  const out: bigint[] = [];
  for (const s of deal.shares) {
    const p = ceremony.participants[s.recipient - 1];
    if (p?.encryptionKey !== mine) continue;
    const v = decryptShare(fromHex(s.ciphertext), attackerX25519, { digest, dealer: deal.dealer, recipient: s.recipient, ephemeralKey: fromHex(deal.ephemeralKey), recipientKey: fromHex(p.encryptionKey), commitmentsHash: commitmentsHash(deal.commitments) });
    if (v !== null) out.push(v);
  }
  return out;
}

/** The code of the error `fn` throws ('none' when it does not throw). */
function refusalOf(fn: () => unknown): string {
  try {
    fn();
    return 'none';
  } catch (err) {
    return String((err as { code?: string }).code);
  }
}

/** The secret t shares (index, value) interpolate to at 0. */
function interpolate(shares: readonly { index: number; value: bigint }[]): bigint {
  const l = lagrangeAtZero(shares.map((s) => s.index));
  return shares.reduce((acc, s, k) => Fr.add(acc, Fr.mul(l[k]!, s.value)), 0n);
}

describe('a compromised aggregator or coordinator cannot obtain shares through a fake resharing (4 running nodes, t = 3)', () => {
  const root = mkdtempSync(join(tmpdir(), 'aegis-adv-dkg-'));
  const members: Member[] = [];
  let dealer: DealerOutput;
  let committeeJson: Record<string, unknown>;
  let committee: Committee;
  // The attacker holds an aggregator identity key of the committee ...
  const aggregatorSecret = ed25519.utils.randomSecretKey();
  // ... and, in the later tests, the configured coordinator key too.
  const coordinatorSecret = ed25519.utils.randomSecretKey();
  const coordinatorKey = toHex(ed25519.getPublicKey(coordinatorSecret));
  const attackerIdentity = toHex(ed25519.getPublicKey(aggregatorSecret));
  const attackerX25519 = x25519.utils.randomSecretKey();
  const attackerEncryption = toHex(x25519.getPublicKey(attackerX25519));

  /** The fake resharing: the attacker alone (t' = 1, n' = 1), every current member a dealer. */
  function fakeResharing(ceremonyId: string, overrides: { previousT?: number } = {}) {
    return {
      ceremonyId,
      t: 1,
      participants: [{ index: 1, identityKey: attackerIdentity, encryptionKey: attackerEncryption }],
      previous: {
        groupPublicKey: committee.groupPublicKey.toLowerCase(),
        t: overrides.previousT ?? committee.t,
        publicShares: committee.nodes.map((n) => n.publicShare.toLowerCase()),
        dealers: committee.nodes.map((n) => ({ index: n.index, identityKey: n.identityKey.toLowerCase() })),
      },
    };
  }

  /** An approval record as the approvals folder holds it (written as a tricked operator would). */
  function recordFor(c: Ceremony, k: number): ApprovalRecord {
    return {
      approvalDigest: approvalDigest(c),
      ceremonyId: c.ceremonyId,
      approvedAt: new Date().toISOString(),
      allowLowerThreshold: false,
      summary: {
        kind: 'reshare',
        n: c.participants.length,
        t: c.t,
        participants: c.participants.map((p) => ({ index: p.index, identityKey: p.identityKey })),
        previous: { n: N, t: c.previous!.t, groupPublicKey: c.previous!.groupPublicKey, dealers: c.previous!.dealers },
        thisNode: { identityKey: committee.nodes[k]!.identityKey.toLowerCase(), dealer: k + 1 },
      },
    };
  }

  /** Every node's answer to a deal request; none may carry a deal, and none may leave state. */
  async function dealAll(ceremony: unknown, secret: Uint8Array) {
    return Promise.all(members.map((m) => post(m.url, '/v1/dkg/deal', { ceremony }, secret)));
  }

  async function ceremoniesOf(m: Member): Promise<{ ceremonyId: string; phase: string }[]> {
    return ((await (await fetch(`${m.url}/v1/dkg/status`)).json()) as { ceremonies: { ceremonyId: string; phase: string }[] }).ceremonies;
  }

  async function expectNothingLeaked(answers: { status: number; json: any }[], ceremony: unknown, status: number, code: string): Promise<void> {
    const c = parseCeremony(ceremony);
    for (const a of answers) {
      expect([a.status, a.json.error?.code]).toEqual([status, code]);
      expect(a.json.deal).toBeUndefined();
      expect(JSON.stringify(a.json)).not.toMatch(/ciphertext|commitments/);
      expect(loot(a.json, c, attackerX25519)).toEqual([]);
    }
    for (const m of members) expect((await ceremoniesOf(m)).map((x) => x.ceremonyId)).not.toContain(c.ceremonyId);
  }

  beforeAll(async () => {
    dealer = dealerKeygen(T, N);
    const identities = Array.from({ length: N }, () => ed25519.utils.randomSecretKey());
    committeeJson = {
      chainId: 31337,
      hub: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
      configVersion: 1,
      t: T,
      groupPublicKey: hexlify(dealer.groupPublicKey),
      nodes: identities.map((id, k) => ({ index: k + 1, identityKey: toHex(ed25519.getPublicKey(id)), publicShare: hexlify(dealer.publicShares[k]!) })),
      aggregators: [{ identityKey: attackerIdentity, name: 'compromised aggregator' }],
    };
    committee = parseCommittee(committeeJson);
    writeFileSync(join(root, 'committee.json'), JSON.stringify(committeeJson, null, 2));
    writeFileSync(join(root, 'password'), `${PASSWORD}\n`, { mode: 0o600 });
    for (let k = 0; k < N; k++) {
      const dir = join(root, `node${k + 1}`);
      mkdirSync(dir);
      await importIdentity(join(dir, 'identity.json'), bytesToHex(identities[k]!), { password: PASSWORD, kdf: KDF });
      await importBlsShare(join(dir, 'share.json'), bytesToHex(scalarToBytes(dealer.shares[k]!.secret)), { index: k + 1, n: N, t: T, groupPublicKey: hexlify(dealer.groupPublicKey) }, { password: PASSWORD, kdf: KDF });
      const configFile = join(dir, 'node.yaml');
      writeFileSync(
        configFile,
        stringify({
          listen: { host: '127.0.0.1', port: 0 },
          committee: '../committee.json',
          keys: { identity: { path: './identity.json', passwordFile: '../password' }, share: { path: './share.json', passwordFile: '../password' } },
          store: './signing.sqlite',
          feeds: [{ name: 'BTC/USD', minSources: 1, sources: [{ venue: 'coinbase', baseUrl: 'http://127.0.0.1:9' }] }],
          log: { level: 'silent' },
          dkg: { coordinators: [coordinatorKey] },
        }),
      );
      const member: Member = { dir, configFile, identitySecret: identities[k]!, url: '' };
      members.push(member);
      member.node = await startNode(configFile, { port: 0, logger: pino({ level: 'silent' }) });
      member.url = member.node.http.url;
    }
  });
  afterAll(async () => {
    for (const m of members) await m.node?.stop().catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  });

  it('the fake resharing is a real attack: t deal bundles for it would hand the attacker the group secret (computed in-process, no node involved)', () => {
    const c = parseCeremony(fakeResharing('what-would-leak'));
    const stolen = dealer.shares.slice(0, T).map((share, k) => {
      const p = new DkgParticipant({ ceremony: c, identitySecret: members[k]!.identitySecret, currentShare: share });
      const [value] = loot({ deal: p.deal() }, c, attackerX25519);
      return { index: k + 1, value: value! };
    });
    stolen.forEach((s, k) => expect(s.value).toBe(dealer.shares[k]!.secret));
    expect(toHex(G2.BASE.multiply(interpolate(stolen)).toBytes())).toBe(committee.groupPublicKey.toLowerCase());
  });

  it('an aggregator key is no coordinator: every running node refuses its fake resharing (403 unknown_key)', async () => {
    const ceremony = fakeResharing('steal-as-aggregator');
    await expectNothingLeaked(await dealAll(ceremony, aggregatorSecret), ceremony, 403, 'unknown_key');
    // Nor may it drive any other step of a ceremony.
    const rotation = await post(members[0]!.url, '/v1/dkg/rotation-sign', { ceremonyId: 'steal-as-aggregator', chainId: '31337', hub: committee.hub, configVersion: '1' }, aggregatorSecret);
    expect([rotation.status, rotation.json.error.code, rotation.json.signature]).toEqual([403, 'unknown_key', undefined]);
  });

  it('with the coordinator key, a ceremony the operator did not approve is refused (403 ceremony_not_approved), also when only its recipients changed', async () => {
    const ceremony = fakeResharing('steal-unapproved');
    const answers = await dealAll(ceremony, coordinatorSecret);
    await expectNothingLeaked(answers, ceremony, 403, 'ceremony_not_approved');
    const digest = approvalDigest(parseCeremony(ceremony));
    expect(answers[0]!.json.error.message).toContain(`ceremony steal-unapproved (approval digest ${digest}) is not approved by this node's operator`);
    expect(answers[0]!.json.error.message).toContain(`run \`aegis dkg approve --config ${members[0]!.configFile} FILE\``);

    // The operators approved an honest resharing to the four of them; the coordinator swaps the
    // recipients for the attacker's keys: another approval digest, refused.
    const honest = await buildCeremonyFile({ ceremonyId: 'steal-swapped', t: T, nodes: members.map((m) => m.url), previous: committeeJson, dealerUrls: members.map((m) => m.url) });
    for (const m of members) approveCeremonyFile(loadNodeConfig(m.configFile), honest);
    const swapped = { ...fakeResharing('steal-swapped', {}), t: T, participants: [0, 1, 2].map((k) => ({ index: k + 1, identityKey: toHex(ed25519.getPublicKey(ed25519.utils.randomSecretKey())), encryptionKey: k === 0 ? attackerEncryption : toHex(x25519.getPublicKey(x25519.utils.randomSecretKey())) })) };
    await expectNothingLeaked(await dealAll(swapped, coordinatorSecret), swapped, 403, 'ceremony_not_approved');
  });

  it('an approved resharing that lowers t is refused (403 threshold_lowered); `aegis dkg approve` refuses to approve it without --allow-lower-threshold', async () => {
    const ceremony = fakeResharing('steal-lowered');
    const c = parseCeremony(ceremony);
    expect(refusalOf(() => approveCeremonyFile(loadNodeConfig(members[0]!.configFile), ceremony))).toBe('threshold_lowered');
    // A tricked operator (or a hand-written record) approved it anyway: the node still refuses.
    members.forEach((m, k) => writeApproval(loadNodeConfig(m.configFile).dkg.approvals, recordFor(c, k)));
    const answers = await dealAll(ceremony, coordinatorSecret);
    await expectNothingLeaked(answers, ceremony, 403, 'threshold_lowered');
    expect(answers[0]!.json.error.message).toMatch(/lowers the threshold from the current t=3 to t=1 \(n=1\).*--allow-lower-threshold/);
  });

  it('an approved resharing whose previous committee is not the node\'s committee file is refused (409 previous_committee_mismatch)', async () => {
    // The lie that would get past the threshold rule: "the current committee is you alone,
    // with t = 1", so t' = 1 is no lowering. One such ceremony per node (its own public share,
    // so the share check alone would not catch it), each approved by a tricked operator.
    for (const [k, m] of members.entries()) {
      const ceremony = {
        ...fakeResharing(`steal-lying-previous-${k + 1}`),
        previous: { groupPublicKey: committee.groupPublicKey.toLowerCase(), t: 1, publicShares: [committee.nodes[k]!.publicShare.toLowerCase()], dealers: [{ index: 1, identityKey: committee.nodes[k]!.identityKey.toLowerCase() }] },
      };
      const c = parseCeremony(ceremony);
      expect(refusalOf(() => approveCeremonyFile(loadNodeConfig(m.configFile), ceremony))).toBe('previous_committee_mismatch');
      writeApproval(loadNodeConfig(m.configFile).dkg.approvals, { ...recordFor(c, k), summary: { ...recordFor(c, k).summary, previous: { n: 1, t: 1, groupPublicKey: c.previous!.groupPublicKey, dealers: c.previous!.dealers }, thisNode: { identityKey: committee.nodes[k]!.identityKey.toLowerCase(), dealer: 1 } } });
      const answer = await post(m.url, '/v1/dkg/deal', { ceremony }, coordinatorSecret);
      expect(answer.json.error?.message).toMatch(/its previous committee is not this node's committee file .*committee\.json \(ceremony vs file: t=1 vs t=3; n=1 vs n=4/);
      await expectNothingLeaked([answer], ceremony, 409, 'previous_committee_mismatch');
    }
  });

  it('rotation signing takes chain, hub and config version from the committee file: a forged one is refused (409 rotation_target_mismatch) with no signature', async () => {
    // Honest control: the four operators approve a resharing to themselves; it completes.
    const file = await buildCeremonyFile({ ceremonyId: 'honest-reshare', t: T, nodes: members.map((m) => m.url), previous: committeeJson, dealerUrls: members.map((m) => m.url) });
    for (const m of members) approveCeremonyFile(loadNodeConfig(m.configFile), file);
    const res = await runCeremony(file, { coordinatorSecret, phaseTimeoutMs: 60_000 });
    expect(res.verification.groupPublicKey).toBe(committee.groupPublicKey.toLowerCase());
    expect(res.verification.qualified).toEqual([1, 2, 3, 4]);

    const url = members[0]!.url;
    const honest = { ceremonyId: 'honest-reshare', chainId: '31337', hub: committee.hub, configVersion: '1' };
    const forged = [
      { ...honest, chainId: '1' },
      { ...honest, hub: '0x000000000000000000000000000000000000dEaD' },
      { ...honest, configVersion: '7' },
    ];
    for (const body of forged) {
      const a = await post(url, '/v1/dkg/rotation-sign', body, coordinatorSecret);
      expect([a.status, a.json.error?.code]).toEqual([409, 'rotation_target_mismatch']);
      expect(a.json.signature).toBeUndefined();
      expect(a.json.error.message).toMatch(/this node signs only the rotation of the committee in its committee file/);
    }
    // The committee file's own values: a partial signature over the message computed from it.
    const ok = await post(url, '/v1/dkg/rotation-sign', honest, coordinatorSecret);
    expect(ok.status).toBe(200);
    const key = g2ToEip2537(getBytes(committee.groupPublicKey));
    const { message } = rotationTo({ chainId: 31337n, hub: committee.hub, configVersion: 1n, groupPublicKey: key, n: N, t: T }, { groupPublicKey: key, n: N, t: T });
    expect(ok.json.message).toBe(toHex(message));
    expect(verifyPartial({ index: ok.json.index, signature: getBytes(ok.json.signature) }, getBytes(committee.nodes[0]!.publicShare), message)).toBe(true);
  });

  it(`a flood of ceremony ids keeps at most ${MAX_CEREMONIES} ceremonies per node; beyond that, deals are refused (429 too_many_ceremonies)`, async () => {
    const m = members[3]!;
    const before = (await ceremoniesOf(m)).length;
    // Unapproved ids cost the node nothing: no state at all.
    const unapproved = await Promise.all(Array.from({ length: 40 }, (_, k) => post(m.url, '/v1/dkg/deal', { ceremony: fakeResharing(`flood-unapproved-${k}`) }, coordinatorSecret)));
    for (const a of unapproved) expect([a.status, a.json.error.code]).toEqual([403, 'ceremony_not_approved']);
    expect((await ceremoniesOf(m)).length).toBe(before);

    // Approved one-member ceremonies (this node alone): each holds a slot until it ends.
    const config = loadNodeConfig(m.configFile);
    const identityKey = committee.nodes[3]!.identityKey.toLowerCase();
    const oneMember = async (k: number) => {
      const ceremonyId = `flood-approved-${k}`;
      const keys = (await (await fetch(`${m.url}/v1/dkg/keys?ceremonyId=${ceremonyId}`)).json()) as { encryptionKey: string };
      const ceremony = { ceremonyId, t: 1, participants: [{ index: 1, identityKey, encryptionKey: keys.encryptionKey }] };
      approveCeremonyFile(config, ceremony);
      return ceremony;
    };
    const statuses: number[] = [];
    for (let k = 0; k < MAX_CEREMONIES + 4; k++) {
      const a = await post(m.url, '/v1/dkg/deal', { ceremony: await oneMember(k) }, coordinatorSecret);
      statuses.push(a.status);
      if (a.status !== 200) expect(a.json.error.code).toBe('too_many_ceremonies');
      expect((await ceremoniesOf(m)).length).toBeLessThanOrEqual(MAX_CEREMONIES);
    }
    // The finished resharing of the previous test (if any) made room; live ceremonies never do.
    expect(statuses.filter((s) => s === 200)).toHaveLength(MAX_CEREMONIES);
    expect(statuses.slice(MAX_CEREMONIES)).toEqual([429, 429, 429, 429]);
    // An aborted (failed) ceremony frees its slot for the next approved one.
    expect((await post(m.url, '/v1/dkg/abort', { ceremonyId: 'flood-approved-0', reason: 'test' }, coordinatorSecret)).json).toEqual({ aborted: true });
    expect((await post(m.url, '/v1/dkg/deal', { ceremony: await oneMember(100) }, coordinatorSecret)).status).toBe(200);
    const held = (await ceremoniesOf(m)).map((c) => c.ceremonyId);
    expect(held).toHaveLength(MAX_CEREMONIES);
    expect(held).not.toContain('flood-approved-0');
  });
});
