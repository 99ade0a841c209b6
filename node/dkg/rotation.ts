/**
 * Moving the hub to the committee a resharing produced: the current committee's partial
 * signatures over the hub's rotation message, checked and combined, then `rotateCommittee`
 * (docs/key-ceremony.md). A committee that serves several hubs (docs/design.md §Committee file)
 * rotates each of them this way, one call per hub (`deployment`), before its nodes switch to the
 * new committee file and share.
 */
import { Contract, getBytes, hexlify, type Signer } from 'ethers';
import { combinePartials, committeeForDeployment, g2ToEip2537, parseCommittee, rotationTo, selectDeployment, signatureToEvm, verifyPartial } from '../../protocol/index.ts';
import { planOf } from './ceremony-file.ts';
import { callNodeAs, RotationSignAnswerSchema } from './client.ts';
import { CoordinatorError } from './coordinator-error.ts';

export const ROTATION_ABI = [
  'function rotationMessage(tuple(bytes groupPublicKey, uint16 n, uint16 t) next) view returns (bytes32 message, bytes32 nextDigest)',
  'function rotateCommittee(tuple(bytes groupPublicKey, uint16 n, uint16 t) next, bytes signature)',
  'function configDigest() view returns (bytes32)',
];

export interface RotateOptions {
  /** The ceremony file of the finished resharing. */
  ceremonyFile: unknown;
  /** The current committee (the one the hub has now). */
  current: unknown;
  /**
   * Which of the current committee's hubs to rotate: a deployment's name or its chain id
   * (`signer` must be on that chain). Default: the primary hub.
   */
  deployment?: string | number | undefined;
  /** A signer that sends the rotation transaction (anyone may; the signature authorises it). */
  signer: Signer;
  coordinatorSecret: Uint8Array;
  timeoutMs?: number;
  progress?: (line: string) => void;
}

/**
 * Asks the current committee's nodes (the resharing's dealers) for partial signatures over the
 * hub's rotation message (`rotationTo`, computed here as the nodes do and required to equal the
 * hub's `rotationMessage` view), checks each against its public share, combines t of them and sends
 * `rotateCommittee`. Each node computes the message itself from the committee it finalized
 * in that ceremony, so it cannot be made to hand over to another key.
 */
export async function rotateHub(o: RotateOptions): Promise<{ txHash: string; message: string; signers: number[] }> {
  const plan = planOf(o.ceremonyFile);
  const prev = plan.ceremony.previous;
  if (!prev) throw new CoordinatorError('rotation_failed', 'rotation: the ceremony file is not a resharing (no "previous")');
  const file = parseCommittee(o.current);
  let current = file;
  if (o.deployment !== undefined) {
    const byChain = typeof o.deployment === 'number' || /^\d+$/.test(o.deployment);
    try {
      current = committeeForDeployment(file, selectDeployment(file, byChain ? { chainId: BigInt(o.deployment) } : { name: String(o.deployment) }));
    } catch (err) {
      throw new CoordinatorError('rotation_failed', `rotation: --deployment ${o.deployment}: ${(err as Error).message}`);
    }
  }
  const say = o.progress ?? (() => undefined);
  const hub = new Contract(current.hub, ROTATION_ABI, o.signer);
  const key = g2ToEip2537(getBytes(prev.groupPublicKey));
  const next = { groupPublicKey: key, n: plan.ceremony.participants.length, t: plan.ceremony.t };
  // What every dealer computes and signs (service.rotationSign), checked against the hub's view
  // so a committee file or ceremony that is not the hub's current committee fails here, named.
  const local = rotationTo({ chainId: current.chainId, hub: current.hub, configVersion: current.configVersion, groupPublicKey: key, n: prev.publicShares.length, t: prev.t }, next);
  const message = hexlify(local.message);
  const [onChain, onChainNext] = (await hub.rotationMessage!(next)) as [string, string];
  if (onChain !== message) {
    throw new CoordinatorError(
      'rotation_failed',
      `rotation: message mismatch: the hub at ${current.hub} computes ${onChain} (next digest ${onChainNext}), the committee file and ceremony give ${message} (next digest ${local.nextDigest}); the hub's current committee is not configVersion ${current.configVersion} with the ceremony's previous key, n=${prev.publicShares.length}, t=${prev.t}: pass the committee file of the hub's current committee`,
    );
  }
  const dealers = plan.nodes.filter((n) => n.dealer !== undefined);
  const answers = await Promise.allSettled(
    dealers.map((n) =>
      callNodeAs(RotationSignAnswerSchema, n.url, '/v1/dkg/rotation-sign', { ceremonyId: plan.ceremony.ceremonyId, chainId: String(current.chainId), hub: current.hub, configVersion: String(current.configVersion) }, o.coordinatorSecret, o.timeoutMs ?? 30_000),
    ),
  );
  const partials: { index: number; signature: Uint8Array }[] = [];
  answers.forEach((a, k) => {
    const n = dealers[k]!;
    if (a.status === 'rejected') return say(`  rotation: ${n.label} left out: ${(a.reason as Error).message}`);
    const v = a.value;
    if (v.message !== message) return say(`  rotation: ${n.label} signed message ${v.message.slice(0, 14)}…, the hub expects ${message.slice(0, 14)}… (another committee or config version); left out`);
    const partial = { index: v.index, signature: getBytes(v.signature) };
    const pk = prev.publicShares[v.index - 1];
    if (v.index !== n.dealer || !pk || !verifyPartial(partial, getBytes(pk), getBytes(message))) return say(`  rotation: ${n.label}: partial signature does not verify against its public share; left out`);
    partials.push(partial);
  });
  say(`rotation: ${partials.length} valid partial signatures of ${dealers.length} current members, need t=${prev.t}`);
  if (partials.length < prev.t) throw new CoordinatorError('rotation_failed', `rotation: only ${partials.length} valid partial signatures, need the current t=${prev.t}`);
  const signature = signatureToEvm(combinePartials(partials, prev.t));
  const tx = await hub.rotateCommittee!(next, signature);
  const rc = await tx.wait();
  say(`rotation: hub ${current.hub} now at configVersion ${current.configVersion + 1n} (tx ${rc.hash})`);
  return { txHash: rc.hash as string, message, signers: partials.slice(0, prev.t).map((p) => p.index) };
}
