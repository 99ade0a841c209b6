/**
 * The node's HTTP API, an adapter over `NodeHandlers`: the two aggregator endpoints on plain
 * `node:http` (`createNodeHandler`), everything else on express 5:
 *
 *   POST /v1/observe  ObserveRequest -> ObserveResponse                 (aggregator-authenticated)
 *   POST /v1/sign     binary AEGIS_SIGN_REQUEST_V1 -> SignResponse | 409 (aggregator-authenticated)
 *   GET  /v1/health   liveness and readiness
 *   GET  /v1/status   identity, last signed epoch, snapshot, per-feed view with sources
 *   GET  /metrics     Prometheus text (private registry, prefix aegis_node_)
 *
 * Order at the boundary, cheapest rejection first: body size limit (413), request
 * authentication over the exact body bytes (`verifyRequest`: listed aggregator key, timestamp
 * within the skew, nonce never seen, Ed25519 signature; 401/403), JSON (400), zod schema
 * naming the field (400), decoding (400), then the handler (409 refusal with a stable code).
 * Every answer other than success is `{ error: { code, message } }` (`runtime/http-errors.ts`).
 * No input reaches a 500: anything unexpected is logged and answered `internal`, and the process
 * never crashes on a request (the fuzz test throws thousands of malformed bodies at it).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
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
import { listenOn, type ServerTimeouts, type TlsPems } from '../../protocol/listen.ts';
import { errorBody, HttpError, type ErrorBody } from '../../runtime/http-errors.ts';
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

const REFUSAL_STATUS: Record<string, number> = { bad_request: 400, not_ready: 503 };

/** The two aggregator endpoints, as functions of the raw body, independent of the HTTP framework. */
interface NodeEndpoints {
  observe(req: IncomingMessage, body: Buffer): Promise<unknown>;
  sign(req: IncomingMessage, body: Buffer): Promise<unknown>;
  /** The `{ status, body }` answer for any failure (logged when unexpected). */
  failure(err: unknown, path: string): { status: number; body: ErrorBody };
}

function nodeEndpoints(opts: NodeHttpOptions): NodeEndpoints {
  const { backend } = opts;
  const { metrics, logger } = backend;
  const now = opts.now ?? Date.now;
  const nonces = new NonceCache(2 * opts.maxSkewMs);

  /** The authenticated body bytes (`verifyRequest` over exactly these bytes). */
  function authenticated(req: IncomingMessage, body: Buffer, endpoint: string): Buffer {
    const auth = verifyRequest(req.headers, { method: req.method ?? '', path: req.url ?? '', body: new Uint8Array(body.buffer, body.byteOffset, body.byteLength) }, {
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
  function accept<T>(req: IncomingMessage, raw: Buffer, endpoint: string, validate: (json: unknown) => z.ZodSafeParseResult<T>): T {
    const body = authenticated(req, raw, endpoint);
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

  return {
    async observe(req, raw) {
      const body = accept(req, raw, 'observe', parseObserveRequest);
      const call: ObserveCall = { configDigest: body.configDigest, epoch: BigInt(body.epoch), feedIds: body.feedIds };
      return observeResponseOf(await backend.observe(call));
    },
    async sign(req, raw) {
      const body = authenticated(req, raw, 'sign');
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
      return { index: partial.index, signature: `0x${Buffer.from(partial.signature).toString('hex')}` };
    },
    failure(err, path) {
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
        metrics.requestsRejected.inc({ endpoint: endpointOf(path), reason: code });
      } else {
        status = 500;
        code = 'internal';
        message = 'internal error; the node logged the details';
        logger.error({ action: 'http', path, err: err instanceof Error ? (err.stack ?? err.message) : String(err) }, 'unexpected error in request handler');
      }
      return { status, body: errorBody(code, message) };
    },
  };
}

export function createNodeApp(opts: NodeHttpOptions, endpoints = nodeEndpoints(opts)): express.Express {
  const { backend } = opts;
  const { metrics } = backend;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  const raw = express.raw({ type: () => true, limit: opts.bodyLimitBytes });
  const body = (req: Request): Buffer => (Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0));

  app.post('/v1/observe', raw, async (req, res) => {
    res.json(await endpoints.observe(req, body(req)));
  });

  app.post('/v1/sign', raw, async (req, res) => {
    res.json(await endpoints.sign(req, body(req)));
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
    const { status, body } = endpoints.failure(err, req.path);
    if (res.headersSent) return;
    res.status(status).json(body);
  });

  return app;
}

/**
 * The request handler of the node's server. `POST /v1/observe` and `POST /v1/sign` at exactly
 * those URLs (what aggregators call, 2n times a round) are served on plain `node:http`: express'
 * routing, body parser and response helpers cost about 0.3 ms a request, as much as the rest of
 * the HTTP work. Same limits, authentication, answers and error bodies as the express routes,
 * which serve everything else (the same endpoints under another spelling of the URL, or with a
 * Content-Encoding, included).
 */
function createNodeHandler(opts: NodeHttpOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const endpoints = nodeEndpoints(opts);
  const app = createNodeApp(opts, endpoints);
  const send = (res: ServerResponse, status: number, value: unknown): void => {
    if (res.headersSent) return;
    const text = JSON.stringify(value);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) }).end(text);
  };
  return (req, res) => {
    const encoding = req.headers['content-encoding'];
    const plain = encoding === undefined || encoding === 'identity';
    const handle = req.method === 'POST' && plain ? (req.url === '/v1/sign' ? endpoints.sign : req.url === '/v1/observe' ? endpoints.observe : undefined) : undefined;
    if (!handle) return void app(req, res);
    const path = req.url!;
    const fail = (err: unknown): void => {
      const { status, body } = endpoints.failure(err, path);
      send(res, status, body);
    };
    const declared = Number(req.headers['content-length']);
    if (declared > opts.bodyLimitBytes) {
      req.resume();
      return fail({ status: 413, type: 'entity.too.large', length: declared, message: 'request entity too large' });
    }
    const chunks: Buffer[] = [];
    let length = 0;
    req.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length <= opts.bodyLimitBytes) chunks.push(chunk);
    });
    req.on('error', () => res.destroy());
    req.on('end', () => {
      if (length > opts.bodyLimitBytes) return fail({ status: 413, type: 'entity.too.large', length, message: 'request entity too large' });
      handle(req, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length)).then((value) => send(res, 200, value), fail);
    });
  };
}

function endpointOf(path: string): string {
  return path === '/v1/observe' ? 'observe' : path === '/v1/sign' ? 'sign' : 'other';
}

function isBodyParserError(err: unknown): err is { status: number; type?: string; length?: number; message: string } {
  if (typeof err !== 'object' || err === null) return false;
  const status = (err as { status?: unknown }).status;
  return typeof status === 'number' && status >= 400 && status < 500;
}

export interface NodeHttpServer {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Listen on `host` (default 127.0.0.1; port 0 picks a free one), over TLS when `tls` is given.
 * Timeouts default to 30 s per request, 10 s for headers and 5 s of keep-alive idleness.
 */
export async function startNodeHttp(
  opts: NodeHttpOptions & { host?: string; port: number; tls?: TlsPems; timeouts?: ServerTimeouts; /** Named in a bind failure (default listen.host / listen.port). */ fields?: { host?: string; port?: string } },
): Promise<NodeHttpServer> {
  const { server, host, port, url } = await listenOn(createNodeHandler(opts), {
    host: opts.host ?? '127.0.0.1',
    port: opts.port,
    ...(opts.tls ? { tls: opts.tls } : {}),
    timeouts: { requestTimeoutMs: 30_000, headersTimeoutMs: 10_000, keepAliveTimeoutMs: 5_000, ...opts.timeouts },
    ...(opts.fields?.host ? { hostField: opts.fields.host } : {}),
    ...(opts.fields?.port ? { portField: opts.fields.port } : {}),
  });
  return {
    url,
    host,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
