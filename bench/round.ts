/**
 * Production nodes for the round benchmark (`round-latency.ts`, `npm run bench` section
 * "round"): what operators run — `startNode` from a generated YAML config and EIP-2335
 * keystores (the devnet's writers), the SQLite anti-equivocation store with its durable
 * write before every signature, the source poller against a simulated-exchange server with
 * five USD venues — hosted in one worker thread per core, behind loopback HTTP.
 *
 * Polling is the one setting that differs from the devnet's: every node polls once when it
 * starts (all quotes in before the first measured round) and next half an hour later, with
 * the quote age (`maxAgeMs` 90 s) and report age (`signer.maxReportAgeS` 120 s) limits
 * widened so those quotes stay usable for a row (a row that ran longer would show refusals,
 * not hide them). On separate machines each node polls on its own CPU, apart from the
 * aggregator's; here n pollers would share two cores with the round being measured: at the
 * devnet's cadence serving and parsing their venue requests (n × 5 venues × feeds per pass)
 * took more CPU than the round itself, and even staggered once a minute a pass landed in
 * most rows. The freshness checks still run on every request.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { parse, stringify } from 'yaml';
import type { TimingRow } from './stats.ts';
import { dealerKeygen, defaultThreshold, type DealerOutput } from '../protocol/index.ts';
import { REFERENCE_NODES, benchFeedNames, measureRoundLatency, roundRow, roundSection, type BenchNodes, type StartedNodes } from './round-latency.ts';
import type { TestCommittee } from '../testkit/reference-node/node.ts';
import { splitEvenly, startNodesInWorkers, workerCount, type HostedNodes } from '../testkit/node-workers.ts';
import { startNode, type RunningNode } from '../node/start.ts';
import { startBenchVenues, writeBenchNodeFiles } from './venues.ts';
import { writeCommitteeFile } from '../sim/devnet/devnet.ts';

const PASSWORD = 'aegis round bench password';
const QUOTE_MAX_AGE_MS = 90_000;
const REPORT_MAX_AGE_S = 120;

/**
 * A `startNodes` for `measureRoundLatency`: writes the files of every node of `tc` (whose
 * key shares are `dealt`'s) for `feeds` feeds and starts them in workers. Everything it
 * started is stopped by `close()`, also when start-up fails.
 */
export function productionNodes(dealt: DealerOutput, feeds: number): (tc: TestCommittee) => Promise<StartedNodes> {
  return async (tc) => {
    const dir = mkdtempSync(join(tmpdir(), 'aegis-bench-round-'));
    const names = benchFeedNames(feeds);
    const cleanup: (() => Promise<void>)[] = [async () => rmSync(dir, { recursive: true, force: true })];
    const close = async () => {
      for (const f of cleanup.reverse()) await f().catch(() => undefined);
    };
    try {
      const venues = await startBenchVenues(names);
      cleanup.push(() => venues.close());
      const passwordFile = join(dir, 'password');
      writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
      const c = tc.committee;
      const committee = writeCommitteeFile({
        dir,
        chainId: c.chainId,
        hub: c.hub,
        dealer: dealt,
        identities: tc.identitySecrets,
        nodeUrls: c.nodes.map(() => 'http://127.0.0.1:1'),
        aggregators: c.aggregators.map((a) => ({ identityKey: a.identityKey, ...(a.name ? { name: a.name } : {}) })),
      });
      if (committee.digest !== tc.configDigest.toLowerCase()) {
        throw new Error(`round bench: the written committee file has digest ${committee.digest}, the aggregator's committee ${tc.configDigest}; chainId, hub, configVersion, t or the group key differ`);
      }
      const files: string[] = [];
      // The start-up pass primes every node; the scheduled one is half an hour away.
      const nextPassInHalfAnHour = `0 ${(new Date().getMinutes() + 30) % 60} * * * *`;
      for (const m of c.nodes) {
        const file = await writeBenchNodeFiles({
          dir,
          index: m.index,
          dealer: dealt,
          identitySecret: tc.identitySecrets[m.index - 1]!,
          committeeFile: committee.file,
          digest: committee.digest,
          passwordFile,
          password: PASSWORD,
          feeds: names,
          venueServer: venues,
          pollSchedule: nextPassInHalfAnHour,
        });
        const yaml = parse(readFileSync(file, 'utf8')) as { signer: { maxReportAgeS: number }; feeds: { maxAgeMs?: number }[] };
        yaml.signer.maxReportAgeS = REPORT_MAX_AGE_S;
        for (const f of yaml.feeds) f.maxAgeMs = QUOTE_MAX_AGE_MS;
        writeFileSync(file, stringify(yaml));
        files.push(file);
      }
      const module = import.meta.url;
      const workers = await startNodesInWorkers(splitEvenly(files, workerCount(2)).map((part) => ({ module, fn: 'hostProductionNodes', arg: { files: part, feeds } })));
      cleanup.push(() => workers.close());
      return { urls: workers.urls, busyMs: workers.busyMs, close };
    } catch (err) {
      await close();
      throw err;
    }
  };
}

/** Worker side: start the nodes of `files` and wait until each prices every feed. */
export async function hostProductionNodes(arg: { files: string[]; feeds: number }): Promise<HostedNodes> {
  const nodes: RunningNode[] = [];
  const close = async () => void (await Promise.allSettled(nodes.map((n) => n.stop())));
  try {
    for (const file of arg.files) nodes.push(await startNode(file, { port: 0, logger: pino({ level: 'silent' }) }));
    const until = Date.now() + 120_000;
    for (const node of nodes) {
      for (;;) {
        const priced = node.service.ready() ? [...node.service.views().values()].filter((v) => v.ok).length : 0;
        if (priced === arg.feeds) break;
        if (Date.now() > until) throw new Error(`round bench: node ${node.service.index} prices ${priced} of ${arg.feeds} feeds after 120 s; see the venue server and the node's sources`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { urls: nodes.map((n) => n.http.url), close };
}

export const PRODUCTION_NODES: BenchNodes = {
  label: 'production nodes (SQLite store, synchronous=FULL) in 2 worker threads',
  setup(n, feeds) {
    const dealt = dealerKeygen(defaultThreshold(n), n);
    return { dealt, startNodes: productionNodes(dealt, feeds) };
  },
};

/**
 * Above this many nodes the in-process pollers (n × 5 venues × feeds requests per pass, all
 * on this machine) cannot price every feed before the first round: 100 nodes at 100 feeds is
 * 50,000 venue requests per 20 s pass, and the first pass did not finish in 120 s on a 2-core
 * machine. Those rows use the reference nodes (same checks, no poller, no SQLite), labelled so.
 */
const MAX_PRODUCTION_N = 31;

/**
 * `npm run bench` section "round": round latency against the production node (rows
 * `op: "round"`), plus one `op: "round_reference"` row at the round bar's point (n = 31, 100
 * feeds) with the reference node — the same protocol checks without the durable store and the
 * pricing — so the cost of those two is visible next to the protocol's own.
 */
export async function benchSection(o: { quick: boolean; progress: (msg: string) => void }): Promise<{ timing: TimingRow[] }> {
  const { timing } = await roundSection(o, (n) =>
    n <= MAX_PRODUCTION_N ? PRODUCTION_NODES : { label: `${REFERENCE_NODES.label} (production nodes above n=${MAX_PRODUCTION_N}: their in-process pollers saturate this machine)` },
  );
  if (!o.quick) {
    o.progress(`round latency n=31 feeds=100, ${REFERENCE_NODES.label} (8 rounds after warm-up)`);
    const r = await measureRoundLatency({ n: 31, feeds: 100, rounds: 8, warmup: 1 });
    timing.push({ ...roundRow(r, REFERENCE_NODES.label), op: 'round_reference' });
  }
  return { timing };
}

// `node --import tsx bench/round.ts [n] [feeds] [rounds]` prints one row.
if (import.meta.url === `file://${process.argv[1]}`) {
  const [n = '31', feeds = '100', rounds = '5'] = process.argv.slice(2);
  const r = await measureRoundLatency({ n: Number(n), feeds: Number(feeds), rounds: Number(rounds), ...PRODUCTION_NODES.setup!(Number(n), Number(feeds)) });
  console.log(JSON.stringify(roundRow(r, PRODUCTION_NODES.label)));
}
