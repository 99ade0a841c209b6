/**
 * Sign phase (DESIGN "Round protocol" steps 3–5): send the report and the signed
 * observations it was built from to every node, batch-verify the partials that come back
 * (bisection names each bad signer), combine t of them, and verify the group signature
 * before anything leaves the aggregator.
 */
import { hexlify } from 'ethers';
import {
  batchVerifyPartials,
  combinePartials,
  decodePartial,
  signatureToEvm,
  verifyGroupSignature,
  type MclG1,
  type NodeClient,
  type PartialSignature,
  type Report,
  type SignedObservation,
} from '../../protocol/index.ts';
import { gather, InvalidAnswer, type GatherOptions } from './gather.ts';
import type { Exclusion } from './types.ts';

export interface SignPhaseInput {
  clients: readonly NodeClient[];
  report: Report;
  message: Uint8Array;
  observations: SignedObservation[];
  t: number;
  publicShares: Uint8Array[];
  groupPublicKey: Uint8Array;
  gather: GatherOptions;
}

export type SignPhaseResult =
  | { ok: true; signature: Uint8Array; signatureEvm: string; signers: number[]; excluded: Exclusion[]; signMs: number; verifyMs: number; combineMs: number }
  | { ok: false; code: 'too_few_partials' | 'group_signature_invalid'; message: string; signers: number[]; excluded: Exclusion[]; signMs: number; verifyMs: number; combineMs: number };

export async function signPhase(input: SignPhaseInput): Promise<SignPhaseResult> {
  const t0 = performance.now();
  // Each partial is decoded (its subgroup check is most of its verification) as it arrives,
  // while other nodes are still signing; the batch check after the gather reuses the points.
  const arrived = new Map<PartialSignature, MclG1>();
  const outcomes = await gather(
    input.clients,
    async (client, signal) => {
      const p = await client.sign({ report: input.report, observations: input.observations }, signal);
      if (p.index !== client.index) throw new InvalidAnswer('wrong_node_index', `partial signature claims node index ${p.index}, expected ${client.index}`);
      const point = decodePartial(p);
      if (point) arrived.set(p, point);
      return p;
    },
    'sign',
    input.gather,
  );
  const t1 = performance.now();
  const excluded: Exclusion[] = [];
  const received: PartialSignature[] = [];
  for (const o of outcomes) {
    if (o.ok) received.push(o.value);
    else excluded.push({ index: o.index, phase: 'sign', code: o.code, reason: o.reason });
  }
  const batch = batchVerifyPartials(received, input.publicShares, input.message, arrived);
  for (const bad of batch.invalid) excluded.push({ index: bad.index, phase: 'sign', code: 'bad_partial', reason: `node ${bad.index}: ${bad.reason}; excluded from this round` });
  const t2 = performance.now();
  const signers = batch.valid.map((p) => p.index);
  const base = { signers, excluded, signMs: t1 - t0, verifyMs: t2 - t1 };
  if (batch.valid.length < input.t) {
    return {
      ok: false,
      code: 'too_few_partials',
      message: `epoch ${input.report.epoch}: ${batch.valid.length} valid partial signature(s), need t=${input.t}; ${excluded.length} node(s) excluded: ${excluded.map((e) => `${e.index} ${e.code}`).join(', ') || 'none'}`,
      ...base,
      combineMs: 0,
    };
  }
  const signature = combinePartials(batch.valid, input.t, batch.points);
  const good = verifyGroupSignature(signature, input.message, input.groupPublicKey);
  const t3 = performance.now();
  if (!good) {
    return { ok: false, code: 'group_signature_invalid', message: `epoch ${input.report.epoch}: the combined group signature does not verify against the group key; nothing is sent`, ...base, combineMs: t3 - t2 };
  }
  return { ok: true, signature, signatureEvm: hexlify(signatureToEvm(signature)), ...base, combineMs: t3 - t2 };
}
