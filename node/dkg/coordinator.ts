/**
 * The ceremony coordinator (`aegis dkg start`, `aegis dkg reshare`): drives the four phases
 * over the nodes' APIs, each with a deadline, and relays what the nodes produce. It holds no
 * secret of the ceremony: deal bundles carry shares encrypted to each recipient, and every
 * message is signed by its sender's identity key, so the coordinator can delay or drop a
 * message (that node is then left out) but cannot forge or alter one.
 *
 *   deal        POST /v1/dkg/deal to every node        → signed deal bundles (dealers)
 *   complaints  relay all bundles to every node        → signed complaint messages
 *   responses   relay all complaints                   → signed responses of accused dealers
 *   finalize    relay all responses                    → transcript digest; each node writes its share
 *
 * A node that does not answer a phase by its deadline (or answers with an error) is left out of
 * the remaining phases, and named with the phase and the reason. Fewer than the required
 * dealers (t, or the current t in a resharing) fail the ceremony at once with the missing
 * dealers named; the nodes are told to abort. At the end every node's transcript digest must be
 * equal; the transcript is fetched, re-verified (`verifyTranscript`) and written out.
 *
 * The ceremony file is the protocol's ceremony description plus transport and deployment data
 * the signatures do not cover: a `url` on each participant and previous dealer, and an
 * optional `committee` block (chainId, hub, configVersion, aggregators) for the committee file.
 */
import { writeFileSync } from 'node:fs';
import { Contract, getBytes, hexlify, type Signer } from 'ethers';
import { z } from 'zod';
import {
  combinePartials,
  g2ToEip2537,
  parseCommittee,
  rotationTo,
  signRequest,
  signatureToEvm,
  verifyPartial,
  type Committee,
} from '../../protocol/index.ts';
import { parseCeremony, requiredDealers, verifyTranscript, type Ceremony, type TranscriptVerification } from '../../protocol/dkg/index.ts';

// -- Errors --

export type CoordinatorErrorCode = 'bad_ceremony_file' | 'too_few_dealers' | 'too_few_nodes' | 'node_failed' | 'digest_mismatch' | 'bad_transcript' | 'rotation_failed';

export class CoordinatorError extends Error {
  override readonly name = 'CoordinatorError';
  constructor(
    readonly code: CoordinatorErrorCode,
    message: string,
    readonly phase?: string,
  ) {
    super(phase ? `dkg phase "${phase}": ${message}` : `dkg: ${message}`);
  }
}

// -- Ceremony file --

const hex = (n: number) => z.string().regex(new RegExp(`^0x[0-9a-f]{${n * 2}}$`), `expected 0x-prefixed lowercase ${n}-byte hex`);
const url = z.url({ message: 'expected the node API URL, e.g. http://127.0.0.1:7401' });

export const CommitteeBaseSchema = z.strictObject({
  chainId: z.union([z.number().int().positive(), z.string().regex(/^\d+$/)]),
  hub: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
  /** configVersion of the committee this ceremony produces. */
  configVersion: z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/)]),
  aggregators: z.array(z.strictObject({ identityKey: hex(32), name: z.string().optional() })).default([]),
});

export const CeremonyFileSchema = z.looseObject({
  participants: z.array(z.looseObject({ index: z.number(), identityKey: z.string(), url })),
  previous: z.looseObject({ dealers: z.array(z.looseObject({ index: z.number(), identityKey: z.string(), url })) }).optional(),
  committee: CommitteeBaseSchema.optional(),
});
export type CeremonyFile = z.input<typeof CeremonyFileSchema> & Record<string, unknown>;

export interface Plan {
  ceremony: Ceremony;
  /** One entry per distinct node (a current member that stays is one node with two roles). */
  nodes: PlanNode[];
  committee?: z.output<typeof CommitteeBaseSchema>;
}

export interface PlanNode {
  url: string;
  identityKey: string;
  recipient?: number;
  dealer?: number;
  label: string;
}

/** Splits a ceremony file into the signed ceremony description and the transport plan. */
export function planOf(file: unknown): Plan {
  const parsed = CeremonyFileSchema.safeParse(file);
  if (!parsed.success) throw new CoordinatorError('bad_ceremony_file', `ceremony file: ${z.prettifyError(parsed.error).replace(/\n/g, '; ')}`);
  const { committee, ...rest } = parsed.data as Record<string, unknown> & { committee?: z.output<typeof CommitteeBaseSchema> };
  const strip = <T extends { url?: unknown }>(x: T) => {
    const { url: _u, ...y } = x;
    return y;
  };
  const f = rest as { participants: { url: string; index: number; identityKey: string }[]; previous?: { dealers: { url: string; index: number; identityKey: string }[] } };
  const description = {
    ...rest,
    participants: f.participants.map(strip),
    ...(f.previous ? { previous: { ...f.previous, dealers: f.previous.dealers.map(strip) } } : {}),
  };
  let ceremony: Ceremony;
  try {
    ceremony = parseCeremony(description);
  } catch (err) {
    throw new CoordinatorError('bad_ceremony_file', (err as Error).message);
  }
  const byKey = new Map<string, PlanNode>();
  const add = (identityKey: string, nodeUrl: string, role: 'recipient' | 'dealer', index: number) => {
    const n = byKey.get(identityKey) ?? { url: nodeUrl, identityKey, label: '' };
    if (n.url !== nodeUrl) throw new CoordinatorError('bad_ceremony_file', `ceremony file: identity key ${identityKey.slice(0, 18)}… is listed with two URLs (${n.url}, ${nodeUrl})`);
    n[role] = index;
    byKey.set(identityKey, n);
  };
  for (const p of f.participants) add(p.identityKey, p.url, 'recipient', p.index);
  for (const d of f.previous?.dealers ?? []) add(d.identityKey, d.url, 'dealer', d.index);
  if (!ceremony.previous) for (const n of byKey.values()) n.dealer = n.recipient;
  for (const n of byKey.values()) {
    n.label = ceremony.previous
      ? [n.dealer !== undefined ? `old ${n.dealer}` : '', n.recipient !== undefined ? `new ${n.recipient}` : ''].filter(Boolean).join('/')
      : `node ${n.recipient}`;
    n.label += ` (${n.url})`;
  }
  return { ceremony, nodes: [...byKey.values()], ...(committee ? { committee } : {}) };
}

// -- HTTP --

export class NodeCallError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** One authenticated call to a node's ceremony endpoint; rejects after `timeoutMs`. */
export async function callNode(base: string, path: string, body: unknown, secret: Uint8Array, timeoutMs: number): Promise<any> {
  const text = JSON.stringify(body);
  let res: Response;
  try {
    res = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signRequest(secret, { method: 'POST', path, body: text }) },
      body: text,
      signal: AbortSignal.timeout(Math.max(1, timeoutMs)),
    });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    if (e.name === 'TimeoutError' || e.name === 'AbortError') throw new NodeCallError(0, 'timeout', `no answer within the phase deadline (${Math.round(timeoutMs)} ms)`);
    throw new NodeCallError(0, 'unreachable', `unreachable (${e.cause?.code ?? e.message})`);
  }
  const raw = await res.text();
  let json: any;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new NodeCallError(res.status, 'bad_answer', `HTTP ${res.status}, not JSON: ${raw.slice(0, 120)}`);
  }
  if (!res.ok) throw new NodeCallError(res.status, json?.error?.code ?? 'error', `HTTP ${res.status} ${json?.error?.code ?? ''}: ${json?.error?.message ?? raw.slice(0, 200)}`);
  return json;
}

// -- Run --

export interface RunOptions {
  /** Ed25519 seed of the coordinator (an aggregator key of the committee, or a --coordinator key of the nodes). */
  coordinatorSecret: Uint8Array;
  /** Time per phase when the ceremony has no deadlines (ms). Default 60 s. */
  phaseTimeoutMs?: number;
  progress?: (line: string) => void;
  /** Where to write the transcript (JSON). */
  transcriptOut?: string;
  /** Where to write the new committee file (needs `committee` in the ceremony file). */
  committeeOut?: string;
}

export interface Excluded {
  node: string;
  phase: string;
  reason: string;
}

export interface RunResult {
  ceremony: Ceremony;
  verification: Extract<TranscriptVerification, { ok: true }>;
  transcript: unknown;
  transcriptDigest: string;
  excluded: Excluded[];
  /** Per node: where it wrote its share (recipients only). */
  shareFiles: { node: string; index: number; file: string }[];
  committee?: Record<string, unknown>;
  phaseMs: Record<string, number>;
}

type Phase = 'deal' | 'complaints' | 'responses' | 'finalize';

export async function runCeremony(file: unknown, opts: RunOptions): Promise<RunResult> {
  const plan = planOf(file);
  const { ceremony } = plan;
  const id = ceremony.ceremonyId;
  const say = opts.progress ?? (() => undefined);
  const timeout = opts.phaseTimeoutMs ?? 60_000;
  const excluded: Excluded[] = [];
  let live = [...plan.nodes];
  const phaseMs: Record<string, number> = {};
  const kind = ceremony.previous ? 'resharing' : 'DKG';
  say(`${kind} ${id}: n=${ceremony.participants.length} t=${ceremony.t}${ceremony.previous ? ` (from n=${ceremony.previous.publicShares.length} t=${ceremony.previous.t}, ${ceremony.previous.dealers.length} dealers)` : ''}, ${plan.nodes.length} nodes`);

  const deadlineOf = (phase: Phase): number => {
    const d = ceremony.deadlines;
    const fixed = phase === 'deal' ? d?.deal : phase === 'complaints' ? d?.complaints : phase === 'responses' ? d?.responses : undefined;
    return fixed !== undefined ? Math.max(fixed, Date.now() + 1_000) : Date.now() + timeout;
  };

  /** Calls every live node; those that fail are excluded, named with phase and reason. */
  async function phase<T>(name: Phase, path: string, body: unknown, pick: (n: PlanNode) => boolean = () => true): Promise<Map<PlanNode, T>> {
    const t0 = performance.now();
    const until = deadlineOf(name);
    const targets = live.filter(pick);
    const results = await Promise.allSettled(targets.map((n) => callNode(n.url, path, body, opts.coordinatorSecret, until - Date.now())));
    const out = new Map<PlanNode, T>();
    results.forEach((r, k) => {
      const n = targets[k]!;
      if (r.status === 'fulfilled') out.set(n, r.value as T);
      else {
        const reason = r.reason instanceof Error ? r.reason.message : String(r.reason);
        excluded.push({ node: n.label, phase: name, reason });
        say(`  ${name}: ${n.label} left out: ${reason}`);
      }
    });
    live = live.filter((n) => !targets.includes(n) || out.has(n));
    phaseMs[name] = performance.now() - t0;
    return out;
  }

  /**
   * With deadlines in the ceremony, a node closes a phase early only when every expected
   * message is in; otherwise the relay waits for the phase deadline (nodes allow for skew).
   */
  async function untilDeadline(name: 'deal' | 'complaints' | 'responses', complete: boolean): Promise<void> {
    const at = ceremony.deadlines?.[name];
    if (complete || at === undefined || Date.now() >= at) return;
    say(`  ${name}: incomplete; waiting for the phase deadline ${new Date(at).toISOString()}`);
    await new Promise((r) => setTimeout(r, at - Date.now()));
  }

  async function abortAll(reason: string): Promise<void> {
    await Promise.allSettled(live.map((n) => callNode(n.url, '/v1/dkg/abort', { ceremonyId: id, reason }, opts.coordinatorSecret, 5_000)));
  }

  // 1. Deal.
  const deals = await phase<{ deal: unknown }>('deal', '/v1/dkg/deal', { ceremony });
  const bundles = [...deals.values()].map((a) => a.deal).filter((d) => d !== null && d !== undefined);
  const required = requiredDealers(ceremony);
  const dealersTotal = plan.nodes.filter((n) => n.dealer !== undefined).length;
  const dealt = new Set([...deals].filter(([, a]) => a.deal).map(([n]) => n.dealer!));
  say(`deal: ${bundles.length} of ${dealersTotal} dealers dealt (${ms(phaseMs.deal)})`);
  if (bundles.length < required) {
    const missing = plan.nodes.filter((n) => n.dealer !== undefined && !dealt.has(n.dealer));
    const why = missing.map((n) => `${n.label}: ${excluded.find((e) => e.node === n.label)?.reason ?? 'no deal'}`).join('; ');
    await abortAll(`too few dealers (${bundles.length})`);
    throw new CoordinatorError('too_few_dealers', `only ${bundles.length} dealers dealt (${[...dealt].sort((a, b) => a - b).join(', ') || 'none'}), need ${required}. Missing: ${why}. Bring them online and start a new ceremony with a new id.`, 'deal');
  }

  // 2. Complaints.
  await untilDeadline('deal', bundles.length === dealersTotal);
  const complaints = await phase<{ complaint: unknown; rejected: string[] }>('complaints', '/v1/dkg/complaints', { ceremonyId: id, deals: bundles });
  const complaintMsgs = [...complaints.values()].map((a) => a.complaint).filter(Boolean);
  const accused = new Map<number, number[]>();
  for (const m of complaintMsgs as { recipient: number; complaints: { dealer: number }[] }[]) {
    for (const c of m.complaints) accused.set(c.dealer, [...(accused.get(c.dealer) ?? []), m.recipient]);
  }
  say(`complaints: ${complaintMsgs.length} complaint messages, ${[...accused].map(([d, r]) => `dealer ${d} accused by ${r.join(', ')}`).join('; ') || 'no complaints'} (${ms(phaseMs.complaints)})`);

  // 3. Responses.
  await untilDeadline('complaints', complaintMsgs.length === ceremony.participants.length);
  const responses = await phase<{ response: unknown; pending: number[] }>('responses', '/v1/dkg/responses', { ceremonyId: id, complaints: complaintMsgs });
  const responseMsgs = [...responses.values()].map((a) => a.response).filter(Boolean);
  say(`responses: ${responseMsgs.length} responses to complaints (${ms(phaseMs.responses)})`);

  // 4. Finalize.
  const pending = new Set([...responses.values()].flatMap((a) => a.pending ?? []));
  const answered = new Set((responseMsgs as { dealer: number }[]).map((r) => r.dealer));
  await untilDeadline('responses', [...pending].every((d) => answered.has(d)));
  const finals = await phase<{ transcriptDigest: string; groupPublicKey: string; qualified: number[]; disqualified: { dealer: number; reason: string }[]; index?: number; shareFile?: string }>(
    'finalize',
    '/v1/dkg/finalize',
    { ceremonyId: id, responses: responseMsgs },
  );
  if (finals.size === 0) {
    const reasons = [...new Set(excluded.filter((e) => e.phase === 'finalize').map((e) => e.reason.replace(/^HTTP \d+ \w+: /, '')))];
    throw new CoordinatorError(reasons.some((r) => r.includes('qualified')) ? 'too_few_dealers' : 'node_failed', `no node finalized: ${reasons.join(' | ')}`, 'finalize');
  }
  const digests = new Map<string, PlanNode[]>();
  for (const [n, a] of finals) digests.set(a.transcriptDigest, [...(digests.get(a.transcriptDigest) ?? []), n]);
  if (digests.size > 1) {
    const groups = [...digests].map(([d, ns]) => `${d.slice(0, 14)}… by ${ns.map((n) => n.label).join(', ')}`).join('; ');
    await abortAll('transcript digests differ');
    throw new CoordinatorError('digest_mismatch', `nodes finalized different transcripts (${groups}); the nodes saw different messages: do not use these shares, start a new ceremony`, 'finalize');
  }
  const [digest] = [...digests.keys()] as [string];
  const first = [...finals][0]!;
  say(`finalize: ${finals.size} nodes finalized, qualified dealers ${first[1].qualified.join(', ')}${first[1].disqualified.length ? `; disqualified: ${first[1].disqualified.map((d) => d.reason).join('; ')}` : ''} (${ms(phaseMs.finalize)})`);

  // 5. Transcript: fetch, re-verify, compare.
  const transcript = await callNode(first[0].url, '/v1/dkg/transcript', { ceremonyId: id }, opts.coordinatorSecret, timeout);
  const v = verifyTranscript(transcript);
  if (!v.ok) throw new CoordinatorError('bad_transcript', `the transcript from ${first[0].label} does not verify: ${v.reason}`, 'finalize');
  if (v.transcriptDigest !== digest) throw new CoordinatorError('bad_transcript', `the transcript from ${first[0].label} has digest ${v.transcriptDigest}, the nodes agreed on ${digest}`, 'finalize');
  say(`transcript ${digest} verified; group key ${v.groupPublicKey.slice(0, 26)}…`);
  if (opts.transcriptOut) writeFileSync(opts.transcriptOut, `${JSON.stringify(transcript, null, 2)}\n`);

  let committee: Record<string, unknown> | undefined;
  if (plan.committee) {
    committee = committeeFileOf(plan, v);
    if (opts.committeeOut) writeFileSync(opts.committeeOut, `${JSON.stringify(committee, null, 2)}\n`);
  }
  const shareFiles = [...finals].filter(([, a]) => a.shareFile).map(([n, a]) => ({ node: n.label, index: a.index!, file: a.shareFile! }));
  return { ceremony, verification: v, transcript, transcriptDigest: digest, excluded, shareFiles, ...(committee ? { committee } : {}), phaseMs };
}

/** The committee file of the ceremony's result (public shares from the verified transcript). */
export function committeeFileOf(plan: Plan, v: Extract<TranscriptVerification, { ok: true }>): Record<string, unknown> {
  const base = plan.committee!;
  const urlOf = new Map(plan.nodes.filter((n) => n.recipient !== undefined).map((n) => [n.recipient!, n.url]));
  return {
    chainId: typeof base.chainId === 'string' ? base.chainId : Number(base.chainId),
    hub: base.hub,
    configVersion: typeof base.configVersion === 'string' ? Number(base.configVersion) : base.configVersion,
    t: v.t,
    groupPublicKey: v.groupPublicKey,
    nodes: v.ceremony.participants.map((p) => ({ index: p.index, identityKey: p.identityKey, publicShare: v.publicShares[p.index - 1]!, url: urlOf.get(p.index)! })),
    aggregators: base.aggregators,
  };
}

// -- Building ceremony files --

export interface BuildOptions {
  ceremonyId: string;
  t: number;
  /** API URLs of the members of the committee to produce, in index order. */
  nodes: readonly string[];
  /** Resharing: the current committee (its nodes need `url`, or pass `dealerUrls`). */
  previous?: Committee | unknown;
  dealerUrls?: readonly string[];
  /** Relative deadlines: each phase gets this many ms after the previous. */
  phaseMs?: number;
  committee?: z.input<typeof CommitteeBaseSchema>;
  timeoutMs?: number;
}

async function fetchKeys(nodeUrl: string, ceremonyId: string, timeoutMs: number): Promise<{ identityKey: string; encryptionKey: string }> {
  let res: Response;
  try {
    res = await fetch(`${nodeUrl}/v1/dkg/keys?ceremonyId=${encodeURIComponent(ceremonyId)}`, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    throw new CoordinatorError('too_few_nodes', `node ${nodeUrl}: unreachable while collecting keys (${(err as Error & { cause?: { code?: string } }).cause?.code ?? (err as Error).message}); start it with "aegis dkg serve" or "aegis node start"`);
  }
  const json = (await res.json()) as { identityKey?: string; encryptionKey?: string; error?: { message: string } };
  if (!res.ok || !json.identityKey || !json.encryptionKey) throw new CoordinatorError('too_few_nodes', `node ${nodeUrl}: cannot get its ceremony keys: ${json.error?.message ?? `HTTP ${res.status}`}`);
  return { identityKey: json.identityKey, encryptionKey: json.encryptionKey };
}

/**
 * Builds a ceremony file by asking each node for its identity and per-ceremony encryption
 * key. Operators then compare the identity keys with the ones they know (the committee file,
 * out of band) before starting.
 */
export async function buildCeremonyFile(o: BuildOptions): Promise<CeremonyFile> {
  const timeoutMs = o.timeoutMs ?? 10_000;
  const keys = await Promise.all(o.nodes.map((u) => fetchKeys(u, o.ceremonyId, timeoutMs)));
  const participants = keys.map((k, i) => ({ index: i + 1, ...k, url: o.nodes[i]! }));
  const file: Record<string, unknown> = { ceremonyId: o.ceremonyId, t: o.t, participants };
  if (o.previous) {
    const prev = parseCommittee(o.previous);
    const urls = o.dealerUrls;
    const dealers = [...prev.nodes]
      .sort((a, b) => a.index - b.index)
      .map((n, k) => {
        const u = urls?.[k] ?? n.url;
        if (!u) throw new CoordinatorError('bad_ceremony_file', `current committee node ${n.index} has no url; add it to the committee file or pass the dealer URLs`);
        return { index: n.index, identityKey: n.identityKey.toLowerCase(), url: u };
      });
    // A current member's identity key must be the one its API reports.
    for (const d of dealers) {
      const p = participants.find((x) => x.url === d.url);
      if (p && p.identityKey !== d.identityKey) throw new CoordinatorError('bad_ceremony_file', `${d.url} reports identity key ${p.identityKey.slice(0, 18)}…, but the current committee lists ${d.identityKey.slice(0, 18)}… for node ${d.index}`);
    }
    file.previous = {
      groupPublicKey: prev.groupPublicKey.toLowerCase(),
      t: prev.t,
      publicShares: [...prev.nodes].sort((a, b) => a.index - b.index).map((n) => n.publicShare.toLowerCase()),
      dealers,
    };
    file.committee = {
      chainId: Number(prev.chainId),
      hub: prev.hub,
      configVersion: Number(prev.configVersion + 1n),
      aggregators: prev.aggregators,
      ...(o.committee ?? {}),
    };
  } else if (o.committee) {
    file.committee = o.committee;
  }
  if (o.phaseMs) {
    const now = Date.now();
    file.deadlines = { deal: now + o.phaseMs, complaints: now + 2 * o.phaseMs, responses: now + 3 * o.phaseMs };
  }
  return file as CeremonyFile;
}

// -- Rotation --

export const ROTATION_ABI = [
  'function rotationMessage(tuple(bytes groupPublicKey, uint16 n, uint16 t) next) view returns (bytes32 message, bytes32 nextDigest)',
  'function rotateCommittee(tuple(bytes groupPublicKey, uint16 n, uint16 t) next, bytes signature)',
  'function configDigest() view returns (bytes32)',
];

export interface RotateOptions {
  /** The ceremony file of the finished resharing. */
  ceremonyFile: unknown;
  /** The current committee (the one the hub has now). */
  current: unknown;
  /** A signer that sends the rotation transaction (anyone may; the signature authorises it). */
  signer: Signer;
  coordinatorSecret: Uint8Array;
  timeoutMs?: number;
  progress?: (line: string) => void;
}

/**
 * Asks the current committee's nodes (the resharing's dealers) for partial signatures over the
 * hub's rotation message (`rotationTo`, computed here as the nodes do and required to equal the
 * hub's `rotationMessage` view), checks each against its public share, combines t of them and sends
 * `rotateCommittee`. Each node computes the message itself from the committee it finalized
 * in that ceremony, so it cannot be made to hand over to another key.
 */
export async function rotateHub(o: RotateOptions): Promise<{ txHash: string; message: string; signers: number[] }> {
  const plan = planOf(o.ceremonyFile);
  const prev = plan.ceremony.previous;
  if (!prev) throw new CoordinatorError('rotation_failed', 'rotation: the ceremony file is not a resharing (no "previous")');
  const current = parseCommittee(o.current);
  const say = o.progress ?? (() => undefined);
  const hub = new Contract(current.hub, ROTATION_ABI, o.signer);
  const key = g2ToEip2537(getBytes(prev.groupPublicKey));
  const next = { groupPublicKey: key, n: plan.ceremony.participants.length, t: plan.ceremony.t };
  // What every dealer computes and signs (service.rotationSign), checked against the hub's view
  // so a committee file or ceremony that is not the hub's current committee fails here, named.
  const local = rotationTo({ chainId: current.chainId, hub: current.hub, configVersion: current.configVersion, groupPublicKey: key, n: prev.publicShares.length, t: prev.t }, next);
  const message = hexlify(local.message);
  const [onChain, onChainNext] = (await hub.rotationMessage!(next)) as [string, string];
  if (onChain !== message) {
    throw new CoordinatorError(
      'rotation_failed',
      `rotation: message mismatch: the hub at ${current.hub} computes ${onChain} (next digest ${onChainNext}), the committee file and ceremony give ${message} (next digest ${local.nextDigest}); the hub's current committee is not configVersion ${current.configVersion} with the ceremony's previous key, n=${prev.publicShares.length}, t=${prev.t}: pass the committee file of the hub's current committee`,
    );
  }
  const dealers = plan.nodes.filter((n) => n.dealer !== undefined);
  const answers = await Promise.allSettled(
    dealers.map((n) =>
      callNode(n.url, '/v1/dkg/rotation-sign', { ceremonyId: plan.ceremony.ceremonyId, chainId: String(current.chainId), hub: current.hub, configVersion: String(current.configVersion) }, o.coordinatorSecret, o.timeoutMs ?? 30_000),
    ),
  );
  const partials: { index: number; signature: Uint8Array }[] = [];
  answers.forEach((a, k) => {
    const n = dealers[k]!;
    if (a.status === 'rejected') return say(`  rotation: ${n.label} left out: ${(a.reason as Error).message}`);
    const v = a.value as { index: number; signature: string; message: string };
    if (v.message !== message) return say(`  rotation: ${n.label} signed message ${v.message.slice(0, 14)}…, the hub expects ${message.slice(0, 14)}… (another committee or config version); left out`);
    const partial = { index: v.index, signature: getBytes(v.signature) };
    const pk = prev.publicShares[v.index - 1];
    if (v.index !== n.dealer || !pk || !verifyPartial(partial, getBytes(pk), getBytes(message))) return say(`  rotation: ${n.label}: partial signature does not verify against its public share; left out`);
    partials.push(partial);
  });
  say(`rotation: ${partials.length} valid partial signatures of ${dealers.length} current members, need t=${prev.t}`);
  if (partials.length < prev.t) throw new CoordinatorError('rotation_failed', `rotation: only ${partials.length} valid partial signatures, need the current t=${prev.t}`);
  const signature = signatureToEvm(combinePartials(partials, prev.t));
  const tx = await hub.rotateCommittee!(next, signature);
  const rc = await tx.wait();
  say(`rotation: hub ${current.hub} now at configVersion ${current.configVersion + 1n} (tx ${rc.hash})`);
  return { txHash: rc.hash as string, message, signers: partials.slice(0, prev.t).map((p) => p.index) };
}

const ms = (x: number | undefined) => `${((x ?? 0) / 1000).toFixed(2)} s`;
