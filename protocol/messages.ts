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
