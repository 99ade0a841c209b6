/**
 * `aegis dkg retire` against a real hub on anvil whose committee this test controls (dealer
 * keys instead of a ceremony, so the rotation is one transaction): the decision (share of the
 * committee file, the hub computing the file's digest, the hub past that configuration) refuses
 * before the rotation and erases after it; the erasure overwrites the keystore in place (seen
 * through a hard link) before unlinking it; `--force` skips the hub. The CLI runs once each way.
 */
import { execFile } from 'node:child_process';
import { existsSync, linkSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hexlify, type Contract } from 'ethers';
import { startAnvil, type Anvil } from '../../contracts/anvil.ts';
import { committeeConfig, deployHub, testCommittee, thresholdSign, type TestCommittee } from '../../contracts/hub.ts';
import { committeeConfigDigest, parseCommittee, scalarToBytes, type CommitteeInput } from '../../protocol/index.ts';
import { importBlsShare } from '../../node/keys/index.ts';
import { RetireError, retireShare } from '../../node/dkg/retire.ts';

const run = promisify(execFile);
const KDF = { function: 'pbkdf2', c: 16 } as const;

let anvil: Anvil;
let hub: Contract;
let dir: string;
let v1: TestCommittee;
let v2: TestCommittee;
let fileV1: CommitteeInput;
let fileV2: CommitteeInput;

function committeeFile(c: TestCommittee, hubAddress: string, configVersion: number, chainId = anvil.chainId): CommitteeInput {
  return {
    chainId,
    hub: hubAddress,
    configVersion,
    t: c.t,
    groupPublicKey: hexlify(c.groupPublicKey),
    nodes: c.publicShares.map((p, k) => ({ index: k + 1, identityKey: hexlify(new Uint8Array(32).fill(k + 1)), publicShare: hexlify(p) })),
  };
}

async function keystore(c: TestCommittee, index: number, name: string): Promise<string> {
  const file = join(dir, name);
  const share = c.shares[index - 1]!;
  await importBlsShare(file, hexlify(scalarToBytes(share.secret)), { index, n: c.n, t: c.t, groupPublicKey: hexlify(c.groupPublicKey) }, { password: 'pw', kdf: KDF });
  return file;
}

async function refusal(p: Promise<unknown>): Promise<RetireError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(RetireError);
  return err as RetireError;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'aegis-retire-'));
  anvil = await startAnvil();
  v1 = testCommittee(4);
  v2 = testCommittee(5);
  hub = await deployHub(await anvil.signer(0), v1);
  fileV1 = committeeFile(v1, await hub.getAddress(), 1);
  fileV2 = committeeFile(v2, await hub.getAddress(), 2);
});
afterAll(async () => {
  await anvil?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('aegis dkg retire', () => {
  it('refuses before the rotation, naming both digests; refuses a share of another committee and a file for another chain', async () => {
    const old = await keystore(v1, 2, 'share.json');
    const digest1 = committeeConfigDigest(parseCommittee(fileV1));
    const live = await refusal(retireShare({ shareFile: old, committee: fileV1, committeeName: 'committee.json', provider: anvil.provider }));
    expect(live.code).toBe('not_rotated');
    expect(live.message).toBe(
      `hub ${fileV1.hub} is at config digest ${digest1} (configVersion 1); the share belongs to config digest ${digest1} (configVersion 1), and the hub still uses it: the share is live. Rotate the hub first (aegis dkg rotate), or pass --force`,
    );
    // The next committee's share, before the hub rotated to it.
    const next = await keystore(v2, 1, 'share.next.json');
    const early = await refusal(retireShare({ shareFile: next, committee: fileV2, committeeName: 'next.json', provider: anvil.provider }));
    expect(early.code).toBe('not_rotated');
    expect(early.message).toContain(`the share belongs to config digest ${committeeConfigDigest(parseCommittee(fileV2))} (configVersion 2), and the hub has not reached it yet`);
    // The keystore against another committee's file.
    const other = await refusal(retireShare({ shareFile: old, committee: fileV2, committeeName: 'next.json', provider: anvil.provider }));
    expect(other.code).toBe('share_not_in_committee');
    expect(other.message).toMatch(/share 2, n=4 t=3\) is not a share of committee file next\.json \(configVersion 2\): node 2's public share differs; n\/t 4\/3 vs the committee's 5\/3; the group key differs/);
    // The right committee, but the file names another chain: the hub computes another digest.
    const wrong = await refusal(retireShare({ shareFile: old, committee: { ...fileV1, chainId: 1 }, committeeName: 'mainnet.json', provider: anvil.provider }));
    expect(wrong.code).toBe('wrong_hub');
    expect(wrong.message).toContain(`computes config digest ${digest1} for committee file mainnet.json's configuration, not the file's`);
    expect(existsSync(old) && existsSync(next)).toBe(true);
  });

  it('refuses on the command line with exit 1 and the error', async () => {
    const cf = join(dir, 'committee.json');
    writeFileSync(cf, JSON.stringify(fileV1));
    const err = await run(process.execPath, ['--import', 'tsx', 'scripts/aegis.ts', 'dkg', 'retire', '--share', join(dir, 'share.json'), '--committee', cf, '--rpc', anvil.url]).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(err?.code).toBe(1);
    expect(err?.stderr).toMatch(/^error \(not_rotated\): hub 0x[0-9a-fA-F]{40} is at config digest 0x[0-9a-f]{64} \(configVersion 1\)/);
    expect(existsSync(join(dir, 'share.json'))).toBe(true);
  });

  it('after the rotation: overwrites the old keystore in place, unlinks it, and reports both digests', async () => {
    const [message] = (await hub.rotationMessage!(committeeConfig(v2))) as [string];
    await (await hub.rotateCommittee!(committeeConfig(v2), thresholdSign(v1.shares, v1.t, Uint8Array.from(Buffer.from(message.slice(2), 'hex'))))).wait();
    const old = join(dir, 'share.json');
    const before = readFileSync(old);
    const witness = join(dir, 'witness');
    linkSync(old, witness); // same inode: shows what the erasure wrote
    const r = await retireShare({ shareFile: old, committee: fileV1, committeeName: 'committee.json', provider: anvil.provider });
    expect(existsSync(old)).toBe(false);
    expect(r.bytes).toBe(before.length);
    const after = readFileSync(witness);
    expect(after.length).toBe(before.length);
    expect(after.equals(before)).toBe(false);
    expect(after.toString('latin1')).not.toContain('"crypto"');
    expect(statSync(witness).nlink).toBe(1);
    expect(r.configDigest).toBe(committeeConfigDigest(parseCommittee(fileV1)));
    expect(r.hub).toEqual({ hub: fileV1.hub, configVersion: 2n, configDigest: committeeConfigDigest(parseCommittee(fileV2)) });
    // The new committee's share is now the live one.
    const live = await refusal(retireShare({ shareFile: join(dir, 'share.next.json'), committee: fileV2, committeeName: 'next.json', provider: anvil.provider }));
    expect(live.code).toBe('not_rotated');
  });

  it('on the command line after the rotation; --force erases without a hub', async () => {
    const cf = join(dir, 'committee.json');
    const share3 = await keystore(v1, 3, 'share3.json');
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'scripts/aegis.ts', 'dkg', 'retire', '--share', share3, '--committee', cf, '--rpc', anvil.url]);
    expect(stdout).toContain(`retired ${share3}: share 3`);
    expect(stdout).toContain(`of configVersion 1, config digest ${committeeConfigDigest(parseCommittee(fileV1))}, n=4 t=3`);
    expect(stdout).toContain(`hub ${fileV1.hub} is at configVersion 2, config digest ${committeeConfigDigest(parseCommittee(fileV2))}`);
    expect(existsSync(share3)).toBe(false);

    const share4 = await keystore(v1, 4, 'share4.json');
    const r = await retireShare({ shareFile: share4, committee: { ...fileV1, chainId: 1 }, committeeName: 'mainnet.json', force: true });
    expect([existsSync(share4), r.hub]).toEqual([false, undefined]);
    // --force still requires the keystore to match the committee file.
    const share1 = await keystore(v1, 1, 'share1.json');
    expect((await refusal(retireShare({ shareFile: share1, committee: fileV2, committeeName: 'next.json', force: true }))).code).toBe('share_not_in_committee');
    expect(existsSync(share1)).toBe(true);
  });
});
