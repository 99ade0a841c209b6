/**
 * The coordinator's client checks every answer against what the endpoint promises: a node that
 * answers a well-formed HTTP 200 with the wrong shape is refused with the path and the field,
 * so the run leaves it out with that reason instead of failing later on a missing field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ANSWER_SCHEMAS, RotationSignAnswerSchema, callNodeAs, fetchCeremonyKeys } from '../../node/dkg/client.ts';

let server: Server;
let base: string;
const answers: Record<string, unknown> = {
  '/v1/dkg/deal': { deal: 'not an object' },
  '/v1/dkg/finalize': { transcriptDigest: '0x12', groupPublicKey: '0xab', qualified: [1], disqualified: [] },
  '/v1/dkg/rotation-sign': { index: 2, signature: '0xabcd', message: `0x${'11'.repeat(32)}` },
};

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0]!;
    res.setHeader('content-type', 'application/json');
    if (path === '/v1/dkg/keys') return res.end(JSON.stringify({ identityKey: '0x1234' }));
    res.end(JSON.stringify(answers[path] ?? {}));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
});

const secret = new Uint8Array(32).fill(9);

describe('dkg coordinator client', () => {
  it('refuses an answer of the wrong shape, naming the endpoint and the field', async () => {
    await expect(callNodeAs(ANSWER_SCHEMAS.deal, base, '/v1/dkg/deal', {}, secret, 5000)).rejects.toMatchObject({ code: 'bad_answer', message: expect.stringMatching(/^malformed answer from \/v1\/dkg\/deal: deal: /) });
    await expect(callNodeAs(ANSWER_SCHEMAS.finalize, base, '/v1/dkg/finalize', {}, secret, 5000)).rejects.toMatchObject({ message: expect.stringContaining('transcriptDigest: expected 0x-prefixed 32-byte hex') });
    await expect(fetchCeremonyKeys(base, 'c1', 5000)).rejects.toThrow(/cannot get its ceremony keys: malformed answer: identityKey: expected 0x-prefixed 32-byte hex/);
  });

  it('passes a well-formed answer through', async () => {
    await expect(callNodeAs(RotationSignAnswerSchema, base, '/v1/dkg/rotation-sign', {}, secret, 5000)).resolves.toMatchObject({ index: 2, signature: '0xabcd' });
  });
});
