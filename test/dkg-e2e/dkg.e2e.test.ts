/**
 * DKG and resharing over the nodes' real HTTP endpoints on loopback, driven by the real
 * coordinator, with shares landing in real EIP-2335 keystores; the resulting keys sign reports
 * that the AegisHub on anvil accepts, and the committee rotation after a resharing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBytes, type Contract } from 'ethers';
import { startAnvil, type Anvil } from '../../contracts/anvil.ts';
import { addFeeds, deployHub, makeReport, transmit } from '../../contracts/hub.ts';
import { combinePartials, feedId, parseCommittee, partialSign, reportMessage, signatureToEvm, type KeyShare, type Report } from '../../protocol/index.ts';
import { buildCeremonyFile, rotateHub, runCeremony, CoordinatorError } from '../../node/dkg/coordinator.ts';
import { verifyTranscript } from '../../protocol/dkg/index.ts';
import { loadShare, setupDkgNodes, type DkgFixture } from './harness.ts';

const BTC = feedId('BTC/USD');

function sign(shares: readonly KeyShare[], t: number, report: Report): Uint8Array {
  const m = reportMessage(report);
  return signatureToEvm(combinePartials(shares.slice(0, t).map((s) => partialSign(s, m)), t));
}

describe('DKG n=7, t=5 over the nodes\' HTTP API', () => {
  let fx: DkgFixture;
  let anvil: Anvil | undefined;
  let hub: Contract;
  const lines: string[] = [];
  let committeeV1: Record<string, unknown>;
  let ceremonyV1: unknown;
  let clock = 0n;
  let epoch = 0n;

  beforeAll(async () => {
    fx = await setupDkgNodes(7);
  });
  afterAll(async () => {
    await fx?.close();
    await anvil?.stop();
  });

  it('every node writes its share keystore, the digests agree, the transcript verifies, and 5 shares sign a report the hub accepts', async () => {
    ceremonyV1 = await buildCeremonyFile({
      ceremonyId: 'e2e-dkg-7',
      t: 5,
      nodes: fx.nodes.map((n) => n.url),
      committee: { chainId: 31337, hub: '0x0000000000000000000000000000000000000001', configVersion: 1, aggregators: [{ identityKey: fx.coordinatorKey }] },
    });
    const out = join(fx.root, 'transcript.json');
    const res = await runCeremony(ceremonyV1, { coordinatorSecret: fx.coordinatorSecret, progress: (l) => lines.push(l), transcriptOut: out, phaseTimeoutMs: 30_000 });
    expect(res.excluded).toEqual([]);
    expect(res.verification.qualified).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(lines.some((l) => l.startsWith('deal: 7 of 7 dealers dealt'))).toBe(true);
    expect(lines.some((l) => l.startsWith('finalize: 7 nodes finalized'))).toBe(true);
    // The transcript file re-verifies by itself.
    const v = verifyTranscript(JSON.parse(readFileSync(out, 'utf8')));
    expect(v.ok && v.transcriptDigest).toBe(res.transcriptDigest);
    // Each node's keystore holds the share of its public share.
    const shares: KeyShare[] = [];
    for (const [k, node] of fx.nodes.entries()) {
      expect(existsSync(node.shareFile)).toBe(true);
      const loaded = await loadShare(node.shareFile);
      expect(loaded.index).toBe(k + 1);
      expect(loaded.publicShare).toBe(res.verification.publicShares[k]);
      expect(loaded.groupPublicKey).toBe(res.verification.groupPublicKey);
      shares.push(loaded.share);
    }
    committeeV1 = res.committee!;
    expect(parseCommittee(committeeV1).nodes.map((n) => n.url)).toEqual(fx.nodes.map((n) => n.url));

    anvil = await startAnvil();
    hub = await deployHub(await anvil.signer(0), { groupPublicKey: getBytes(res.verification.groupPublicKey), n: 7, t: 5 }, { maxFutureDrift: 86_400 });
    await addFeeds(hub, ['BTC/USD'], { deviationBps: 0, confirmations: 0 });
    clock = (await anvil.now()) - 1000n;
    const report = await makeReport(hub, { epoch: ++epoch, observedAt: ++clock, feedIds: [BTC], answers: [6_000_000_000_000n] });
    const rc = await transmit(hub, report, sign(shares.slice(2), 5, report));
    expect(rc.status).toBe(1);
    expect(await hub.latestEpoch!()).toBe(epoch);
    expect((await hub.read!(BTC, 86_400))[0]).toBe(6_000_000_000_000n);
  });
});
