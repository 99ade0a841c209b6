/**
 * Errors of the ceremony coordinator: a failed ceremony (named with its phase) and a failed
 * call to one node (its HTTP status and the node's error code).
 */

export type CoordinatorErrorCode = 'bad_ceremony_file' | 'too_few_dealers' | 'too_few_nodes' | 'node_failed' | 'digest_mismatch' | 'bad_transcript' | 'rotation_failed';

export class CoordinatorError extends Error {
  override readonly name = 'CoordinatorError';
  constructor(
    readonly code: CoordinatorErrorCode,
    message: string,
    readonly phase?: string,
  ) {
    super(phase ? `dkg phase "${phase}": ${message}` : `dkg: ${message}`);
  }
}

export class NodeCallError extends Error {
  override readonly name = 'NodeCallError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
