/**
 * Fuzz: a few thousand random and malformed bodies (and headers) thrown at a real node over
 * loopback. None may produce a 500, none may crash the process, and every non-success answer
 * is `{ error: { code, message } }`. Bodies are signed with the aggregator key so they get past
 * authentication and exercise parsing, validation, decoding and the signer's checks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import pino from 'pino';
import { encodeReport, observationToJson, type SignedObservationJson } from '../../protocol/index.ts';
import { HttpNodeClient } from '../../protocol/http-node-client.ts';
import { startNode, type RunningNode } from '../../node/start.ts';
import { FEEDS, observationBy, postSigned, reportOf, setupFixture, waitReady, type Fixture } from './harness.ts';

let fx: Fixture;
let node: RunningNode;
let url: string;
let validSign: { report: string; feedIds: string[]; observations: SignedObservationJson[] };

beforeAll(async () => {
  fx = await setupFixture();
  node = await startNode(fx.configFile, { logger: pino({ level: 'silent' }), port: 0 });
  url = node.http.url;
  await waitReady(url);
  const client = new HttpNodeClient({ index: 1, url, identitySecret: fx.aggregatorSecret });
  const own = await client.observe({ configDigest: fx.digest, epoch: 10n, feedIds: [FEEDS.BTC, FEEDS.ETH] });
  const feeds = own.observation.feeds.map((f) => ({ feedId: f.feedId, answer: f.answer }));
  const observations = [own, observationBy(fx, 2, 10n, feeds), observationBy(fx, 3, 10n, feeds)];
  validSign = { report: encodeReport(reportOf(fx, 10n, observations, [FEEDS.BTC, FEEDS.ETH])), feedIds: [FEEDS.BTC, FEEDS.ETH], observations: observations.map(observationToJson) };
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

  it('sign: 1200 mutated reports and observations, no 500', async () => {
    // Flip, cut, extend or replace the encoding v2 bytes (header, bitmap, answers alike).
    const encoded = (hex0x: string) => {
      const bytes = Buffer.from(hex0x.slice(2), 'hex');
      return fc.oneof(
        fc.constant(hex0x),
        fc.tuple(fc.nat({ max: bytes.length - 1 }), fc.integer({ min: 1, max: 255 })).map(([i, x]) => {
          const b = Buffer.from(bytes);
          b[i] = b[i]! ^ x;
          return `0x${b.toString('hex')}`;
        }),
        fc.nat({ max: bytes.length }).map((n) => `0x${bytes.subarray(0, n).toString('hex')}`),
        fc.uint8Array({ minLength: 1, maxLength: 64 }).map((x) => `0x${Buffer.concat([bytes, x]).toString('hex')}`),
        fc.uint8Array({ maxLength: 400 }).map((x) => `0x${Buffer.from(x).toString('hex')}`),
      );
    };
    const observation = (o: SignedObservationJson) =>
      fc.record({
        encoded: maybe(encoded(o.encoded)),
        signature: maybe(fc.oneof(fc.constant(o.signature), hex(64))),
      });
    const feedIds = fc.oneof(
      fc.constant(validSign.feedIds),
      fc.constant([...validSign.feedIds].reverse()),
      fc.array(maybe(fc.oneof(fc.constantFrom(FEEDS.BTC, FEEDS.ETH, FEEDS.USDT), hex(32))), { maxLength: 4 }),
      junk,
    );
    const report = fc.oneof(
      fc.constant(validSign.report),
      // Flip, cut or extend the ABI encoding.
      fc.tuple(fc.nat({ max: (validSign.report.length - 2) / 2 }), fc.integer({ min: 1, max: 255 })).map(([i, x]) => {
        const bytes = Buffer.from(validSign.report.slice(2), 'hex');
        if (i < bytes.length) bytes[i] = bytes[i]! ^ x;
        return `0x${bytes.toString('hex')}`;
      }),
      fc.nat({ max: (validSign.report.length - 2) / 2 }).map((n) => validSign.report.slice(0, 2 + 2 * n)),
      fc.uint8Array({ maxLength: 2048 }).map((b) => `0x${Buffer.from(b).toString('hex')}`),
      junk,
    );
    const body = fc
      .record(
        {
          report,
          feedIds,
          observations: maybe(fc.tuple(...validSign.observations.map(observation)).chain((obs) => fc.subarray(obs))),
          extra: fc.option(junk, { nil: undefined }),
        },
        { requiredKeys: [] },
      )
      .map((o) => JSON.stringify(o));
    await fc.assert(
      fc.asyncProperty(body, async (b) => {
        expectHandled(await postSigned(url, '/v1/sign', b, fx.aggregatorSecret));
      }),
      { numRuns: 1200 },
    );
  });

  it('sign: malformed observation encodings are 400s naming the observation and the field', async () => {
    const mutate = (f: (b: Buffer) => Buffer): string => {
      const b = f(Buffer.from(validSign.observations[1]!.encoded.slice(2), 'hex'));
      return `0x${b.toString('hex')}`;
    };
    const flip = (i: number, x: number) => (b: Buffer) => {
      b[i] = b[i]! ^ x;
      return b;
    };
    const cases: [string, string, RegExp][] = [
      ['truncated', mutate((b) => b.subarray(0, b.length - 1)), /^observations\[1\]: 152 bytes, expected 153 for 2 feeds$/],
      ['header only', mutate((b) => b.subarray(0, 50)), /^observations\[1\]: 50 bytes, shorter than the 104-byte header/],
      ['domain', mutate(flip(19, 0x01)), /^observations\[1\]\.domain: expected "AEGIS_OBSERVATION_V2", got "AEGIS_OBSERVATION_V3"/],
      ['count', mutate(flip(103, 0x01)), /^observations\[1\]\.count: 3, but the feed list sent has 2 feeds$/],
      ['feedsHash', mutate(flip(70, 0xff)), /^observations\[1\]\.feedsHash: 0x[0-9a-f]{64}, but the feed list sent hashes to 0x[0-9a-f]{64}/],
      ['bit beyond count', mutate(flip(104, 0x04)), /^observations\[1\]\.present: bits set beyond count 2/],
      ['absent answer not zero', mutate(flip(104, 0x01)), /^observations\[1\]\.answers\[0\]: feed 0x[0-9a-f]{64} is absent but its answer is \d+, not zero$/],
      ['odd hex', validSign.observations[1]!.encoded + '0', /observations\.1\.encoded: expected 0x-prefixed hex/],
    ];
    for (const [what, encoded, message] of cases) {
      const observations = validSign.observations.map((o, k) => (k === 1 ? { ...o, encoded } : o));
      const res = await postSigned(url, '/v1/sign', JSON.stringify({ ...validSign, observations }), fx.aggregatorSecret);
      expect(res.status, what).toBe(400);
      expect((res.json as { error: { code: string; message: string } }).error, what).toMatchObject({ code: 'bad_request', message: expect.stringMatching(message) });
    }
    const reordered = await postSigned(url, '/v1/sign', JSON.stringify({ ...validSign, feedIds: [...validSign.feedIds].reverse() }), fx.aggregatorSecret);
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
