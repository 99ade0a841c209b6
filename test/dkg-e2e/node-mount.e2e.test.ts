/**
 * The ceremony endpoints on a running node (`startNode` mounts `node/dkg`): a committee
 * reshares without stopping its nodes. The node deals with its current share (the deal's
 * C_0 is its public share) for a configured coordinator key, and only once its operator
 * approved the ceremony; the committee's aggregator key is no coordinator, and a config that
 * makes it one does not start. The node keeps answering its other endpoints.
 */
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../protocol/dkg/index.ts';
import { loadNodeConfig } from '../../node/config.ts';
import { approveCeremonyFile } from '../../node/dkg/server.ts';
import { startNode, type RunningNode } from '../../node/start.ts';
import { postSigned, setupFixture, type Fixture } from '../node/harness.ts';

describe('DKG endpoints mounted on a running node', () => {
  let fx: Fixture;
  let node: RunningNode;
  const coordinatorSecret = ed25519.utils.randomSecretKey();
  const coordinatorKey = toHex(ed25519.getPublicKey(coordinatorSecret));
  beforeAll(async () => {
    fx = await setupFixture();
    fx.writeConfig({ dkg: { coordinators: [coordinatorKey] } });
    node = await startNode(fx.configFile, { port: 0 });
  });
  afterAll(async () => {
    await node?.stop();
    await fx?.close();
  });

  it('deals a resharing of its current share for its configured coordinator once approved; refuses the aggregator and other callers', async () => {
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
    const aggregator = await postSigned(url, '/v1/dkg/deal', body, fx.aggregatorSecret);
    expect([aggregator.status, aggregator.json.error.code]).toEqual([403, 'unknown_key']);
    const unapproved = await postSigned(url, '/v1/dkg/deal', body, coordinatorSecret);
    expect([unapproved.status, unapproved.json.error.code]).toEqual([403, 'ceremony_not_approved']);
    expect(unapproved.json.deal).toBeUndefined();

    // The operator reviews the file and approves it (`aegis dkg approve`); no restart.
    const record = approveCeremonyFile(loadNodeConfig(fx.configFile), ceremony);
    expect(record.summary.thisNode).toEqual({ identityKey: keys.identityKey, dealer: 1 });
    const ok = await postSigned(url, '/v1/dkg/deal', body, coordinatorSecret);
    expect(ok.status).toBe(200);
    expect(ok.json.dealer).toBe(1);
    expect(ok.json.deal.commitments[0]).toBe(fx.committee.nodes[0]!.publicShare.toLowerCase());
    const status = (await (await fetch(`${url}/v1/dkg/status`)).json()) as { ceremonies: { ceremonyId: string; phase: string; kind: string }[] };
    expect(status.ceremonies).toEqual([expect.objectContaining({ ceremonyId: 'mount-1', phase: 'dealt', kind: 'reshare' })]);
    // The node's own API is unchanged.
    expect((await fetch(`${url}/v1/health`)).status).toBe(200);
    expect((await fetch(`${url}/v1/nothing`)).status).toBe(404);
  });

  it('does not start when a configured coordinator key is an aggregator key of its committee', async () => {
    const err = await startNode(fx.configFile, { port: 0, dkgCoordinators: [fx.committee.aggregators[0]!.identityKey] }).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('coordinator_is_aggregator');
    expect((err as Error).message).toMatch(/coordinator key 0x[0-9a-fA-F]{64} is the identity key of aggregator "test aggregator" in committee file .*committee\.json.*create a separate coordinator key/);
  });
});
