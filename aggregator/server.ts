/**
 * The aggregator's HTTP API on `listen.host` (127.0.0.1 by default; TLS with `listen.tls`), express 5:
 *
 *   GET /v1/reports/latest?feeds=BTC/USD,ETH/USD  latest signed report carrying those feeds
 *       (pull mode: `report` and `signature` go straight into `transmit`/`updateAndRead`;
 *       `observations` (encoding v2 bytes, signature and decoded answers over
 *       `observationFeedIds`) let anyone recompute `observationsRoot` and every median)
 *   GET /v1/rounds?limit=20    recorded rounds, newest first
 *   GET /v1/health             200 ok / 503 with the reason
 *   GET /v1/status             role, epochs, last round, feeds with their on-chain state
 *   GET /metrics               Prometheus text
 *   GET /dashboard/            the web dashboard and its JSON/SSE endpoints (dashboard/routes.ts)
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import { listenOn, type Listening, type TlsPems } from '../protocol/listen.ts';
import { decodeReport, feedId, feedName, observationToJson, ReportError } from '../protocol/index.ts';
import { HttpError, sendError } from '../runtime/http-errors.ts';
import type { AggregatorMetrics } from './metrics.ts';
import type { AggregatorService } from './service.ts';
import type { RoundStore, StoredRound } from './store.ts';
import { dashboardRoutes, type DashboardContext } from './dashboard/routes.ts';

function roundJson(r: StoredRound): Record<string, unknown> {
  return {
    epoch: r.epoch.toString(),
    startedAt: new Date(r.startedAt).toISOString(),
    status: r.status,
    failure: r.failureCode ? { code: r.failureCode, message: r.failureMessage } : null,
    answers: Object.fromEntries(Object.entries(r.answers).map(([id, a]) => [safeName(id), a])),
    participants: r.participants,
    excluded: r.excluded,
    skipped: r.skipped,
    postingReason: r.postingReason,
    decisions: r.decisions,
    tx: r.txStatus ? { hash: r.txHash, status: r.txStatus, detail: r.txDetail, gasUsed: r.gasUsed?.toString() ?? null, feeWei: r.feeWei?.toString() ?? null } : null,
    timingsMs: r.timings,
  };
}

function safeName(id: string): string {
  try {
    return feedName(id);
  } catch {
    return id;
  }
}

export function createAggregatorApp(deps: { service: AggregatorService; store: RoundStore; metrics: AggregatorMetrics; dashboard?: DashboardContext }): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.get('/v1/reports/latest', (req, res) => {
    const q = typeof req.query.feeds === 'string' ? req.query.feeds : '';
    const names = q.split(',').map((s) => s.trim()).filter(Boolean);
    let ids: string[];
    try {
      ids = names.map((n) => feedId(n).toLowerCase());
    } catch (err) {
      throw new HttpError(400, 'bad_feed', `${(err as ReportError).message}; pass ?feeds=BTC/USD,ETH/USD`);
    }
    const r = deps.store.latestSigned(ids);
    if (!r || !r.encodedReport) {
      throw new HttpError(404, 'no_report', names.length ? `no signed report carries ${names.join(', ')} yet; a report is signed when a feed needs a post (deviation or heartbeat)` : 'no signed report yet');
    }
    const report = decodeReport(r.encodedReport);
    res.json({
      epoch: report.epoch.toString(),
      configDigest: report.configDigest,
      observedAt: Number(report.observedAt),
      observationsRoot: report.observationsRoot,
      observers: '0x' + report.observers.toString(16),
      feeds: report.feedIds.map((id, k) => ({ feed: safeName(id), feedId: id, answer: report.answers[k]!.toString(), spreadBps: report.spreadBps[k] })),
      report: r.encodedReport,
      signature: r.signatureEvm,
      signatureCompressed: r.signature,
      // Every observation covers the round's feed list (sent once), so anyone can check each
      // feedsHash, recompute observationsRoot from the bytes and every median from the
      // decoded answers served alongside.
      observationFeedIds: r.feeds,
      observations: r.observations.map((s) => ({
        ...observationToJson(s),
        nodeIndex: s.observation.nodeIndex,
        observedAt: s.observation.observedAt.toString(),
        answers: s.observation.feeds.map((f) => (f.answer === null ? null : f.answer.toString())),
      })),
      tx: r.txStatus ? { hash: r.txHash, status: r.txStatus } : null,
    });
  });

  app.get('/v1/rounds', (req, res) => {
    const limit = Math.min(500, Math.max(1, Number(req.query.limit ?? 20) || 20));
    res.json({ rounds: deps.store.recent(limit).map(roundJson) });
  });

  app.get('/v1/health', (_req, res) => {
    const h = deps.service.health();
    res.status(h.ok ? 200 : 503).json({ status: h.ok ? 'ok' : 'unhealthy', message: h.message });
  });

  app.get('/v1/status', (_req, res) => {
    res.json(deps.service.status());
  });

  app.get('/metrics', async (_req, res) => {
    res.set('Content-Type', deps.metrics.registry.contentType).send(await deps.metrics.metrics());
  });

  app.use('/dashboard', dashboardRoutes(deps));

  app.use((req: Request, _res: Response, next: NextFunction) => {
    next(new HttpError(404, 'not_found', `${req.method} ${req.path}: no such endpoint; see GET /v1/reports/latest, /v1/rounds, /v1/health, /v1/status, /metrics`));
  });
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (res.headersSent) return;
    if (err instanceof HttpError) return sendError(res, err.status, err.code, err.message);
    sendError(res, 500, 'internal', (err as Error)?.message ?? String(err));
  });
  return app;
}

export interface AggregatorHttpServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Serves `app` on `host` (default 127.0.0.1; port 0 picks a free one), over TLS when `tls` is given. */
export async function listen(app: express.Express, port: number, o: { host?: string; tls?: TlsPems } = {}): Promise<AggregatorHttpServer> {
  let listening: Listening;
  try {
    listening = await listenOn(app, { host: o.host ?? '127.0.0.1', port, ...(o.tls ? { tls: o.tls } : {}) });
  } catch (err) {
    throw new Error(`aggregator HTTP: ${(err as Error).message}`, { cause: err });
  }
  const { server, url } = listening;
  return {
    url,
    port: listening.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
