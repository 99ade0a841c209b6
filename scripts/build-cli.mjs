#!/usr/bin/env node
/**
 * `npm run build:cli` (run by `prepare`, so by `npm install`, `npm ci` and `npm pack`):
 * builds the `aegis` entry into `dist/aegis.mjs` with esbuild, offline. The entry and the
 * command list are plain JavaScript (`aegis --help` needs nothing else); the parts stay
 * TypeScript beside it and are loaded through tsx when a command runs (scripts/aegis.ts).
 * Plain JavaScript itself so that it runs before anything is compiled.
 */
import { build } from 'esbuild';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'aegis.mjs');
mkdirSync(dirname(out), { recursive: true });
await build({
  entryPoints: [join(root, 'scripts', 'aegis.ts')],
  outfile: out,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
  plugins: [
    {
      // The parts (../node/cli.ts, …) stay outside the bundle, at the same relative path
      // from dist/ as from scripts/.
      name: 'parts-external',
      setup(b) {
        b.onResolve({ filter: /\/cli\.ts$/ }, (args) => (args.importer.endsWith('cli-parts.ts') ? { path: args.path, external: true } : undefined));
      },
    },
  ],
});
// The source's shebang runs tsx; the built file is plain JavaScript.
writeFileSync(out, readFileSync(out, 'utf8').replace(/^#!.*\n/, '#!/usr/bin/env node\n'));
chmodSync(out, 0o755);
console.log(`built ${out}`);
