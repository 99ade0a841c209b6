/**
 * The node's HTTP API (express 5), an adapter over `NodeHandlers`:
 *
 *   POST /v1/observe  ObserveRequest -> ObserveResponse          (aggregator-authenticated)
 *   POST /v1/sign     binary AEGIS_SIGN_REQUEST_V1 -> SignResponse | 409 refusal (aggregator-authenticated)
 *   GET  /v1/health   liveness and readiness
 *   GET  /v1/status   identity, last signed epoch, snapshot, per-feed view with sources
 *   GET  /metrics     Prometheus text (private registry, prefix aegis_node_)
 *
 * Order at the boundary, cheapest rejection first: body size limit (413), request
 * authentication over the exact body bytes (`verifyRequest`: listed aggregator key, timestamp
 * within the skew, nonce never seen, Ed25519 signature; 401/403), JSON (400), zod schema
 * naming the field (400), decoding (400), then the handler (409 refusal with a stable code).
 * Every answer other than success is `{ error: { code, message } }`. No input reaches a 500:
 * anything unexpected is logged and answered `internal`, and the process never crashes on a
 * request (the fuzz test throws thousands of malformed bodies at it).
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { z } from 'zod';
import {
  NodeRefusal,
  NonceCache,
  ReportError,
  describeZodError,
  observeResponseOf,
  parseObserveRequest,
  signCallFromBody,
  verifyRequest,
  type NodeHandlers,
  type ObserveCall,
  type SignCall,
} from '../../protocol/index.ts';
import type { NodeMetrics } from '../metrics.ts';

export interface NodeHttpBackend extends NodeHandlers {
  readonly index: number;
  readonly metrics: NodeMetrics;
  readonly logger: Logger;
  status(): Record<string, unknown>;
  /** True once the node can answer with prices (first snapshot taken). */
  ready(): boolean;
}

export interface NodeHttpOptions {
  backend: NodeHttpBackend;
  /** Lower-case hex (no 0x) Ed25519 keys of the aggregators allowed to call observe and sign. */
  allowedKeys: ReadonlySet<string>;
  bodyLimitBytes: number;
  maxSkewMs: number;
  now?: () => number;
  /** Extra routes mounted before the 404 handler (the DKG ceremony endpoints, `node/dkg`). */
  extraRoutes?: express.Router;
}

/** An HTTP answer other than success. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const REFUSAL_STATUS: Record<string, number> = { bad_request: 400, not_ready: 503 };

export function createNodeApp(opts: NodeHttpOptions): express.Express {
  const { backend } = opts;
  const { metrics, logger } = backend;
  const now = opts.now ?? Date.now;
  const nonces = new NonceCache(2 * opts.maxSkewMs);
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  const raw = express.raw({ type: () => true, limit: opts.bodyLimitBytes });

  /** The authenticated body bytes (`verifyRequest` over exactly these bytes). */
  function authenticated(req: Request, endpoint: string): Buffer {
    const body: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const auth = verifyRequest(req.headers, { method: req.method, path: req.originalUrl, body: new Uint8Array(body.buffer, body.byteOffset, body.byteLength) }, {
      allowedKeys: opts.allowedKeys,
      nonces,
      maxSkewMs: opts.maxSkewMs,
      nowMs: now(),
    });
    if (!auth.ok) {
      metrics.requestsRejected.inc({ endpoint, reason: auth.reason });
      throw new HttpError(auth.reason === 'unknown_key' ? 403 : 401, auth.reason, auth.message);
    }
    return body;
  }

  /** Authenticate, parse and validate (`validate` is a schema's `safeParse` or its fast path); returns the typed body. */
  function accept<T>(req: Request, endpoint: string, validate: (json: unknown) => z.ZodSafeParseResult<T>): T {
    const body = authenticated(req, endpoint);
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      metrics.requestsRejected.inc({ endpoint, reason: 'bad_json' });
      throw new HttpError(400, 'bad_json', body.length === 0 ? 'empty body: send a JSON object' : 'body is not valid JSON: send a JSON object with Content-Type: application/json');
    }
    const parsed = validate(json);
    if (!parsed.success) {
      metrics.requestsRejected.inc({ endpoint, reason: 'bad_request' });
      throw new HttpError(400, 'bad_request', describeZodError(parsed.error));
    }
    return parsed.data;
  }

  app.post('/v1/observe', raw, async (req, res) => {
    const body = accept(req, 'observe', parseObserveRequest);
    const call: ObserveCall = { configDigest: body.configDigest, epoch: BigInt(body.epoch), feedIds: body.feedIds };
    const observation = await backend.observe(call);
    res.json(observeResponseOf(observation));
  });

  app.post('/v1/sign', raw, async (req, res) => {
    const body = authenticated(req, 'sign');
    let call: SignCall;
    try {
      // Observations are decoded against the feed list once: its hash is computed once, each
      // observation's feedsHash compared, and the received bytes (not a re-encoding) hashed.
      call = signCallFromBody(body);
    } catch (err) {
      if (err instanceof ReportError) {
        metrics.requestsRejected.inc({ endpoint: 'sign', reason: 'bad_request' });
        metrics.signaturesRefused.inc({ reason: 'bad_request' });
        throw new HttpError(400, 'bad_request', err.message);
      }
      throw err;
    }
    const partial = await backend.sign(call);
    res.json({ index: partial.index, signature: `0x${Buffer.from(partial.signature).toString('hex')}` });
  });

  app.get('/v1/health', (_req, res) => {
    res.json({ status: 'ok', node: backend.index, ready: backend.ready(), pid: process.pid });
  });

  app.get('/v1/status', (_req, res) => {
    res.json(backend.status());
  });

  app.get('/metrics', async (_req, res) => {
    res.set('Content-Type', metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  if (opts.extraRoutes) app.use(opts.extraRoutes);

  app.use((req: Request, _res: Response, next: NextFunction) => {
    metrics.requestsRejected.inc({ endpoint: 'other', reason: 'not_found' });
    next(new HttpError(404, 'not_found', `${req.method} ${req.path}: no such endpoint; see POST /v1/observe, POST /v1/sign, GET /v1/health, GET /v1/status, GET /metrics`));
  });

  // Error handler: every failure becomes { error: { code, message } } with a 4xx when the input was at fault.
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    let status: number;
    let code: string;
    let message: string;
    if (err instanceof HttpError) {
      ({ status, code, message } = err);
    } else if (err instanceof NodeRefusal) {
      status = REFUSAL_STATUS[String(err.code)] ?? 409;
      code = String(err.code);
      message = err.message;
    } else if (isBodyParserError(err)) {
      status = err.status;
      code = err.type === 'entity.too.large' ? 'body_too_large' : 'bad_request';
      message =
        err.type === 'entity.too.large'
          ? `body of ${err.length ?? '?'} bytes exceeds the limit of ${opts.bodyLimitBytes} bytes`
          : `cannot read the request body (${err.type ?? err.message})`;
      metrics.requestsRejected.inc({ endpoint: endpointOf(req), reason: code });
    } else {
      status = 500;
      code = 'internal';
      message = 'internal error; the node logged the details';
      logger.error({ action: 'http', path: req.path, err: err instanceof Error ? (err.stack ?? err.message) : String(err) }, 'unexpected error in request handler');
    }
    if (res.headersSent) return;
    res.status(status).json({ error: { code, message } });
  });

  return app;
}

function endpointOf(req: Request): string {
  return req.path === '/v1/observe' ? 'observe' : req.path === '/v1/sign' ? 'sign' : 'other';
}

function isBodyParserError(err: unknown): err is { status: number; type?: string; length?: number; message: string } {
  if (typeof err !== 'object' || err === null) return false;
  const status = (err as { status?: unknown }).status;
  return typeof status === 'number' && status >= 400 && status < 500;
}

export interface NodeHttpServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Listen on 127.0.0.1 (port 0 picks a free one). */
export async function startNodeHttp(opts: NodeHttpOptions & { host?: '127.0.0.1'; port: number }): Promise<NodeHttpServer> {
  const app = createNodeApp(opts);
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(opts.port, '127.0.0.1', (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  server.keepAliveTimeout = 5_000;
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
