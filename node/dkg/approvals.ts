/**
 * Operator approval of key ceremonies (docs/design.md §Key ceremony: "a node deals in a key
 * ceremony only when its operator approved that ceremony").
 *
 * Dealing is the one act of a node that hands out secret material: in a resharing a dealer's
 * constant term is its current share, so a node that dealt in any well-formed ceremony a
 * coordinator posted would give its share, encrypted, to whatever recipients that coordinator
 * chose. So the node deals only in a ceremony whose approval digest (`approvalDigest` in
 * protocol/dkg: ceremonyId, t, participants and previous committee; deadlines left out) its
 * operator pinned with `aegis dkg approve`, after reviewing the membership on screen — the
 * per-operator "accept" of a DKG proposal in drand v2.
 *
 * Approvals are files in the config's `dkg.approvals` folder, one per digest
 * (`<digest hex>.json`, mode 0600), read again at every deal so a running node needs no
 * restart. Even an approved resharing is refused when it lowers the threshold without the
 * operator saying so (`--allow-lower-threshold`), or when its `previous` committee is not
 * the node's own committee file: a coordinator cannot lie about the current committee.
 *
 * This module also holds `DkgRequestError`, the named refusal every check here and in the
 * service throws (HTTP status + stable code).
 */
import { chmodSync, mkdirSync, readFileSync, readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { Committee } from '../../protocol/index.ts';
import { approvalDigest, parseCeremony, type Ceremony } from '../../protocol/dkg/index.ts';
import { HttpError } from '../../runtime/http-errors.ts';

/** A refusal of a DKG request or command, answered with HTTP `status` and a stable code. */
export class DkgRequestError extends HttpError {
  override readonly name = 'DkgRequestError';
}

// -- Records --

const hexKey = z.string().regex(/^0x[0-9a-f]{64}$/);

export const ApprovalRecordSchema = z.strictObject({
  approvalDigest: z.string().regex(/^0x[0-9a-f]{64}$/),
  ceremonyId: z.string().min(1).max(128),
  approvedAt: z.string(),
  allowLowerThreshold: z.boolean(),
  summary: z.strictObject({
    kind: z.enum(['dkg', 'reshare']),
    n: z.number().int(),
    t: z.number().int(),
    participants: z.array(z.strictObject({ index: z.number().int(), identityKey: hexKey })),
    previous: z.strictObject({ n: z.number().int(), t: z.number().int(), groupPublicKey: z.string(), dealers: z.array(z.strictObject({ index: z.number().int(), identityKey: hexKey })) }).optional(),
    thisNode: z.strictObject({ identityKey: hexKey, recipient: z.number().int().optional(), dealer: z.number().int().optional() }),
  }),
});
export type ApprovalRecord = z.infer<typeof ApprovalRecordSchema>;

/** Where the node looks up approvals at deal time. */
export interface ApprovalSource {
  /** The approval of this digest, or undefined when the operator did not approve it. */
  find(approvalDigest: string): ApprovalRecord | undefined;
}

/** Approvals given in code (in-process fixtures); the product reads `folderApprovals`. */
export function fixedApprovals(records: readonly ApprovalRecord[]): ApprovalSource {
  const byDigest = new Map(records.map((r) => [r.approvalDigest, r]));
  return { find: (d) => byDigest.get(d) };
}

/** The file of the approval of `digest` in `dir`. */
export const approvalFile = (dir: string, digest: string): string => join(dir, `${digest.replace(/^0x/, '')}.json`);

/** The approvals folder as an `ApprovalSource`, read at every lookup (no restart needed). */
export function folderApprovals(dir: string): ApprovalSource {
  return { find: (d) => readApproval(dir, d) };
}

/** The approval of `digest` in `dir`; a damaged record is an error naming the file. */
export function readApproval(dir: string, digest: string): ApprovalRecord | undefined {
  if (!/^0x[0-9a-f]{64}$/.test(digest)) return undefined;
  const file = approvalFile(dir, digest);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const parsed = (() => {
    try {
      return ApprovalRecordSchema.safeParse(JSON.parse(text));
    } catch {
      return undefined;
    }
  })();
  if (!parsed?.success || parsed.data.approvalDigest !== digest) {
    throw new DkgRequestError(500, 'bad_approval', `approval file ${file} is not a valid approval of ${digest}; remove it with "aegis dkg revoke" and approve the ceremony file again`);
  }
  return parsed.data;
}

/** Writes (or replaces) an approval: folder 0700, file 0600. */
export function writeApproval(dir: string, record: ApprovalRecord): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = approvalFile(dir, record.approvalDigest);
  writeFileSync(file, `${JSON.stringify(ApprovalRecordSchema.parse(record), null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}

/** Every approval in `dir`, oldest first; files that do not parse are listed as `bad`. */
export function listApprovals(dir: string): { records: { file: string; record: ApprovalRecord }[]; bad: string[] } {
  let names: string[];
  try {
    names = readdirSync(dir).filter((f) => /^[0-9a-f]{64}\.json$/.test(f));
  } catch {
    return { records: [], bad: [] };
  }
  const records: { file: string; record: ApprovalRecord }[] = [];
  const bad: string[] = [];
  for (const name of names) {
    const file = join(dir, name);
    try {
      records.push({ file, record: readApproval(dir, `0x${name.slice(0, 64)}`)! });
    } catch {
      bad.push(file);
    }
  }
  records.sort((a, b) => a.record.approvedAt.localeCompare(b.record.approvedAt));
  return { records, bad };
}

/** Removes the approvals matching a ceremony id or an approval digest; returns what it removed. */
export function revokeApproval(dir: string, ceremonyIdOrDigest: string): { file: string; record: ApprovalRecord }[] {
  const key = ceremonyIdOrDigest.toLowerCase();
  const hits = listApprovals(dir).records.filter((r) => r.record.ceremonyId === ceremonyIdOrDigest || r.record.approvalDigest === key || r.record.approvalDigest === `0x${key}`);
  if (hits.length === 0) throw new DkgRequestError(404, 'no_approval', `no approval of ${ceremonyIdOrDigest} in ${dir}; list them with "aegis dkg approvals --config …"`);
  for (const h of hits) unlinkSync(h.file);
  return hits;
}

// -- Checks shared by `aegis dkg approve` and the node at deal time --

/** This node's roles in a ceremony, by its identity key (0x lowercase). */
export function rolesOf(c: Ceremony, identityKey: string): { recipient?: number; dealer?: number } {
  const key = identityKey.toLowerCase();
  const recipient = c.participants.find((p) => p.identityKey === key)?.index;
  const dealer = c.previous ? c.previous.dealers.find((d) => d.identityKey === key)?.index : recipient;
  return { ...(recipient !== undefined ? { recipient } : {}), ...(dealer !== undefined ? { dealer } : {}) };
}

/** A resharing may not lower the threshold unless the approval says so. */
export function checkThreshold(c: Ceremony, allowLowerThreshold: boolean): void {
  if (c.previous && c.t < c.previous.t && !allowLowerThreshold) {
    throw new DkgRequestError(
      403,
      'threshold_lowered',
      `ceremony ${c.ceremonyId}: the resharing lowers the threshold from the current t=${c.previous.t} to t=${c.t} (n=${c.participants.length}); fewer members could then sign, or recover the key. If that is intended, approve it with "aegis dkg approve --allow-lower-threshold"`,
    );
  }
}

/**
 * A dealer reshares the committee it belongs to, nothing else: the ceremony's `previous`
 * (group key, t, public shares) and the listed dealers must be the node's committee file.
 */
export function checkPreviousCommittee(c: Ceremony, committee: Committee, committeeFile: string): void {
  const prev = c.previous;
  if (!prev) return;
  const nodes = [...committee.nodes].sort((a, b) => a.index - b.index);
  const problems: string[] = [];
  if (prev.groupPublicKey !== committee.groupPublicKey.toLowerCase()) problems.push(`group key ${prev.groupPublicKey.slice(0, 18)}… vs ${committee.groupPublicKey.slice(0, 18)}…`);
  if (prev.t !== committee.t) problems.push(`t=${prev.t} vs t=${committee.t}`);
  if (prev.publicShares.length !== nodes.length) problems.push(`n=${prev.publicShares.length} vs n=${nodes.length}`);
  else prev.publicShares.forEach((pk, k) => pk !== nodes[k]!.publicShare.toLowerCase() && problems.push(`public share ${k + 1} differs`));
  for (const d of prev.dealers) {
    const member = nodes[d.index - 1];
    if (member && member.identityKey.toLowerCase() !== d.identityKey) problems.push(`dealer ${d.index}'s identity key ${d.identityKey.slice(0, 18)}… is not member ${d.index}'s (${member.identityKey.slice(0, 18)}…)`);
  }
  if (problems.length) {
    throw new DkgRequestError(
      409,
      'previous_committee_mismatch',
      `ceremony ${c.ceremonyId}: its previous committee is not this node's committee file ${committeeFile} (ceremony vs file: ${problems.slice(0, 6).join('; ')}); a dealer reshares only its own committee: build the ceremony from the current committee file`,
    );
  }
}

// -- The ceremony file an operator approves --

/**
 * The protocol ceremony inside a ceremony file (`aegis dkg ceremony` / `reshare` output): the
 * transport `url`s and the `committee` block are dropped, as the coordinator does.
 */
export function ceremonyOfFile(file: unknown): { ceremony: Ceremony; committeeAggregators: string[] } {
  if (typeof file !== 'object' || file === null) throw new DkgRequestError(400, 'bad_ceremony', 'ceremony file: expected a JSON object');
  const { committee, ...rest } = file as Record<string, unknown> & { committee?: { aggregators?: { identityKey?: unknown }[] } };
  const strip = (xs: unknown) => (Array.isArray(xs) ? xs.map((x) => (typeof x === 'object' && x !== null ? (({ url: _u, ...y }) => y)(x as Record<string, unknown>) : x)) : xs);
  const prev = rest.previous as Record<string, unknown> | undefined;
  const description = { ...rest, participants: strip(rest.participants), ...(prev && typeof prev === 'object' ? { previous: { ...prev, dealers: strip(prev.dealers) } } : {}) };
  let ceremony: Ceremony;
  try {
    ceremony = parseCeremony(description);
  } catch (err) {
    throw new DkgRequestError(400, 'bad_ceremony', (err as Error).message);
  }
  const committeeAggregators = (Array.isArray(committee?.aggregators) ? committee.aggregators : []).map((a) => String(a?.identityKey ?? '').toLowerCase());
  return { ceremony, committeeAggregators };
}

export interface ApproveInput {
  ceremony: Ceremony;
  /** This node's identity key (0x-hex). */
  identityKey: string;
  /** The node's committee file, when it has one (required when it deals in a resharing). */
  committee?: Committee | undefined;
  committeeFile: string;
  committeeError?: string | undefined;
  allowLowerThreshold?: boolean;
  now?: Date;
}

/**
 * The record `aegis dkg approve` writes, after the checks the node repeats at deal time: this
 * node takes part, the threshold is not lowered unless allowed, and a dealer's previous
 * committee is its committee file.
 */
export function approvalFor(o: ApproveInput): ApprovalRecord {
  const c = o.ceremony;
  const identityKey = o.identityKey.toLowerCase();
  const roles = rolesOf(c, identityKey);
  if (roles.recipient === undefined && roles.dealer === undefined) {
    throw new DkgRequestError(
      403,
      'not_a_participant',
      `ceremony ${c.ceremonyId}: this node (identity key ${identityKey}) is neither a member of the new committee nor a dealer of the current one; it has nothing to approve. Check that this is the ceremony file meant for this node`,
    );
  }
  const allowLowerThreshold = o.allowLowerThreshold ?? false;
  checkThreshold(c, allowLowerThreshold);
  if (c.previous && roles.dealer !== undefined) {
    if (!o.committee) {
      throw new DkgRequestError(409, 'committee_unavailable', `ceremony ${c.ceremonyId}: this node deals its current share in this resharing, but its committee file ${o.committeeFile} is not usable (${o.committeeError ?? 'missing'}); the node compares the ceremony's previous committee with it: put the current committee file there`);
    }
    checkPreviousCommittee(c, o.committee, o.committeeFile);
  }
  return {
    approvalDigest: approvalDigest(c),
    ceremonyId: c.ceremonyId,
    approvedAt: (o.now ?? new Date()).toISOString(),
    allowLowerThreshold,
    summary: {
      kind: c.previous ? 'reshare' : 'dkg',
      n: c.participants.length,
      t: c.t,
      participants: c.participants.map((p) => ({ index: p.index, identityKey: p.identityKey })),
      ...(c.previous ? { previous: { n: c.previous.publicShares.length, t: c.previous.t, groupPublicKey: c.previous.groupPublicKey, dealers: c.previous.dealers.map((d) => ({ index: d.index, identityKey: d.identityKey })) } } : {}),
      thisNode: { identityKey, ...roles },
    },
  };
}

/** The human summary `aegis dkg approve` prints (and `approvals` lists). */
export function describeApproval(r: ApprovalRecord): string[] {
  const s = r.summary;
  const me = s.thisNode.identityKey;
  const mark = (key: string) => (key === me ? '   <- this node' : '');
  const lines = [
    `ceremony ${r.ceremonyId}: ${s.kind === 'reshare' ? 'resharing of the current committee key (same group key)' : 'new key (DKG)'} to n=${s.n}, t=${s.t}`,
    `  approval digest ${r.approvalDigest}`,
    '  new committee (index, identity key):',
    ...s.participants.map((p) => `    ${String(p.index).padStart(3)} ${p.identityKey}${mark(p.identityKey)}`),
  ];
  if (s.previous) {
    lines.push(`  from the current committee n=${s.previous.n}, t=${s.previous.t}, group key ${s.previous.groupPublicKey.slice(0, 26)}…; dealers (current index, identity key):`);
    lines.push(...s.previous.dealers.map((d) => `    ${String(d.index).padStart(3)} ${d.identityKey}${mark(d.identityKey)}`));
    if (s.t < s.previous.t) lines.push(`  THE THRESHOLD GOES DOWN from ${s.previous.t} to ${s.t}${r.allowLowerThreshold ? ' (allowed with --allow-lower-threshold)' : ''}`);
  }
  const roles = [s.thisNode.recipient !== undefined ? `new member ${s.thisNode.recipient}` : '', s.thisNode.dealer !== undefined ? (s.kind === 'reshare' ? `dealer (current member ${s.thisNode.dealer}), deals its current share` : 'dealer') : ''].filter(Boolean);
  lines.push(`  this node ${me}: ${roles.join(', ')}`);
  return lines;
}
