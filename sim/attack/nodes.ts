/**
 * Attacks on nodes: `k` Byzantine nodes wrapping the real node's handlers with a strategy, and
 * denial of service that makes nodes unreachable. A Byzantine node holds its own identity key
 * and BLS share, so what it sends is correctly signed: the defences that must stop it are the
 * median, the honest nodes' checks and the aggregator's partial verification, not signatures.
 *
 *  - extreme:    answers × factor (10× by default), re-signed with its identity key;
 *  - bias:       answers moved by `biasBps` (default just inside the honest sanity band);
 *  - withhold:   never answers (observe or sign);
 *  - equivocate: observes honestly but signs a different report than the one it is asked to
 *                (a conflicting partial for the same epoch), and signs anything without checks.
 */
import {
  NodeRefusal,
  partialSign,
  reportMessage,
  signObservation,
  type KeyShare,
  type NodeHandlers,
  type ObserveCall,
  type PartialSignature,
  type SignCall,
  type SignedObservation,
} from '../../protocol/index.ts';

export type ByzantineStrategy = 'extreme' | 'bias' | 'withhold' | 'equivocate';

export interface ByzantineSpec {
  strategy: ByzantineStrategy;
  factor: number;
  biasBps: number;
  fromSec: number;
  toSec: number;
}

/** A transport-level failure (connection refused), as the aggregator sees a node that is down. */
export class Unreachable extends Error {
  override readonly name = 'Unreachable';
  constructor(index: number, why: string) {
    super(`node ${index}: unreachable (${why})`);
  }
}

const scale = (x: bigint, f: number): bigint => (x * BigInt(Math.round(f * 1e9))) / 1_000_000_000n;

export interface NodeFaults {
  /** The Byzantine strategy active at `tSec` for node `index`, if any. */
  byzantine(index: number, tSec: number): ByzantineSpec | undefined;
  down(index: number, tSec: number): boolean;
  /** Called when a fault is exercised, for the report. */
  note(tSec: number, index: number, what: string): void;
}

export function faultyHandlers(
  index: number,
  honest: NodeHandlers,
  keys: { identitySecret: Uint8Array; share: KeyShare },
  faults: NodeFaults,
  nowSec: () => number,
): NodeHandlers {
  return {
    async observe(call: ObserveCall): Promise<SignedObservation> {
      const t = nowSec();
      if (faults.down(index, t)) throw new Unreachable(index, 'denial of service');
      const byz = faults.byzantine(index, t);
      if (byz?.strategy === 'withhold') {
        faults.note(t, index, 'withheld its observation');
        throw new Unreachable(index, 'Byzantine node withholding');
      }
      const signed = await honest.observe(call);
      if (!byz || (byz.strategy !== 'extreme' && byz.strategy !== 'bias')) return signed;
      const f = byz.strategy === 'extreme' ? byz.factor : 1 + byz.biasBps / 1e4;
      const o = signed.observation;
      faults.note(t, index, byz.strategy === 'extreme' ? `reported answers × ${f}` : `reported answers biased by ${byz.biasBps} bps`);
      return signObservation({ ...o, feeds: o.feeds.map((x) => (x.answer === null ? x : { feedId: x.feedId, answer: scale(x.answer, f) })) }, keys.identitySecret);
    },
    async sign(call: SignCall): Promise<PartialSignature> {
      const t = nowSec();
      if (faults.down(index, t)) throw new Unreachable(index, 'denial of service');
      const byz = faults.byzantine(index, t);
      if (!byz) return honest.sign(call);
      if (byz.strategy === 'withhold') throw new Unreachable(index, 'Byzantine node withholding');
      if (byz.strategy === 'equivocate') {
        const other = { ...call.report, answers: call.report.answers.map((a) => scale(a, 1.01)) };
        faults.note(t, index, 'signed a conflicting report for the same epoch');
        return partialSign(keys.share, reportMessage(other));
      }
      // A Byzantine node signs whatever serves it, without the honest checks.
      return partialSign(keys.share, reportMessage(call.report));
    },
  };
}

export { NodeRefusal };
