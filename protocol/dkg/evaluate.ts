/**
 * The public rules of a ceremony, shared by every participant and by `verifyTranscript`, so
 * both reach the same qualified set from the same messages:
 *
 * 1. `acceptDeals` / `acceptComplaints` / `acceptResponses`: schema, ceremony id, known
 *    sender, identity signature, one message per sender (two different signed messages from
 *    one sender drop both: equivocation).
 * 2. `checkDeals`: t commitments that decode, one ciphertext per participant, a valid proof of
 *    possession of a_0, and in a resharing C_0 = PK_dealer of the current committee.
 * 3. `decide`: a dealer with complaints from t or more recipients is out; every other
 *    complaint must be answered by a revealed share that matches the dealer's commitments.
 * 4. `combine`: the committee's commitments (Σ, or Σ λ_d· in a resharing), group key and
 *    public shares; fewer qualified dealers than required fails.
 */
import { z } from 'zod';
import { G2, type G2Point, lagrangeAtZero } from '../bls/index.ts';
import { combineCommitments, evalCommitmentsAt } from '../bls/feldman.ts';
import { decodeG2Hex, verifyMessageSignature, verifyPops } from './crypto.ts';
import { DkgError, type Disqualification, type DkgPhase, type RejectedMessage } from './errors.ts';
import {
  type Ceremony,
  type ComplaintMessage,
  ComplaintSchema,
  type DealMessage,
  DealSchema,
  type MessageKind,
  type ResponseMessage,
  ResponseSchema,
  dealersOf,
  requiredDealers,
} from './messages.ts';

export interface Accepted<T> {
  accepted: Map<number, T>;
  rejected: RejectedMessage[];
}

function accept<T extends { ceremonyId: string; signature: string }>(
  phase: DkgPhase,
  kind: MessageKind,
  schema: z.ZodType<T>,
  senderOf: (m: T) => number,
  keyOf: (sender: number) => string | undefined,
  role: string,
  ceremony: Ceremony,
  digest: Uint8Array,
  messages: readonly unknown[],
): Accepted<T> {
  const accepted = new Map<number, T>();
  const rejected: RejectedMessage[] = [];
  const equivocated = new Set<number>();
  for (const raw of messages) {
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      rejected.push({ phase, reason: `${kind.toLowerCase()} message rejected: ${z.prettifyError(parsed.error).replace(/\n/g, '; ')}` });
      continue;
    }
    const m = parsed.data;
    const from = senderOf(m);
    if (m.ceremonyId !== ceremony.ceremonyId) {
      rejected.push({ phase, from, reason: `${kind.toLowerCase()} message from ${role} ${from} is for ceremony ${m.ceremonyId}, not ${ceremony.ceremonyId}; ignored` });
      continue;
    }
    const key = keyOf(from);
    if (!key) {
      rejected.push({ phase, from, reason: `${kind.toLowerCase()} message from ${role} ${from}: no such ${role} in ceremony ${ceremony.ceremonyId}; ignored` });
      continue;
    }
    if (!verifyMessageSignature(kind, digest, m, key)) {
      rejected.push({ phase, from, reason: `${kind.toLowerCase()} message from ${role} ${from}: identity signature does not verify (forged, altered, or signed for another ceremony description); ignored` });
      continue;
    }
    if (equivocated.has(from)) continue;
    const prev = accepted.get(from);
    if (prev) {
      if (prev.signature === m.signature) continue;
      accepted.delete(from);
      equivocated.add(from);
      rejected.push({ phase, from, reason: `${role} ${from} signed two different ${kind.toLowerCase()} messages (equivocation); both ignored` });
      continue;
    }
    accepted.set(from, m);
  }
  return { accepted, rejected };
}

export function acceptDeals(ceremony: Ceremony, digest: Uint8Array, messages: readonly unknown[]): Accepted<DealMessage> {
  const keys = new Map(dealersOf(ceremony).map((d) => [d.index, d.identityKey]));
  return accept('deal', 'DEAL', DealSchema, (m) => m.dealer, (i) => keys.get(i), 'dealer', ceremony, digest, messages);
}

export function acceptComplaints(ceremony: Ceremony, digest: Uint8Array, messages: readonly unknown[]): Accepted<ComplaintMessage> {
  const keys = new Map(ceremony.participants.map((p) => [p.index, p.identityKey]));
  const out = accept('complaints', 'COMPLAINT', ComplaintSchema, (m) => m.recipient, (i) => keys.get(i), 'node', ceremony, digest, messages);
  for (const [from, m] of out.accepted) {
    const dealers = m.complaints.map((c) => c.dealer);
    if (new Set(dealers).size !== dealers.length) {
      out.accepted.delete(from);
      out.rejected.push({ phase: 'complaints', from, reason: `complaint message from node ${from} names a dealer twice; ignored` });
    }
  }
  return out;
}

export function acceptResponses(ceremony: Ceremony, digest: Uint8Array, messages: readonly unknown[]): Accepted<ResponseMessage> {
  const keys = new Map(dealersOf(ceremony).map((d) => [d.index, d.identityKey]));
  return accept('responses', 'RESPONSE', ResponseSchema, (m) => m.dealer, (i) => keys.get(i), 'dealer', ceremony, digest, messages);
}

/** A deal bundle that passed every public check, with its decoded commitments. */
export interface ValidDeal {
  message: DealMessage;
  commitments: G2Point[];
}

export interface DealCheck {
  valid: Map<number, ValidDeal>;
  disqualified: Disqualification[];
}

function dq(dealer: number, code: Disqualification['code'], phase: DkgPhase, what: string): Disqualification {
  return { dealer, code, phase, reason: `dkg phase "${phase}": ${what}; dealer ${dealer} disqualified` };
}

/** The public checks of every accepted bundle; absent dealers are disqualified as such. */
export function checkDeals(ceremony: Ceremony, digest: Uint8Array, deals: ReadonlyMap<number, DealMessage>): DealCheck {
  const disqualified: Disqualification[] = [];
  const candidates: ValidDeal[] = [];
  const n = ceremony.participants.length;
  for (const { index: dealer } of dealersOf(ceremony)) {
    const m = deals.get(dealer);
    if (!m) {
      disqualified.push(dq(dealer, 'absent', 'deal', `dealer ${dealer} sent no valid deal bundle before the deadline`));
      continue;
    }
    if (m.commitments.length !== ceremony.t) {
      disqualified.push(dq(dealer, 'bad_deal', 'deal', `dealer ${dealer}'s bundle has ${m.commitments.length} commitments, expected t=${ceremony.t}`));
      continue;
    }
    const recipients = m.shares.map((s) => s.recipient).sort((a, b) => a - b);
    if (recipients.length !== n || recipients.some((r, k) => r !== k + 1)) {
      disqualified.push(dq(dealer, 'bad_deal', 'deal', `dealer ${dealer}'s bundle carries shares for nodes ${recipients.join(',')}, expected exactly 1..${n}`));
      continue;
    }
    let commitments: G2Point[];
    try {
      commitments = m.commitments.map((c, k) => decodeG2Hex(c, `dealer ${dealer} commitment ${k}`));
    } catch (err) {
      disqualified.push(dq(dealer, 'bad_deal', 'deal', (err as Error).message));
      continue;
    }
    if (ceremony.previous) {
      const pk = ceremony.previous.publicShares[dealer - 1]!;
      if (m.commitments[0] !== pk && !commitments[0]!.equals(decodeG2Hex(pk, `previous public share ${dealer}`))) {
        disqualified.push(dq(dealer, 'bad_deal', 'deal', `dealer ${dealer}'s constant-term commitment C_0 is not its public share PK_${dealer} in the current committee (it did not reshare its own share)`));
        continue;
      }
    }
    candidates.push({ message: m, commitments });
  }
  const badPop = verifyPops(digest, candidates.map((c) => ({ dealer: c.message.dealer, pop: c.message.pop, c0: c.commitments[0]!, c0Hex: c.message.commitments[0]! })));
  const valid = new Map<number, ValidDeal>();
  for (const c of candidates) {
    if (badPop.has(c.message.dealer)) {
      disqualified.push(dq(c.message.dealer, 'bad_deal', 'deal', `dealer ${c.message.dealer}'s proof of possession does not verify against its commitment C_0`));
    } else valid.set(c.message.dealer, c);
  }
  disqualified.sort((a, b) => a.dealer - b.dealer);
  return { valid, disqualified };
}

/** Checks s·G2 = Σ_k C_k·j^k for a revealed or decrypted share. */
export function shareMatches(share: bigint, commitments: readonly G2Point[], recipient: number): boolean {
  if (share <= 0n) return false;
  return G2.BASE.multiply(share).equals(evalCommitmentsAt(commitments, recipient));
}

export interface Decision {
  qualified: number[];
  disqualified: Disqualification[];
  /** Valid revealed shares, by dealer then recipient. */
  reveals: Map<number, Map<number, bigint>>;
}

/** Applies complaints and responses to the valid deals. */
export function decide(
  ceremony: Ceremony,
  deals: DealCheck,
  complaints: ReadonlyMap<number, ComplaintMessage>,
  responses: ReadonlyMap<number, ResponseMessage>,
): Decision {
  const against = complaintsAgainst(deals, complaints);
  const disqualified = [...deals.disqualified];
  const reveals = new Map<number, Map<number, bigint>>();
  const qualified: number[] = [];
  for (const [dealer, deal] of [...deals.valid].sort((a, b) => a[0] - b[0])) {
    const accusers = against.get(dealer) ?? [];
    if (accusers.length >= ceremony.t) {
      disqualified.push(dq(dealer, 'too_many_complaints', 'complaints', `${accusers.length} nodes (${accusers.join(', ')}) complained about dealer ${dealer}, at least t=${ceremony.t}, so answering would publish its secret`));
      continue;
    }
    const answer = responses.get(dealer);
    const revealed = new Map<number, bigint>();
    let failed: Disqualification | undefined;
    for (const recipient of accusers) {
      const r = answer?.reveals.find((x) => x.recipient === recipient);
      if (!r) {
        failed = dq(dealer, 'unanswered_complaint', 'responses', `dealer ${dealer} did not answer complaint by node ${recipient} before the deadline`);
        break;
      }
      const s = BigInt(r.share);
      if (!shareMatches(s, deal.commitments, recipient)) {
        failed = dq(dealer, 'bad_response', 'responses', `dealer ${dealer} answered complaint by node ${recipient} with a share that does not match its commitments`);
        break;
      }
      revealed.set(recipient, s);
    }
    if (failed) {
      disqualified.push(failed);
      continue;
    }
    if (revealed.size > 0) reveals.set(dealer, revealed);
    qualified.push(dealer);
  }
  disqualified.sort((a, b) => a.dealer - b.dealer);
  return { qualified, disqualified, reveals };
}

/** Recipients complaining about each validly-dealt dealer, ascending. */
export function complaintsAgainst(deals: DealCheck, complaints: ReadonlyMap<number, ComplaintMessage>): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (const [recipient, m] of [...complaints].sort((a, b) => a[0] - b[0])) {
    for (const c of m.complaints) {
      if (!deals.valid.has(c.dealer)) continue;
      out.set(c.dealer, [...(out.get(c.dealer) ?? []), recipient]);
    }
  }
  return out;
}

export interface Combined {
  /** Weight of each qualified dealer's share: 1 in a DKG, λ_d in a resharing. */
  weights: Map<number, bigint>;
  commitments: G2Point[];
  groupPublicKey: G2Point;
  publicShares: G2Point[];
}

/** The committee's public key material from the qualified dealers; throws when too few. */
export function combine(ceremony: Ceremony, deals: DealCheck, decision: Decision): Combined {
  const need = requiredDealers(ceremony);
  if (decision.qualified.length < need) {
    const what = ceremony.previous ? `need the previous committee's t=${need} to keep the group key` : `need t=${need}`;
    const why = decision.disqualified.map((d) => d.reason.replace(/^dkg phase "[a-z]+": /, '')).join('; ');
    throw new DkgError(
      'too_few_qualified',
      `only ${decision.qualified.length} qualified dealers (${decision.qualified.join(', ') || 'none'}), ${what}. ${why ? `Disqualified: ${why}. ` : ''}Bring the missing nodes online and start a new ceremony with a new id.`,
      'finalize',
    );
  }
  const lambdas = ceremony.previous ? lagrangeAtZero(decision.qualified) : decision.qualified.map(() => 1n);
  const weights = new Map(decision.qualified.map((d, k) => [d, lambdas[k]!]));
  const sets = decision.qualified.map((d) => deals.valid.get(d)!.commitments);
  const commitments = combineCommitments(sets, ceremony.previous ? lambdas : undefined);
  const groupPublicKey = commitments[0]!;
  if (groupPublicKey.is0()) throw new DkgError('zero_share', 'the group public key is the point at infinity (probability ~2^-255); start a new ceremony', 'finalize');
  if (ceremony.previous && !groupPublicKey.equals(decodeG2Hex(ceremony.previous.groupPublicKey, 'previous group public key'))) {
    throw new DkgError(
      'group_key_changed',
      `the reshared group key differs from the current one: the previous committee's public shares (ceremony field previous.publicShares) do not interpolate previous.groupPublicKey; fix the ceremony file from the committee file`,
      'finalize',
    );
  }
  const publicShares = ceremony.participants.map((p) => evalCommitmentsAt(commitments, p.index));
  return { weights, commitments, groupPublicKey, publicShares };
}
