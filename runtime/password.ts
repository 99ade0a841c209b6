/**
 * Where a keystore password comes from: a file (e.g. a mounted secret) or an environment
 * variable, never the command line or the config file itself. The node, its DKG coordinator
 * and the aggregator all read passwords this way, so one operator setup (a secret file, an
 * exported variable) works for every process and fails with the same words.
 *
 * A password file may end with one newline (as `echo pw > file` writes); it is removed. EIP-2335
 * normalises passwords further (NFKD, control characters stripped) inside the keystore library.
 */
import { readFileSync } from 'node:fs';

export type PasswordSource = { file: string } | { env: string };

/** How the calling process names itself and its error, e.g. `KeystoreError('password_unavailable', …)`. */
export interface PasswordReader {
  /** Ends "export it before starting <process>": `the node`, `the aggregator`. */
  process: string;
  /** The process's own coded error for a password it cannot get; `options` carries the I/O error. */
  error(message: string, options?: { cause: unknown }): Error;
}

/** Read the password from its source; throws `reader.error(…)` naming the source and the fix. */
export function readPassword(source: PasswordSource, reader: PasswordReader, env: NodeJS.ProcessEnv = process.env): string {
  let password: string | undefined;
  let where: string;
  if ('file' in source) {
    where = `password file ${source.file}`;
    try {
      password = readFileSync(source.file, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw reader.error(`${where}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); create it or fix the path`, { cause: err });
    }
  } else {
    where = `password environment variable ${source.env}`;
    password = env[source.env];
    if (password === undefined) throw reader.error(`${where} is not set; export it before starting ${reader.process}`);
  }
  if (password.length === 0) throw reader.error(`${where} is empty; a keystore needs a non-empty password`);
  return password;
}
