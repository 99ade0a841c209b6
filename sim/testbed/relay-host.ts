/**
 * One relay as a process, started inside a host's namespace by the testbed
 * (`ip netns exec NS node --import tsx sim/testbed/relay-host.ts --listen A:P --target A:P2`).
 *
 * stdin, JSON lines:  {"table": DelayTable}  replaces the delay table;
 *                     {"cmd": "stats"}       prints the counters;
 *                     {"cmd": "stop"}        closes and exits 0 (so does stdin EOF: the
 *                                            controller died, the relay must not outlive it).
 * stdout, JSON lines: {"event":"listening","host","port"}, {"event":"table","sources":n},
 *                     {"event":"stats",…counters}, {"event":"error","message"} (bad line; the
 *                     table is kept), and a final stats line on exit. SIGTERM/SIGINT close too.
 */
import { createInterface } from 'node:readline';
import { parseDelayTable, startRelay, type DelayTable } from './relay.ts';

function endpoint(v: string | undefined, flag: string): { host: string; port: number } {
  const m = /^([0-9.]+|localhost):(\d{1,5})$/.exec(v ?? '');
  if (!m) throw new Error(`${flag}: expected HOST:PORT (IPv4), got ${JSON.stringify(v)}`);
  return { host: m[1]!, port: Number(m[2]) };
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const out = (o: object): void => void process.stdout.write(`${JSON.stringify(o)}\n`);

async function main(): Promise<void> {
  const listen = endpoint(arg('--listen'), '--listen');
  const target = endpoint(arg('--target'), '--target');
  const initial: DelayTable = arg('--table') ? parseDelayTable(JSON.parse(arg('--table')!)) : {};
  const relay = await startRelay({ listenHost: listen.host, listenPort: listen.port, targetHost: target.host, targetPort: target.port, table: initial });
  out({ event: 'listening', host: relay.host, port: relay.port });
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await relay.close();
    out({ event: 'stats', ...relay.counters() });
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    if (!line.trim()) return;
    try {
      const msg = JSON.parse(line) as { table?: unknown; cmd?: string };
      if (msg.table !== undefined) {
        const t = parseDelayTable(msg.table);
        relay.setTable(t);
        out({ event: 'table', sources: Object.keys(t.bySource ?? {}).length });
      } else if (msg.cmd === 'stats') out({ event: 'stats', ...relay.counters() });
      else if (msg.cmd === 'stop') void stop();
      else out({ event: 'error', message: `unknown line: expected {"table":…} or {"cmd":"stats"|"stop"}, got ${line.slice(0, 200)}` });
    } catch (err) {
      out({ event: 'error', message: (err as Error).message });
    }
  });
  rl.on('close', () => void stop());
}

main().catch((err: Error) => {
  process.stderr.write(`relay-host: ${err.message}\n`);
  process.exit(2);
});
