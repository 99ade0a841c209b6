/**
 * Round latency benchmark (docs/benchmarks.md §Round latency, timing rows `round`): "observations requested → verified group
 * signature" for n nodes and a number of feeds, nodes in-process behind the node HTTP API
 * on loopback, the aggregator's real HTTP transport (`HttpNodeClient`, signed requests).
 *
 * By default the nodes are the reference nodes of `testkit/reference-node/` (they follow the
 * protocol: they verify every forwarded observation signature and recompute every median
 * before signing). `startNodes` plugs in other nodes: the `round` section of `npm run bench`
 * (`bench/round.ts`) measures the production node.
 *
 * The nodes run in one worker thread per core (`testkit/node-workers.ts`), the aggregator on
 * the main thread. n nodes' work that runs on n machines in a deployment shares two cores
 * here: the figures are an upper bound for the round's latency. The note of each row gives
 * the process's CPU time per round and the node threads' busy time, which do not depend on
 * how many cores there are.
 */
import { percentile, type TimingRow } from './stats.ts';
import { HttpNodeClient } from '../protocol/http-node-client.ts';
import { feedId, type DealerOutput, type NodeClient } from '../protocol/index.ts';
import { nodeHttpTransport } from '../aggregator/node-transport.ts';
import { RoundEngine } from '../aggregator/round/engine.ts';
import { makeTestCommittee, type TestCommittee } from '../testkit/reference-node/node.ts';
import { splitEvenly, startNodesInWorkers, workerCount } from '../testkit/node-workers.ts';

export interface RoundLatencyOptions {
  n: number;
  feeds: number;
  rounds: number;
  t?: number;
  /** Rounds run first and not measured (JIT, connection pools); default 2. */
  warmup?: number;
  /** Key material to use (the production-node glue writes keystores from it); default a fresh deal. */
  dealt?: DealerOutput;
  /**
   * Start the n nodes of `committee`; returns their base URLs (index order), a close function
   * and, when the nodes run in their own threads, their busy time so far in ms.
   */
  startNodes?: (tc: TestCommittee) => Promise<StartedNodes>;
}

export interface StartedNodes {
  urls: string[];
  close(): Promise<void>;
  busyMs?(): number;
}

export interface RoundLatencyResult {
  op: 'round';
  n: number;
  t: number;
  feeds: number;
  rounds: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  minMs: number;
  maxMs: number;
  /** Mean time per phase, ms. */
  phasesMs: { observe: number; build: number; sign: number; verify: number; combine: number };
  failures: number;
  /** CPU time of this whole process (aggregator and in-process nodes) per measured round, ms. */
  cpuMsPerRound: number;
  /** Busy time of the node threads per measured round, all nodes together, ms (undefined when not measurable). */
  nodeBusyMsPerRound?: number;
}


/** Three-letter bases (QAA/USD, QAB/USD, …): the production node's venue adapters map them without overrides. */
export function benchFeedNames(count: number): string[] {
  const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  return Array.from({ length: count }, (_, k) => `Q${letters[Math.floor(k / 26) % 26]}${letters[k % 26]}/USD`);
}

/** The reference nodes, split over one worker per core. */
function startReferenceNodes(tc: TestCommittee): Promise<StartedNodes> {
  const module = new URL('../testkit/reference-node/servers.ts', import.meta.url).href;
  const indices = tc.committee.nodes.map((m) => m.index);
  return startNodesInWorkers(splitEvenly(indices, workerCount(2)).map((part) => ({ module, fn: 'serveReferenceNodes', arg: { tc, indices: part } })));
}

export async function measureRoundLatency(opts: RoundLatencyOptions): Promise<RoundLatencyResult> {
  const tc = makeTestCommittee({ n: opts.n, ...(opts.t ? { t: opts.t } : {}), ...(opts.dealt ? { dealt: opts.dealt } : {}) });
  const feedIds = benchFeedNames(opts.feeds).map((name) => feedId(name).toLowerCase());
  const nodes = await (opts.startNodes ?? startReferenceNodes)(tc);
  const transport = nodeHttpTransport();
  try {
    const clients: NodeClient[] = nodes.urls.map((url, k) => new HttpNodeClient({ index: k + 1, url, identitySecret: tc.aggregatorSecret, timeoutMs: 30_000, post: transport }));
    const engine = new RoundEngine({ committee: tc.committee, clients, observeTimeoutMs: 30_000, signTimeoutMs: 30_000, graceMs: 30_000 });
    const samples: number[] = [];
    const phases = { observe: 0, build: 0, sign: 0, verify: 0, combine: 0 };
    let failures = 0;
    const warmup = opts.warmup ?? 2;
    let cpu0 = process.cpuUsage();
    let busy0 = nodes.busyMs?.() ?? 0;
    for (let r = 0; r < warmup + opts.rounds; r++) {
      if (r === warmup) {
        cpu0 = process.cpuUsage();
        busy0 = nodes.busyMs?.() ?? 0;
      }
      const res = await engine.run(BigInt(r + 1), feedIds);
      if (r < warmup) continue;
      if (res.status !== 'signed') {
        failures++;
        continue;
      }
      samples.push(res.timings.totalMs);
      phases.observe += res.timings.observeMs;
      phases.build += res.timings.buildMs;
      phases.sign += res.timings.signMs;
      phases.verify += res.timings.verifyMs;
      phases.combine += res.timings.combineMs;
    }
    const cpu = process.cpuUsage(cpu0);
    const busy = nodes.busyMs ? nodes.busyMs() - busy0 : undefined;
    const sorted = [...samples].sort((a, b) => a - b);
    const k = Math.max(1, samples.length);
    const round2 = (x: number) => Math.round(x * 100) / 100;
    return {
      op: 'round',
      n: opts.n,
      t: engine.t,
      feeds: opts.feeds,
      rounds: samples.length,
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      meanMs: round2(samples.reduce((a, b) => a + b, 0) / k),
      minMs: round2(sorted[0] ?? NaN),
      maxMs: round2(sorted.at(-1) ?? NaN),
      phasesMs: {
        observe: round2(phases.observe / k),
        build: round2(phases.build / k),
        sign: round2(phases.sign / k),
        verify: round2(phases.verify / k),
        combine: round2(phases.combine / k),
      },
      failures,
      cpuMsPerRound: round2((cpu.user + cpu.system) / 1000 / Math.max(1, opts.rounds)),
      ...(busy !== undefined ? { nodeBusyMsPerRound: round2(busy / Math.max(1, opts.rounds)) } : {}),
    };
  } finally {
    transport.close();
    await nodes.close();
  }
}

/** Which nodes a round benchmark runs: a label for the notes and how to start n of them. */
export interface BenchNodes {
  label: string;
  /** Key material and node start-up for an n-node committee with `feeds` feeds; default the reference nodes. */
  setup?(n: number, feeds: number): Pick<RoundLatencyOptions, 'dealt' | 'startNodes'>;
}

/** Timing row of one measurement, the `round` op of `npm run bench -- --json`. */
export function roundRow(r: RoundLatencyResult, nodes: string): TimingRow {
  const ph = r.phasesMs;
  const busy = r.nodeBusyMsPerRound !== undefined ? `, node threads busy ${r.nodeBusyMsPerRound} ms wall (${Math.round((r.nodeBusyMsPerRound / r.n) * 10) / 10} per node; includes fsync and waiting for a core)` : '';
  return {
    op: 'round',
    n: r.n,
    feeds: r.feeds,
    p50_ms: r.p50Ms,
    p99_ms: r.p99Ms,
    samples: r.rounds,
    note: `t=${r.t}; ${nodes}; mean ms observe ${ph.observe}, build ${ph.build}, sign ${ph.sign}, verify ${ph.verify}, combine ${ph.combine}; per round CPU ${r.cpuMsPerRound} ms (whole process)${busy}${r.failures ? `; ${r.failures} failed` : ''}`,
  };
}

/**
 * A round-latency section over the grid n × feeds. All n nodes share this machine's cores
 * with the aggregator (one worker thread per core), so the sign phase is n nodes' checks
 * spread over two cores — a pessimistic bound on a deployment where each node has its own CPU.
 */
export async function roundSection(o: { quick: boolean; progress: (msg: string) => void }, nodesFor: (n: number) => BenchNodes): Promise<{ timing: TimingRow[] }> {
  const grid = o.quick ? [[7, 10], [31, 10]] : [[7, 10], [7, 100], [31, 10], [31, 100], [100, 10], [100, 100]];
  const timing: TimingRow[] = [];
  for (const [n, feeds] of grid as [number, number][]) {
    const rounds = o.quick ? 3 : n >= 100 ? 3 : 8;
    const nodes = nodesFor(n);
    o.progress(`round latency n=${n} feeds=${feeds}, ${nodes.label} (${rounds} rounds after warm-up)`);
    const r = await measureRoundLatency({ n, feeds, rounds, warmup: 1, ...nodes.setup?.(n, feeds) });
    timing.push(roundRow(r, nodes.label));
  }
  return { timing };
}

export const REFERENCE_NODES: BenchNodes = { label: 'reference nodes in 2 worker threads' };

// `npx tsx bench/round-latency.ts [n] [feeds] [rounds]` prints one row (reference nodes).
if (import.meta.url === `file://${process.argv[1]}`) {
  const [n = '7', feeds = '10', rounds = '10'] = process.argv.slice(2);
  const r = await measureRoundLatency({ n: Number(n), feeds: Number(feeds), rounds: Number(rounds) });
  console.log(JSON.stringify({ ...r, row: roundRow(r, REFERENCE_NODES.label) }));
}
