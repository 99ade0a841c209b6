/**
 * HTTP adapter of the node's ceremony endpoints (express 5 router), mounted on the node's API
 * (`startNode`) or served alone before the node has a share (`aegis dkg serve`):
 *
 *   GET  /v1/dkg/keys?ceremonyId=…   identity key and this ceremony's X25519 key (public)
 *   GET  /v1/dkg/status              ceremonies known to this node and their phase (public)
 *   POST /v1/dkg/deal                { ceremony }                 -> { deal, recipient?, dealer? }
 *   POST /v1/dkg/complaints          { ceremonyId, deals }        -> { complaint, rejected }
 *   POST /v1/dkg/responses           { ceremonyId, complaints }   -> { response, pending }
 *   POST /v1/dkg/finalize            { ceremonyId, responses }    -> { transcriptDigest, groupPublicKey, … }
 *   POST /v1/dkg/transcript          { ceremonyId }               -> transcript
 *   POST /v1/dkg/rotation-sign       { ceremonyId, chainId, hub, configVersion } -> { index, signature, message }
 *   POST /v1/dkg/abort               { ceremonyId, reason }
 *
 * Every POST carries the request authentication of `protocol/auth.ts` by a coordinator key
 * this node allows: only keys its operator configured (`dkg.coordinators`, `--coordinator`),
 * never the committee's aggregator keys. The ceremony messages inside are additionally signed
 * by their senders' identity keys and checked by `protocol/dkg`, so the coordinator can relay
 * but not forge; and `deal` joins only a ceremony the operator approved (approvals.ts).
 * Errors are `{ error: { code, message } }`.
 */
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { NonceCache, verifyRequest } from '../../protocol/index.ts';
import { sendError } from '../../runtime/http-errors.ts';
import { DkgNodeService, DkgRequestError } from './service.ts';

export interface DkgRouterOptions {
  service: DkgNodeService;
  /** Lower-case hex (no 0x) Ed25519 keys allowed to drive ceremonies. */
  allowedKeys: ReadonlySet<string>;
  maxSkewMs: number;
  /** Relayed deal bundles grow as n²; 16 MiB covers n = 256. */
  bodyLimitBytes?: number;
}

const id = z.string().min(1).max(128);
const list = z.array(z.unknown()).max(256);
const Bodies = {
  deal: z.object({ ceremony: z.unknown() }),
  complaints: z.object({ ceremonyId: id, deals: list }),
  responses: z.object({ ceremonyId: id, complaints: list }),
  finalize: z.object({ ceremonyId: id, responses: list }),
  transcript: z.object({ ceremonyId: id }),
  rotation: z.object({
    ceremonyId: id,
    chainId: z.union([z.number().int().positive(), z.string().regex(/^\d+$/)]).transform((v) => BigInt(v)),
    hub: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
    configVersion: z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/)]).transform((v) => BigInt(v)),
  }),
  abort: z.object({ ceremonyId: id, reason: z.string().max(1000) }),
};

export function createDkgRouter(opts: DkgRouterOptions): Router {
  const { service } = opts;
  const nonces = new NonceCache(2 * opts.maxSkewMs);
  const router = express.Router();
  const raw = express.raw({ type: () => true, limit: opts.bodyLimitBytes ?? 16 * 1024 * 1024 });

  function accept<S extends z.ZodType>(req: Request, schema: S): z.output<S> {
    const body: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const auth = verifyRequest(req.headers, { method: req.method, path: req.originalUrl, body: new Uint8Array(body.buffer, body.byteOffset, body.byteLength) }, {
      allowedKeys: opts.allowedKeys,
      nonces,
      maxSkewMs: opts.maxSkewMs,
    });
    if (!auth.ok) {
      const message = auth.reason === 'unknown_key' ? `caller key ${String(req.headers['x-aegis-key']).slice(0, 16)}…: not a coordinator this node allows (only dkg.coordinators in the node config or --coordinator; aggregator keys never coordinate): the operator adds the coordinator's key there` : auth.message;
      throw new DkgRequestError(auth.reason === 'unknown_key' ? 403 : 401, auth.reason, message);
    }
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      throw new DkgRequestError(400, 'bad_json', 'body is not valid JSON');
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw new DkgRequestError(400, 'bad_request', z.prettifyError(parsed.error).replace(/\n/g, '; '));
    return parsed.data;
  }

  router.get('/v1/dkg/keys', (req, res) => {
    res.json(service.keys(String(req.query.ceremonyId ?? '')));
  });
  router.get('/v1/dkg/status', (_req, res) => {
    res.json(service.status());
  });
  router.post('/v1/dkg/deal', raw, async (req, res) => {
    const b = accept(req, Bodies.deal);
    res.json(await service.deal(b.ceremony));
  });
  router.post('/v1/dkg/complaints', raw, async (req, res) => {
    const b = accept(req, Bodies.complaints);
    res.json(await service.complaints(b.ceremonyId, b.deals));
  });
  router.post('/v1/dkg/responses', raw, async (req, res) => {
    const b = accept(req, Bodies.responses);
    res.json(await service.responses(b.ceremonyId, b.complaints));
  });
  router.post('/v1/dkg/finalize', raw, async (req, res) => {
    const b = accept(req, Bodies.finalize);
    res.json(await service.finalize(b.ceremonyId, b.responses));
  });
  router.post('/v1/dkg/transcript', raw, (req, res) => {
    const b = accept(req, Bodies.transcript);
    res.json(service.transcript(b.ceremonyId));
  });
  router.post('/v1/dkg/rotation-sign', raw, (req, res) => {
    const b = accept(req, Bodies.rotation);
    res.json(service.rotationSign(b.ceremonyId, b));
  });
  router.post('/v1/dkg/abort', raw, (req, res) => {
    const b = accept(req, Bodies.abort);
    res.json(service.abort(b.ceremonyId, b.reason));
  });
  router.use('/v1/dkg', (err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (err instanceof DkgRequestError) {
      sendError(res, err.status, err.code, err.message);
      return;
    }
    if (typeof err === 'object' && err !== null && (err as { type?: string }).type === 'entity.too.large') {
      sendError(res, 413, 'body_too_large', 'request body exceeds the DKG body limit');
      return;
    }
    next(err);
  });
  return router;
}
