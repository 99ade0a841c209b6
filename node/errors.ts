/**
 * Typed errors of the node process (configuration, start-up). Refusals to observe or sign are
 * not errors of the node: they are `NodeRefusal`s from `protocol/transport.ts`.
 *
 * Every message names the thing, the value and the fix, because an operator reads it at 3 am:
 * `config node.yaml: feeds.0.sources.1.venue: unknown venue "binanse"; use one of binance, …`.
 * The base `CodedError` (`runtime/coded-error.ts`) is shared with the other processes.
 */
import { CodedError } from '../runtime/coded-error.ts';

export type NodeErrorCode =
  | 'config_unreadable'
  | 'config_invalid'
  | 'secret_missing'
  | 'committee_invalid'
  | 'config_digest_mismatch'
  | 'key_mismatch'
  | 'not_started';

export class NodeError extends CodedError<NodeErrorCode> {
  override readonly name = 'NodeError';
}
