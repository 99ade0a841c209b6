/**
 * Fuzz: a few thousand random and malformed bodies (and headers) thrown at a real node over
 * loopback. None may produce a 500, none may crash the process, and every non-success answer
 * is `{ error: { code, message } }`. Bodies are signed with the aggregator key so they get past
 * authentication and exercise parsing, validation, decoding and the signer's checks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import pino from 'pino';
import { encodeReportBytes, encodeSignRequest, SIGN_REQUEST_DOMAIN, type SignedObservation } from '../../protocol/index.ts';
import { HttpNodeClient } from '../../protocol/http-node-client.ts';
import { startNode, type RunningNode } from '../../node/start.ts';
import { FEEDS, observationBy, postSigned, reportOf, setupFixture, waitReady, type Fixture } from './harness.ts';

let fx: Fixture;
let node: RunningNode;
let url: string;
let validSign: { report: Uint8Array; feedIds: string[]; observations: SignedObservation[]; body: Uint8Array };

beforeAll(async () => {
  fx = await setupFixture();
  node = await startNode(fx.configFile, { logger: pino({ level: 'silent' }), port: 0 });
  url = node.http.url;
  await waitReady(url);
  const client = new HttpNodeClient({ index: 1, url, identitySecret: fx.aggregatorSecret });
  const own = await client.observe({ configDigest: fx.digest, epoch: 10n, feedIds: [FEEDS.BTC, FEEDS.ETH] });
  const feeds = own.observation.feeds.map((f) => ({ feedId: f.feedId, answer: f.answer }));
  const observations = [own, observationBy(fx, 2, 10n, feeds), observationBy(fx, 3, 10n, feeds)];
  const report = encodeReportBytes(reportOf(fx, 10n, observations, [FEEDS.BTC, FEEDS.ETH]));
  validSign = { report, feedIds: [FEEDS.BTC, FEEDS.ETH], observations, body: encodeSignRequest(report, [FEEDS.BTC, FEEDS.ETH], observations) };
});

afterAll(async () => {
  await node?.stop();
  await fx?.close();
});

function expectHandled(res: { status: number; json: unknown }): void {
  expect(res.status).toBeLessThan(500);
  if (res.status >= 400) {
    const err = (res.json as { error?: { code?: unknown; message?: unknown } }).error;
    expect(typeof err?.code).toBe('string');
    expect(typeof err?.message).toBe('string');
  }
}

const hex = (bytes: number) => fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => `0x${Buffer.from(b).toString('hex')}`);
const junk = fc.oneof(
  fc.anything(),
  fc.string(),
  fc.bigInt().map(String),
  fc.constantFrom('', '0x', '-1', '1e3', 'NaN', '18446744073709551616', '9'.repeat(80), '0x' + 'zz'.repeat(32), null, [], {}, true),
);
const maybe = <T,>(good: fc.Arbitrary<T>) => fc.oneof({ weight: 2, arbitrary: good }, { weight: 1, arbitrary: junk });

/**
 * A sign request body framed as `sign-request.ts` lays it out, but with whatever parts are
 * given: a report, feed ids and observations of any length, so a part's length can disagree
 * with the counts (what `encodeSignRequest` refuses to write).
 */
function frame(report: Uint8Array, feedIds: Uint8Array[], observations: Uint8Array[]): Uint8Array {
  const u32 = (v: number) => Buffer.from([v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255]);
  const u16 = (v: number) => Buffer.from([(v >>> 8) & 255, v & 255]);
  return Buffer.concat([Buffer.from(SIGN_REQUEST_DOMAIN), u32(report.length), report, u16(feedIds.length), ...feedIds, u16(observations.length), ...observations]);
}

/** Flip one byte, cut, extend, or replace `bytes` with random ones. */
const mutated = (bytes: Uint8Array) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constant(bytes) },
    fc.tuple(fc.nat({ max: Math.max(0, bytes.length - 1) }), fc.integer({ min: 1, max: 255 })).map(([i, x]) => {
      const b = Uint8Array.from(bytes);
      if (i < b.length) b[i] = b[i]! ^ x;
      return b;
    }),
    fc.nat({ max: bytes.length }).map((n) => bytes.subarray(0, n)),
    fc.uint8Array({ minLength: 1, maxLength: 64 }).map((x) => Uint8Array.from([...bytes, ...x])),
    fc.uint8Array({ maxLength: 400 }),
  );

describe('fuzzing the HTTP API', () => {
  it('observe: 800 structured and malformed bodies, no 500', async () => {
    const body = fc.oneof(
      fc.record(
        {
          configDigest: maybe(fc.oneof(fc.constant(fx.digest), hex(32))),
          epoch: maybe(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map(String)),
          feedIds: maybe(fc.array(maybe(fc.oneof(fc.constantFrom(FEEDS.BTC, FEEDS.ETH, FEEDS.USDT), hex(32))), { maxLength: 20 })),
          extra: fc.option(junk, { nil: undefined }),
        },
        { requiredKeys: [] },
      ).map((o) => JSON.stringify(o)),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.string({ maxLength: 300 }),
    );
    await fc.assert(
      fc.asyncProperty(body, async (b) => {
        expectHandled(await postSigned(url, '/v1/observe', b, fx.aggregatorSecret));
      }),
      { numRuns: 800 },
    );
  });

  it('sign: 1200 mutated reports, feed lists, observations and bodies, no 500', async () => {
    const id = (hex0x: string) => Buffer.from(hex0x.slice(2), 'hex');
    const observation = (s: SignedObservation) => fc.tuple(mutated(s.encoded), mutated(id(s.signature))).map(([e, sig]) => Buffer.concat([e, sig]));
    const feedIds = fc.oneof(
      fc.constant(validSign.feedIds.map(id)),
      fc.constant([...validSign.feedIds].reverse().map(id)),
      fc.array(fc.oneof(fc.constantFrom(FEEDS.BTC, FEEDS.ETH, FEEDS.USDT).map(id), fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 40 })), { maxLength: 4 }),
    );
    const framed = fc
      .record({ report: mutated(validSign.report), feedIds, observations: fc.tuple(...validSign.observations.map(observation)).chain((obs) => fc.subarray(obs)) })
      .map((p) => frame(p.report, p.feedIds, p.observations));
    const body = fc.oneof(framed, mutated(validSign.body), fc.jsonValue().map((v) => new TextEncoder().encode(JSON.stringify(v))));
    await fc.assert(
      fc.asyncProperty(body, async (b) => {
        expectHandled(await postSigned(url, '/v1/sign', b, fx.aggregatorSecret));
      }),
      { numRuns: 1200 },
    );
  });

  it('sign: malformed observation encodings are 400s naming the observation and the field', async () => {
    const withObservation1 = (f: (b: Buffer) => Buffer): Uint8Array => {
      const parts = validSign.observations.map((s) => Buffer.concat([s.encoded, Buffer.from(s.signature.slice(2), 'hex')]));
      const own = validSign.observations[1]!;
      parts[1] = Buffer.concat([f(Buffer.from(own.encoded)), Buffer.from(own.signature.slice(2), 'hex')]);
      return frame(validSign.report, validSign.feedIds.map((x) => Buffer.from(x.slice(2), 'hex')), parts);
    };
    const flip = (i: number, x: number) => (b: Buffer) => {
      b[i] = b[i]! ^ x;
      return b;
    };
    const cases: [string, Uint8Array, RegExp][] = [
      ['truncated', withObservation1((b) => b.subarray(0, b.length - 1)), /^sign request: body is \d+ bytes, expected \d+ for 3 observation\(s\) of 2 feed\(s\) \(153 \+ 64 bytes each\)$/],
      ['domain', withObservation1(flip(19, 0x01)), /^observations\[1\]\.domain: expected "AEGIS_OBSERVATION_V2", got "AEGIS_OBSERVATION_V3"/],
      ['count', withObservation1(flip(103, 0x01)), /^observations\[1\]\.count: 3, but the feed list sent has 2 feeds$/],
      ['feedsHash', withObservation1(flip(70, 0xff)), /^observations\[1\]\.feedsHash: 0x[0-9a-f]{64}, but the feed list sent hashes to 0x[0-9a-f]{64}/],
      ['bit beyond count', withObservation1(flip(104, 0x04)), /^observations\[1\]\.present: bits set beyond count 2/],
      ['absent answer not zero', withObservation1(flip(104, 0x01)), /^observations\[1\]\.answers\[0\]: feed 0x[0-9a-f]{64} is absent but its answer is \d+, not zero$/],
      ['JSON body', new TextEncoder().encode(JSON.stringify({ report: '0x00', observations: [] })), /^sign request: expected the binary AEGIS_SIGN_REQUEST_V1 body, got JSON/],
    ];
    for (const [what, body, message] of cases) {
      const res = await postSigned(url, '/v1/sign', body, fx.aggregatorSecret);
      expect(res.status, what).toBe(400);
      expect((res.json as { error: { code: string; message: string } }).error, what).toMatchObject({ code: 'bad_request', message: expect.stringMatching(message) });
    }
    const reordered = await postSigned(url, '/v1/sign', encodeSignRequest(validSign.report, [...validSign.feedIds].reverse(), validSign.observations), fx.aggregatorSecret);
    expect(reordered.status).toBe(400);
    expect((reordered.json as { error: { message: string } }).error.message).toMatch(/^observations\[0\]\.feedsHash: .* an observation covers exactly the requested feeds in order$/);
  });

  it('raw bytes and random auth headers: 800 requests, no 500', async () => {
    const req = fc.record({
      path: fc.constantFrom('/v1/observe', '/v1/sign', '/v1/health', '/metrics', '/v1/../v1/sign', '/%ff', '/v1/sign?x=1'),
      method: fc.constantFrom('POST', 'GET', 'PUT', 'DELETE'),
      body: fc.uint8Array({ maxLength: 512 }),
      headers: fc.dictionary(
        fc.constantFrom('x-aegis-key', 'x-aegis-timestamp', 'x-aegis-nonce', 'x-aegis-signature', 'content-type', 'content-encoding'),
        fc.stringMatching(/^[\x21-\x7e]{0,80}$/),
      ),
    });
    await fc.assert(
      fc.asyncProperty(req, async (r) => {
        const res = await fetch(`${url}${r.path}`, { method: r.method, headers: r.headers, ...(r.method === 'GET' ? {} : { body: r.body }) });
        const text = await res.text();
        expect(res.status).toBeLessThan(500);
        if (res.status >= 400) expect(JSON.parse(text).error.code).toEqual(expect.any(String));
      }),
      { numRuns: 800 },
    );
  });

  it('is still alive and healthy afterwards', async () => {
    const res = await fetch(`${url}/v1/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', ready: true });
  });
});
