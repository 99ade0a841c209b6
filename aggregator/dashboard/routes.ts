/**
 * The dashboard's server side, mounted under `/dashboard` of the aggregator's HTTP API:
 *
 *   GET  /dashboard/                 the built page (static files from `dashboard/dist`)
 *   GET  /dashboard/api/config       hub, chain, committee (n, t, nodes) and this aggregator's feed policies
 *   POST /dashboard/api/rpc          read-only JSON-RPC pass-through to the aggregator's own RPC
 *                                    (eth_call, eth_getLogs, eth_blockNumber, …; never a send)
 *   GET  /dashboard/api/rounds       recorded rounds with participants, exclusions, tx and gas
 *   GET  /dashboard/api/rounds/:epoch one round with its signed report and observations
 *   GET  /dashboard/api/nodes        each node's health, status and the participation the store shows
 *   GET  /dashboard/api/events       server-sent events: `round` (a round recorded or its tx settled)
 *                                    and `block` (a new block carrying hub events)
 *
 * Why the page reads the chain and not this process: what a feed serves, its history and its
 * breaker events are the hub's (docs/design.md §Hub), so the page asks the chain for them, through
 * the pass-through here or straight from any RPC in read-only mode. Rounds, participants and
 * exclusions exist only in the aggregator's store (docs/design.md §Round protocol), and the page shows
 * them as the store has them; the signature check runs in the browser against the group key it
 * reads from the hub, so a reader need not trust this server.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Request, type Response } from 'express';
import type { JsonRpcProvider } from 'ethers';
import { decodeReport, feedName, observationToJson, type Committee } from '../../protocol/index.ts';
import { sendError } from '../../runtime/http-errors.ts';
import type { AggregatorMetrics } from '../metrics.ts';
import type { AggregatorService } from '../service.ts';
import type { RoundStore, StoredRound } from '../store.ts';

/** What the dashboard needs beyond the API's own deps: the chain it reads and the nodes it asks. */
export interface DashboardContext {
  provider: JsonRpcProvider;
  committee: Committee;
  hub: string;
  /** Node index → base URL (from the committee file). */
  nodeUrls: ReadonlyMap<number, string>;
  /** Override of the built page's folder (default `<repo>/dashboard/dist`). */
  staticDir?: string;
}

export const DASHBOARD_DIST = resolve(fileURLToPath(new URL('../../dashboard/dist', import.meta.url)));

/** Read-only methods the pass-through forwards; anything that writes or signs is refused. */
export const READ_ONLY_METHODS = new Set([
  'eth_call',
  'eth_getLogs',
  'eth_blockNumber',
  'eth_chainId',
  'eth_getBlockByNumber',
  'eth_getBlockByHash',
  'eth_getTransactionReceipt',
  'eth_getTransactionByHash',
  'eth_getBalance',
  'eth_getCode',
]);

const SSE_POLL_MS = 150;
const NODE_TIMEOUT_MS = 1500;

function safeName(id: string): string {
  try {
    return feedName(id);
  } catch {
    return id;
  }
}

function roundSummary(r: StoredRound): Record<string, unknown> {
  return {
    epoch: r.epoch.toString(),
    startedAt: new Date(r.startedAt).toISOString(),
    status: r.status,
    failure: r.failureCode ? { code: r.failureCode, message: r.failureMessage } : null,
    feeds: r.feeds.map(safeName),
    answers: Object.fromEntries(Object.entries(r.answers).map(([id, a]) => [safeName(id), a])),
    participants: r.participants,
    excluded: r.excluded,
    skipped: r.skipped.map((s) => ({ feed: safeName(s.feedId), reason: s.reason })),
    postingReason: r.postingReason,
    decisions: r.decisions,
    signed: r.encodedReport !== null,
    tx: r.txStatus ? { hash: r.txHash, status: r.txStatus, detail: r.txDetail, gasUsed: r.gasUsed?.toString() ?? null, feeWei: r.feeWei?.toString() ?? null } : null,
    timingsMs: r.timings,
  };
}

function roundDetail(r: StoredRound): Record<string, unknown> {
  const out = roundSummary(r);
  if (!r.encodedReport) return { ...out, report: null };
  const report = decodeReport(r.encodedReport);
  return {
    ...out,
    report: {
      encoded: r.encodedReport,
      configDigest: report.configDigest,
      epoch: report.epoch.toString(),
      observedAt: Number(report.observedAt),
      observationsRoot: report.observationsRoot,
      observers: '0x' + report.observers.toString(16),
      feeds: report.feedIds.map((id, k) => ({ feed: safeName(id), feedId: id, answer: report.answers[k]!.toString(), spreadBps: report.spreadBps[k] })),
    },
    signature: r.signature,
    signatureEvm: r.signatureEvm,
    observationFeeds: r.feeds.map(safeName),
    observations: r.observations.map((s) => ({
      ...observationToJson(s),
      nodeIndex: s.observation.nodeIndex,
      observedAt: s.observation.observedAt.toString(),
      answers: s.observation.feeds.map((f) => (f.answer === null ? null : f.answer.toString())),
    })),
  };
}

async function getJson(url: string): Promise<{ ok: boolean; status: number; body: unknown; error?: string }> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(NODE_TIMEOUT_MS) });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Prometheus text or an HTML error page: kept as text.
    }
    return { ok: res.ok, status: res.status, body };
  } catch (err) {
    return { ok: false, status: 0, body: null, error: (err as Error).message };
  }
}

/** The few node metrics the nodes page shows, from Prometheus text (sums over labels; the highest signed epoch over hubs). */
export function pickNodeMetrics(text: string): Record<string, number> {
  const want = ['aegis_node_snapshot_age_seconds', 'aegis_node_source_errors_total', 'aegis_node_signatures_refused_total', 'aegis_node_signatures_issued_total', 'aegis_node_last_signed_epoch', 'aegis_node_observations_withheld_total'];
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m || !want.includes(m[1]!)) continue;
    const v = Number(m[3]);
    // last_signed_epoch has one series per hub (deployment label): an epoch, so the highest, not a sum.
    if (Number.isFinite(v)) out[m[1]!] = m[1] === 'aegis_node_last_signed_epoch' ? Math.max(out[m[1]!] ?? v, v) : (out[m[1]!] ?? 0) + v;
  }
  return out;
}

export function dashboardRoutes(deps: { service: AggregatorService; store: RoundStore; metrics: AggregatorMetrics; dashboard?: DashboardContext }): express.Router {
  const router = express.Router();
  const ctx = deps.dashboard;
  const dist = ctx?.staticDir ?? DASHBOARD_DIST;

  router.get('/api/config', (_req, res) => {
    const status = deps.service.status() as { name: string; role: string; feeds: { feed: string; feedId: string; deviationPct: number; heartbeatSec: number }[] };
    res.json({
      mode: 'aggregator',
      aggregator: { name: status.name, role: status.role },
      chainId: ctx ? ctx.committee.chainId.toString() : null,
      hub: ctx?.hub ?? null,
      committee: ctx ? { n: ctx.committee.nodes.length, t: ctx.committee.t, configVersion: ctx.committee.configVersion.toString(), nodes: ctx.committee.nodes.map((n) => ({ index: n.index, url: ctx.nodeUrls.get(n.index) ?? null })) } : null,
      feeds: status.feeds.map((f) => ({ feed: f.feed, feedId: f.feedId, deviationPct: f.deviationPct, heartbeatSec: f.heartbeatSec })),
    });
  });

  router.post('/api/rpc', express.json({ limit: '256kb' }), async (req: Request, res: Response) => {
    if (!ctx) return void sendError(res, 503, 'no_chain', 'this aggregator was started without a chain context; open the page with ?rpc=<url>&hub=<address> (read-only mode)');
    const one = async (call: { id?: unknown; method?: unknown; params?: unknown }) => {
      const id = call?.id ?? null;
      if (typeof call?.method !== 'string' || !READ_ONLY_METHODS.has(call.method)) {
        return { jsonrpc: '2.0', id, error: { code: -32601, message: `dashboard RPC: method ${String(call?.method)} is not forwarded (read-only: ${[...READ_ONLY_METHODS].join(', ')})` } };
      }
      try {
        return { jsonrpc: '2.0', id, result: await ctx.provider.send(call.method, Array.isArray(call.params) ? call.params : []) };
      } catch (err) {
        const e = err as { error?: { code?: number; message?: string; data?: unknown }; message?: string };
        return { jsonrpc: '2.0', id, error: { code: e.error?.code ?? -32000, message: e.error?.message ?? e.message ?? String(err), ...(e.error?.data !== undefined ? { data: e.error.data } : {}) } };
      }
    };
    const body = req.body as unknown;
    if (Array.isArray(body)) {
      if (body.length > 500) return void sendError(res, 413, 'batch_too_large', `dashboard RPC: batch of ${body.length} calls; at most 500`);
      return void res.json(await Promise.all(body.map(one)));
    }
    res.json(await one(body as { id?: unknown; method?: unknown; params?: unknown }));
  });

  router.get('/api/rounds', (req, res) => {
    const limit = Math.min(500, Math.max(1, Number(req.query.limit ?? 50) || 50));
    res.json({ rounds: deps.store.recent(limit).map(roundSummary) });
  });

  router.get('/api/rounds/:epoch', (req, res) => {
    const raw = String(req.params.epoch);
    if (!/^\d{1,20}$/.test(raw)) return void sendError(res, 400, 'bad_epoch', `epoch ${raw}: expected a decimal integer, e.g. /dashboard/api/rounds/1733580000`);
    const r = deps.store.get(BigInt(raw));
    if (!r) return void sendError(res, 404, 'no_round', `epoch ${raw}: no round recorded here (pruned, or run by another aggregator); see /dashboard/api/rounds`);
    res.json(roundDetail(r));
  });

  router.get('/api/nodes', async (req, res) => {
    if (!ctx) return void sendError(res, 503, 'no_chain', 'this aggregator was started without its committee context');
    const rounds = deps.store.recent(500);
    // Counts over the last `hours` (default 6), the recent strip and exclusions from the newest rounds.
    const hours = Math.min(168, Math.max(0.1, Number(req.query.hours ?? 6) || 6));
    const window = deps.store.participationSince(Date.now() - hours * 3_600_000);
    const out = await Promise.all(
      ctx.committee.nodes.map(async (n) => {
        const url = ctx.nodeUrls.get(n.index) ?? null;
        const mine = window.byNode.get(n.index) ?? { observed: 0, signed: 0, excluded: 0 };
        const participation = {
          hours,
          rounds: window.rounds,
          since: window.oldestAt !== null ? new Date(window.oldestAt).toISOString() : null,
          observed: mine.observed,
          signed: mine.signed,
          excludedCount: mine.excluded,
          excluded: rounds.flatMap((r) => r.excluded.filter((x) => x.index === n.index).map((x) => ({ epoch: r.epoch.toString(), phase: x.phase, code: x.code, reason: x.reason }))).slice(0, 20),
          // Oldest first, one cell per round: o = observed and signed, s = signed only, x = excluded, - = absent.
          recent: rounds
            .slice(0, 60)
            .reverse()
            .map((r) => (r.excluded.some((x) => x.index === n.index) ? 'x' : r.participants.signed.includes(n.index) ? 's' : r.participants.observed.includes(n.index) ? 'o' : '-'))
            .join(''),
        };
        if (!url) return { index: n.index, url, health: { ok: false, message: 'no URL in the committee file' }, status: null, metrics: {}, participation };
        const [health, status, metrics] = await Promise.all([getJson(`${url}/v1/health`), getJson(`${url}/v1/status`), getJson(`${url}/metrics`)]);
        return {
          index: n.index,
          url,
          health: { ok: health.ok, httpStatus: health.status, message: health.error ? `unreachable: ${health.error}` : ((health.body as { message?: string; status?: string })?.message ?? (health.body as { status?: string })?.status ?? '') },
          status: status.ok ? status.body : null,
          metrics: typeof metrics.body === 'string' ? pickNodeMetrics(metrics.body) : {},
          participation,
        };
      }),
    );
    res.json({ t: ctx.committee.t, nodes: out });
  });

  // One poller for every open page (started with the first, stopped with the last), so a
  // dozen readers cost the store and the RPC what one does.
  const clients = new Set<Response>();
  let timer: NodeJS.Timeout | undefined;
  let lastKey: string | undefined;
  let lastBlock = -1;
  let busy = false;
  const broadcast = (event: string, data: unknown) => {
    const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const c of clients) c.write(frame);
  };
  const tick = async () => {
    if (busy) return;
    busy = true;
    try {
      const r = deps.store.recent(1)[0];
      const key = r ? `${r.epoch}:${r.txStatus ?? ''}` : '';
      if (lastKey !== undefined && key !== lastKey && r) broadcast('round', roundSummary(r));
      lastKey = key;
      if (ctx) {
        const block = await ctx.provider.getBlockNumber();
        if (block !== lastBlock) {
          if (lastBlock >= 0 && block > lastBlock) {
            const logs = await ctx.provider.getLogs({ address: ctx.hub, fromBlock: lastBlock + 1, toBlock: block });
            if (logs.length) broadcast('block', { block, logs: logs.length, txs: [...new Set(logs.map((l) => l.transactionHash))] });
          }
          lastBlock = block;
        }
      }
    } catch {
      // The RPC or the store hiccuped: the next tick tries again; pages also refresh on their own.
    } finally {
      busy = false;
    }
  };

  router.get('/api/events', (req, res) => {
    res.set({ 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    res.flushHeaders();
    res.write('retry: 1000\n\n');
    clients.add(res);
    if (!timer) {
      lastKey = undefined;
      lastBlock = -1;
      void tick();
      timer = setInterval(() => void tick(), SSE_POLL_MS);
    }
    const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
    req.on('close', () => {
      clearInterval(ping);
      clients.delete(res);
      if (clients.size === 0 && timer) {
        clearInterval(timer);
        timer = undefined;
      }
    });
  });

  router.use('/api', (req, res) => {
    sendError(res, 404, 'not_found', `${req.method} /dashboard/api${req.path}: no such endpoint; see /dashboard/api/config, rpc, rounds, rounds/:epoch, nodes, events`);
  });

  // Vite names every built asset by its content hash: a browser may keep them for good and
  // revalidates only index.html, so a reload fetches no script again (docs/dashboard.md).
  router.use('/assets', express.static(join(dist, 'assets'), { index: false, immutable: true, maxAge: '365d' }));
  router.use(express.static(dist, { index: 'index.html', maxAge: 0 }));
  router.use((_req, res) => {
    const index = join(dist, 'index.html');
    if (!existsSync(index)) {
      return void res
        .status(503)
        .type('text/plain')
        .send(`dashboard not built: ${index} is missing; run npm run build:dashboard (npm install and npm run demo build it too)`);
    }
    res.type('html').send(readFileSync(index, 'utf8'));
  });
  return router;
}
