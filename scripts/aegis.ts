#!/usr/bin/env -S npx tsx
/**
 * The `aegis` command line. Thin: each part registers its own subcommands
 * (`node/cli.ts`, `aggregator/cli.ts`, `sim/cli.ts`, …) on one commander program.
 */
import { Command } from 'commander';

const program = new Command('aegis').description('Aegis threshold-BLS price oracle').showHelpAfterError();

const parts: { file: string; register: string }[] = [
  { file: '../node/cli.ts', register: 'registerNodeCommands' },
  { file: '../aggregator/cli.ts', register: 'registerAggregatorCommands' },
  { file: '../sim/cli.ts', register: 'registerSimCommands' },
  { file: '../node/dkg/cli.ts', register: 'registerDkgCommands' },
  { file: '../sim/testbed/cli.ts', register: 'registerTestbedCommands' },
  { file: '../sim/devnet/cli.ts', register: 'registerDevnetCommands' },
];

for (const part of parts) {
  const mod = await import(new URL(part.file, import.meta.url).href).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes(part.file.slice(3))) return undefined;
    throw err;
  });
  mod?.[part.register]?.(program);
}

await program.parseAsync(process.argv);
