/**
 * Round latency benchmark (issue 4 "Bars"): "observations requested → verified group
 * signature" for n nodes and a number of feeds, nodes in-process behind the node HTTP API
 * on loopback, the aggregator's real HTTP transport (`HttpNodeClient`, signed requests).
 *
 * By default the nodes are the reference nodes of `aggregator/testing` (they follow the
 * protocol: they verify every forwarded observation signature and recompute every median
 * before signing). `startNodes` lets `scripts/bench.ts` plug in the production node instead.
 * All nodes share this process's CPU, so node-side work that runs in parallel on separate
 * machines is serialized here: the figures are an upper bound for the aggregator's latency.
 */
import { percentile, type TimingRow } from '../protocol/bench-stats.ts';
import { HttpNodeClient } from '../protocol/http-node-client.ts';
import { feedId, type NodeClient } from '../protocol/index.ts';
import { RoundEngine } from './round/engine.ts';
import { makeReferenceNodes, makeTestCommittee, type TestCommittee } from './testing/reference-node.ts';
import { serveReferenceNode } from './testing/reference-http.ts';

export interface RoundLatencyOptions {
  n: number;
  feeds: number;
  rounds: number;
  t?: number;
  /** Rounds run first and not measured (JIT, connection pools); default 2. */
  warmup?: number;
  /** Start the n nodes of `committee`; returns their base URLs (index order) and a close function. */
  startNodes?: (tc: TestCommittee) => Promise<{ urls: string[]; close(): Promise<void> }>;
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
}


async function startReferenceNodes(tc: TestCommittee): Promise<{ urls: string[]; close(): Promise<void> }> {
  const base = 1_000_000_000n;
  const { nodes } = makeReferenceNodes(tc, (id, node) => base + BigInt(parseInt(id.slice(2, 10), 16) % 1000) * 1000n + BigInt(node));
  const allowed = new Set(tc.committee.aggregators.map((a) => a.identityKey.toLowerCase().replace(/^0x/, '')));
  const servers = await Promise.all(nodes.map((n) => serveReferenceNode(n, allowed)));
  return { urls: servers.map((s) => s.url), close: async () => void (await Promise.all(servers.map((s) => s.close()))) };
}

export async function measureRoundLatency(opts: RoundLatencyOptions): Promise<RoundLatencyResult> {
  const tc = makeTestCommittee({ n: opts.n, ...(opts.t ? { t: opts.t } : {}) });
  const feedIds = Array.from({ length: opts.feeds }, (_, k) => feedId(`F${k}/USD`).toLowerCase());
  const nodes = await (opts.startNodes ?? startReferenceNodes)(tc);
  try {
    const clients: NodeClient[] = nodes.urls.map((url, k) => new HttpNodeClient({ index: k + 1, url, identitySecret: tc.aggregatorSecret, timeoutMs: 30_000 }));
    const engine = new RoundEngine({ committee: tc.committee, clients, observeTimeoutMs: 30_000, signTimeoutMs: 30_000, graceMs: 30_000 });
    const samples: number[] = [];
    const phases = { observe: 0, build: 0, sign: 0, verify: 0, combine: 0 };
    let failures = 0;
    const warmup = opts.warmup ?? 2;
    for (let r = 0; r < warmup + opts.rounds; r++) {
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
    };
  } finally {
    await nodes.close();
  }
}

/**
 * `npm run bench` section: round latency (observations requested → verified group
 * signature) with n protocol-following nodes in this process behind real loopback HTTP. All
 * n nodes share this machine's two cores with the aggregator, so the sign phase is the sum
 * of n nodes' checks — a pessimistic bound on a deployment where each node has its own CPU.
 */
export async function benchSection(o: { quick: boolean; progress: (msg: string) => void }): Promise<{ timing: TimingRow[] }> {
  const grid = o.quick ? [[7, 10], [31, 10]] : [[7, 10], [7, 100], [31, 10], [31, 100], [100, 10], [100, 100]];
  const timing: TimingRow[] = [];
  for (const [n, feeds] of grid as [number, number][]) {
    const rounds = o.quick ? 3 : n >= 100 ? 3 : 8;
    o.progress(`round latency n=${n} feeds=${feeds} (${rounds} rounds after warm-up)`);
    const r = await measureRoundLatency({ n, feeds, rounds, warmup: 1 });
    const ph = r.phasesMs;
    timing.push({
      op: 'round',
      n,
      feeds,
      p50_ms: r.p50Ms,
      p99_ms: r.p99Ms,
      samples: r.rounds,
      note: `t=${r.t}; mean ms observe ${ph.observe}, build ${ph.build}, sign ${ph.sign}, verify ${ph.verify}, combine ${ph.combine}${r.failures ? `; ${r.failures} failed` : ''}`,
    });
  }
  return { timing };
}

// `npx tsx aggregator/bench.ts [n] [feeds] [rounds]` prints one row.
if (import.meta.url === `file://${process.argv[1]}`) {
  const [n = '7', feeds = '10', rounds = '10'] = process.argv.slice(2);
  console.log(JSON.stringify(await measureRoundLatency({ n: Number(n), feeds: Number(feeds), rounds: Number(rounds) })));
}
