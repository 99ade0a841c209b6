/**
 * `npm run bench` section "observe" (timing rows `observe` in docs/benchmarks.md §Timing): the snapshot answer of the production
 * node to `POST /v1/observe` for 10 and 100 feeds, request signing and checking included.
 *
 * One real node (`startNode` from a generated YAML config and EIP-2335 keystores, the same
 * files the devnet writes) polls a simulated-exchange server with five USD venues (coinbase,
 * kraken, bitstamp, gemini, bitfinex) for 100 feeds. The caller is the aggregator's
 * transport, `HttpNodeClient`: it signs each request with its identity key, the node checks
 * the signature, timestamp and nonce, validates the body, answers from its latest snapshot
 * and signs the observation; the client validates the answer with the wire schema. The
 * timed span is that whole call over loopback. The node's poller runs in this process too
 * (every 10 s), as it would beside the API on an operator's machine.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import pino from 'pino';
import { timeIt, timingRow, type TimingRow } from './stats.ts';
import { HttpNodeClient } from '../protocol/http-node-client.ts';
import { dealerKeygen, feedId } from '../protocol/index.ts';
import { startNode, type RunningNode } from '../node/start.ts';
import type { VenueServer } from '../sim/venues/index.ts';
import { benchFeedNames } from './round-latency.ts';
import { BENCH_VENUES, startBenchVenues, writeBenchNodeFiles } from './venues.ts';
import { writeCommitteeFile } from '../sim/devnet/devnet.ts';

const FEEDS = 100;
const PASSWORD = 'aegis bench password';

async function waitAllFeeds(node: RunningNode, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const views = node.service.ready() ? node.service.views() : undefined;
    const ok = views ? [...views.values()].filter((v) => v.ok).length : 0;
    if (ok === FEEDS) return;
    if (Date.now() > until) throw new Error(`observe bench: the node prices ${ok} of ${FEEDS} feeds after ${timeoutMs} ms; see the venue server and the node's sources`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function benchSection(o: { quick: boolean; progress: (msg: string) => void }): Promise<{ timing: TimingRow[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'aegis-bench-observe-'));
  const names = benchFeedNames(FEEDS);
  let venues: VenueServer | undefined;
  let node: RunningNode | undefined;
  try {
    o.progress(`starting ${BENCH_VENUES.length} simulated venues with ${FEEDS} feeds and one production node`);
    venues = await startBenchVenues(names);
    const identity = ed25519.utils.randomSecretKey();
    const aggregatorSecret = ed25519.utils.randomSecretKey();
    const dealer = dealerKeygen(1, 1);
    const passwordFile = join(dir, 'password');
    writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
    const committee = writeCommitteeFile({
      dir,
      chainId: 31337,
      hub: '0x00000000000000000000000000000000000000a1',
      dealer,
      identities: [identity],
      nodeUrls: ['http://127.0.0.1:1'],
      aggregators: [{ identityKey: `0x${Buffer.from(ed25519.getPublicKey(aggregatorSecret)).toString('hex')}`, name: 'bench aggregator' }],
    });
    const configFile = await writeBenchNodeFiles({
      dir,
      index: 1,
      dealer,
      identitySecret: identity,
      committeeFile: committee.file,
      digest: committee.digest,
      passwordFile,
      password: PASSWORD,
      feeds: names,
      venueServer: venues,
      pollSchedule: '*/10 * * * * *',
    });
    node = await startNode(configFile, { port: 0, logger: pino({ level: 'silent' }) });
    await waitAllFeeds(node, 60_000);

    const client = new HttpNodeClient({ index: 1, url: node.http.url, identitySecret: aggregatorSecret, timeoutMs: 10_000 });
    const ids = names.map((n) => feedId(n));
    const runs = o.quick ? 60 : 300;
    const timing: TimingRow[] = [];
    let epoch = 1n;
    for (const feeds of [10, 100]) {
      o.progress(`POST /v1/observe, ${feeds} feeds, ${runs} calls after warm-up`);
      const call = { configDigest: committee.digest, feedIds: ids.slice(0, feeds) };
      let answered = 0;
      const samples = await timeIt(
        runs,
        async () => {
          const s = await client.observe({ ...call, epoch: epoch++ });
          answered = s.observation.feeds.filter((f) => f.answer !== null).length;
        },
        10,
      );
      timing.push(timingRow('observe', 1, feeds, samples, `production node, HttpNodeClient over loopback (signed request, checked and validated both ways); ${answered}/${feeds} feeds answered; ${BENCH_VENUES.length} venues polled in-process`));
    }
    return { timing };
  } finally {
    await node?.stop().catch(() => undefined);
    await venues?.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}
