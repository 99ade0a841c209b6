/**
 * The simulated-venue server as a testbed process (docs/running-over-real-networks.md, "The testbed"): the real venue
 * formats of `sim/venues` (bound to 127.0.0.1 by design) behind a plain TCP forwarder on the
 * host's address, quoting the run's true paths (truth.ts) from `--t0`.
 *
 *   node --import tsx sim/testbed/venue-host.ts --listen ADDR:PORT --t0 MS --seed N
 *        --duration S --venues a,b,c --feeds '[{"name":"BTC/USD","start":60000,"volatility":0.8}]'
 *
 * Prints one JSON line {"event":"listening",…} and serves until SIGTERM/SIGINT.
 */
import { createServer, connect } from 'node:net';
import { startVenueServer } from '../venues/index.ts';
import type { VenueId } from '../../node/sources/index.ts';
import { truthPaths, type TruthFeed } from './truth.ts';

function arg(name: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  if (v === undefined) {
    process.stderr.write(`venue-host: --${name} is required\n`);
    process.exit(2);
  }
  return v;
}

const [host, portText] = arg('listen').split(/:(?=\d+$)/) as [string, string];
const feeds = JSON.parse(arg('feeds')) as TruthFeed[];
const venues = arg('venues').split(',') as VenueId[];
const truth = truthPaths(feeds, Number(arg('seed')), Number(arg('t0')), Number(arg('duration')));
const server = await startVenueServer({
  feeds: feeds.map((f) => f.name),
  venues,
  price: (venue, feed, nowMs) => {
    const p = truth.quote(venue, feed, nowMs);
    return p === undefined ? undefined : { price: p, volume: 250 };
  },
});
const inner = new URL(server.url(venues[0]!)).port;
const front = createServer((c) => {
  const s = connect(Number(inner), '127.0.0.1');
  c.pipe(s).pipe(c);
  const end = () => {
    c.destroy();
    s.destroy();
  };
  c.on('error', end);
  s.on('error', end);
});
front.listen(Number(portText), host, () => process.stdout.write(`${JSON.stringify({ event: 'listening', host, port: Number(portText) })}\n`));
const stop = () => {
  front.close();
  void server.close().finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
