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
let validSign: { report: string; observations: SignedObservationJson[] };

beforeAll(async () => {
  fx = await setupFixture();
  node = await startNode(fx.configFile, { logger: pino({ level: 'silent' }), port: 0 });
  url = node.http.url;
  await waitReady(url);
  const client = new HttpNodeClient({ index: 1, url, identitySecret: fx.aggregatorSecret });
  const own = await client.observe({ configDigest: fx.digest, epoch: 10n, feedIds: [FEEDS.BTC, FEEDS.ETH] });
  const feeds = own.observation.feeds.map((f) => ({ feedId: f.feedId, answer: f.answer }));
  const observations = [own, observationBy(fx, 2, 10n, feeds), observationBy(fx, 3, 10n, feeds)];
  validSign = { report: encodeReport(reportOf(fx, 10n, observations, [FEEDS.BTC, FEEDS.ETH])), observations: observations.map(observationToJson) };
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
    const observation = (o: SignedObservationJson) =>
      fc.record({
        observation: maybe(
          fc.record({
            configDigest: maybe(fc.constant(o.observation.configDigest)),
            epoch: maybe(fc.oneof(fc.constant(o.observation.epoch), fc.bigInt({ min: 0n, max: 1n << 70n }).map(String))),
            nodeIndex: maybe(fc.oneof(fc.constant(o.observation.nodeIndex), fc.integer({ min: -5, max: 300 }))),
            observedAt: maybe(fc.oneof(fc.constant(o.observation.observedAt), fc.bigInt({ min: 0n, max: 1n << 65n }).map(String))),
            feeds: maybe(
              fc.array(
                fc.record({
                  feedId: maybe(fc.constantFrom(FEEDS.BTC, FEEDS.ETH)),
                  answer: maybe(fc.oneof(fc.constant(null), fc.bigInt({ min: -(1n << 200n), max: 1n << 200n }).map(String))),
                }),
                { maxLength: 4 },
              ),
            ),
          }),
        ),
        signature: maybe(fc.oneof(fc.constant(o.signature), hex(64))),
      });
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
