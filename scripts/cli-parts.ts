/**
 * The parts of the `aegis` command line: which top-level commands each registers (with the line
 * `aegis --help` shows) and how to load it. `scripts/aegis.ts` loads only the part a command
 * line names; test/docs/cli-parts.test.ts checks that every part registers exactly the
 * commands and descriptions listed here.
 */
import type { Command } from 'commander';

export interface Part {
  /** Top-level commands the part registers, with the line `aegis --help` shows for each. */
  commands: Record<string, string>;
  load: () => Promise<(program: Command) => void>;
}

export const PARTS: Part[] = [
  {
    commands: { node: 'run and check an Aegis oracle node', keys: 'create, import and inspect node keystores (EIP-2335)' },
    load: () => import('../node/cli.ts').then((m) => m.registerNodeCommands),
  },
  {
    commands: { aggregator: 'collect observations, combine threshold signatures, post reports, serve them' },
    load: () => import('../aggregator/cli.ts').then((m) => m.registerAggregatorCommands),
  },
  {
    commands: { dkg: 'distributed key generation and resharing of the committee key' },
    load: () => import('../node/dkg/cli.ts').then((m) => m.registerDkgCommands),
  },
  {
    commands: { sim: 'attack simulator: scenarios against the real node, aggregator and contracts' },
    load: () => import('../sim/cli.ts').then((m) => m.registerSimCommands),
  },
  {
    commands: { testbed: 'multi-host testbed: Linux network namespaces on this machine (root)' },
    load: () => import('../sim/testbed/cli.ts').then((m) => m.registerTestbedCommands),
  },
  {
    commands: {
      chain: 'run a local development chain (anvil) on 127.0.0.1 until Ctrl-C; prints its URL and funded development accounts',
      venues: 'simulated exchange venues for trying Aegis by hand',
    },
    load: () => import('../sim/devnet/cli.ts').then((m) => m.registerDevnetCommands),
  },
  {
    commands: { hub: 'deploy, inspect and govern hubs on a chain' },
    load: () => import('../contracts/cli.ts').then((m) => m.registerHubCommands),
  },
];

