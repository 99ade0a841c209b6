/**
 * Wiring of a node process from its config file: committee file (digest recomputed), keys
 * (EIP-2335 keystores, passwords from file or environment), the SQLite signing store, the
 * service and its HTTP API. `aegis node start` calls `startNode`; tests call it in-process.
 */
import pino, { type Logger } from 'pino';
import { loadBlsShare, loadIdentity, readPassword } from './keys/index.ts';
import { SigningStore } from './store/index.ts';
import { loadNodeConfig, passwordSource, STORE_PRUNE_EVERY_SEC, STORE_RETAIN_ROWS, type NodeConfig } from './config.ts';
import { NodeError } from './errors.ts';
import { startNodeHttp, type NodeHttpServer } from './http/server.ts';
import { createNodeLogger } from './log.ts';
import { NodeService } from './service.ts';
import { allowedCoordinators, dkgRouterForNode } from './dkg/server.ts';
import type { ApprovalSource } from './dkg/approvals.ts';
import { exposureWarning } from '../protocol/listen.ts';
import { hostOverride, loadCommittee, tlsOfConfig } from './setup.ts';

// Re-exported for the CLI and tests; they live in setup.ts so node/dkg/server.ts can use them
// without importing this module (which imports the DKG router).
export { hostOverride, loadCommittee, tlsOfConfig };

export interface RunningNode {
  config: NodeConfig;
  service: NodeService;
  http: NodeHttpServer;
  logger: Logger;
  stop(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  /** Override the config's listen port (0: any free port). */
  port?: number;
  /** Override the config's listen host (an IP literal, checked like listen.host). */
  host?: string;
  /** Keys allowed to coordinate DKG/resharing ceremonies, besides the config's `dkg.coordinators` (never aggregator keys). */
  dkgCoordinators?: readonly string[];
  /** Ceremony approvals given in code (in-process fixtures); by default the config's `dkg.approvals` folder. */
  dkgApprovals?: ApprovalSource;
  /** Register Node.js process metrics (default false; `aegis node start` sets it: once per process). */
  processMetrics?: boolean;
}

/** Load everything, start polling and listen. The caller stops it with `stop()`. */
export async function startNode(configFile: string, opts: StartOptions = {}): Promise<RunningNode> {
  const config = loadNodeConfig(configFile);
  const host = hostOverride(opts.host, config.listen.host, configFile);
  const tls = config.listen.tls ? tlsOfConfig(config) : undefined;
  const committee = loadCommittee(config.committee);
  const identity = await loadIdentity(config.keys.identity.path, readPassword(passwordSource(config.keys.identity)));
  const share = await loadBlsShare(config.keys.share.path, readPassword(passwordSource(config.keys.share)));
  let logger = opts.logger ?? createNodeLogger(config.log.level);
  // Configuration errors before any resource is taken: a coordinator key that is an aggregator
  // key stops the start with its own code even while another process holds the signing store.
  allowedCoordinators(config, opts.dkgCoordinators ?? [], pino({ level: 'silent' }), committee);
  const store = SigningStore.open(config.store);
  let service: NodeService;
  try {
    service = new NodeService({ config, committee, identitySecret: identity.secretKey, share: share.share, store, logger });
  } catch (err) {
    store.close();
    throw err;
  }
  logger = service.logger;
  const allowedKeys = new Set(committee.aggregators.map((a) => a.identityKey.toLowerCase().replace(/^0x/, '')));
  if (allowedKeys.size === 0) logger.warn({ action: 'start' }, `committee file ${config.committee} lists no aggregators: every observe and sign request will be rejected`);
  // The ceremony endpoints (node/dkg), so the running committee can reshare: driven only by
  // configured coordinator keys, never aggregators, and dealing only in approved ceremonies.
  let dkg: Awaited<ReturnType<typeof dkgRouterForNode>>;
  try {
    dkg = await dkgRouterForNode(config, {
      identitySecret: identity.secretKey,
      currentShare: share.share,
      committee,
      logger,
      ...(opts.dkgCoordinators ? { coordinators: opts.dkgCoordinators } : {}),
      ...(opts.dkgApprovals ? { approvals: opts.dkgApprovals } : {}),
    });
  } catch (err) {
    await service.stop().catch(() => undefined);
    service.metrics.close();
    store.close();
    throw err;
  }
  let http: NodeHttpServer;
  try {
    http = await startNodeHttp({
      backend: service,
      allowedKeys,
      bodyLimitBytes: config.http.bodyLimitBytes,
      maxSkewMs: config.http.maxSkewMs,
      host,
      port: opts.port ?? config.listen.port,
      ...(tls ? { tls } : {}),
      timeouts: { requestTimeoutMs: config.http.requestTimeoutMs, headersTimeoutMs: config.http.headersTimeoutMs, keepAliveTimeoutMs: config.http.keepAliveTimeoutMs },
      extraRoutes: dkg.router,
      fields: { host: opts.host !== undefined ? '--host' : 'listen.host', port: opts.port !== undefined ? '--port' : 'listen.port' },
    });
  } catch (err) {
    await service.stop().catch(() => undefined);
    service.metrics.close();
    store.close();
    throw new NodeError('not_started', `node: ${(err as Error).message}`, { cause: err });
  }
  service.start();
  // Process metrics (RSS, heap, fds, event-loop delay) only in a node process of its own (the
  // CLI): the event-loop monitor they start is per process and outlives a registry, so
  // in-process nodes (tests, the simulator) leave them off.
  if (opts.processMetrics) service.metrics.collectProcessMetrics();
  const retention = config.storeRetention ?? { retainRows: STORE_RETAIN_ROWS, pruneEverySec: STORE_PRUNE_EVERY_SEC };
  const prune = () => {
    try {
      const deleted = store.prune(retention.retainRows);
      if (deleted > 0) logger.info({ action: 'prune', deleted, retainRows: retention.retainRows }, `signing store: pruned ${deleted} rows older than the newest ${retention.retainRows} epochs per config digest`);
    } catch (err) {
      logger.warn({ action: 'prune', err: (err as Error).message }, `signing store ${config.store}: prune failed (${(err as Error).message}); signing is unaffected, the next prune retries`);
    }
  };
  prune();
  const pruner = setInterval(prune, retention.pruneEverySec * 1000);
  pruner.unref();
  logger.info({ action: 'listen', url: http.url, host: http.host, tls: tls !== undefined, node: service.index }, `node ${service.index} listening on ${http.url}`);
  const exposed = exposureWarning({ what: 'the node API', field: opts.host !== undefined ? '--host' : 'listen.host', host: http.host, url: http.url, tls: tls !== undefined, peers: "the aggregators' and DKG coordinator's addresses" });
  if (exposed) logger.warn({ action: 'listen', host: http.host, url: http.url }, exposed);
  let stopped = false;
  return {
    config,
    service,
    http,
    logger,
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(pruner);
      await http.close();
      await service.stop();
      service.metrics.close();
      store.close();
    },
  };
}
