/**
 * Errors of the ceremony coordinator: a failed ceremony (named with its phase) and a failed
 * call to one node (its HTTP status and the node's error code).
 */
import { CodedError } from '../../runtime/coded-error.ts';

export type CoordinatorErrorCode = 'bad_ceremony_file' | 'too_few_dealers' | 'too_few_nodes' | 'node_failed' | 'digest_mismatch' | 'bad_transcript' | 'rotation_failed';

export class CoordinatorError extends CodedError<CoordinatorErrorCode> {
  override readonly name = 'CoordinatorError';
  constructor(
    code: CoordinatorErrorCode,
    message: string,
    readonly phase?: string,
  ) {
    super(code, phase ? `dkg phase "${phase}": ${message}` : `dkg: ${message}`);
  }
}

/** `status` is the node's HTTP status, 0 when it did not answer; `code` its error code. */
export class NodeCallError extends CodedError {
  override readonly name = 'NodeCallError';
  constructor(
    readonly status: number,
    code: string,
    message: string,
  ) {
    super(code, message);
  }
}
