/**
 * `aegis dkg retire`: erases a share keystore the hub has moved past. Resharing keeps the group
 * secret, so after `aegis dkg reshare` and `aegis dkg rotate` any t *old* shares still combine to
 * valid signatures for the new configuration; the hub cannot tell them apart, and only erasing
 * them retires them (docs/key-ceremony.md §Resharing, step 7).
 *
 * Before erasing, the decision is proved, each check refusing with its own error:
 *  1. the keystore is a share of the committee file (index, public share, n, t, group key);
 *  2. the hub at the file's address, on the RPC's chain, computes the file's config digest for
 *     that configuration, so the file describes this hub on this chain;
 *  3. the hub's current configVersion is above the file's: it rotated away, its digest differs.
 * `force` skips 2 and 3 (a hub that is gone or unreachable); 1 always holds. A committee file that
 * lists several hubs (docs/design.md §Committee file) needs an RPC of every hub's chain, and 2 and
 * 3 must hold for every hub: the share stays live while any hub still uses it.
 *
 * Erasing overwrites the file's bytes in place with random bytes, fsyncs, unlinks and fsyncs the
 * directory. On SSDs and copy-on-write file systems the overwrite is best effort, and backups
 * are not touched: delete those separately.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, fsyncSync, lstatSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { Contract, getBytes, type Provider } from 'ethers';
import { committeeConfigDigest, committeeDeployments, committeeForDeployment, deploymentLabel, g2ToEip2537, parseCommittee, type Committee } from '../../protocol/index.ts';
import { CodedError } from '../../runtime/coded-error.ts';
import { inspectBlsShare, type BlsSharePublic } from '../keys/index.ts';

export type RetireErrorCode = 'not_a_file' | 'share_not_in_committee' | 'no_rpc' | 'wrong_hub' | 'not_rotated';

export class RetireError extends CodedError<RetireErrorCode> {
  override readonly name = 'RetireError';
}

export const RETIRE_ABI = [
  'function committee() view returns (tuple(bytes32 configDigest, uint64 configVersion, uint16 n, uint16 t, bytes groupPublicKey, address blob))',
  'function computeConfigDigest(uint64 configVersion, bytes groupPublicKey, uint16 n, uint16 t) view returns (bytes32)',
];

/** The hub's state that allowed the erasure (absent with `force`). */
export interface HubCheck {
  hub: string;
  configDigest: string;
  configVersion: bigint;
}

export interface RetireResult {
  file: string;
  bytes: number;
  share: BlsSharePublic;
  /** The configuration the share belonged to. */
  configVersion: bigint;
  configDigest: string;
  /** The primary hub's check. */
  hub?: HubCheck;
  /** Every hub's check, the primary first (absent with `force`). */
  hubs?: HubCheck[];
}

/** Check 1: the keystore is share `index` of `committee`; throws naming every difference. */
export function assertShareOf(share: BlsSharePublic, committee: Committee, committeeName: string): void {
  const node = committee.nodes.find((x) => x.index === share.index);
  const problems: string[] = [];
  if (!node) problems.push(`the committee has no node ${share.index}`);
  else if (node.publicShare.toLowerCase() !== share.publicShare) problems.push(`node ${share.index}'s public share differs`);
  if (share.n !== committee.nodes.length || share.t !== committee.t) problems.push(`n/t ${share.n}/${share.t} vs the committee's ${committee.nodes.length}/${committee.t}`);
  if (share.groupPublicKey !== committee.groupPublicKey.toLowerCase()) problems.push('the group key differs');
  if (problems.length > 0) {
    throw new RetireError(
      'share_not_in_committee',
      `keystore ${share.file} (share ${share.index}, n=${share.n} t=${share.t}) is not a share of committee file ${committeeName} (configVersion ${committee.configVersion}): ${problems.join('; ')}; pass the committee file of the ceremony that wrote this keystore`,
    );
  }
}

/** Checks 2 and 3 against the hub (see the header); returns the hub's current configuration. */
export async function assertRotatedPast(committee: Committee, committeeName: string, provider: Provider): Promise<HubCheck> {
  const digest = committeeConfigDigest(committee);
  const hub = new Contract(committee.hub, RETIRE_ABI, provider);
  let computed: string;
  let current: { configDigest: string; configVersion: bigint };
  try {
    computed = (await hub.computeConfigDigest!(committee.configVersion, g2ToEip2537(getBytes(committee.groupPublicKey)), committee.nodes.length, committee.t)) as string;
    current = (await hub.committee!()) as { configDigest: string; configVersion: bigint };
  } catch (err) {
    throw new RetireError('wrong_hub', `hub ${committee.hub} (committee file ${committeeName}): cannot read it on this RPC's chain (${(err as Error).message.split('(')[0]!.trim()}); check --rpc and the file's hub address, or pass --force if the hub is gone`, { cause: err });
  }
  if (computed !== digest) {
    throw new RetireError(
      'wrong_hub',
      `hub ${committee.hub} computes config digest ${computed} for committee file ${committeeName}'s configuration, not the file's ${digest}: the file's chainId ${committee.chainId} or hub address is not this RPC's chain and hub; check --rpc and the committee file`,
    );
  }
  if (current.configVersion <= committee.configVersion) {
    const where = current.configDigest === digest ? 'still uses it: the share is live' : 'has not reached it yet: the share belongs to the next committee';
    throw new RetireError(
      'not_rotated',
      `hub ${committee.hub} is at config digest ${current.configDigest} (configVersion ${current.configVersion}); the share belongs to config digest ${digest} (configVersion ${committee.configVersion}), and the hub ${where}. Rotate the hub first (aegis dkg rotate), or pass --force`,
    );
  }
  return { hub: committee.hub, configDigest: current.configDigest, configVersion: current.configVersion };
}

/** Overwrites `file` in place with random bytes, fsyncs, unlinks it and fsyncs its directory. */
export function eraseFile(file: string): number {
  if (!lstatSync(file).isFile()) throw new RetireError('not_a_file', `${file}: not a regular file (a link or a directory); pass the keystore file itself`);
  const fd = openSync(file, 'r+');
  let size: number;
  try {
    size = fstatSync(fd).size;
    const noise = randomBytes(size);
    for (let off = 0; off < size; ) off += writeSync(fd, noise, off, size - off, off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  unlinkSync(file);
  const dir = openSync(dirname(file), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
  return size;
}

export interface RetireOptions {
  shareFile: string;
  /** The committee file's content: the committee the share belongs to. */
  committee: unknown;
  /** Shown in errors. */
  committeeName: string;
  /** The hub's chain; required unless `force`. */
  provider?: Provider;
  /** More chains, for a committee file that lists several hubs: one provider per chain (matched by chain id). */
  providers?: Provider[];
  /** Erase without asking the hub (checks 2 and 3). */
  force?: boolean;
}

/** Checks (see the header) and erases the share keystore. */
export async function retireShare(o: RetireOptions): Promise<RetireResult> {
  const share = inspectBlsShare(o.shareFile);
  const committee = parseCommittee(o.committee);
  assertShareOf(share, committee, o.committeeName);
  let hubs: HubCheck[] | undefined;
  if (!o.force) {
    const providers = [...(o.provider ? [o.provider] : []), ...(o.providers ?? [])];
    if (providers.length === 0) throw new RetireError('no_rpc', 'retire: pass --rpc URL of the hub\'s chain (or --force to erase without asking the hub)');
    const deployments = committeeDeployments(committee);
    if (deployments.length === 1) {
      hubs = [await assertRotatedPast(committee, o.committeeName, providers[0]!)];
    } else {
      const byChain = new Map<bigint, Provider>();
      for (const p of providers) byChain.set((await p.getNetwork()).chainId, p);
      const missing = deployments.filter((d) => !byChain.has(d.chainId));
      if (missing.length > 0) {
        throw new RetireError(
          'no_rpc',
          `retire: committee file ${o.committeeName} lists ${deployments.length} hubs and the share stays live while any of them uses it; no --rpc for ${missing.map(deploymentLabel).join(', ')}: pass one --rpc per chain (or --force to erase without asking the hubs)`,
        );
      }
      hubs = [];
      for (const d of deployments) hubs.push(await assertRotatedPast(committeeForDeployment(committee, d), o.committeeName, byChain.get(d.chainId)!));
    }
  }
  const bytes = eraseFile(o.shareFile);
  return { file: o.shareFile, bytes, share, configVersion: committee.configVersion, configDigest: committeeConfigDigest(committee), ...(hubs ? { hub: hubs[0]!, hubs } : {}) };
}
