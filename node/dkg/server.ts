/**
 * Wiring of the ceremony endpoints from a node's config file:
 *  - `dkgRouterForNode` builds the router the running node mounts on its API (`startNode`),
 *    so a committee reshares without stopping its nodes;
 *  - `startDkgServer` serves the ceremony alone (`aegis dkg serve`), for the first DKG, when the
 *    node has no share yet and therefore cannot start.
 *
 * The new share goes to the config's `keys.share.path` when that file does not exist yet (first
 * DKG), else next to it as `<name>.<ceremonyId>.json` (a resharing: the running node keeps its
 * current share until the hub has rotated and the operator switches the config).
 * Allowed coordinators: the aggregators of the config's committee file (when it loads) plus
 * the keys given explicitly.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Logger } from 'pino';
import pino from 'pino';
import type { KeyShare } from '../../protocol/index.ts';
import { loadNodeConfig, passwordSource, type NodeConfig } from '../config.ts';
import { loadBlsShare, loadIdentity, readPassword, type KdfChoice } from '../keys/index.ts';
import { loadCommittee } from '../start.ts';
import { createDkgRouter } from './routes.ts';
import { DkgNodeService } from './service.ts';

export interface DkgWiringOptions {
  /** Extra coordinator keys (0x-hex Ed25519) besides the committee's aggregators. */
  coordinators?: readonly string[];
  logger?: Logger;
  kdf?: KdfChoice;
  /** Already-decrypted keys (the running node has them); else read from the keystores. */
  identitySecret?: Uint8Array;
  currentShare?: KeyShare;
}

const bare = (k: string) => k.toLowerCase().replace(/^0x/, '');

function allowedCoordinators(config: NodeConfig, extra: readonly string[], logger: Logger): Set<string> {
  const keys = new Set(extra.map(bare));
  try {
    for (const a of loadCommittee(config.committee).aggregators) keys.add(bare(a.identityKey));
  } catch (err) {
    logger.info({ action: 'dkg' }, `no committee file usable for coordinator keys (${(err as Error).message.split(';')[0]}); allowing only --coordinator keys`);
  }
  return keys;
}

export async function dkgRouterForNode(config: NodeConfig, opts: DkgWiringOptions = {}): Promise<{ router: Router; service: DkgNodeService; allowedKeys: Set<string> }> {
  const logger = opts.logger ?? pino({ level: 'silent' });
  const identitySecret = opts.identitySecret ?? (await loadIdentity(config.keys.identity.path, readPassword(passwordSource(config.keys.identity)))).secretKey;
  const shareRef = config.keys.share;
  const service = new DkgNodeService({
    identitySecret,
    loadCurrentShare: async () => {
      if (opts.currentShare) return opts.currentShare;
      try {
        return (await loadBlsShare(shareRef.path, readPassword(passwordSource(shareRef)))).share;
      } catch {
        return undefined;
      }
    },
    shareFile: shareRef.path,
    sharePassword: () => readPassword(passwordSource(shareRef)),
    ...(opts.kdf ? { kdf: opts.kdf } : {}),
    logger,
    maxSkewMs: config.http.maxSkewMs,
  });
  const allowedKeys = allowedCoordinators(config, opts.coordinators ?? [], logger);
  const router = createDkgRouter({ service, allowedKeys, maxSkewMs: config.http.maxSkewMs });
  return { router, service, allowedKeys };
}

export interface DkgServer {
  url: string;
  port: number;
  service: DkgNodeService;
  close(): Promise<void>;
}

/** Serve only the ceremony endpoints on 127.0.0.1 (`port` overrides the config's listen port). */
export async function startDkgServer(configFile: string, opts: DkgWiringOptions & { port?: number } = {}): Promise<DkgServer> {
  const config = loadNodeConfig(configFile);
  const logger = opts.logger ?? pino({ level: 'silent' });
  const { router, service } = await dkgRouterForNode(config, { ...opts, logger });
  const app = express();
  app.disable('x-powered-by');
  app.use(router);
  app.get('/v1/health', (_req, res) => {
    res.json({ status: 'ok', dkgOnly: true, pid: process.pid });
  });
  app.use((req: Request, res: Response) => {
    res.status(404).json({ error: { code: 'not_found', message: `${req.method} ${req.path}: this is the DKG-only server; see /v1/dkg/*` } });
  });
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    logger.error({ action: 'http', path: req.path, err: err instanceof Error ? (err.stack ?? err.message) : String(err) }, 'unexpected error in DKG request');
    if (!res.headersSent) res.status(500).json({ error: { code: 'internal', message: 'internal error; the node logged the details' } });
  });
  const port = opts.port ?? config.listen.port;
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(port, '127.0.0.1', (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  server.requestTimeout = 120_000;
  const bound = (server.address() as AddressInfo).port;
  logger.info({ action: 'listen', url: `http://127.0.0.1:${bound}` }, `DKG endpoints listening on http://127.0.0.1:${bound}`);
  return {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    service,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
