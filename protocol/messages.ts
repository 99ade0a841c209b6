/**
 * Wire messages between aggregators and nodes (the HTTP adapter serializes these; the
 * simulator may pass them in memory). JSON has no bigint, so integers travel as decimal
 * strings; every message is validated with zod at the decode boundary and an error names
 * the field.
 *
 *   POST /v1/observe  ObserveRequest  -> ObserveResponse
 *   POST /v1/sign     SignRequest     -> SignResponse | Refusal (409)
 */
import { z } from 'zod';
import type { FeedObservation, Observation, SignedObservation } from './observation.ts';

const hex = (bytes: number) => z.string().regex(new RegExp(`^0x[0-9a-fA-F]{${bytes * 2}}$`), `expected 0x-prefixed ${bytes}-byte hex`);
const uintString = z.string().regex(/^\d{1,78}$/, 'expected a non-negative integer as a decimal string');
const intString = z.string().regex(/^-?\d{1,78}$/, 'expected an integer as a decimal string');

export const Bytes32Hex = hex(32);

export const ObserveRequestSchema = z.strictObject({
  configDigest: hex(32),
  epoch: uintString,
  feedIds: z.array(hex(32)).min(1).max(1000),
});
export type ObserveRequest = z.infer<typeof ObserveRequestSchema>;

const FeedObservationJson = z.strictObject({
  feedId: hex(32),
  answer: intString.nullable(),
  reason: z.string().max(500).optional(),
});

export const SignedObservationSchema = z.strictObject({
  observation: z.strictObject({
    configDigest: hex(32),
    epoch: uintString,
    nodeIndex: z.number().int().min(1).max(256),
    observedAt: uintString,
    feeds: z.array(FeedObservationJson).max(1000),
  }),
  signature: hex(64),
});
export type SignedObservationJson = z.infer<typeof SignedObservationSchema>;

export const ObserveResponseSchema = z.strictObject({ observation: SignedObservationSchema });

export const SignRequestSchema = z.strictObject({
  /** ABI-encoded report (see `encodeReport`). */
  report: z.string().regex(/^0x([0-9a-fA-F]{2})*$/, 'expected 0x-prefixed hex').max(2_000_000),
  observations: z.array(SignedObservationSchema).min(1).max(256),
});
export type SignRequest = z.infer<typeof SignRequestSchema>;

export const SignResponseSchema = z.strictObject({
  index: z.number().int().min(1).max(256),
  /** 48-byte compressed G1 partial signature. */
  signature: hex(48),
});
export type SignResponse = z.infer<typeof SignResponseSchema>;

// -- Fast validation of the hot messages --
//
// A 100-feed sign request carries 31 observations × 100 feeds; zod's generic walk over that
// cost each node more than parsing the JSON. These hand-written checks accept exactly what the
// schemas accept (same regular expressions, same bounds, strict keys; a property test holds
// them equal) and hand anything else to zod, so every rejection still carries zod's message
// naming the field.

const HEX32_RE = /^0x[0-9a-fA-F]{64}$/;
const HEX64_RE = /^0x[0-9a-fA-F]{128}$/;
const UINT_RE = /^\d{1,78}$/;
const INT_RE = /^-?\d{1,78}$/;
const REPORT_RE = /^0x([0-9a-fA-F]{2})*$/;

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

const isString = (x: unknown, re: RegExp): boolean => typeof x === 'string' && re.test(x);

function isFeedObservationJson(f: unknown): boolean {
  if (!isRecord(f)) return false;
  // Both required keys are checked present; a third may only be a valid `reason`.
  if (!isString(f.feedId, HEX32_RE) || (f.answer !== null && !isString(f.answer, INT_RE))) return false;
  const keys = Object.keys(f).length;
  return keys === 2 || (keys === 3 && typeof f.reason === 'string' && f.reason.length <= 500);
}

function isSignedObservationJson(s: unknown): boolean {
  if (!isRecord(s) || Object.keys(s).length !== 2 || !isString(s.signature, HEX64_RE)) return false;
  const o = s.observation;
  if (!isRecord(o) || Object.keys(o).length !== 5) return false;
  const i = o.nodeIndex;
  if (typeof i !== 'number' || !Number.isInteger(i) || i < 1 || i > 256) return false;
  if (!isString(o.configDigest, HEX32_RE) || !isString(o.epoch, UINT_RE) || !isString(o.observedAt, UINT_RE)) return false;
  const feeds = o.feeds;
  if (!Array.isArray(feeds) || feeds.length > 1000) return false;
  for (const f of feeds) if (!isFeedObservationJson(f)) return false;
  return true;
}

/** `SignRequestSchema.safeParse`, with the fast path above for well-formed requests. */
export function parseSignRequest(json: unknown): ReturnType<typeof SignRequestSchema.safeParse> {
  if (isRecord(json) && Object.keys(json).length === 2) {
    const { report, observations } = json;
    if (typeof report === 'string' && report.length <= 2_000_000 && REPORT_RE.test(report) && Array.isArray(observations) && observations.length >= 1 && observations.length <= 256 && observations.every(isSignedObservationJson)) {
      return { success: true, data: json as SignRequest };
    }
  }
  return SignRequestSchema.safeParse(json);
}

/** `ObserveResponseSchema.safeParse`, with the same fast path (the aggregator checks n of them per round). */
export function parseObserveResponse(json: unknown): ReturnType<typeof ObserveResponseSchema.safeParse> {
  if (isRecord(json) && Object.keys(json).length === 1 && isSignedObservationJson(json.observation)) {
    return { success: true, data: json as z.output<typeof ObserveResponseSchema> };
  }
  return ObserveResponseSchema.safeParse(json);
}

/** A refusal or a rejected request: a stable code and an operator-readable message. */
export const ErrorResponseSchema = z.strictObject({
  error: z.strictObject({ code: z.string(), message: z.string() }),
});
export type ErrorResponse = z.infer<typeof ErrorResponseSchema>;

export function observationToJson(s: SignedObservation): SignedObservationJson {
  const o = s.observation;
  return {
    observation: {
      configDigest: o.configDigest,
      epoch: o.epoch.toString(),
      nodeIndex: o.nodeIndex,
      observedAt: o.observedAt.toString(),
      feeds: o.feeds.map((f) => ({ feedId: f.feedId, answer: f.answer === null ? null : f.answer.toString(), ...(f.reason ? { reason: f.reason } : {}) })),
    },
    signature: s.signature,
  };
}

export function observationFromJson(j: SignedObservationJson): SignedObservation {
  const o = j.observation;
  const observation: Observation = {
    configDigest: o.configDigest.toLowerCase(),
    epoch: BigInt(o.epoch),
    nodeIndex: o.nodeIndex,
    observedAt: BigInt(o.observedAt),
    feeds: o.feeds.map((f): FeedObservation => ({ feedId: f.feedId.toLowerCase(), answer: f.answer === null ? null : BigInt(f.answer), ...(f.reason ? { reason: f.reason } : {}) })),
  };
  return { observation, signature: j.signature };
}

/** Human-readable zod issues: "observation.feeds.0.answer: expected an integer …". */
export function describeZodError(err: z.ZodError): string {
  return err.issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.join('.') : '(body)'}: ${i.message}`)
    .join('; ');
}
