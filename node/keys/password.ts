/**
 * Where a keystore password comes from: a file (e.g. a mounted secret) or an environment
 * variable, never the command line or the config file itself.
 *
 * A password file may end with one newline (as `echo pw > file` writes); it is removed. EIP-2335
 * normalises passwords further (NFKD, control characters stripped) inside the keystore library.
 */
import { readFileSync } from 'node:fs';
import { KeystoreError } from './errors.ts';

export type PasswordSource = { file: string } | { env: string };

/** Read the password from its source; throws `password_unavailable` naming the source. */
export function readPassword(source: PasswordSource, env: NodeJS.ProcessEnv = process.env): string {
  let password: string | undefined;
  let where: string;
  if ('file' in source) {
    where = `password file ${source.file}`;
    try {
      password = readFileSync(source.file, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new KeystoreError('password_unavailable', `${where}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); create it or fix the path`, {
        cause: err,
      });
    }
  } else {
    where = `password environment variable ${source.env}`;
    password = env[source.env];
    if (password === undefined) throw new KeystoreError('password_unavailable', `${where} is not set; export it before starting the node`);
  }
  if (password.length === 0) throw new KeystoreError('password_unavailable', `${where} is empty; a keystore needs a non-empty password`);
  return password;
}
