/**
 * How a config names a keystore and its password, the same in the node's and the aggregator's
 * YAML: `{ path, passwordFile }` or `{ path, passwordEnv }`. The password itself never sits in
 * a config or on a command line (docs/running-a-node.md, docs/running-an-aggregator.md).
 */
import { z } from 'zod';

export const KeystoreRefSchema = z
  .strictObject({
    path: z.string().min(1, 'give the keystore file path'),
    /** File holding the keystore password (trailing newline ignored). */
    passwordFile: z.string().min(1).optional(),
    /** Environment variable holding the keystore password. */
    passwordEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name such as AEGIS_SHARE_PASSWORD').optional(),
  })
  .refine((k) => (k.passwordFile === undefined) !== (k.passwordEnv === undefined), {
    message: 'give exactly one of passwordFile or passwordEnv (the keystore password is never written in the config)',
  });
export type KeystoreRef = z.output<typeof KeystoreRefSchema>;

/** Where the password of `ref` comes from, in the form the key loaders take. */
export function passwordSourceOf(ref: KeystoreRef): { file: string } | { env: string } {
  return ref.passwordFile !== undefined ? { file: ref.passwordFile } : { env: ref.passwordEnv! };
}
