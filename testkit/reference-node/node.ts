/**
 * A reference committee for tests, benchmarks and demos of the aggregator alone: dealer
 * keys, identity keys, and nodes that follow the protocol exactly as `protocol/` states it
 * (signed observations from a price function; before signing, the digest, the epoch, every
 * observation signature and every median recomputed with `buildReport`; one report per
 * epoch). It is not the production node (`node/`), which the aggregator never imports; the
 * end-to-end tests run that one. Faults are switchable per node to exercise the aggregator.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { getBytes, hexlify } from 'ethers';
import {
  buildReport,
  committeeConfigDigest,
  dealerKeygen,
  defaultThreshold,
  G1,
  NodeRefusal,
  parseCommittee,
  partialSign,
  reportHash,
  reportMessage,
  signObservation,
  type Committee,
  type DealerOutput,
  type KeyShare,
  type NodeClient,
  type NodeHandlers,
  type ObserveCall,
  type PartialSignature,
  type SignCall,
  type SignedObservation,
} from '../../protocol/index.ts';
import { verifyObservationFast } from '../../aggregator/round/verify.ts';

export interface TestCommittee {
  committee: Committee;
  configDigest: string;
  shares: KeyShare[];
  identitySecrets: Uint8Array[];
  /** An aggregator identity listed in the committee file. */
  aggregatorSecret: Uint8Array;
}

export function makeTestCommittee(opts: { n: number; t?: number; chainId?: bigint; hub?: string; configVersion?: bigint; urls?: string[]; aggregators?: number; dealt?: DealerOutput }): TestCommittee {
  const t = opts.dealt?.t ?? opts.t ?? defaultThreshold(opts.n);
  const dealt = opts.dealt ?? dealerKeygen(t, opts.n);
  const identitySecrets = Array.from({ length: opts.n }, () => ed25519.utils.randomSecretKey());
  const aggregatorSecrets = Array.from({ length: opts.aggregators ?? 1 }, () => ed25519.utils.randomSecretKey());
  const committee = parseCommittee({
    chainId: String(opts.chainId ?? 31337n),
    hub: opts.hub ?? '0x00000000000000000000000000000000000000a1',
    configVersion: String(opts.configVersion ?? 1n),
    t,
    groupPublicKey: hexlify(dealt.groupPublicKey),
    nodes: dealt.publicShares.map((pk, k) => ({
      index: k + 1,
      identityKey: hexlify(ed25519.getPublicKey(identitySecrets[k]!)),
      publicShare: hexlify(pk),
      ...(opts.urls?.[k] ? { url: opts.urls[k] } : {}),
    })),
    aggregators: aggregatorSecrets.map((s, k) => ({ identityKey: hexlify(ed25519.getPublicKey(s)), name: `aggregator-${k + 1}` })),
  });
  return { committee, configDigest: committeeConfigDigest(committee), shares: dealt.shares, identitySecrets, aggregatorSecret: aggregatorSecrets[0]! };
}

/** Price of a feed (fixed point) at unix seconds `now` as node `index` sees it; null = no observation. */
export type PriceSource = (feedId: string, nodeIndex: number, nowSec: number) => bigint | null;

export type Fault =
  | { kind: 'none' }
  /** Every call fails like a refused connection. */
  | { kind: 'down' }
  /** Every call takes `ms` before answering. */
  | { kind: 'slow'; ms: number }
  /** Returns a well-formed partial signature that does not verify (a Byzantine signer), `ms` late. */
  | { kind: 'bad_partial'; ms?: number }
  /** Signs observations with a key that is not its identity key. */
  | { kind: 'bad_observation_signature' }
  /** Reports `factor` × the true price (a lying observer). */
  | { kind: 'skew'; factor: number };

export class ReferenceNode implements NodeHandlers {
  fault: Fault = { kind: 'none' };
  /** Epoch → hash of the one report this node signed for it (anti-equivocation). */
  private readonly signedByEpoch = new Map<bigint, string>();

  constructor(
    readonly index: number,
    private readonly tc: TestCommittee,
    private readonly price: PriceSource,
    private readonly nowSec: () => number = () => Math.floor(Date.now() / 1000),
  ) {}

  private get share(): KeyShare {
    return this.tc.shares[this.index - 1]!;
  }

  private async applyFault(): Promise<void> {
    if (this.fault.kind === 'down') throw Object.assign(new Error(`connect ECONNREFUSED (node ${this.index} is down)`), { code: 'ECONNREFUSED' });
    if (this.fault.kind === 'slow') await new Promise((r) => setTimeout(r, (this.fault as { ms: number }).ms));
  }

  async observe(call: ObserveCall): Promise<SignedObservation> {
    await this.applyFault();
    if (call.configDigest.toLowerCase() !== this.tc.configDigest.toLowerCase()) {
      throw new NodeRefusal(this.index, 'config_digest_mismatch', `config digest mismatch: expected ${this.tc.configDigest}, got ${call.configDigest}`);
    }
    const now = this.nowSec();
    const feeds = call.feedIds.map((feedId) => {
      let answer = this.price(feedId, this.index, now);
      if (answer !== null && this.fault.kind === 'skew') answer = (answer * BigInt(Math.round(this.fault.factor * 1e6))) / 1_000_000n;
      return answer === null ? { feedId, answer: null, reason: 'no agreeing sources' } : { feedId, answer };
    });
    const observation = { configDigest: call.configDigest.toLowerCase(), epoch: call.epoch, nodeIndex: this.index, observedAt: BigInt(now), feeds };
    const key = this.fault.kind === 'bad_observation_signature' ? ed25519.utils.randomSecretKey() : this.tc.identitySecrets[this.index - 1]!;
    return signObservation(observation, key);
  }

  async sign(call: SignCall): Promise<PartialSignature> {
    await this.applyFault();
    const { report, observations } = call;
    const refuse = (code: string, message: string): never => {
      throw new NodeRefusal(this.index, code, message);
    };
    if (report.configDigest.toLowerCase() !== this.tc.configDigest.toLowerCase()) refuse('config_digest_mismatch', `config digest mismatch: expected ${this.tc.configDigest}, got ${report.configDigest}`);
    for (const s of observations) {
      const member = this.tc.committee.nodes.find((n) => n.index === s.observation.nodeIndex);
      if (!member || !verifyObservationFast(s, member.identityKey)) refuse('bad_observation_signature', `observation of node ${s.observation.nodeIndex}: signature does not verify`);
      if (s.observation.epoch !== report.epoch) refuse('observation_mismatch', `observation of node ${s.observation.nodeIndex} is for epoch ${s.observation.epoch}, report for ${report.epoch}`);
    }
    const rebuilt = buildReport(this.tc.configDigest, report.epoch, observations.map((s) => s.observation), report.feedIds, this.tc.committee.t).report;
    // The message once: its hex keys the one-report-per-epoch rule, its bytes get signed.
    const message = reportMessage(report);
    const hash = hexlify(message);
    if (!rebuilt || reportHash(rebuilt) !== hash) refuse('median_mismatch', 'report does not match the medians recomputed from the signed observations');
    const prior = this.signedByEpoch.get(report.epoch);
    if (prior !== undefined && prior !== hash) refuse('conflicting_report', `already signed another report for epoch ${report.epoch}`);
    this.signedByEpoch.set(report.epoch, hash);
    if (this.fault.kind === 'bad_partial') {
      if (this.fault.ms) await new Promise((r) => setTimeout(r, (this.fault as { ms: number }).ms));
      return { index: this.index, signature: G1.BASE.multiply(12345n + BigInt(this.index)).toBytes() };
    }
    return partialSign(this.share, message);
  }
}

/** A `NodeClient` calling a `NodeHandlers` in memory (the simulator's transport). */
export class InMemoryNodeClient implements NodeClient {
  constructor(
    readonly index: number,
    private readonly handlers: NodeHandlers,
  ) {}

  observe(call: ObserveCall, signal?: AbortSignal): Promise<SignedObservation> {
    return abortable(this.handlers.observe(call), signal);
  }

  sign(call: SignCall, signal?: AbortSignal): Promise<PartialSignature> {
    return abortable(this.handlers.sign(call), signal);
  }
}

function abortable<T>(p: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return p;
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Error('aborted'));
    signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
    p.then(resolve, reject);
  });
}

/** n reference nodes with in-memory clients. */
export function makeReferenceNodes(tc: TestCommittee, price: PriceSource, nowSec?: () => number): { nodes: ReferenceNode[]; clients: InMemoryNodeClient[] } {
  const nodes = tc.committee.nodes.map((m) => new ReferenceNode(m.index, tc, price, nowSec));
  return { nodes, clients: nodes.map((n) => new InMemoryNodeClient(n.index, n)) };
}
