/**
 * The body of `POST /v1/sign`, binary: the report and the signed observations it was built
 * from, as the bytes the node hashes and checks, with no text encoding in between.
 *
 *   offset  size                 field
 *   0       21                   domain, the ASCII bytes of "AEGIS_SIGN_REQUEST_V1"
 *   21      4                    R, the report's length (uint32, big-endian)
 *   25      R                    the report, ABI-encoded (`encodeReport`)
 *   25+R    2                    F, the number of feeds every observation covers (uint16, 1..MAX_FEEDS)
 *   27+R    32 × F               the feed ids, in request order (what each observation's feedsHash binds)
 *   …       2                    K, the number of observations (uint16, 1..256)
 *   …       K × (L + 64)         each observation: its encoding v2 (`observation.ts`), exactly
 *                                L = encodedObservationLength(F) bytes, then its 64-byte Ed25519 signature
 *
 * At 31 observations of 100 feeds that is 93 kB, half of the same content as JSON with hex
 * strings, and the node reads it without parsing text: at n = 31 each node spent about 1 ms
 * per sign request on UTF-8 decoding, JSON parsing and hex validation of 188 kB. Decoding is
 * strict: exact total length, counts in range; an error names the field and the value.
 */
import { decodeReport, ReportError } from './report.ts';
import { readHex, writeHex } from './abi-words.ts';
import { decodeSignedObservation, encodedObservationLength, type SignedObservation } from './observation.ts';
import { MAX_FEEDS } from './messages.ts';
import type { SignCall } from './transport.ts';

export const SIGN_REQUEST_DOMAIN = 'AEGIS_SIGN_REQUEST_V1';
/** The media type of the body. */
export const SIGN_REQUEST_CONTENT_TYPE = 'application/vnd.aegis.sign-request';

const DOMAIN_BYTES = new TextEncoder().encode(SIGN_REQUEST_DOMAIN);
const MAX_OBSERVATIONS = 256;
const SIGNATURE_BYTES = 64;
/** The longest report: `abi.encode` of a report with `MAX_FEEDS` feeds. */
const MAX_REPORT_BYTES = 32 + 8 * 32 + 3 * 32 * (MAX_FEEDS + 1);

/** What a sign request carries, before the report and the observations are decoded. */
export interface SignRequestParts {
  /** The ABI-encoded report. */
  report: Uint8Array;
  /** Lower-case 0x hex feed ids, in request order. */
  feedIds: string[];
  /** Each observation's encoding v2 and its signature (lower-case 0x hex). */
  observations: { encoded: Uint8Array; signature: string }[];
}

/** The body for `report` (ABI-encoded) and `observations`, which all cover `feedIds` in order. */
export function encodeSignRequest(report: Uint8Array, feedIds: readonly string[], observations: readonly SignedObservation[]): Uint8Array {
  const L = encodedObservationLength(feedIds.length);
  const out = new Uint8Array(DOMAIN_BYTES.length + 4 + report.length + 2 + 32 * feedIds.length + 2 + observations.length * (L + SIGNATURE_BYTES));
  const view = new DataView(out.buffer);
  let at = 0;
  out.set(DOMAIN_BYTES, at);
  at += DOMAIN_BYTES.length;
  view.setUint32(at, report.length);
  out.set(report, (at += 4));
  view.setUint16((at += report.length), feedIds.length);
  at += 2;
  for (const [k, id] of feedIds.entries()) {
    if (!writeHex(out, at, id, 32)) throw new RangeError(`sign request: feedIds[${k}] ${JSON.stringify(id)} is not 0x-prefixed 32-byte hex`);
    at += 32;
  }
  view.setUint16(at, observations.length);
  at += 2;
  for (const [k, s] of observations.entries()) {
    if (s.encoded.length !== L) throw new RangeError(`sign request: observations[${k}] is ${s.encoded.length} bytes, an observation of ${feedIds.length} feeds is ${L}`);
    out.set(s.encoded, at);
    if (!writeHex(out, at + L, s.signature, SIGNATURE_BYTES)) throw new RangeError(`sign request: observations[${k}].signature is not 0x-prefixed 64-byte hex`);
    at += L + SIGNATURE_BYTES;
  }
  return out;
}

/** The parts of a sign request body; throws `ReportError('bad_encoding')` naming what is wrong. */
export function decodeSignRequest(body: Uint8Array): SignRequestParts {
  const fail = (message: string): never => {
    throw new ReportError('bad_encoding', `sign request: ${message}`);
  };
  if (body.length < DOMAIN_BYTES.length || !DOMAIN_BYTES.every((b, i) => body[i] === b)) {
    const looksJson = body.length > 0 && body[0] === 0x7b;
    fail(`expected the binary ${SIGN_REQUEST_DOMAIN} body${looksJson ? ', got JSON (the JSON sign request was replaced by the binary one; upgrade the aggregator)' : ''}; see docs/design.md §Sign request`);
  }
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let at = DOMAIN_BYTES.length;
  const need = (bytes: number, what: string): void => {
    if (at + bytes > body.length) fail(`body ends at byte ${body.length}, inside ${what} (bytes ${at}..${at + bytes})`);
  };
  need(4, 'the report length');
  const R = view.getUint32(at);
  at += 4;
  if (R > MAX_REPORT_BYTES) fail(`report length ${R} exceeds ${MAX_REPORT_BYTES} (a report of ${MAX_FEEDS} feeds)`);
  need(R, 'the report');
  const report = body.subarray(at, at + R);
  at += R;
  need(2, 'the feed count');
  const F = view.getUint16(at);
  at += 2;
  if (F < 1 || F > MAX_FEEDS) fail(`feed count ${F}: expected 1..${MAX_FEEDS}`);
  need(32 * F, 'the feed ids');
  const feedIds: string[] = [];
  for (let k = 0; k < F; k++, at += 32) feedIds.push(readHex(body, at, 32));
  need(2, 'the observation count');
  const K = view.getUint16(at);
  at += 2;
  if (K < 1 || K > MAX_OBSERVATIONS) fail(`observation count ${K}: expected 1..${MAX_OBSERVATIONS}`);
  const L = encodedObservationLength(F);
  const expected = at + K * (L + SIGNATURE_BYTES);
  if (body.length !== expected) fail(`body is ${body.length} bytes, expected ${expected} for ${K} observation(s) of ${F} feed(s) (${L} + ${SIGNATURE_BYTES} bytes each)`);
  const observations: SignRequestParts['observations'] = [];
  for (let k = 0; k < K; k++, at += L + SIGNATURE_BYTES) {
    observations.push({ encoded: body.subarray(at, at + L), signature: readHex(body, at + L, SIGNATURE_BYTES) });
  }
  return { report, feedIds, observations };
}

/**
 * A sign request body decoded for the node's handler: the report and every observation
 * decoded strictly (each observation against the feed list, hashing the bytes received).
 * Throws `ReportError` naming the part at fault.
 */
export function signCallFromBody(body: Uint8Array): SignCall {
  const parts = decodeSignRequest(body);
  return {
    report: decodeReport(parts.report),
    observations: parts.observations.map((o, k) => decodeSignedObservation(o.encoded, o.signature, parts.feedIds, `observations[${k}]`)),
  };
}
