/**
 * Wire formats of the DKG and resharing ceremony, ready for the node's HTTP API: zod schemas
 * for the ceremony description, the three signed messages (deal, complaints, response) and
 * the transcript, plus the canonical encoding every signature covers.
 *
 * Bytes travel as lowercase 0x-hex, scalars as decimal strings, indices as JSON integers.
 * Canonical encoding: JSON with object keys sorted by code point and no whitespace, of the
 * message without its `signature` field. Because hex is lowercase and every value is a
 * string, an integer or an array/object of those, the encoding is unique. An Ed25519
 * signature covers
 *   SHA-256( "AEGIS_DKG_<KIND>_V1" ‖ 0x00 ‖ ceremonyDigest ‖ canonical(message) )
 * with ceremonyDigest = SHA-256("AEGIS_DKG_CEREMONY_V1" ‖ 0x00 ‖ canonical(ceremony)), so a
 * message binds the whole ceremony (participants, keys, thresholds, deadlines), not only
 * its id.
 *
 * An operator approves a ceremony by its approval digest,
 *   SHA-256( "AEGIS_DKG_APPROVAL_V1" ‖ 0x00 ‖ canonical({ ceremonyId, t, participants, previous }) ),
 * the ceremony without its deadlines: the membership, keys and thresholds are what an
 * operator reviews; the coordinator may set the timing after the approvals, and wrong
 * deadlines can only make the ceremony fail.
 */
import { z } from 'zod';
import { x25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, concatBytes, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { R, assertThreshold } from '../bls/index.ts';
import { DkgError } from './errors.ts';

const hex = (bytes: number) => z.string().regex(new RegExp(`^0x[0-9a-f]{${bytes * 2}}$`), `expected 0x-prefixed lowercase ${bytes}-byte hex`);
const index = z.number().int().min(1).max(256);
const scalarString = z
  .string()
  .regex(/^(0|[1-9]\d{0,77})$/, 'expected a scalar as a decimal string without leading zeros')
  .refine((s) => BigInt(s) < R, 'expected a scalar below the group order r');

/** Any fixed scalar works to probe a public key for low order. */
const PROBE_SECRET = new Uint8Array(32).fill(0x42);

/** 0x-hex, lowercase, from bytes. */
export const toHex = (b: Uint8Array): string => `0x${bytesToHex(b)}`;
/** Bytes from 0x-hex (schema-checked strings only). */
export const fromHex = (h: string): Uint8Array => hexToBytes(h.startsWith('0x') ? h.slice(2) : h);

// -- Ceremony --

export const CeremonyIdSchema = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, 'expected 1–128 characters of A–Z a–z 0–9 . _ : -');

export const ParticipantSchema = z.strictObject({
  index,
  /** Ed25519 identity public key (signs every message this participant sends). */
  identityKey: hex(32),
  /** X25519 public key the participant's shares are encrypted to. */
  encryptionKey: hex(32),
});
export type Participant = z.infer<typeof ParticipantSchema>;

export const PreviousCommitteeSchema = z.strictObject({
  groupPublicKey: hex(96),
  t: z.number().int().min(1).max(256),
  /** PK_i of the current committee, position i−1 for node i. */
  publicShares: z.array(hex(96)).min(1).max(256),
  /** The current members that deal in this resharing (old index and identity key); at least t of them. */
  dealers: z.array(z.strictObject({ index, identityKey: hex(32) })).min(1).max(256),
});
export type PreviousCommittee = z.infer<typeof PreviousCommitteeSchema>;

export const DeadlinesSchema = z.strictObject({
  /** Unix ms by which deal bundles must have arrived. */
  deal: z.number().int().nonnegative(),
  /** Unix ms by which complaint messages must have arrived. */
  complaints: z.number().int().nonnegative(),
  /** Unix ms by which responses to complaints must have arrived. */
  responses: z.number().int().nonnegative(),
});
export type Deadlines = z.infer<typeof DeadlinesSchema>;

export const CeremonySchema = z.strictObject({
  ceremonyId: CeremonyIdSchema,
  /** Threshold of the committee this ceremony produces. */
  t: z.number().int().min(1).max(256),
  /** Members of the committee this ceremony produces (indices 1..n). */
  participants: z.array(ParticipantSchema).min(1).max(256),
  /** Present for a resharing: the current committee, whose group key is kept. */
  previous: PreviousCommitteeSchema.optional(),
  /** Phase deadlines; without them a phase closes whenever the driver closes it. */
  deadlines: DeadlinesSchema.optional(),
});
export type Ceremony = z.infer<typeof CeremonySchema>;

/** A dealer of this ceremony: every participant in a DKG, the listed old members in a resharing. */
export interface Dealer {
  index: number;
  identityKey: string;
}

/** Parses a ceremony and checks what a schema cannot: indices, unique keys, thresholds. */
export function parseCeremony(input: unknown): Ceremony {
  const parsed = CeremonySchema.safeParse(input);
  if (!parsed.success) throw new DkgError('bad_ceremony', `ceremony description: ${z.prettifyError(parsed.error).replace(/\n/g, '; ')}`);
  const c = parsed.data;
  const n = c.participants.length;
  try {
    assertThreshold(c.t, n);
  } catch (err) {
    throw new DkgError('bad_ceremony', `ceremony ${c.ceremonyId}: ${(err as Error).message}`);
  }
  const sorted = [...c.participants].sort((a, b) => a.index - b.index);
  sorted.forEach((p, k) => {
    if (p.index !== k + 1) {
      throw new DkgError('bad_ceremony', `ceremony ${c.ceremonyId}: participant indices must be 1..${n} each once, got ${sorted.map((x) => x.index).join(',')}`);
    }
  });
  assertUnique(c.ceremonyId, 'identity key', c.participants.map((p) => p.identityKey));
  assertUnique(c.ceremonyId, 'encryption key', c.participants.map((p) => p.encryptionKey));
  for (const p of sorted) {
    try {
      // Low-order points give an all-zero shared secret, which x25519 rejects.
      x25519.getSharedSecret(PROBE_SECRET, fromHex(p.encryptionKey));
    } catch {
      throw new DkgError('bad_ceremony', `ceremony ${c.ceremonyId}: participant ${p.index}'s encryption key is not a usable X25519 public key (low order); the node must generate a new one`);
    }
  }
  if (c.previous) {
    const prev = c.previous;
    const oldN = prev.publicShares.length;
    try {
      assertThreshold(prev.t, oldN);
    } catch (err) {
      throw new DkgError('bad_ceremony', `ceremony ${c.ceremonyId}: previous committee: ${(err as Error).message}`);
    }
    for (const d of prev.dealers) {
      if (d.index > oldN) throw new DkgError('bad_ceremony', `ceremony ${c.ceremonyId}: dealer ${d.index} is not a member of the previous committee of ${oldN}`);
    }
    assertUnique(c.ceremonyId, 'previous dealer index', prev.dealers.map((d) => String(d.index)));
    assertUnique(c.ceremonyId, 'previous dealer identity key', prev.dealers.map((d) => d.identityKey));
    if (prev.dealers.length < prev.t) {
      throw new DkgError('bad_ceremony', `ceremony ${c.ceremonyId}: ${prev.dealers.length} dealers listed from the previous committee, need at least its t=${prev.t}`);
    }
  }
  if (c.deadlines && !(c.deadlines.deal <= c.deadlines.complaints && c.deadlines.complaints <= c.deadlines.responses)) {
    throw new DkgError('bad_ceremony', `ceremony ${c.ceremonyId}: deadlines must be in order deal ≤ complaints ≤ responses`);
  }
  return { ...c, participants: sorted, ...(c.previous ? { previous: { ...c.previous, dealers: [...c.previous.dealers].sort((a, b) => a.index - b.index) } } : {}) };
}

function assertUnique(id: string, what: string, values: string[]): void {
  const seen = new Set<string>();
  for (const v of values) {
    if (seen.has(v)) throw new DkgError('bad_ceremony', `ceremony ${id}: ${what} ${v.length > 20 ? `${v.slice(0, 18)}…` : v} is listed twice`);
    seen.add(v);
  }
}

/** The dealers of a ceremony, by index. */
export function dealersOf(c: Ceremony): Dealer[] {
  return c.previous ? c.previous.dealers : c.participants.map((p) => ({ index: p.index, identityKey: p.identityKey }));
}

/** Qualified dealers a ceremony needs: t for a DKG, the previous t for a resharing (to interpolate). */
export function requiredDealers(c: Ceremony): number {
  return c.previous ? c.previous.t : c.t;
}

// -- Messages --

export const EncryptedShareSchema = z.strictObject({
  recipient: index,
  /** 24-byte nonce ‖ xchacha20poly1305(32-byte big-endian share) ‖ 16-byte tag. */
  ciphertext: hex(72),
});

export const DealSchema = z.strictObject({
  ceremonyId: CeremonyIdSchema,
  dealer: index,
  /** Feldman commitments C_k = a_k·G2, k = 0..t−1, 96-byte compressed. */
  commitments: z.array(hex(96)).min(1).max(256),
  /** BLS signature by a_0 over the proof-of-possession message, 48-byte compressed G1. */
  pop: hex(48),
  /** The dealer's ephemeral X25519 public key for this bundle. */
  ephemeralKey: hex(32),
  shares: z.array(EncryptedShareSchema).min(1).max(256),
  /** Ed25519 signature by the dealer's identity key. */
  signature: hex(64),
});
export type DealMessage = z.infer<typeof DealSchema>;

export const ComplaintReasonSchema = z.enum(['bad_share', 'undecryptable']);
export type ComplaintReason = z.infer<typeof ComplaintReasonSchema>;

/**
 * One per recipient and ceremony, sent even when empty ("all my shares verified"), so the
 * complaint phase can close as soon as every recipient has spoken.
 */
export const ComplaintSchema = z.strictObject({
  ceremonyId: CeremonyIdSchema,
  recipient: index,
  complaints: z.array(z.strictObject({ dealer: index, reason: ComplaintReasonSchema })).max(256),
  signature: hex(64),
});
export type ComplaintMessage = z.infer<typeof ComplaintSchema>;

/** A dealer's answer to the complaints against it: each accused share in the clear. */
export const ResponseSchema = z.strictObject({
  ceremonyId: CeremonyIdSchema,
  dealer: index,
  reveals: z.array(z.strictObject({ recipient: index, share: scalarString })).min(1).max(256),
  signature: hex(64),
});
export type ResponseMessage = z.infer<typeof ResponseSchema>;

export const TranscriptResultSchema = z.strictObject({
  qualified: z.array(index).min(1).max(256),
  groupPublicKey: hex(96),
  /** Commitments of the committee's polynomial (C_0 = group key). */
  commitments: z.array(hex(96)).min(1).max(256),
  /** PK_j for j = 1..n (position j−1). */
  publicShares: z.array(hex(96)).min(1).max(256),
});
export type TranscriptResult = z.infer<typeof TranscriptResultSchema>;

/** Every public message of a ceremony and its claimed result; anyone re-verifies it. */
export const TranscriptSchema = z.strictObject({
  version: z.literal(1),
  ceremony: CeremonySchema,
  deals: z.array(DealSchema).max(256),
  complaints: z.array(ComplaintSchema).max(256),
  responses: z.array(ResponseSchema).max(256),
  result: TranscriptResultSchema,
});
export type Transcript = z.infer<typeof TranscriptSchema>;

// -- Canonical encoding --

type Canonical = string | number | boolean | null | readonly Canonical[] | { readonly [k: string]: Canonical | undefined };

/** JSON with sorted keys and no whitespace; rejects non-integer numbers. */
export function canonicalJson(value: Canonical): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new DkgError('bad_message', `canonical encoding: ${value} is not a safe integer`);
    return String(value);
  }
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v as Canonical)).join(',')}]`;
  const obj = value as { readonly [k: string]: Canonical | undefined };
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k]!)}`).join(',')}}`;
}

/** SHA-256 over the canonical ceremony description. */
export function ceremonyDigest(c: Ceremony): Uint8Array {
  return sha256(concatBytes(utf8ToBytes('AEGIS_DKG_CEREMONY_V1'), new Uint8Array([0]), utf8ToBytes(canonicalJson(c as unknown as Canonical))));
}

/**
 * The digest an operator approves (see the header): the ceremony without `deadlines`, with its
 * own domain tag so it never equals a ceremony digest. 0x-hex.
 */
export function approvalDigest(c: Ceremony): string {
  const { deadlines: _timing, ...membership } = c;
  return toHex(sha256(concatBytes(utf8ToBytes('AEGIS_DKG_APPROVAL_V1'), new Uint8Array([0]), utf8ToBytes(canonicalJson(membership as unknown as Canonical)))));
}

export type MessageKind = 'DEAL' | 'COMPLAINT' | 'RESPONSE';

/** The 32 bytes an identity key signs for a message (its `signature` field excluded). */
export function signingBytes(kind: MessageKind, digest: Uint8Array, message: object): Uint8Array {
  const { signature: _omit, ...body } = message as { signature?: unknown };
  return sha256(concatBytes(utf8ToBytes(`AEGIS_DKG_${kind}_V1`), new Uint8Array([0]), digest, utf8ToBytes(canonicalJson(body as Canonical))));
}

/** SHA-256 of a transcript's canonical encoding: what participants compare at the end. */
export function transcriptDigest(t: Transcript): string {
  return toHex(sha256(concatBytes(utf8ToBytes('AEGIS_DKG_TRANSCRIPT_V1'), new Uint8Array([0]), utf8ToBytes(canonicalJson(t as unknown as Canonical)))));
}
