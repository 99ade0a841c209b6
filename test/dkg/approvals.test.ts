/**
 * Operator approvals of key ceremonies: the approval digest (what it binds, what it leaves
 * out), the approvals folder (0600 files, list, revoke), and the checks `aegis dkg approve`
 * and the node's `deal` share, each with its exact error code.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCommittee } from '../../protocol/index.ts';
import { approvalDigest, ceremonyDigest, parseCeremony, toHex } from '../../protocol/dkg/index.ts';
import { approvalFor, ceremonyOfFile, describeApproval, fixedApprovals, folderApprovals, listApprovals, readApproval, revokeApproval, writeApproval } from '../../node/dkg/approvals.ts';
import { ceremonyFor, makeNodes } from './harness.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const codeOf = (fn: () => unknown): string => {
  try {
    fn();
    return 'none';
  } catch (err) {
    return String((err as { code?: string }).code);
  }
};

const nodes = makeNodes(5);
const G = `0x${'aa'.repeat(96)}`;
const PK = (k: number) => `0x${String(k).padStart(2, '0').repeat(96)}`;
const committee = parseCommittee({
  chainId: 1,
  hub: '0x0000000000000000000000000000000000000001',
  configVersion: 3,
  t: 3,
  groupPublicKey: G,
  nodes: nodes.slice(0, 4).map((n, k) => ({ index: k + 1, identityKey: n.identityKey, publicShare: PK(k + 1) })),
});
const previous = { groupPublicKey: G, t: 3, publicShares: [1, 2, 3, 4].map(PK), dealers: nodes.slice(0, 4).map((n, k) => ({ index: k + 1, identityKey: n.identityKey })) };
const reshare = (over: Record<string, unknown> = {}) => parseCeremony(ceremonyFor('reshare-1', 3, nodes, { previous, ...over }));

describe('approval digest', () => {
  it('leaves out the deadlines and binds id, t, participants and previous committee, under its own domain', () => {
    const base = reshare();
    const timed = reshare({ deadlines: { deal: 1, complaints: 2, responses: 3 } });
    expect(approvalDigest(timed)).toBe(approvalDigest(base));
    expect(toHex(ceremonyDigest(timed))).not.toBe(toHex(ceremonyDigest(base)));
    expect(approvalDigest(base)).not.toBe(toHex(ceremonyDigest(base)));
    const variants = [
      parseCeremony(ceremonyFor('reshare-2', 3, nodes, { previous })),
      reshare({ previous: { ...previous, t: 4 } }),
      parseCeremony(ceremonyFor('reshare-1', 4, nodes, { previous })),
      parseCeremony(ceremonyFor('reshare-1', 3, [...nodes.slice(0, 4), makeNodes(1)[0]!], { previous })),
    ];
    for (const v of variants) expect(approvalDigest(v)).not.toBe(approvalDigest(base));
    expect(approvalDigest(base)).toMatch(/^0x[0-9a-f]{64}$/);
  });
});

describe('approval checks', () => {
  const me = nodes[0]!.identityKey;
  it('refuses a node that takes no part (not_a_participant)', () => {
    const c = parseCeremony(ceremonyFor('dkg-1', 3, nodes.slice(1)));
    expect(codeOf(() => approvalFor({ ceremony: c, identityKey: me, committeeFile: 'c.json' }))).toBe('not_a_participant');
  });
  it('refuses a lowered threshold unless allowed (threshold_lowered)', () => {
    const c = parseCeremony(ceremonyFor('reshare-low', 2, nodes.slice(0, 3), { previous }));
    expect(codeOf(() => approvalFor({ ceremony: c, identityKey: me, committee, committeeFile: 'c.json' }))).toBe('threshold_lowered');
    const r = approvalFor({ ceremony: c, identityKey: me, committee, committeeFile: 'c.json', allowLowerThreshold: true });
    expect(r.allowLowerThreshold).toBe(true);
    expect(describeApproval(r).join('\n')).toMatch(/THE THRESHOLD GOES DOWN from 3 to 2 \(allowed with --allow-lower-threshold\)/);
  });
  it('refuses a dealer whose previous committee is not its committee file (previous_committee_mismatch), or who has none (committee_unavailable)', () => {
    const lying = reshare({ previous: { ...previous, publicShares: [1, 2, 3, 5].map(PK) } });
    expect(codeOf(() => approvalFor({ ceremony: lying, identityKey: me, committee, committeeFile: 'c.json' }))).toBe('previous_committee_mismatch');
    const swapped = reshare({ previous: { ...previous, dealers: [{ index: 1, identityKey: previous.dealers[1]!.identityKey }, { index: 2, identityKey: previous.dealers[0]!.identityKey }, previous.dealers[2]!] } });
    expect(codeOf(() => approvalFor({ ceremony: swapped, identityKey: me, committee, committeeFile: 'c.json' }))).toBe('previous_committee_mismatch');
    expect(codeOf(() => approvalFor({ ceremony: reshare(), identityKey: me, committeeFile: 'c.json', committeeError: 'ENOENT' }))).toBe('committee_unavailable');
    // A new member that deals nothing needs no committee file.
    expect(approvalFor({ ceremony: reshare(), identityKey: nodes[4]!.identityKey, committeeFile: 'c.json' }).summary.thisNode).toEqual({ identityKey: nodes[4]!.identityKey, recipient: 5 });
  });
  it('summarises membership and this node\'s roles', () => {
    const r = approvalFor({ ceremony: reshare(), identityKey: me, committee, committeeFile: 'c.json' });
    const text = describeApproval(r).join('\n');
    expect(text).toMatch(/ceremony reshare-1: resharing of the current committee key \(same group key\) to n=5, t=3/);
    expect(text).toContain(`  1 ${me}   <- this node`);
    expect(text).toMatch(/this node 0x[0-9a-f]{64}: new member 1, dealer \(current member 1\), deals its current share/);
  });
  it('reads a ceremony file with urls and a committee block', () => {
    const file = { ...ceremonyFor('f-1', 3, nodes), committee: { chainId: 1, hub: '0x01', configVersion: 1, aggregators: [{ identityKey: nodes[4]!.identityKey.toUpperCase() }] } } as Record<string, unknown>;
    (file.participants as Record<string, unknown>[]).forEach((p, k) => (p.url = `http://127.0.0.1:${7400 + k}`));
    const { ceremony, committeeAggregators } = ceremonyOfFile(file);
    expect(approvalDigest(ceremony)).toBe(approvalDigest(parseCeremony(ceremonyFor('f-1', 3, nodes))));
    expect(committeeAggregators).toEqual([nodes[4]!.identityKey]);
    expect(codeOf(() => ceremonyOfFile({ ...file, t: 9 }))).toBe('bad_ceremony');
  });
});

describe('approvals folder', () => {
  it('writes 0600 records, finds them by digest, lists and revokes them', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'aegis-approvals-')), 'dkg-approvals');
    dirs.push(dir);
    const r = approvalFor({ ceremony: reshare(), identityKey: nodes[4]!.identityKey, committeeFile: 'c.json' });
    const file = writeApproval(dir, r);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(folderApprovals(dir).find(r.approvalDigest)).toEqual(r);
    expect(folderApprovals(dir).find(`0x${'00'.repeat(32)}`)).toBeUndefined();
    expect(fixedApprovals([r]).find(r.approvalDigest)).toEqual(r);
    expect(listApprovals(dir).records.map((x) => x.record.ceremonyId)).toEqual(['reshare-1']);
    // A record whose content is not the approval of its digest is refused, not trusted.
    const other = approvalFor({ ceremony: parseCeremony(ceremonyFor('other', 3, nodes)), identityKey: nodes[4]!.identityKey, committeeFile: 'c.json' });
    writeFileSync(join(dir, `${other.approvalDigest.slice(2)}.json`), JSON.stringify(r));
    expect(codeOf(() => readApproval(dir, other.approvalDigest))).toBe('bad_approval');
    expect(listApprovals(dir).bad).toHaveLength(1);
    expect(revokeApproval(dir, 'reshare-1').map((x) => x.record.approvalDigest)).toEqual([r.approvalDigest]);
    expect(folderApprovals(dir).find(r.approvalDigest)).toBeUndefined();
    expect(codeOf(() => revokeApproval(dir, 'reshare-1'))).toBe('no_approval');
  });
});
