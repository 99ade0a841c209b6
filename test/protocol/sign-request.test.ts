import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { hexlify } from 'ethers';
import {
  ReportError,
  SIGN_REQUEST_DOMAIN,
  buildReport,
  decodeSignRequest,
  encodeReportBytes,
  encodeSignRequest,
  encodedObservationLength,
  signCallFromBody,
  signObservation,
  type Observation,
  type SignedObservation,
} from '../../protocol/index.ts';

const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => hexlify(b));
const secret = new Uint8Array(32).fill(7);
const digest = '0x' + '11'.repeat(32);

/** k signed observations of `ids` for epoch 5, each answering every feed or withholding some. */
function observationsOf(ids: string[], answers: (bigint | null)[][]): SignedObservation[] {
  return answers.map((row, k) => {
    const o: Observation = { configDigest: digest, epoch: 5n, nodeIndex: k + 1, observedAt: 1_700_000_000n, feeds: ids.map((feedId, j) => ({ feedId, answer: row[j] ?? null })) };
    return signObservation(o, secret);
  });
}

const requestArb = fc.integer({ min: 1, max: 12 }).chain((f) =>
  fc.record({
    ids: fc.uniqueArray(bytes32, { minLength: f, maxLength: f }),
    answers: fc.array(fc.array(fc.option(fc.bigInt({ min: -(1n << 191n), max: (1n << 191n) - 1n }), { nil: null }), { minLength: f, maxLength: f }), { minLength: 1, maxLength: 9 }),
  }),
);

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return err instanceof ReportError ? `${err.code}: ${err.message}` : `not a ReportError: ${String(err)}`;
  }
  return 'accepted';
}

describe('binary sign request (AEGIS_SIGN_REQUEST_V1)', () => {
  it('decodes to the report and observations it encodes, for any feed list and answers', () => {
    fc.assert(
      fc.property(requestArb, ({ ids, answers }) => {
        const observations = observationsOf(ids, answers);
        const report = buildReport(digest, 5n, observations.map((s) => s.observation), ids, 1).report;
        const reportBytes = report ? encodeReportBytes(report) : new Uint8Array([1, 2, 3]);
        const body = encodeSignRequest(reportBytes, ids, observations);
        const L = encodedObservationLength(ids.length);
        expect(body.length).toBe(SIGN_REQUEST_DOMAIN.length + 4 + reportBytes.length + 2 + 32 * ids.length + 2 + observations.length * (L + 64));
        const parts = decodeSignRequest(body);
        expect(parts.report).toEqual(reportBytes);
        expect(parts.feedIds).toEqual(ids.map((id) => id.toLowerCase()));
        expect(parts.observations.map((o) => [hexlify(o.encoded), o.signature])).toEqual(observations.map((s) => [hexlify(s.encoded), s.signature]));
        if (report) {
          const call = signCallFromBody(body);
          expect(call.report).toEqual(report);
          expect(call.observations.map((s) => s.observation)).toEqual(observations.map((s) => s.observation));
        }
      }),
      { numRuns: 150 },
    );
  });

  it('rejects every truncation, extension and count change with a ReportError, never anything else', () => {
    const ids = ['0x' + 'aa'.repeat(32), '0x' + 'bb'.repeat(32)];
    const body = encodeSignRequest(new Uint8Array(10), ids, observationsOf(ids, [[1n, 2n], [3n, null]]));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: body.length + 40 }), fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { maxLength: 4 }), (size, edits) => {
        const altered = new Uint8Array(size);
        altered.set(body.subarray(0, Math.min(size, body.length)));
        for (const e of edits) if (size) altered[e.at % size] = e.value;
        const verdict = code(() => decodeSignRequest(altered));
        expect(verdict).not.toMatch(/^not a ReportError/);
        if (size !== body.length) expect(verdict).toMatch(/^bad_encoding: sign request: /);
      }),
      { numRuns: 500 },
    );
  });

  it('names the field and the value of each rule', () => {
    const ids = ['0x' + 'aa'.repeat(32)];
    const body = encodeSignRequest(new Uint8Array(4), ids, observationsOf(ids, [[1n]]));
    const edit = (f: (b: Uint8Array, v: DataView) => void) => {
      const b = body.slice();
      f(b, new DataView(b.buffer));
      return b;
    };
    const R = 21; // offset of the report length
    const F = R + 4 + 4; // offset of the feed count
    const K = F + 2 + 32; // offset of the observation count
    const cases: [Uint8Array, RegExp][] = [
      [new TextEncoder().encode('{"report":"0x00"}'), /expected the binary AEGIS_SIGN_REQUEST_V1 body, got JSON .*upgrade the aggregator/],
      [edit((b) => (b[0] = 0x61)), /expected the binary AEGIS_SIGN_REQUEST_V1 body; see docs\/design\.md §Sign request/],
      [body.subarray(0, R + 2), /body ends at byte 23, inside the report length/],
      [edit((_b, v) => v.setUint32(R, 200_000)), /report length 200000 exceeds 96384/],
      [edit((_b, v) => v.setUint16(F, 0)), /feed count 0: expected 1\.\.1000/],
      [edit((_b, v) => v.setUint16(K, 0)), /observation count 0: expected 1\.\.256/],
      [edit((_b, v) => v.setUint16(K, 2)), /body is \d+ bytes, expected \d+ for 2 observation\(s\) of 1 feed\(s\)/],
      [body.subarray(0, body.length - 1), /body is \d+ bytes, expected \d+ for 1 observation\(s\)/],
    ];
    for (const [bytes, message] of cases) expect(code(() => decodeSignRequest(bytes))).toMatch(message);
  });

  it('refuses to encode observations that do not fit the feed list', () => {
    const ids = ['0x' + 'aa'.repeat(32), '0x' + 'bb'.repeat(32)];
    const one = observationsOf([ids[0]!], [[1n]]);
    expect(() => encodeSignRequest(new Uint8Array(4), ids, one)).toThrow(/observations\[0\] is \d+ bytes, an observation of 2 feeds is \d+/);
    expect(() => encodeSignRequest(new Uint8Array(4), ['0x12'], one)).toThrow(/feedIds\[0\] "0x12"/);
  });
});
