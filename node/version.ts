/**
 * The version this node runs (package.json), reported in `/v1/status` so operators and the
 * dashboard can see which nodes of a committee run which release.
 */
import { readFileSync } from 'node:fs';

export const NODE_VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
