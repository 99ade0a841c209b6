#!/usr/bin/env -S npx tsx
/**
 * The `aegis` command line. Thin: each part registers its own subcommands (`node/cli.ts`,
 * `aggregator/cli.ts`, …) on one commander program. Only the part the command line names is
 * loaded, so `aegis --help` and every command start without the libraries of the others; the
 * imports are literal paths, so renaming a part or its register function is a type error.
 */
import { Command } from 'commander';
import { PARTS } from './cli-parts.ts';

const program = new Command('aegis').description('Aegis threshold-BLS price oracle').showHelpAfterError();
const words = process.argv.slice(2).filter((a) => !a.startsWith('-'));
// `aegis help node` is `aegis node --help`.
const named = words[0] === 'help' ? words[1] : words[0];
const part = named === undefined ? undefined : PARTS.find((p) => named in p.commands);
if (part) {
  // The installed CLI (dist/aegis.mjs, built by `npm run build:cli`) is plain JavaScript and
  // loads the parts' TypeScript through tsx's loader, registered only when a part is needed,
  // so `aegis --help` starts without it.
  if (import.meta.url.endsWith('.mjs')) (await import('tsx/esm/api')).register();
  (await part.load())(program);
} else {
  // `aegis`, `aegis --help`, or an unknown command: the list of commands, nothing loaded.
  for (const p of PARTS) for (const [name, description] of Object.entries(p.commands)) program.command(name).description(description);
}
await program.parseAsync(process.argv);
