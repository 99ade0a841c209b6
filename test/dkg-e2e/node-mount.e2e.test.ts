/**
 * The ceremony endpoints on a running node (`startNode` mounts `node/dkg`): a committee
 * reshares without stopping its nodes. The node deals with its current share (the deal's
 * C_0 is its public share), accepts only the committee's aggregator keys as coordinator,
 * and keeps answering its other endpoints.
 */
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../protocol/dkg/index.ts';
import { startNode, type RunningNode } from '../../node/start.ts';
import { postSigned, setupFixture, type Fixture } from '../node/harness.ts';

describe('DKG endpoints mounted on a running node', () => {
  let fx: Fixture;
  let node: RunningNode;
  beforeAll(async () => {
    fx = await setupFixture();
    node = await startNode(fx.configFile, { port: 0 });
  });
  afterAll(async () => {
    await node?.stop();
    await fx?.close();
  });

  it('deals a resharing of its current share for the committee\'s aggregator, refuses other callers', async () => {
    const url = node.http.url;
    const keys = (await (await fetch(`${url}/v1/dkg/keys?ceremonyId=mount-1`)).json()) as { identityKey: string; encryptionKey: string };
    expect(keys.identityKey).toBe(fx.committee.nodes[0]!.identityKey.toLowerCase());
    const newMembers = Array.from({ length: 4 }, () => ({ identityKey: toHex(ed25519.getPublicKey(ed25519.utils.randomSecretKey())), encryptionKey: toHex(x25519.getPublicKey(x25519.utils.randomSecretKey())) }));
    const ceremony = {
      ceremonyId: 'mount-1',
      t: 3,
      participants: newMembers.map((m, k) => ({ index: k + 1, ...m })),
      previous: {
        groupPublicKey: fx.committee.groupPublicKey.toLowerCase(),
        t: fx.committee.t,
        publicShares: fx.committee.nodes.map((n) => n.publicShare.toLowerCase()),
        dealers: fx.committee.nodes.map((n) => ({ index: n.index, identityKey: n.identityKey.toLowerCase() })),
      },
    };
    const body = JSON.stringify({ ceremony });
    const outsider = await postSigned(url, '/v1/dkg/deal', body, ed25519.utils.randomSecretKey());
    expect(outsider.status).toBe(403);
    expect(outsider.json.error.message).toMatch(/not a coordinator this node allows/);
    const ok = await postSigned(url, '/v1/dkg/deal', body, fx.aggregatorSecret);
    expect(ok.status).toBe(200);
    expect(ok.json.dealer).toBe(1);
    expect(ok.json.deal.commitments[0]).toBe(fx.committee.nodes[0]!.publicShare.toLowerCase());
    const status = (await (await fetch(`${url}/v1/dkg/status`)).json()) as { ceremonies: { ceremonyId: string; phase: string; kind: string }[] };
    expect(status.ceremonies).toEqual([expect.objectContaining({ ceremonyId: 'mount-1', phase: 'dealt', kind: 'reshare' })]);
    // The node's own API is unchanged.
    expect((await fetch(`${url}/v1/health`)).status).toBe(200);
    expect((await fetch(`${url}/v1/nothing`)).status).toBe(404);
  });
});
