/**
 * The transport the round protocol needs, declared here so the aggregator depends on an
 * interface, not on HTTP (libocr `network.go` style): the HTTP client in `aggregator/` and
 * the in-memory one in `sim/` both implement `NodeClient`, and the node's request handlers
 * implement `NodeHandlers` behind an HTTP server or directly in memory.
 */
import type { Report } from './report.ts';
import type { SignedObservation } from './observation.ts';
import type { PartialSignature } from './bls/index.ts';

export interface ObserveCall {
  configDigest: string;
  epoch: bigint;
  feedIds: string[];
}

export interface SignCall {
  report: Report;
  /** The observations the report was built from; all cover the round's requested feeds in order (the HTTP form sends that list once). */
  observations: SignedObservation[];
}

/** Why a node would not sign; stable codes so aggregators count refusals by reason. */
export type RefusalCode =
  | 'config_digest_mismatch'
  | 'epoch_regression'
  | 'conflicting_report'
  | 'bad_observation_signature'
  | 'observation_mismatch'
  | 'median_mismatch'
  | 'stale_report'
  | 'outside_sanity_band'
  | 'not_ready'
  | 'bad_request';

/** A node answered, but with a refusal or a rejected request. */
export class NodeRefusal extends Error {
  override readonly name = 'NodeRefusal';
  constructor(
    readonly nodeIndex: number,
    readonly code: RefusalCode | string,
    message: string,
  ) {
    super(message);
  }
}

/** What an aggregator calls on one node. Rejects with `NodeRefusal` or a transport error. */
export interface NodeClient {
  readonly index: number;
  observe(call: ObserveCall, signal?: AbortSignal): Promise<SignedObservation>;
  sign(call: SignCall, signal?: AbortSignal): Promise<PartialSignature>;
}

/** What a node serves; the HTTP API and the in-memory transport both wrap these. */
export interface NodeHandlers {
  observe(call: ObserveCall): Promise<SignedObservation>;
  sign(call: SignCall): Promise<PartialSignature>;
}
