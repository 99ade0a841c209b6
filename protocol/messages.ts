/**
 * Wire messages between aggregators and nodes (the HTTP adapter serializes these; the
 * simulator may pass them in memory). JSON has no bigint, so integers travel as decimal
 * strings; a signed observation travels as its canonical encoding v2 (`observation.ts`) and
 * signature. Every message is validated with zod at the decode boundary and an error names
 * the field; observations are then decoded strictly, and a `ReportError` names the
 * observation and the field. The sign request is binary (`sign-request.ts`).
 *
 *   POST /v1/observe  ObserveRequest                   -> ObserveResponse
 *   POST /v1/sign     AEGIS_SIGN_REQUEST_V1 (binary)   -> SignResponse | Refusal (409)
 */
import { z } from 'zod';
import { bytesToHex0x } from './abi-words.ts';
import { decodeSignedObservation, encodedObservationLength, type SignedObservation } from './observation.ts';
import { ReportError } from './report.ts';

const hex = (bytes: number) => z.string().regex(new RegExp(`^0x[0-9a-fA-F]{${bytes * 2}}$`), `expected 0x-prefixed ${bytes}-byte hex`);
const uintString = z.string().regex(/^\d{1,78}$/, 'expected a non-negative integer as a decimal string');

export const Bytes32Hex = hex(32);

/** Most feeds one round may ask for. */
export const MAX_FEEDS = 1000;
/** Longest observation encoding (at `MAX_FEEDS`), as 0x hex characters. */
const MAX_ENCODED_HEX = 2 + 2 * encodedObservationLength(MAX_FEEDS);

export const ObserveRequestSchema = z.strictObject({
  configDigest: hex(32),
  epoch: uintString,
  feedIds: z.array(hex(32)).min(1).max(MAX_FEEDS),
});
export type ObserveRequest = z.infer<typeof ObserveRequestSchema>;

/**
 * A signed observation in an observe answer: its encoding v2 (`protocol/observation.ts`) and
 * the signature over keccak256 of it, both 0x hex like every other byte string of the JSON
 * messages.
 */
export const SignedObservationSchema = z.strictObject({
  encoded: z.string().regex(/^0x([0-9a-fA-F]{2})*$/, 'expected 0x-prefixed hex').max(MAX_ENCODED_HEX),
  signature: hex(64),
});
export type SignedObservationJson = z.infer<typeof SignedObservationSchema>;

/**
 * The node's observation of the requested feeds, in request order (the aggregator knows the
 * list; `feedsHash` binds the signature to it), and why it withheld a feed, by feed id (not
 * signed; informational).
 */
export const ObserveResponseSchema = z.strictObject({
  observation: SignedObservationSchema,
  reasons: z.record(hex(32), z.string().max(500)).optional(),
});
export type ObserveResponse = z.infer<typeof ObserveResponseSchema>;

export const SignResponseSchema = z.strictObject({
  index: z.number().int().min(1).max(256),
  /** 48-byte compressed G1 partial signature. */
  signature: hex(48),
});
export type SignResponse = z.infer<typeof SignResponseSchema>;

// -- Fast validation of the hot messages --
//
// An observe request carries up to 1000 feed ids and an observe answer a 2.5 kB encoding at
// 100 feeds; zod's generic walk is slower than these hand-written checks, which accept
// exactly what the schemas accept (same regular expressions, same bounds, strict keys; a
// property test holds them equal) and hand anything else to zod, so every rejection still
// carries zod's message naming the field.

const HEX32_RE = /^0x[0-9a-fA-F]{64}$/;
const HEX64_RE = /^0x[0-9a-fA-F]{128}$/;
const UINT_RE = /^\d{1,78}$/;

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

const isString = (x: unknown, re: RegExp): boolean => typeof x === 'string' && re.test(x);

/**
 * Bytes of a 0x hex string of even length (what `/^0x([0-9a-fA-F]{2})*$/` accepts), or
 * undefined. Node's hex decoder is native, and decoding checks as it goes: on a 5 kB encoding
 * it costs less than that regular expression alone. It stops at the first non-hex pair, so the
 * decoded length is the check; but it reads a character above U+00FF by its low byte ("١" as
 * "a"), so the string must be ASCII first (its UTF-8 length equals its length).
 */
function hexBytes(hex: string): Uint8Array | undefined {
  if (!hex.startsWith('0x') || Buffer.byteLength(hex, 'utf8') !== hex.length) return undefined;
  const buf = Buffer.from(hex.slice(2), 'hex');
  return 2 + 2 * buf.length === hex.length ? new Uint8Array(buf.buffer, buf.byteOffset, buf.length) : undefined;
}

/** Encodings the fast validator already decoded, by wire object, so `observationFromJson` does not decode them again. */
const decodedEncodings = new WeakMap<object, Uint8Array>();

function isSignedObservationJson(s: unknown): boolean {
  if (!isRecord(s) || Object.keys(s).length !== 2 || !isString(s.signature, HEX64_RE)) return false;
  const encoded = typeof s.encoded === 'string' && s.encoded.length <= MAX_ENCODED_HEX ? hexBytes(s.encoded) : undefined;
  if (!encoded) return false;
  decodedEncodings.set(s, encoded);
  return true;
}

function isFeedIdList(x: unknown): boolean {
  if (!Array.isArray(x) || x.length < 1 || x.length > MAX_FEEDS) return false;
  for (const id of x) if (!isString(id, HEX32_RE)) return false;
  return true;
}

function isReasons(x: unknown): boolean {
  if (!isRecord(x)) return false;
  for (const [k, v] of Object.entries(x)) if (!HEX32_RE.test(k) || typeof v !== 'string' || v.length > 500) return false;
  return true;
}

/** `ObserveRequestSchema.safeParse`, with the same fast path (zod's walk over 100 feed ids cost a node about 1 ms per request). */
export function parseObserveRequest(json: unknown): ReturnType<typeof ObserveRequestSchema.safeParse> {
  if (isRecord(json) && Object.keys(json).length === 3 && isString(json.configDigest, HEX32_RE) && isString(json.epoch, UINT_RE) && isFeedIdList(json.feedIds)) {
    return { success: true, data: json as ObserveRequest };
  }
  return ObserveRequestSchema.safeParse(json);
}

/** `ObserveResponseSchema.safeParse`, with the same fast path (the aggregator checks n of them per round). */
export function parseObserveResponse(json: unknown): ReturnType<typeof ObserveResponseSchema.safeParse> {
  if (isRecord(json) && isSignedObservationJson(json.observation)) {
    const keys = Object.keys(json).length;
    if (keys === 1 || (keys === 2 && json.reasons !== undefined && isReasons(json.reasons))) return { success: true, data: json as ObserveResponse };
  }
  return ObserveResponseSchema.safeParse(json);
}

/** A refusal or a rejected request: a stable code and an operator-readable message. */
export const ErrorResponseSchema = z.strictObject({
  error: z.strictObject({ code: z.string(), message: z.string() }),
});
export type ErrorResponse = z.infer<typeof ErrorResponseSchema>;

export function observationToJson(s: SignedObservation): SignedObservationJson {
  return { encoded: bytesToHex0x(s.encoded), signature: s.signature };
}

/**
 * A wire observation decoded against the feed list it covers; throws `ReportError` naming
 * `what` and the field (a 400 at a node's boundary).
 */
export function observationFromJson(j: SignedObservationJson, feedIds: readonly string[], what = 'observation'): SignedObservation {
  const encoded = decodedEncodings.get(j) ?? hexBytes(j.encoded);
  if (!encoded) throw new ReportError('bad_field', `${what}.encoded: expected 0x-prefixed hex, got ${JSON.stringify(j.encoded.slice(0, 20))}…`);
  return decodeSignedObservation(encoded, j.signature.toLowerCase(), feedIds, what);
}

/** The observe answer: the signed observation and the reasons of the feeds withheld. */
export function observeResponseOf(s: SignedObservation): ObserveResponse {
  const reasons: Record<string, string> = {};
  for (const f of s.observation.feeds) if (f.answer === null && f.reason) reasons[f.feedId.toLowerCase()] = f.reason;
  return { observation: observationToJson(s), ...(Object.keys(reasons).length ? { reasons } : {}) };
}

/** The signed observation of an observe answer, decoded against the requested feeds, with the reasons attached. */
export function observationFromObserveResponse(res: ObserveResponse, feedIds: readonly string[]): SignedObservation {
  const s = observationFromJson(res.observation, feedIds);
  if (res.reasons) {
    const reasons = new Map(Object.entries(res.reasons).map(([id, r]) => [id.toLowerCase(), r]));
    for (const f of s.observation.feeds) {
      const r = reasons.get(f.feedId);
      if (f.answer === null && r) f.reason = r;
    }
  }
  return s;
}

/**
 * Human-readable zod issues: "observation.feeds.0.answer: expected an integer …". With the
 * schema, an unknown key names the nearest allowed one ("did you mean heartbeatSec?"): a typo
 * in a config should say its fix, not only that something is wrong.
 */
export function describeZodError(err: z.ZodError, schema?: z.ZodType, o: { max?: number; top?: string } = {}): string {
  // An unknown key first: a misspelt field usually also shows up as the real one missing.
  const issues = [...err.issues].sort((a, b) => Number(b.code === 'unrecognized_keys') - Number(a.code === 'unrecognized_keys'));
  return issues
    .slice(0, o.max ?? 5)
    .map((i) => {
      const where = i.path.length ? i.path.join('.') : (o.top ?? '(body)');
      if (i.code === 'unrecognized_keys' && schema) {
        const allowed = keysAt(schema, i.path);
        const parts = i.keys.map((k) => {
          const near = allowed && nearest(k, allowed);
          return near ? `unknown key "${k}" (did you mean "${near}"?)` : `unknown key "${k}"`;
        });
        const list = allowed ? `; allowed here: ${allowed.join(', ')}` : '';
        return `${where}: ${parts.join(', ')}${list}`;
      }
      return `${where}: ${i.message}`;
    })
    .join('; ');
}

/** The keys an object schema allows at `path` (through optional, default, array, union), or undefined. */
export function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] | undefined {
  let s: unknown = schema;
  const unwrap = (x: unknown): unknown => {
    for (let k = 0; k < 10; k++) {
      const def = (x as { _zod?: { def?: { type?: string; innerType?: unknown; in?: unknown; options?: unknown[] } } })._zod?.def;
      if (!def) return x;
      if (def.innerType !== undefined) x = def.innerType;
      else if (def.type === 'pipe' && def.in !== undefined) x = def.in;
      else return x;
    }
    return x;
  };
  for (const seg of [...path, undefined]) {
    s = unwrap(s);
    const def = (s as { _zod?: { def?: { type?: string; shape?: Record<string, unknown>; element?: unknown; options?: unknown[] } } })._zod?.def;
    if (!def) return undefined;
    if (def.type === 'union' && def.options) {
      // The first object member that has the next key (or any object member at the end).
      const objects = def.options.map(unwrap).filter((o) => (o as { _zod?: { def?: { shape?: unknown } } })._zod?.def?.shape);
      s = objects.find((o) => seg === undefined || (typeof seg === 'string' && seg in ((o as { _zod: { def: { shape: Record<string, unknown> } } })._zod.def.shape))) ?? objects[0];
      if (!s) return undefined;
      if (seg === undefined) return Object.keys((s as { _zod: { def: { shape: Record<string, unknown> } } })._zod.def.shape);
      s = (s as { _zod: { def: { shape: Record<string, unknown> } } })._zod.def.shape[seg as string];
      continue;
    }
    if (seg === undefined) return def.shape ? Object.keys(def.shape) : undefined;
    if (def.type === 'array' && typeof seg === 'number') s = def.element;
    else if (def.shape && typeof seg === 'string' && seg in def.shape) s = def.shape[seg];
    else return undefined;
  }
  return undefined;
}

/** The allowed key closest to `key` (edit distance ≤ max(2, a third of its length), or same letters case-insensitively). */
export function nearest(key: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const a of allowed) {
    const d = a.toLowerCase() === key.toLowerCase() ? 0 : editDistance(key.toLowerCase(), a.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = a;
    }
  }
  return bestD <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}
