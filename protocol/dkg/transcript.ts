/**
 * Re-verification of a ceremony transcript by anyone (an operator, an auditor, the
 * deployment script before it registers the group key on-chain): every message's identity
 * signature, every bundle's public checks and proof of possession, every complaint and
 * response, then the qualified set, the group key, the commitments and every public share
 * are recomputed with the same rules the participants used (evaluate.ts) and compared with
 * the transcript's claimed result. No secret is needed.
 */
import { z } from 'zod';
import { decodeG2Hex } from './crypto.ts';
import { DkgError, type Disqualification } from './errors.ts';
import { acceptComplaints, acceptDeals, acceptResponses, checkDeals, combine, decide } from './evaluate.ts';
import { type Ceremony, type Transcript, TranscriptSchema, ceremonyDigest, parseCeremony, toHex, transcriptDigest } from './messages.ts';

export type TranscriptVerification =
  | {
      ok: true;
      ceremony: Ceremony;
      t: number;
      n: number;
      qualified: number[];
      disqualified: Disqualification[];
      /** 0x-hex, 96-byte compressed G2. */
      groupPublicKey: string;
      commitments: string[];
      publicShares: string[];
      transcriptDigest: string;
    }
  | { ok: false; reason: string };

/** Re-verifies a transcript (any JSON value); never throws on bad input. */
export function verifyTranscript(input: unknown): TranscriptVerification {
  try {
    return verify(input);
  } catch (err) {
    if (err instanceof DkgError) return { ok: false, reason: err.message };
    if (err instanceof Error) return { ok: false, reason: `transcript: ${err.message}` };
    throw err;
  }
}

function verify(input: unknown): TranscriptVerification {
  const parsed = TranscriptSchema.safeParse(input);
  if (!parsed.success) return { ok: false, reason: `transcript: ${z.prettifyError(parsed.error).replace(/\n/g, '; ')}` };
  const tr: Transcript = parsed.data;
  const ceremony = parseCeremony(tr.ceremony);
  const digest = ceremonyDigest(ceremony);
  const deals = acceptDeals(ceremony, digest, tr.deals);
  const complaints = acceptComplaints(ceremony, digest, tr.complaints);
  const responses = acceptResponses(ceremony, digest, tr.responses);
  const rejected = [...deals.rejected, ...complaints.rejected, ...responses.rejected];
  if (rejected.length > 0) return { ok: false, reason: `transcript contains a message that does not verify: ${rejected[0]!.reason}` };
  const counts: [string, number, number][] = [
    ['deal', tr.deals.length, deals.accepted.size],
    ['complaint', tr.complaints.length, complaints.accepted.size],
    ['response', tr.responses.length, responses.accepted.size],
  ];
  for (const [what, listed, distinct] of counts) {
    if (listed !== distinct) return { ok: false, reason: `transcript lists ${listed} ${what} messages but only ${distinct} distinct senders; a message is duplicated` };
  }
  const check = checkDeals(ceremony, digest, deals.accepted);
  const decision = decide(ceremony, check, complaints.accepted, responses.accepted);
  const combined = combine(ceremony, check, decision);
  const groupPublicKey = toHex(combined.groupPublicKey.toBytes());
  const commitments = combined.commitments.map((p) => toHex(p.toBytes()));
  const publicShares = combined.publicShares.map((p) => toHex(p.toBytes()));
  const r = tr.result;
  if (r.qualified.join(',') !== decision.qualified.join(',')) {
    return { ok: false, reason: `transcript claims qualified dealers ${r.qualified.join(', ')} but its messages qualify ${decision.qualified.join(', ')}` };
  }
  if (!samePoint(r.groupPublicKey, groupPublicKey)) return { ok: false, reason: `transcript claims group key ${r.groupPublicKey.slice(0, 18)}… but its messages give ${groupPublicKey.slice(0, 18)}…` };
  if (r.commitments.length !== commitments.length || r.commitments.some((c, k) => !samePoint(c, commitments[k]!))) {
    return { ok: false, reason: 'transcript claims committee commitments that differ from the sum of the qualified dealers\' commitments' };
  }
  if (r.publicShares.length !== publicShares.length) return { ok: false, reason: `transcript lists ${r.publicShares.length} public shares, the ceremony has ${publicShares.length} members` };
  const badShare = r.publicShares.findIndex((p, k) => !samePoint(p, publicShares[k]!));
  if (badShare >= 0) return { ok: false, reason: `transcript claims a public share for node ${badShare + 1} that does not follow from the commitments` };
  return {
    ok: true,
    ceremony,
    t: ceremony.t,
    n: ceremony.participants.length,
    qualified: decision.qualified,
    disqualified: decision.disqualified,
    groupPublicKey,
    commitments,
    publicShares,
    transcriptDigest: transcriptDigest(tr),
  };
}

function samePoint(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    return decodeG2Hex(a, 'claimed point').equals(decodeG2Hex(b, 'computed point'));
  } catch {
    return false;
  }
}
