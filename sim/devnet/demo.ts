/**
 * The demo: a devnet runs rounds for a while with a live terminal view; half way through one
 * venue is pumped and one node turns Byzantine, and the view shows both excluded with their
 * reasons while the on-chain price stays with the true price. It ends with a summary table.
 *
 * Everything shown is read from the running system: the hub (`tryRead`), the aggregator's
 * HTTP API (`/v1/rounds`) and the nodes' `/v1/status` (per-source verdicts).
 */
import Table from 'cli-table3';
import { feedId } from '../../protocol/index.ts';
import { plainWhenPiped } from '../../runtime/cli-table.ts';
import type { VenueId } from '../../node/sources/index.ts';
import { startDevnet, type Devnet, type DevnetFeed } from './devnet.ts';

export interface DemoOptions {
  durationSec: number;
  n: number;
  t: number;
  feeds: string[];
  seed: number;
  attack: boolean;
  /** Redraw in place (a TTY) or print a line every few seconds. */
  live: boolean;
  /** After the run, leave the network and the dashboard up until Ctrl-C. */
  keep?: boolean;
}

const FEED_PRESETS: Record<string, DevnetFeed> = {
  'BTC/USD': { name: 'BTC/USD', start: 64_000, volatility: 3 },
  'ETH/USD': { name: 'ETH/USD', start: 3_100, volatility: 3.5 },
  'SOL/USD': { name: 'SOL/USD', start: 150, volatility: 4 },
  'LINK/USD': { name: 'LINK/USD', start: 14, volatility: 4 },
  'DOGE/USD': { name: 'DOGE/USD', start: 0.12, volatility: 5 },
};
const VENUES: VenueId[] = ['coinbase', 'kraken', 'bitstamp', 'gemini', 'bitfinex'];
const PUMPED_VENUE: VenueId = 'kraken';
const PUMP_FACTOR = 1.3;
const BYZANTINE_FACTOR = 1.5;

interface RoundJson {
  epoch: string;
  status: string;
  failure: { code: string; message: string } | null;
  participants: { observed: number[]; signed: number[] };
  excluded: { index: number; phase: string; code: string; reason: string }[];
  postingReason: string | null;
  tx: { hash: string; status: string; gasUsed: string | null } | null;
}

interface FeedView {
  feed: string;
  truePrice: number;
  onchain: number | null;
  age: number | null;
  roundId: bigint;
  status: string;
  deviationBps: number | null;
}

const STATUS = ['unknown', 'active', 'TRIPPED', 'PAUSED', 'STALE'];

export function supportedFeeds(): string[] {
  return Object.keys(FEED_PRESETS);
}

async function getJson<T>(url: string): Promise<T | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1500) });
    return res.ok ? ((await res.json()) as T) : undefined;
  } catch {
    return undefined;
  }
}

async function readFeeds(net: Devnet, feeds: string[]): Promise<FeedView[]> {
  const now = Math.floor(Date.now() / 1000);
  return Promise.all(
    feeds.map(async (feed) => {
      const [answer, observedAt, , roundId, status] = (await net.hub.tryRead!(feedId(feed))) as [bigint, bigint, bigint, bigint, bigint];
      const truePrice = net.truePrice(feed);
      const onchain = roundId > 0n ? Number(answer) / 1e8 : null;
      return {
        feed,
        truePrice,
        onchain,
        age: roundId > 0n ? now - Number(observedAt) : null,
        roundId,
        status: STATUS[Number(status)] ?? String(status),
        deviationBps: onchain === null ? null : ((onchain - truePrice) / truePrice) * 1e4,
      };
    }),
  );
}

interface VenueVerdict {
  node: number;
  feed: string;
  source: string;
  status: string;
  detail?: string;
}

async function venueExclusions(net: Devnet, byzantine: number[]): Promise<VenueVerdict[]> {
  const honest = net.nodeUrls.map((url, k) => ({ url, node: k + 1 })).find((x) => !byzantine.includes(x.node));
  if (!honest) return [];
  const status = await getJson<{ feeds: { feed: string; sources: { source: string; status: string; detail?: string }[] }[] }>(`${honest.url}/v1/status`);
  return (status?.feeds ?? []).flatMap((f) => f.sources.filter((s) => s.status !== 'used').map((s) => ({ node: honest.node, feed: f.feed, source: s.source, status: s.status, ...(s.detail ? { detail: s.detail } : {}) })));
}

const fmt = (x: number | null, digits = 2) => (x === null ? '—' : x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }));
const priceDigits = (p: number) => (p >= 100 ? 2 : p >= 1 ? 4 : 6);

export interface DemoSummary {
  rounds: number;
  posted: number;
  failed: number;
  gasTotal: bigint;
  maxDeviationBpsDuringAttack: number;
  exclusions: Map<string, number>;
}

export async function runDemo(o: DemoOptions, out: (s: string) => void = (s) => process.stdout.write(s)): Promise<DemoSummary> {
  const log = (line: string) => out(`[demo] ${line}\n`);
  const feeds = o.feeds.map((f) => {
    const preset = FEED_PRESETS[f];
    if (!preset) throw new RangeError(`--feeds: unknown feed ${f}; the demo's simulated venues list ${supportedFeeds().join(', ')}`);
    return preset;
  });
  const started = Date.now();
  const net = await startDevnet({
    n: o.n,
    t: o.t,
    feeds,
    venues: VENUES,
    seed: o.seed,
    durationSec: o.durationSec,
    roundIntervalMs: 2000,
    deviationPct: 0.5,
    heartbeatSec: 10,
    hubFeed: { deviationBps: 1000, confirmations: 2, confirmationTime: 10, maxStaleness: 120, heartbeat: 3600 },
    progress: log,
  });
  log(`network up in ${((Date.now() - started) / 1000).toFixed(1)} s; logs and configs in ${net.dir}`);
  const dashboard = `${net.aggregatorUrl}/dashboard/`;
  log(`dashboard: ${dashboard} (read-only from the chain alone: ${dashboard}?rpc=${encodeURIComponent(net.anvil.url)}&hub=${await net.hub.getAddress()})`);

  let stopping = false;
  const onSignal = () => {
    if (!stopping) log('Ctrl-C: stopping after this refresh');
    stopping = true;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const summary: DemoSummary = { rounds: 0, posted: 0, failed: 0, gasTotal: 0n, maxDeviationBpsDuringAttack: 0, exclusions: new Map() };
  const seenEpochs = new Set<string>();
  const events: string[] = [];
  const event = (s: string) => {
    events.push(`${new Date().toISOString().slice(11, 19)} ${s}`);
    if (!o.live) log(s);
  };
  let attacked = false;
  let lastPrint = 0;
  let lastRound: RoundJson | undefined;
  const t0 = Date.now();
  try {
    while (!stopping && Date.now() - t0 < o.durationSec * 1000) {
      const elapsed = (Date.now() - t0) / 1000;
      if (o.attack && !attacked && elapsed >= o.durationSec / 2) {
        attacked = true;
        net.pump(PUMPED_VENUE, feeds[0]!.name, PUMP_FACTOR);
        event(`ATTACK: ${PUMPED_VENUE} ${feeds[0]!.name} pumped ×${PUMP_FACTOR}`);
        await net.makeByzantine(o.n, BYZANTINE_FACTOR);
        event(`ATTACK: node ${o.n} turned Byzantine (answers ×${BYZANTINE_FACTOR}, signs conflicting reports)`);
      }
      const [views, roundsBody, venues] = await Promise.all([
        readFeeds(net, o.feeds),
        getJson<{ rounds: RoundJson[] }>(`${net.aggregatorUrl}/v1/rounds?limit=20`),
        venueExclusions(net, net.byzantine()),
      ]);
      for (const r of [...(roundsBody?.rounds ?? [])].reverse()) {
        if (seenEpochs.has(r.epoch)) continue;
        seenEpochs.add(r.epoch);
        lastRound = r;
        for (const x of r.excluded) {
          const key = `node ${x.index}: ${x.code}`;
          summary.exclusions.set(key, (summary.exclusions.get(key) ?? 0) + 1);
          event(`epoch ${r.epoch}: node ${x.index} excluded (${x.phase}): ${x.reason}`);
        }
        if (r.failure) event(`epoch ${r.epoch}: ${r.failure.code}: ${r.failure.message}`);
      }
      for (const v of venues) {
        const key = `venue ${v.source} (${v.feed}): ${v.status}`;
        if (!summary.exclusions.has(key)) event(`node ${v.node} excludes ${v.source} for ${v.feed}: ${v.status}${v.detail ? ` (${v.detail})` : ''}`);
        summary.exclusions.set(key, (summary.exclusions.get(key) ?? 0) + 1);
      }
      if (attacked) {
        for (const v of views) if (v.deviationBps !== null) summary.maxDeviationBpsDuringAttack = Math.max(summary.maxDeviationBpsDuringAttack, Math.abs(v.deviationBps));
      }
      if (o.live) {
        out(render(o, views, lastRound, events, elapsed, attacked, dashboard));
      } else if (Date.now() - lastPrint > 5000) {
        lastPrint = Date.now();
        log(views.map((v) => `${v.feed} true ${fmt(v.truePrice, priceDigits(v.truePrice))} on-chain ${fmt(v.onchain, priceDigits(v.truePrice))} (${v.status}, round ${v.roundId})`).join(' | '));
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    if (o.keep && !stopping) {
      log(`--keep: the network and the dashboard stay up at ${dashboard}; Ctrl-C stops them`);
      while (!stopping) await new Promise((r) => setTimeout(r, 500));
    }
    // Totals from the aggregator's round history, read once transactions have settled.
    await new Promise((r) => setTimeout(r, 1500));
    const final = await getJson<{ rounds: RoundJson[] }>(`${net.aggregatorUrl}/v1/rounds?limit=500`);
    for (const r of final?.rounds ?? []) {
      summary.rounds++;
      if (r.failure) summary.failed++;
      if (r.tx?.status === 'accepted') {
        summary.posted++;
        summary.gasTotal += BigInt(r.tx.gasUsed ?? 0);
      }
    }
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    log('stopping the network');
    await net.close();
  }
  out(summaryTable(o, summary));
  return summary;
}

function render(o: DemoOptions, views: FeedView[], last: RoundJson | undefined, events: string[], elapsed: number, attacked: boolean, dashboard: string): string {
  const t = new Table({ head: ['feed', 'true price', 'on-chain', 'Δ bps', 'age s', 'round', 'status'], ...plainWhenPiped() });
  for (const v of views) {
    const d = priceDigits(v.truePrice);
    t.push([v.feed, fmt(v.truePrice, d), fmt(v.onchain, d), v.deviationBps === null ? '—' : v.deviationBps.toFixed(1), v.age ?? '—', String(v.roundId), v.status]);
  }
  const lines = [
    '\x1b[H\x1b[2J',
    `Aegis demo — n=${o.n}, t=${o.t}, ${elapsed.toFixed(0)}/${o.durationSec} s${attacked ? '  [ATTACK: venue pumped, node Byzantine]' : ''}   (Ctrl-C stops)`,
    `dashboard: ${dashboard}`,
    t.toString(),
    last
      ? `last round: epoch ${last.epoch} ${last.status}; observed ${last.participants.observed.join(',') || '—'}; signed ${last.participants.signed.join(',') || '—'}; ` +
        `${last.tx ? `tx ${last.tx.status}, gas ${last.tx.gasUsed ?? '—'}` : `no post${last.postingReason ? ` (${last.postingReason})` : ''}`}`
      : 'waiting for the first round…',
    '',
    'events:',
    ...events.slice(-12).map((e) => `  ${e}`),
    '',
  ];
  return lines.join('\n');
}

function summaryTable(o: DemoOptions, s: DemoSummary): string {
  const t = new Table({ head: ['metric', 'value'], ...plainWhenPiped() });
  t.push(
    ['committee', `n=${o.n}, t=${o.t}`],
    ['rounds', String(s.rounds)],
    ['reports posted on-chain', String(s.posted)],
    ['rounds failed', String(s.failed)],
    ['gas spent (total / per post)', s.posted ? `${s.gasTotal.toLocaleString('en-US')} / ${(s.gasTotal / BigInt(s.posted)).toLocaleString('en-US')}` : '—'],
    ['max |on-chain − true| during attack', o.attack ? `${s.maxDeviationBpsDuringAttack.toFixed(1)} bps (posting threshold 50 bps, pump 3000 bps)` : 'no attack'],
  );
  const ex = new Table({ head: ['excluded', 'times seen'], ...plainWhenPiped() });
  for (const [k, v] of [...s.exclusions.entries()].sort()) ex.push([k, String(v)]);
  return `\nSummary\n${t.toString()}\n${s.exclusions.size ? `Exclusions\n${ex.toString()}\n` : ''}`;
}
