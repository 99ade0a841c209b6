/**
 * Observe phase (docs/design.md §Round protocol, steps 1–2): ask every node for its signed
 * observation of the feed set for this epoch, and keep only those that check out: right
 * node, right config digest and epoch, valid identity signature, exactly the requested feeds
 * in request order, and an observation time within the allowed age.
 */
import { type Committee, type NodeClient, type SignedObservation } from '../../protocol/index.ts';
import { gather, InvalidAnswer, type GatherOptions } from './gather.ts';
import type { Exclusion } from './types.ts';
import { verifyObservationFast } from './verify.ts';

export interface ObservePhaseInput {
  clients: readonly NodeClient[];
  committee: Committee;
  configDigest: string;
  epoch: bigint;
  feedIds: string[];
  /** Largest allowed |now − observedAt| in seconds. */
  maxObservationAgeSec: number;
  nowSec: () => number;
  gather: GatherOptions;
}

export interface ObservePhaseResult {
  valid: SignedObservation[];
  excluded: Exclusion[];
}

export function checkObservation(s: SignedObservation, input: Omit<ObservePhaseInput, 'clients' | 'gather'>, expectedIndex: number): void {
  const o = s.observation;
  if (o.nodeIndex !== expectedIndex) throw new InvalidAnswer('wrong_node_index', `observation claims node index ${o.nodeIndex}, expected ${expectedIndex}`);
  if (o.configDigest.toLowerCase() !== input.configDigest.toLowerCase()) {
    throw new InvalidAnswer('config_digest_mismatch', `config digest mismatch: expected ${input.configDigest}, got ${o.configDigest}; the node runs another committee file`);
  }
  if (o.epoch !== input.epoch) throw new InvalidAnswer('wrong_epoch', `observation for epoch ${o.epoch}, asked for epoch ${input.epoch}`);
  const member = input.committee.nodes.find((n) => n.index === expectedIndex);
  if (!member || !verifyObservationFast(s, member.identityKey)) {
    throw new InvalidAnswer('bad_observation_signature', 'observation signature does not verify against the identity key in the committee file');
  }
  // Over HTTP the decoder already matched feedsHash to the requested list; this covers every
  // transport (in memory too): the observation answers exactly the requested feeds, in order.
  if (o.feeds.length !== input.feedIds.length) throw new InvalidAnswer('wrong_feeds', `observation covers ${o.feeds.length} feeds, ${input.feedIds.length} were requested`);
  for (const [k, f] of o.feeds.entries()) {
    if (f.feedId.toLowerCase() !== input.feedIds[k]!.toLowerCase()) throw new InvalidAnswer('wrong_feeds', `observation feed ${k} is ${f.feedId}, the request's is ${input.feedIds[k]}; answer the requested feeds in order`);
  }
  const age = input.nowSec() - Number(o.observedAt);
  if (Math.abs(age) > input.maxObservationAgeSec) {
    throw new InvalidAnswer('stale_observation', `observation time ${o.observedAt} is ${age} s from the aggregator's clock (allowed ±${input.maxObservationAgeSec} s); check NTP`);
  }
}

export async function observePhase(input: ObservePhaseInput): Promise<ObservePhaseResult> {
  const outcomes = await gather(
    input.clients,
    async (client, signal) => {
      const s = await client.observe({ configDigest: input.configDigest, epoch: input.epoch, feedIds: input.feedIds }, signal);
      checkObservation(s, input, client.index);
      return s;
    },
    'observe',
    input.gather,
  );
  const valid: SignedObservation[] = [];
  const excluded: Exclusion[] = [];
  for (const o of outcomes) {
    if (o.ok) valid.push(o.value);
    else excluded.push({ index: o.index, phase: 'observe', code: o.code, reason: o.reason });
  }
  valid.sort((a, b) => a.observation.nodeIndex - b.observation.nodeIndex);
  return { valid, excluded };
}
