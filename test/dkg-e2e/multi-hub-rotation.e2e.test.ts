/**
 * Resharing a committee that serves two hubs (docs/design.md §Committee file): two anvils with
 * different chain ids, a hub on each at configVersion 1 for a DKG'd key, the committee file
 * listing the second under `deployments`. The resharing's committee file carries both hubs,
 * each one version up; the current committee signs each hub's rotation by its own request
 * (`rotateHub` with `deployment`), and afterwards each hub holds the digest the new committee
 * file gives for it. An old share is retired only once every hub has rotated past it.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBytes, type Contract } from 'ethers';
import { startAnvil, type Anvil } from '../../contracts/anvil.ts';
import { deployHub } from '../../contracts/hub.ts';
import { committeeDeployments, parseCommittee } from '../../protocol/index.ts';
import { buildCeremonyFile, rotateHub, runCeremony } from '../../node/dkg/coordinator.ts';
import { retireShare } from '../../node/dkg/retire.ts';
import { setupDkgNodes, type DkgFixture } from '../../sim/devnet/dkg-nodes.ts';

describe('resharing a committee of two hubs', () => {
  let fx: DkgFixture;
  const anvils: Anvil[] = [];

  beforeAll(async () => {
    fx = await setupDkgNodes(3);
  });
  afterAll(async () => {
    await fx?.close();
    for (const a of anvils) await a.stop();
  });

  it('the new committee file carries both hubs one version up, and each hub rotates by its own request', async () => {
    const dkg = await buildCeremonyFile({
      ceremonyId: 'multi-hub-dkg',
      t: 2,
      nodes: fx.nodes.map((n) => n.url),
      committee: { chainId: 31337, hub: '0x0000000000000000000000000000000000000001', configVersion: 1, aggregators: [{ identityKey: fx.aggregatorKey }] },
    });
    fx.approve(dkg);
    const first = await runCeremony(dkg, { coordinatorSecret: fx.coordinatorSecret, phaseTimeoutMs: 30_000 });
    const key = { groupPublicKey: getBytes(first.verification.groupPublicKey), n: 3, t: 2 };

    const hubs: Contract[] = [];
    for (const chainId of [31337, 31338]) {
      const anvil = await startAnvil({ chainId });
      anvils.push(anvil);
      hubs.push(await deployHub(await anvil.signer(0), key));
    }
    const current = {
      ...first.committee!,
      chainId: 31337,
      hub: await hubs[0]!.getAddress(),
      configVersion: 1,
      deployments: [{ chainId: 31338, hub: await hubs[1]!.getAddress(), configVersion: 1, name: 'chain-b' }],
    };
    const before = committeeDeployments(parseCommittee(current));
    for (const [k, hub] of hubs.entries()) expect(String(await hub.configDigest!()).toLowerCase()).toBe(before[k]!.configDigest);
    fx.installCommittee(current);

    const file = await buildCeremonyFile({ ceremonyId: 'multi-hub-reshare', t: 2, nodes: fx.nodes.map((n) => n.url), previous: current });
    expect((file.committee as { configVersion: number; deployments: unknown }).deployments).toEqual([{ chainId: 31338, hub: current.deployments[0]!.hub, configVersion: 2, name: 'chain-b' }]);
    fx.approve(file);
    const res = await runCeremony(file, { coordinatorSecret: fx.coordinatorSecret, phaseTimeoutMs: 30_000 });
    const next = parseCommittee(res.committee);
    const after = committeeDeployments(next);
    expect(after.map((d) => [d.chainId, d.configVersion, d.name])).toEqual([
      [31337n, 2n, undefined],
      [31338n, 2n, 'chain-b'],
    ]);

    // The primary by default, the other by name; each with a signer on its own chain.
    await rotateHub({ ceremonyFile: file, current, signer: await anvils[0]!.signer(1), coordinatorSecret: fx.coordinatorSecret });
    await expect(rotateHub({ ceremonyFile: file, current, signer: await anvils[1]!.signer(1), coordinatorSecret: fx.coordinatorSecret, deployment: 'chain-c' })).rejects.toThrow(/--deployment chain-c: .*none is name chain-c/);
    // The old share is live while any hub uses it: retiring it needs every hub's chain, and every hub rotated.
    const oldShare = fx.nodes[0]!.shareFile;
    const retire = (providers: Anvil[]) => retireShare({ shareFile: oldShare, committee: current, committeeName: 'committee v1', providers: providers.map((a) => a.provider) });
    await expect(retire([anvils[0]!])).rejects.toThrow(/lists 2 hubs .*no --rpc for chain-b \(chain 31338, hub 0x/);
    await expect(retire(anvils)).rejects.toMatchObject({ code: 'not_rotated' });
    expect(existsSync(oldShare)).toBe(true);
    await rotateHub({ ceremonyFile: file, current, signer: await anvils[1]!.signer(1), coordinatorSecret: fx.coordinatorSecret, deployment: 'chain-b' });
    for (const [k, hub] of hubs.entries()) {
      const c = await hub.committee!();
      expect(c.configVersion).toBe(2n);
      expect(String(c.configDigest).toLowerCase()).toBe(after[k]!.configDigest);
    }
    const retired = await retire(anvils);
    expect(retired.hubs?.map((h) => [h.configVersion, h.configDigest.toLowerCase()])).toEqual(after.map((d) => [2n, d.configDigest]));
    expect(existsSync(oldShare)).toBe(false);
  });
});
