/**
 * `aegis chain` and `aegis venues serve`: the two pieces of the demo a person standing up a
 * network by hand needs on their own (docs/running-a-node.md, "Trying it on one machine"): a
 * local chain that stays up with funded development accounts, and the simulated venues quoting
 * a moving price in each venue's real format, on 127.0.0.1. Both run until Ctrl-C and stop what
 * they started.
 */
import type { Command } from 'commander';
import { Wallet, formatEther } from 'ethers';
import { ANVIL_KEYS, startAnvil } from '../../contracts/anvil.ts';
import { cliAction, plainLine } from '../../runtime/cli-action.ts';
import { SUPPORTED_VENUES, type VenueId } from '../../node/sources/index.ts';
import { startVenueServer } from '../venues/index.ts';
import { truthPaths, type TruthFeed } from '../testbed/truth.ts';

function intOption(name: string, min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} ${v}: expected an integer from ${min} to ${max}`);
    return n;
  };
}

/** Runs a command's action; a failure prints `error: <what>; <fix>` (no code) and exits 1. */
function action<A extends unknown[]>(fn: (...a: A) => Promise<void>): (...a: A) => Promise<void> {
  return cliAction(fn, plainLine);
}

/** Waits for SIGINT/SIGTERM, then runs `stop` once. */
function untilSignal(stop: () => Promise<void>): Promise<void> {
  return new Promise((done) => {
    const go = () => {
      process.off('SIGINT', go);
      process.off('SIGTERM', go);
      void stop().finally(done);
    };
    process.on('SIGINT', go);
    process.on('SIGTERM', go);
  });
}

/** `BTC/USD=60000,ETH/USD=3000` → feeds with a start price. */
export function parseFeedStarts(text: string, volatility: number): TruthFeed[] {
  return text.split(',').map((part) => {
    const m = /^([A-Z0-9]+\/[A-Z0-9]+)=([0-9]+(?:\.[0-9]+)?)$/.exec(part.trim());
    if (!m) throw new Error(`--feeds ${JSON.stringify(part)}: expected BASE/QUOTE=START_PRICE, e.g. BTC/USD=60000`);
    return { name: m[1]!, start: Number(m[2]), volatility };
  });
}

export function registerDevnetCommands(program: Command): void {
  program
    .command('chain')
    .description('run a local development chain (anvil) on 127.0.0.1 until Ctrl-C; prints its URL and funded development accounts')
    .option('--port <n>', 'port (0: any free one)', intOption('--port', 0, 65535), 8545)
    .option('--chain-id <n>', 'chain id', intOption('--chain-id', 1, 2 ** 31), 31337)
    .option('--block-time <s>', 'seconds between blocks (default: a block per transaction)', intOption('--block-time', 1, 3600))
    .action(action(async (o: { port: number; chainId: number; blockTime?: number }) => {
      const anvil = await startAnvil({ port: o.port, chainId: o.chainId, ...(o.blockTime !== undefined ? { blockTime: o.blockTime } : {}), timeoutMs: 60_000 });
      process.stdout.write(`chain ${anvil.chainId} at ${anvil.url} (anvil pid ${anvil.pid})\n`);
      process.stdout.write('development accounts (anvil\'s public test keys: anyone knows them, never use them on a real chain):\n');
      for (const [i, key] of ANVIL_KEYS.entries()) {
        const address = new Wallet(key).address;
        process.stdout.write(`  ${i}  ${address}  ${formatEther(await anvil.provider.getBalance(address))} ETH  key ${key}\n`);
      }
      process.stdout.write('Ctrl-C stops it.\n');
      await untilSignal(() => anvil.stop());
      process.stdout.write('chain stopped\n');
    }));

  const venues = program.command('venues').description('simulated exchange venues for trying Aegis by hand');
  venues
    .command('serve')
    .description('serve simulated venues on 127.0.0.1 in each venue\'s real API format, quoting a random-walk price, until Ctrl-C')
    .option('--port <n>', 'port (0: any free one)', intOption('--port', 0, 65535), 8600)
    .option('--feeds <list>', 'feeds and start prices', 'BTC/USD=60000,ETH/USD=3000')
    .option('--volatility <v>', 'annualized volatility of the walk (0: a flat price)', '0.8')
    .option('--seed <n>', 'seed of the walk', intOption('--seed', 0, 2 ** 31), 1)
    .option('--venues <list>', `venues to serve (default all: ${SUPPORTED_VENUES.join(',')})`)
    .action(action(async (o: { port: number; feeds: string; volatility: string; seed: number; venues?: string }) => {
      const vol = Number(o.volatility);
      if (!Number.isFinite(vol) || vol < 0 || vol > 10) throw new Error(`--volatility ${o.volatility}: expected a number from 0 to 10 (0.8 = 80 % a year)`);
      const feeds = parseFeedStarts(o.feeds, vol);
      const list = (o.venues ?? SUPPORTED_VENUES.join(',')).split(',').map((v) => v.trim()) as VenueId[];
      for (const v of list) if (!SUPPORTED_VENUES.includes(v)) throw new Error(`--venues: unknown venue ${v}; known: ${SUPPORTED_VENUES.join(', ')}`);
      const t0 = Date.now();
      const truth = truthPaths(feeds, o.seed, t0, 30 * 86_400);
      const server = await startVenueServer({
        feeds: feeds.map((f) => f.name),
        venues: list,
        port: o.port,
        price: (venue, feed, nowMs) => {
          const p = truth.quote(venue, feed, nowMs);
          return p === undefined ? undefined : { price: p, volume: 250 };
        },
      });
      process.stdout.write(`simulated venues for ${feeds.map((f) => f.name).join(', ')} (seed ${o.seed}); in a node config:\nvenues:\n`);
      for (const v of list) process.stdout.write(`  ${v}: { baseUrl: ${server.url(v)} }\n`);
      process.stdout.write('Ctrl-C stops them.\n');
      await untilSignal(() => server.close());
      process.stdout.write('venues stopped\n');
    }));
}
