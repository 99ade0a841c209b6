/**
 * The node's password reading (`runtime/password.ts`: a file or an environment variable, never
 * the command line), failing with `KeystoreError('password_unavailable')`.
 */
import { readPassword as readPasswordFrom, type PasswordSource } from '../../runtime/password.ts';
import { KeystoreError } from './errors.ts';

export type { PasswordSource };

const NODE = { process: 'the node', error: (message: string, options?: { cause: unknown }) => new KeystoreError('password_unavailable', message, options) };

/** Read the password from its source; throws `password_unavailable` naming the source. */
export function readPassword(source: PasswordSource, env: NodeJS.ProcessEnv = process.env): string {
  return readPasswordFrom(source, NODE, env);
}
