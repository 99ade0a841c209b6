/**
 * DKG and resharing over the nodes' real HTTP endpoints on loopback, driven by the real
 * coordinator, with shares landing in real EIP-2335 keystores; the resulting keys sign reports
 * that the AegisHub on anvil accepts, and the committee rotation after a resharing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBytes, hexlify, type Contract } from 'ethers';
import { startAnvil, type Anvil } from '../../contracts/anvil.ts';
import { addFeeds, deployHub, makeReport, transmit } from '../../contracts/hub.ts';
import { combinePartials, committeeConfigDigest, verifyGroupSignature, feedId, g2ToEip2537, parseCommittee, partialSign, reportMessage, rotationTo, signatureToEvm, type KeyShare, type Report } from '../../protocol/index.ts';
import { buildCeremonyFile, rotateHub, runCeremony, CoordinatorError } from '../../node/dkg/coordinator.ts';
import { retireShare } from '../../node/dkg/retire.ts';
import { verifyTranscript } from '../../protocol/dkg/index.ts';
import { loadShare, setupDkgNodes, type DkgFixture } from '../../sim/devnet/dkg-nodes.ts';

const BTC = feedId('BTC/USD');

let hubInterface: Contract['interface'] | undefined;

/** The custom error a transaction reverted with. */
async function revertName(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'no revert';
  } catch (err) {
    const e = err as { revert?: { name?: string }; data?: string; info?: { error?: { data?: string } }; shortMessage?: string; message: string };
    const data = e.data ?? e.info?.error?.data;
    return e.revert?.name ?? (data ? hubInterface?.parseError(data)?.name : undefined) ?? e.shortMessage ?? e.message;
  }
}

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
      committee: { chainId: 31337, hub: '0x0000000000000000000000000000000000000001', configVersion: 1, aggregators: [{ identityKey: fx.aggregatorKey }] },
    });
    // Every operator reviews and approves the ceremony file before the coordinator runs it.
    expect(fx.approve(ceremonyV1)).toHaveLength(7);
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
    hub = await deployHub(await anvil.signer(0), { groupPublicKey: getBytes(res.verification.groupPublicKey), n: 7, t: 5 }, { maxFutureDrift: 86_400, maxReportAge: 86_400 }); // reports here are backdated by up to 1000 s
    hubInterface = hub.interface;
    await addFeeds(hub, ['BTC/USD'], { deviationBps: 0, confirmations: 0 });
    clock = (await anvil.now()) - 1000n;
    const report = await makeReport(hub, { epoch: ++epoch, observedAt: ++clock, feedIds: [BTC], answers: [6_000_000_000_000n] });
    const rc = await transmit(hub, report, sign(shares.slice(2), 5, report));
    expect(rc.status).toBe(1);
    expect(await hub.latestEpoch!()).toBe(epoch);
    expect((await hub.read!(BTC, 86_400))[0]).toBe(6_000_000_000_000n);
  });

  it('resharing 7 → 10 (t 5 → 7) keeps the group key; the current committee signs the hub rotation; new reports are accepted, old-config ones rejected', async () => {
    expect(anvil).toBeDefined();
    const current = { ...committeeV1, chainId: anvil!.chainId, hub: await hub.getAddress() };
    const oldShares: KeyShare[] = [];
    for (const node of fx.nodes) oldShares.push((await loadShare(node.shareFile)).share);
    const added = await fx.addNodes(3);
    for (const node of added) await fx.start(node);
    // The current members run with the hub's committee file; as dealers they check the
    // ceremony's previous committee against it, and sign the rotation it describes.
    fx.installCommittee(current, fx.nodes.slice(0, 7));
    const file = await buildCeremonyFile({ ceremonyId: 'e2e-reshare-10', t: 7, nodes: fx.nodes.map((n) => n.url), previous: current });
    expect((file.committee as { configVersion: number }).configVersion).toBe(2);
    expect(fx.approve(file)).toHaveLength(10);
    const res = await runCeremony(file, { coordinatorSecret: fx.coordinatorSecret, progress: (l) => lines.push(l), phaseTimeoutMs: 30_000 });
    expect(res.excluded).toEqual([]);
    expect(res.verification.groupPublicKey).toBe((committeeV1 as { groupPublicKey: string }).groupPublicKey);
    expect([res.verification.n, res.verification.t]).toEqual([10, 7]);
    const next = parseCommittee(res.committee);
    expect(next.configVersion).toBe(2n);
    expect(next.nodes).toHaveLength(10);
    // Old members keep their current keystore and get the new share beside it.
    expect(res.shareFiles).toHaveLength(10);
    const newShares: KeyShare[] = [];
    for (const sf of [...res.shareFiles].sort((a, b) => a.index - b.index)) {
      if (sf.index <= 7) expect(sf.file).toBe(join(fx.nodes[sf.index - 1]!.dir, 'share.e2e-reshare-10.json'));
      const loaded = await loadShare(sf.file);
      expect(loaded.publicShare).toBe(next.nodes[sf.index - 1]!.publicShare.toLowerCase());
      expect([loaded.n, loaded.t]).toEqual([10, 7]);
      newShares.push(loaded.share);
    }
    expect((await loadShare(fx.nodes[0]!.shareFile)).n).toBe(7);

    // A report of the old configuration, signed before the rotation.
    const pending = await makeReport(hub, { epoch: ++epoch, observedAt: ++clock, feedIds: [BTC], answers: [6_100_000_000_000n] });
    const pendingSig = sign(oldShares, 5, pending);

    // Old keystores cannot be retired while the hub still uses their configuration.
    await expect(retireShare({ shareFile: fx.nodes[0]!.shareFile, committee: current, committeeName: 'committee v1', provider: anvil!.provider })).rejects.toThrow(/the hub still uses it: the share is live/);
    // A committee file that is not the hub's current committee fails before any node signs.
    const stale = { ...current, configVersion: 5 };
    await expect(rotateHub({ ceremonyFile: file, current: stale, signer: await anvil!.signer(1), coordinatorSecret: fx.coordinatorSecret })).rejects.toThrow(
      /rotation: message mismatch: the hub at 0x[0-9a-fA-F]{40} computes 0x[0-9a-f]{64} \(next digest 0x[0-9a-f]{64}\), the committee file and ceremony give 0x[0-9a-f]{64} .*not configVersion 5/,
    );
    const rotation = await rotateHub({ ceremonyFile: file, current, signer: await anvil!.signer(1), coordinatorSecret: fx.coordinatorSecret, progress: (l) => lines.push(l) });
    expect(rotation.message).toBe(hexlify(rotationTo({ chainId: BigInt(anvil!.chainId), hub: await hub.getAddress(), configVersion: 1n, groupPublicKey: g2ToEip2537(getBytes(next.groupPublicKey)), n: 7, t: 5 }, { groupPublicKey: g2ToEip2537(getBytes(next.groupPublicKey)), n: 10, t: 7 }).message));
    expect(rotation.signers).toHaveLength(5);
    const c = await hub.committee!();
    expect([c.configVersion, c.n, c.t]).toEqual([2n, 10n, 7n]);
    expect(c.configDigest.toLowerCase()).toBe(committeeConfigDigest(next).toLowerCase());

    expect(await revertName(transmit(hub, pending, pendingSig))).toBe('ConfigDigestMismatch');
    epoch = 0n;
    const report = await makeReport(hub, { epoch: ++epoch, observedAt: ++clock, feedIds: [BTC], answers: [6_200_000_000_000n] });
    // Resharing keeps the group secret, so t old shares still combine to a valid signature:
    // what retires them is erasing the old keystores (aegis dkg retire, docs/key-ceremony.md §Resharing, step 7), not the hub.
    expect(verifyGroupSignature(combinePartials(oldShares.slice(0, 5).map((s) => partialSign(s, reportMessage(report))), 5), reportMessage(report), getBytes(next.groupPublicKey))).toBe(true);
    // Any 7 of the new committee's shares do.
    expect((await transmit(hub, report, sign(newShares.slice(3), 7, report))).status).toBe(1);
    expect((await hub.read!(BTC, 86_400))[0]).toBe(6_200_000_000_000n);
    // What retires them: every old member erases its old keystore once the hub rotated.
    for (const node of fx.nodes.slice(0, 7)) {
      const r = await retireShare({ shareFile: node.shareFile, committee: current, committeeName: 'committee v1', provider: anvil!.provider });
      expect([existsSync(node.shareFile), r.hub?.configVersion]).toEqual([false, 2n]);
    }
  });
});
