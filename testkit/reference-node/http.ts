/**
 * The reference node behind the node HTTP API (`POST /v1/observe`, `POST /v1/sign`, signed
 * requests, `{ error: { code, message } }` refusals with 409), on 127.0.0.1. Lets the
 * aggregator's benchmark and tests exercise the real HTTP transport (`HttpNodeClient`) without
 * importing `node/`.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import { listen } from '../../aggregator/server.ts';
import {
  describeZodError,
  NodeRefusal,
  NonceCache,
  observeResponseOf,
  parseObserveRequest,
  signCallFromBody,
  verifyRequest,
  type NodeHandlers,
  type SignCall,
} from '../../protocol/index.ts';

export interface ReferenceHttpNode {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function serveReferenceNode(handlers: NodeHandlers, allowedKeys: ReadonlySet<string>, port = 0): Promise<ReferenceHttpNode> {
  const app = express();
  const nonces = new NonceCache(60_000);
  const raw = express.raw({ type: () => true, limit: '8mb' });
  const authenticated = (req: Request): Buffer => {
    const body: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const auth = verifyRequest(req.headers, { method: req.method, path: req.originalUrl, body: new Uint8Array(body.buffer, body.byteOffset, body.byteLength) }, { allowedKeys, nonces, maxSkewMs: 30_000 });
    if (!auth.ok) throw Object.assign(new Error(auth.message), { status: 401, code: auth.reason });
    return body;
  };
  const accept = (req: Request): unknown => JSON.parse(authenticated(req).toString('utf8'));
  app.post('/v1/observe', raw, async (req, res) => {
    const p = parseObserveRequest(accept(req));
    if (!p.success) throw Object.assign(new Error(describeZodError(p.error)), { status: 400, code: 'bad_request' });
    const o = await handlers.observe({ configDigest: p.data.configDigest, epoch: BigInt(p.data.epoch), feedIds: p.data.feedIds });
    res.json(observeResponseOf(o));
  });
  app.post('/v1/sign', raw, async (req, res) => {
    const body = authenticated(req);
    let call: SignCall;
    try {
      call = signCallFromBody(body);
    } catch (err) {
      throw Object.assign(new Error((err as Error).message), { status: 400, code: 'bad_request' });
    }
    const partial = await handlers.sign(call);
    res.json({ index: partial.index, signature: `0x${Buffer.from(partial.signature).toString('hex')}` });
  });
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof NodeRefusal) return void res.status(409).json({ error: { code: String(err.code), message: err.message } });
    const e = err as { status?: number; code?: string; message?: string };
    if (typeof e.status === 'number' && e.status < 500) return void res.status(e.status).json({ error: { code: e.code ?? 'bad_request', message: e.message ?? 'bad request' } });
    // A "down" fault or any other failure: answer like a crashed handler.
    res.status(503).json({ error: { code: 'unavailable', message: e.message ?? String(err) } });
  });
  return listen(app, port);
}
