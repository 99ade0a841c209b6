/**
 * `npm run demo` — the whole system on an embedded default: anvil, the hub, simulated venues,
 * a committee of node processes and an aggregator, with a live view and an attack half way.
 * Flags: `npm run demo -- --duration 60 --nodes 7 --feeds BTC/USD,ETH/USD`; `--keep` leaves the
 * network and the dashboard (its URL is printed at start) up after the run until Ctrl-C.
 */
import { Command, InvalidArgumentError } from 'commander';
import { defaultThreshold } from '../protocol/index.ts';
import { runDemo, supportedFeeds } from '../sim/devnet/demo.ts';
import { dashboardStale, ensureDashboardBuilt } from '../dashboard/build.ts';

const int = (min: number, max: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
  return n;
};

const opts = new Command('demo')
  .description('run the Aegis oracle end to end on a local chain')
  .option('--duration <seconds>', 'how long rounds run', int(10, 3600), 60)
  .option('--nodes <n>', 'committee size', int(4, 31), 7)
  .option('--threshold <t>', 'signing threshold (default 2f+1)', int(1, 31))
  .option('--feeds <list>', `comma-separated feeds (${supportedFeeds().join(', ')})`, 'BTC/USD,ETH/USD,SOL/USD')
  .option('--seed <n>', 'price path seed', int(0, 2 ** 31), 7)
  .option('--no-attack', 'skip the venue pump and the Byzantine node')
  .option('--plain', 'print lines instead of redrawing the screen')
  .option('--keep', 'after the run, leave the network and the dashboard up until Ctrl-C')
  .parse(process.argv)
  .opts<{ duration: number; nodes: number; threshold?: number; feeds: string; seed: number; attack: boolean; plain?: boolean; keep?: boolean }>();

const t = opts.threshold ?? defaultThreshold(opts.nodes);
if (2 * t <= opts.nodes || t > opts.nodes) {
  console.error(`demo: --threshold ${t} with --nodes ${opts.nodes}: t must exceed n/2 and be at most n; try ${defaultThreshold(opts.nodes)}`);
  process.exit(2);
}

try {
  // The dashboard the aggregator serves: built here when missing or older than its sources (Vite, no network).
  if (dashboardStale()) {
    console.log('[demo] building the dashboard (vite)');
    await ensureDashboardBuilt();
  }
  await runDemo({
    durationSec: opts.duration,
    n: opts.nodes,
    t,
    feeds: opts.feeds.split(',').map((s) => s.trim()).filter(Boolean),
    seed: opts.seed,
    attack: opts.attack,
    live: !opts.plain && process.stdout.isTTY === true,
    keep: opts.keep === true,
  });
  process.exit(0);
} catch (err) {
  console.error(`demo failed: ${(err as Error).message}`);
  process.exit(1);
}
