/**
 * The committee file's deployments (docs/design.md §Committee file): a file without
 * `deployments` keeps its digest byte for byte; each further hub gets its own digest; a hub
 * listed twice, or a name used twice, is refused by name; selecting a deployment names the ones
 * there are.
 */
import { describe, expect, it } from 'vitest';
import { getBytes } from 'ethers';
import {
  committeeConfigDigest,
  committeeDeployments,
  committeeForDeployment,
  computeConfigDigest,
  g2ToEip2537,
  parseCommittee,
  selectDeployment,
  type CommitteeInput,
} from '../../protocol/index.ts';

// dealerKeygen(2, 3, 123456789n): the group key depends only on the secret, so the digest below is fixed.
const GROUP_KEY =
  '0xb068ad1be382009ac2dce123ec62dca8337d6b93b909b3ee52e31cb9e4098d1b56d596bf3c08166c7b46cb3aa85c23381380055ab9f1a87786f2508f3e4ce5caa5abcdae0a80141ee8ccc3626311e0a53be5d873fa964fd85ad56771f2984579';
const SHARES = [
  '0xad84eff2bc5355b64ec5b136302f50a2cb985e22994b0f61d8353e55001a9f90592dcc1c35d6743f90a6cee64230ada110e55a82e3e5c5341c6bd2938bdf4def2af2b1a272bb92b4eb0cf6cded875af3d6aba69e56014f8b0563690efe8742fd',
  '0xa43cd6012d2757aa58d8e594515ed26fc1fc7f579da780cb5af9c1725ebc40cc5724a4c662705beff934b3add8978ffc127f28a59daf4dbcb09379fee8800d8397bcdde4aa3f6ebf90d3f7e44bcd9ed73550cc8ca404cbbd3ca26e88021e9733',
  '0x88c61bd3ca7d9a9a7fab20b20357126963fde605abcd65858c5f45096bba59e1a6fb4cfaf394970bf1d27a72620c777d0e268fa46b8be79461b5b698ef04fd82a33b961ce5d24e048abc8994f501a475568dd9488a592b9aa6febd18c8915264',
];
const HUB = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
/** The digest the committee code before `deployments` existed gave for FILE (computed with it). */
const OLD_DIGEST = '0x5e026e619913d3c9bbd5a0fe569ab06479856b7bd181266d2e7052690c9b2e46';

const FILE: CommitteeInput = {
  chainId: 31337,
  hub: HUB,
  configVersion: 1,
  t: 2,
  groupPublicKey: GROUP_KEY,
  nodes: SHARES.map((publicShare, k) => ({ index: k + 1, identityKey: '0x' + String(k + 1).padStart(2, '0').repeat(32), publicShare })),
};

const digestOf = (chainId: bigint, hub: string, configVersion: bigint) =>
  computeConfigDigest({ chainId, hub, configVersion, groupPublicKey: g2ToEip2537(getBytes(GROUP_KEY)), n: 3, t: 2 }).toLowerCase();

describe('committee file: deployments', () => {
  it('a file without deployments keeps its digest byte for byte and lists one deployment', () => {
    const c = parseCommittee(FILE);
    expect(c.deployments).toBeUndefined();
    expect(committeeConfigDigest(c).toLowerCase()).toBe(OLD_DIGEST);
    expect(committeeDeployments(c)).toEqual([{ chainId: 31337n, hub: HUB, configVersion: 1n, primary: true, configDigest: OLD_DIGEST }]);
  });

  it('each deployment has its own digest; the primary comes first and keeps the old digest', () => {
    const other = '0x' + 'ab'.repeat(20);
    const c = parseCommittee({ ...FILE, deployments: [{ chainId: 8453, hub: HUB, configVersion: 3, name: 'base' }, { chainId: '42161', hub: other, configVersion: 1 }] });
    const all = committeeDeployments(c);
    expect(all.map((d) => [d.primary, d.name, d.chainId, d.configVersion])).toEqual([
      [true, undefined, 31337n, 1n],
      [false, 'base', 8453n, 3n],
      [false, undefined, 42161n, 1n],
    ]);
    expect(all[0]!.configDigest).toBe(OLD_DIGEST);
    expect(committeeConfigDigest(c).toLowerCase()).toBe(OLD_DIGEST);
    // Same hub address, another chain id: another digest (what keeps a report for one chain off the other).
    expect(all[1]!.configDigest).toBe(digestOf(8453n, HUB, 3n));
    expect(all[2]!.configDigest).toBe(digestOf(42161n, other, 1n));
    expect(new Set(all.map((d) => d.configDigest)).size).toBe(3);
    // The committee as one hub sees it: its digest is that hub's, and it lists no further hubs.
    const base = committeeForDeployment(c, all[1]!);
    expect(base.deployments).toBeUndefined();
    expect(committeeConfigDigest(base).toLowerCase()).toBe(all[1]!.configDigest);
    expect(base.nodes).toEqual(c.nodes);
  });

  it('refuses a hub listed twice and a name used twice, naming them', () => {
    expect(() => parseCommittee({ ...FILE, deployments: [{ chainId: 31337, hub: HUB.toLowerCase(), configVersion: 2 }] })).toThrow(
      new RegExp(`hub ${HUB.toLowerCase()} on chain 31337 is listed twice \\(the primary deployment \\(chainId, hub\\) and deployments\\.0\\)`),
    );
    expect(() =>
      parseCommittee({ ...FILE, deployments: [{ chainId: 10, hub: HUB, configVersion: 1 }, { chainId: 10, hub: HUB, configVersion: 1 }] }),
    ).toThrow(/on chain 10 is listed twice \(deployments\.0 and deployments\.1\)/);
    expect(() =>
      parseCommittee({ ...FILE, deployments: [{ chainId: 10, hub: HUB, configVersion: 1, name: 'op' }, { chainId: 8453, hub: HUB, configVersion: 1, name: 'op' }] }),
    ).toThrow(/name op is used twice \(deployments\.0 and deployments\.1\)/);
    expect(() => parseCommittee({ ...FILE, deployments: [{ chainId: 10, hub: HUB, configVersion: 1, extra: 1 }] })).toThrow();
  });

  it('selects a deployment by name, chain id or hub, and names the ones there are otherwise', () => {
    const c = parseCommittee({ ...FILE, deployments: [{ chainId: 8453, hub: HUB, configVersion: 1, name: 'base' }] });
    expect(selectDeployment(c, {}).primary).toBe(true);
    expect(selectDeployment(c, { name: 'base' }).chainId).toBe(8453n);
    expect(selectDeployment(c, { chainId: 31337n }).primary).toBe(true);
    expect(() => selectDeployment(c, { hub: HUB })).toThrow(/2 match hub 0x5FbD.*; give the name or chain id too/);
    expect(() => selectDeployment(c, { name: 'optimism' })).toThrow(/none is name optimism; the committee file lists \(chain 31337, hub 0x5FbD.*\); base \(chain 8453/);
  });
});
