/**
 * What every process started from a node config reads the same way before it runs: the
 * committee file (checked, errors naming the file and the fix), a `--host` override checked like
 * `listen.host`, and the `listen.tls` files. Shared by `aegis node start` (start.ts) and the
 * DKG-only server of `aegis dkg serve` (dkg/server.ts), which start.ts itself mounts.
 */
import { readFileSync } from 'node:fs';
import { ZodError } from 'zod';
import { describeZodError, parseCommittee, type Committee } from '../protocol/index.ts';
import type { NodeConfig } from './config.ts';
import { NodeError } from './errors.ts';
import { ListenHostSchema, readTlsFiles, type TlsPems } from '../protocol/listen.ts';

/** `--host` checked like `listen.host`, else the config's host. */
export function hostOverride(flag: string | undefined, configured: string, configFile: string): string {
  if (flag === undefined) return configured;
  const ok = ListenHostSchema.safeParse(flag);
  if (!ok.success) throw new NodeError('config_invalid', `--host: ${ok.error.issues[0]?.message} (overrides listen.host of ${configFile})`);
  return flag;
}

/** The config's `listen.tls` files, read again at start (they were checked at load). */
export function tlsOfConfig(config: NodeConfig): TlsPems {
  try {
    return readTlsFiles(config.listen.tls!, 'listen.tls');
  } catch (err) {
    throw new NodeError('config_invalid', `config ${config.file}: ${(err as Error).message}`, { cause: err });
  }
}

/** Read and check a committee file; errors name the file, the field and the fix. */
export function loadCommittee(file: string): Committee {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new NodeError('committee_invalid', `committee file ${file}: cannot read it as JSON (${(err as Error).message}); set "committee" in the config to the committee file of your deployment`, { cause: err });
  }
  try {
    return parseCommittee(json);
  } catch (err) {
    const why = err instanceof ZodError ? describeZodError(err) : (err as Error).message;
    throw new NodeError('committee_invalid', `committee file ${file}: ${why}`, { cause: err });
  }
}
