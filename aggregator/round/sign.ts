/**
 * Sign phase (docs/design.md §Round protocol, steps 3–5): send the report and the signed
 * observations it was built from to every node, batch-verify the partials that come back
 * (bisection names each bad signer), combine t of them, and verify the group signature
 * before anything leaves the aggregator. Decoding and combining run as the partials arrive.
 *
 * The phase returns as soon as the first t partials give a group signature that verifies: a
 * threshold signature is unique, so no later partial can change it, and waiting for the
 * stragglers would add the slowest node's round trip (or the grace) to every round. Their
 * answers are still gathered, batch-checked and named (`rest`), off the latency path: the
 * round's record then says who signed and who sent a bad partial, exactly as before.
 */
import { hexlify } from 'ethers';
import {
  BlsError,
  PartialBatch,
  combinePartials,
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

/** Every node's part in the sign phase once all answered or were cut off. */
export interface SignParticipation {
  /** Nodes whose partial passed the batch check. */
  signers: number[];
  excluded: Exclusion[];
  /** Batch verification of every partial that came in. */
  verifyMs: number;
}

export type SignPhaseResult =
  | {
      ok: true;
      signature: Uint8Array;
      signatureEvm: string;
      signers: number[];
      excluded: Exclusion[];
      signMs: number;
      verifyMs: number;
      combineMs: number;
      /**
       * Set when the phase returned on the first t partials: settles with the whole phase's
       * participation once the other nodes answered or were cut off (grace, timeout).
       */
      rest?: Promise<SignParticipation>;
    }
  | { ok: false; code: 'too_few_partials' | 'group_signature_invalid'; message: string; signers: number[]; excluded: Exclusion[]; signMs: number; verifyMs: number; combineMs: number };

export async function signPhase(input: SignPhaseInput): Promise<SignPhaseResult> {
  const t0 = performance.now();
  // Each partial is checked and decoded as it arrives, while other nodes are still signing;
  // the first t that decode are combined and the group signature verified at once.
  const batch = new PartialBatch(input.publicShares, input.message);
  const firstT: PartialSignature[] = [];
  const points = new Map<number, MclG1>();
  let early: { signature: Uint8Array; combineMs: number } | undefined;
  let signalEarly: () => void = () => {};
  const earlyReady = new Promise<'early'>((resolve) => (signalEarly = () => resolve('early')));
  const all = gather(
    input.clients,
    async (client, signal) => {
      const p = await client.sign({ report: input.report, observations: input.observations }, signal);
      if (p.index !== client.index) throw new InvalidAnswer('wrong_node_index', `partial signature claims node index ${p.index}, expected ${client.index}`);
      const point = batch.add(p);
      if (point && firstT.length < input.t) {
        firstT.push(p);
        points.set(p.index, point);
        if (firstT.length === input.t) {
          const c0 = performance.now();
          const signature = combineAndVerify(firstT, input, points);
          if (signature) {
            early = { signature, combineMs: performance.now() - c0 };
            signalEarly();
          }
          batch.fold();
        }
      }
      return p;
    },
    'sign',
    input.gather,
  );
  /** The batch check over every partial that came in, and the nodes it names. */
  const participation = async (): Promise<SignParticipation & { checked: ReturnType<PartialBatch['result']> }> => {
    const outcomes = await all;
    const v0 = performance.now();
    const excluded: Exclusion[] = [];
    for (const o of outcomes) if (!o.ok) excluded.push({ index: o.index, phase: 'sign', code: o.code, reason: o.reason });
    const checked = batch.result();
    for (const bad of checked.invalid) excluded.push({ index: bad.index, phase: 'sign', code: 'bad_partial', reason: `node ${bad.index}: ${bad.reason}; excluded from this round` });
    excluded.sort((a, b) => a.index - b.index);
    return { signers: checked.valid.map((p) => p.index), excluded, verifyMs: performance.now() - v0, checked };
  };

  if ((await Promise.race([all, earlyReady])) === 'early' && early) {
    const rest = participation().then(({ signers, excluded, verifyMs }) => ({ signers, excluded, verifyMs }));
    return {
      ok: true,
      signature: early.signature,
      signatureEvm: hexlify(signatureToEvm(early.signature)),
      signers: firstT.map((p) => p.index).sort((a, b) => a - b),
      excluded: [],
      signMs: performance.now() - t0,
      verifyMs: 0,
      combineMs: early.combineMs,
      rest,
    };
  }
  const t1 = performance.now();
  const { signers, excluded, verifyMs, checked } = await participation();
  const base = { signers, excluded, signMs: t1 - t0, verifyMs };
  if (checked.valid.length < input.t) {
    return {
      ok: false,
      code: 'too_few_partials',
      message: `epoch ${input.report.epoch}: ${checked.valid.length} valid partial signature(s), need t=${input.t}; ${excluded.length} node(s) excluded: ${excluded.map((e) => `${e.index} ${e.code}`).join(', ') || 'none'}`,
      ...base,
      combineMs: 0,
    };
  }
  // A threshold signature is unique: any t valid partials give the same one. A bad partial
  // among the first t spoiled the early one; combine t of the valid ones.
  const t2 = performance.now();
  const signature = early?.signature ?? combineAndVerify(checked.valid, input, checked.points);
  const t3 = performance.now();
  if (!signature) {
    return { ok: false, code: 'group_signature_invalid', message: `epoch ${input.report.epoch}: the combined group signature does not verify against the group key; nothing is sent`, ...base, combineMs: t3 - t2 };
  }
  return { ok: true, signature, signatureEvm: hexlify(signatureToEvm(signature)), ...base, combineMs: t3 - t2 };
}

/** σ from the first t of `partials`, if it verifies against the group key. */
function combineAndVerify(partials: readonly PartialSignature[], input: SignPhaseInput, points: ReadonlyMap<number, MclG1>): Uint8Array | undefined {
  try {
    const signature = combinePartials(partials, input.t, points);
    return verifyGroupSignature(signature, input.message, input.groupPublicKey) ? signature : undefined;
  } catch (err) {
    if (err instanceof BlsError) return undefined;
    throw err;
  }
}
