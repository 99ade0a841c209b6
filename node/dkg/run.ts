/**
 * Running a ceremony (`aegis dkg start`, `aegis dkg reshare`): the four phases over the
 * nodes' APIs, each with a deadline, relaying what the nodes produce; the transcript fetched,
 * re-verified and written out (see coordinator.ts for the whole picture).
 */
import { writeFileSync } from 'node:fs';
import { requiredDealers, verifyTranscript, type Ceremony, type TranscriptVerification } from '../../protocol/dkg/index.ts';
import { committeeFileOf, planOf, type PlanNode } from './ceremony-file.ts';
import { ANSWER_SCHEMAS, callNode, callNodeAs, type PhaseAnswer } from './client.ts';
import { CoordinatorError } from './coordinator-error.ts';

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
  async function phase<P extends Phase>(name: P, path: string, body: unknown, pick: (n: PlanNode) => boolean = () => true): Promise<Map<PlanNode, PhaseAnswer<P>>> {
    const t0 = performance.now();
    const until = deadlineOf(name);
    const targets = live.filter(pick);
    const results = await Promise.allSettled(targets.map((n) => callNodeAs(ANSWER_SCHEMAS[name], n.url, path, body, opts.coordinatorSecret, until - Date.now())));
    const out = new Map<PlanNode, PhaseAnswer<P>>();
    results.forEach((r, k) => {
      const n = targets[k]!;
      if (r.status === 'fulfilled') out.set(n, r.value as PhaseAnswer<P>);
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
  const deals = await phase('deal', '/v1/dkg/deal', { ceremony });
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
  const complaints = await phase('complaints', '/v1/dkg/complaints', { ceremonyId: id, deals: bundles });
  const complaintMsgs = [...complaints.values()].map((a) => a.complaint).filter(Boolean);
  const accused = new Map<number, number[]>();
  for (const m of complaintMsgs as { recipient: number; complaints: { dealer: number }[] }[]) {
    for (const c of m.complaints) accused.set(c.dealer, [...(accused.get(c.dealer) ?? []), m.recipient]);
  }
  say(`complaints: ${complaintMsgs.length} complaint messages, ${[...accused].map(([d, r]) => `dealer ${d} accused by ${r.join(', ')}`).join('; ') || 'no complaints'} (${ms(phaseMs.complaints)})`);

  // 3. Responses.
  await untilDeadline('complaints', complaintMsgs.length === ceremony.participants.length);
  const responses = await phase('responses', '/v1/dkg/responses', { ceremonyId: id, complaints: complaintMsgs });
  const responseMsgs = [...responses.values()].map((a) => a.response).filter(Boolean);
  say(`responses: ${responseMsgs.length} responses to complaints (${ms(phaseMs.responses)})`);

  // 4. Finalize.
  const pending = new Set([...responses.values()].flatMap((a) => a.pending ?? []));
  const answered = new Set((responseMsgs as { dealer: number }[]).map((r) => r.dealer));
  await untilDeadline('responses', [...pending].every((d) => answered.has(d)));
  const finals = await phase(
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

const ms = (x: number | undefined) => `${((x ?? 0) / 1000).toFixed(2)} s`;
