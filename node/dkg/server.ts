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
 * Allowed coordinators: only keys the operator configured (`dkg.coordinators` in the config,
 * `--coordinator` on the command line), never the committee's aggregator keys, and start-up
 * fails when a configured key is one of them (`coordinator_is_aggregator`): an aggregator is
 * trusted to relay rounds, and a compromised one must gain nothing beyond delaying or
 * censoring them (docs/design.md §Trust model). Even an allowed coordinator only gets a node
 * to deal in a ceremony its operator approved (`dkg.approvals`, see approvals.ts).
 */
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Logger } from 'pino';
import pino from 'pino';
import { committeeDeployments, type Committee, type KeyShare } from '../../protocol/index.ts';
import { configDigestPinMismatch, loadNodeConfig, passwordSource, type NodeConfig } from '../config.ts';
import { inspectIdentity, loadBlsShare, loadIdentity, readPassword, type KdfChoice } from '../keys/index.ts';
import { hostOverride, loadCommittee, tlsOfConfig } from '../setup.ts';
import { NodeError } from '../errors.ts';
import { exposureWarning, listenOn, type Listening } from '../../protocol/listen.ts';
import { CodedError } from '../../runtime/coded-error.ts';
import { sendError } from '../../runtime/http-errors.ts';
import { approvalFile, approvalFor, ceremonyOfFile, DkgRequestError, folderApprovals, writeApproval, type ApprovalRecord, type ApprovalSource } from './approvals.ts';
import { createDkgRouter } from './routes.ts';
import { DkgNodeService } from './service.ts';

export interface DkgWiringOptions {
  /** Coordinator keys (0x-hex Ed25519) besides the config's `dkg.coordinators` (`--coordinator`). */
  coordinators?: readonly string[];
  logger?: Logger;
  kdf?: KdfChoice;
  /** Already-decrypted keys (the running node has them); else read from the keystores. */
  identitySecret?: Uint8Array;
  currentShare?: KeyShare;
  /** The committee the running node serves; else the config's committee file, read when needed. */
  committee?: Committee;
  /** Approvals given in code (in-process fixtures); by default the config's `dkg.approvals` folder. */
  approvals?: ApprovalSource;
}

/** A DKG wiring the operator must fix before the node starts. */
export class DkgSetupError extends CodedError<'coordinator_is_aggregator' | 'bad_coordinator_key'> {
  override readonly name = 'DkgSetupError';
}

const bare = (k: string) => k.toLowerCase().replace(/^0x/, '');

/** The config's committee file, checked against the config's digest pin when there is one. */
export function committeeOfConfig(config: NodeConfig): Committee {
  const c = loadCommittee(config.committee);
  const mismatch = configDigestPinMismatch(config, committeeDeployments(c).map((d) => d.configDigest));
  if (mismatch) throw new Error(mismatch);
  return c;
}

/**
 * The coordinator keys this node allows: configured ones only. Refuses a key that is an
 * aggregator identity key of the committee (see the header).
 */
export function allowedCoordinators(config: NodeConfig, extra: readonly string[], logger: Logger, committee?: Committee): Set<string> {
  const keys = new Set<string>();
  for (const k of [...config.dkg.coordinators, ...extra]) {
    if (!/^(0x)?[0-9a-fA-F]{64}$/.test(k)) throw new DkgSetupError('bad_coordinator_key', `coordinator key ${k}: expected a 0x-prefixed 32-byte Ed25519 public key (--coordinator or dkg.coordinators in ${config.file})`);
    keys.add(bare(k));
  }
  let aggregators: Committee['aggregators'] = committee?.aggregators ?? [];
  if (!committee) {
    try {
      aggregators = loadCommittee(config.committee).aggregators;
    } catch (err) {
      logger.info({ action: 'dkg' }, `no committee file usable to compare coordinator keys with aggregator keys (${(err as Error).message.split(';')[0]})`);
    }
  }
  for (const a of aggregators) {
    if (keys.has(bare(a.identityKey))) {
      throw new DkgSetupError(
        'coordinator_is_aggregator',
        `coordinator key ${a.identityKey} is the identity key of aggregator${a.name ? ` "${a.name}"` : ''} in committee file ${config.committee}; a ceremony coordinator must not be an aggregator (a compromised aggregator must not be able to drive key ceremonies): create a separate coordinator key (aegis keys create identity) and list that in dkg.coordinators / --coordinator`,
      );
    }
  }
  if (keys.size === 0) logger.info({ action: 'dkg' }, `no DKG coordinator key configured (dkg.coordinators in ${config.file} or --coordinator): every ceremony request will be refused`);
  return keys;
}

/**
 * `aegis dkg approve`: checks a ceremony file against this node (it takes part; a resharing
 * does not lower t unless allowed; as a dealer, the previous committee is its committee file;
 * the committee the file writes does not make one of its coordinators an aggregator) and pins
 * its approval digest in the config's `dkg.approvals` folder. Needs no password: the identity
 * key is read from the keystore's public part.
 */
export function approveCeremonyFile(config: NodeConfig, file: unknown, o: { allowLowerThreshold?: boolean; fileName?: string; now?: Date } = {}): ApprovalRecord {
  const { ceremony, committeeAggregators } = ceremonyOfFile(file);
  const identityKey = inspectIdentity(config.keys.identity.path).publicKey;
  let committee: Committee | undefined;
  let committeeError: string | undefined;
  try {
    committee = committeeOfConfig(config);
  } catch (err) {
    committeeError = (err as Error).message;
  }
  const coordinators = allowedCoordinators(config, [], pino({ level: 'silent' }), committee);
  const both = committeeAggregators.find((a) => coordinators.has(bare(a)));
  if (both) {
    throw new DkgRequestError(403, 'coordinator_is_aggregator', `ceremony file ${o.fileName ?? ''}: its committee block lists aggregator ${both}, which is a coordinator key in ${config.file}; coordinator and aggregator keys must differ: ask for a ceremony file with a separate aggregator key`);
  }
  const record = approvalFor({ ceremony, identityKey, committee, committeeFile: config.committee, committeeError, allowLowerThreshold: o.allowLowerThreshold ?? false, ...(o.now ? { now: o.now } : {}) });
  writeApproval(config.dkg.approvals, record);
  return record;
}

/** Where `approveCeremonyFile` put a record. */
export function approvalFileOf(config: NodeConfig, record: ApprovalRecord): string {
  return approvalFile(config.dkg.approvals, record.approvalDigest);
}

export async function dkgRouterForNode(config: NodeConfig, opts: DkgWiringOptions = {}): Promise<{ router: Router; service: DkgNodeService; allowedKeys: Set<string> }> {
  const logger = opts.logger ?? pino({ level: 'silent' });
  const identitySecret = opts.identitySecret ?? (await loadIdentity(config.keys.identity.path, readPassword(passwordSource(config.keys.identity)))).secretKey;
  const shareRef = config.keys.share;
  const allowedKeys = allowedCoordinators(config, opts.coordinators ?? [], logger, opts.committee);
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
    approvals: opts.approvals ?? folderApprovals(config.dkg.approvals),
    approvalsHint: config.dkg.approvals,
    configFile: config.file,
    committeeFile: config.committee,
    loadCommittee: opts.committee ? () => opts.committee : () => committeeOfConfig(config),
  });
  const router = createDkgRouter({ service, allowedKeys, maxSkewMs: config.http.maxSkewMs });
  return { router, service, allowedKeys };
}

export interface DkgServer {
  url: string;
  port: number;
  service: DkgNodeService;
  close(): Promise<void>;
}

/**
 * Serve only the ceremony endpoints on the config's `listen` (host, port, TLS); `host` and
 * `port` override it (`--host`, `--port`).
 */
export async function startDkgServer(configFile: string, opts: DkgWiringOptions & { port?: number; host?: string } = {}): Promise<DkgServer> {
  const config = loadNodeConfig(configFile);
  const host = hostOverride(opts.host, config.listen.host, configFile);
  const tls = config.listen.tls ? tlsOfConfig(config) : undefined;
  const logger = opts.logger ?? pino({ level: 'silent' });
  const { router, service } = await dkgRouterForNode(config, { ...opts, logger });
  const app = express();
  app.disable('x-powered-by');
  app.use(router);
  app.get('/v1/health', (_req, res) => {
    res.json({ status: 'ok', dkgOnly: true, pid: process.pid });
  });
  app.use((req: Request, res: Response) => {
    sendError(res, 404, 'not_found', `${req.method} ${req.path}: this is the DKG-only server; see /v1/dkg/*`);
  });
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    logger.error({ action: 'http', path: req.path, err: err instanceof Error ? (err.stack ?? err.message) : String(err) }, 'unexpected error in DKG request');
    if (!res.headersSent) sendError(res, 500, 'internal', 'internal error; the node logged the details');
  });
  const fields = { hostField: opts.host !== undefined ? '--host' : 'listen.host', portField: opts.port !== undefined ? '--port' : 'listen.port' };
  let listening: Listening;
  try {
    listening = await listenOn(app, { host, port: opts.port ?? config.listen.port, ...(tls ? { tls } : {}), timeouts: { requestTimeoutMs: 120_000 }, ...fields });
  } catch (err) {
    throw new NodeError('not_started', `DKG server: ${(err as Error).message}`, { cause: err });
  }
  const { server, url, port: bound } = listening;
  logger.info({ action: 'listen', url, host, tls: tls !== undefined }, `DKG endpoints listening on ${url}`);
  const exposed = exposureWarning({ what: 'the DKG ceremony API', field: fields.hostField, host, url, tls: tls !== undefined, peers: "the coordinator's address" });
  if (exposed) logger.warn({ action: 'listen', host, url }, exposed);
  return {
    url,
    port: bound,
    service,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
