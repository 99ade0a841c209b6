/**
 * Wires one aggregator process from its config: keys, HTTP node clients (from the committee
 * file's URLs, over one keep-alive `node:http` agent; `https://` nodes over a pinned agent
 * each), the hub reader and transmitter over one JSON-RPC provider, the SQLite store, metrics,
 * logs and the HTTP API on `listen`. `stop()` tears down exactly what was started.
 */
import { FetchRequest, JsonRpcProvider, Network, parseUnits } from 'ethers';
import pino, { type Logger } from 'pino';
import { HttpNodeClient } from '../protocol/http-node-client.ts';
import { EthersHubReader } from './chain/hub.ts';
import { Transmitter } from './chain/transmitter.ts';
import { loadConfig, resolveConfig, type LoadedConfig } from './config.ts';
import { nodeHttpTransport } from './node-transport.ts';
import { loadIdentityKey, loadTransmitterKey, readPassword } from './keys.ts';
import { AggregatorMetrics } from './metrics.ts';
import { createAggregatorApp, listen, type AggregatorHttpServer } from './server.ts';
import { AggregatorService } from './service.ts';
import { RoundStore } from './store.ts';
import { AggregatorError } from './errors.ts';
import { exposureWarning, readTlsFiles, type TlsFiles, type TlsPems } from '../protocol/listen.ts';
import { passwordSourceOf } from '../protocol/keystore-ref.ts';

/** `listen.tls` read again at start (checked when the config was loaded). */
function tlsOf(files: TlsFiles): TlsPems {
  try {
    return readTlsFiles(files, 'listen.tls');
  } catch (err) {
    throw new AggregatorError('bad_config', `aggregator config: ${(err as Error).message}`);
  }
}

export interface RunningAggregator {
  service: AggregatorService;
  store: RoundStore;
  metrics: AggregatorMetrics;
  http: AggregatorHttpServer;
  url: string;
  logger: Logger;
  stop(): Promise<void>;
}

export async function startAggregator(
  config: string | LoadedConfig,
  opts: {
    logger?: Logger;
    env?: NodeJS.ProcessEnv;
    /** false: check the hub but run no schedule (callers drive `service.tick`). */
    run?: boolean;
    /** Register Node.js process metrics (default false; `aegis aggregator start` sets it: once per process). */
    processMetrics?: boolean;
  } = {},
): Promise<RunningAggregator> {
  const loaded = typeof config === 'string' ? loadConfig(config) : config;
  const c = loaded.config;
  // ISO time like the node's logs, so one log shipper query reads both.
  const logger = opts.logger ?? pino({ name: c.name, level: c.log.level, base: { aggregator: c.name }, timestamp: pino.stdTimeFunctions.isoTime });
  for (const w of loaded.warnings) logger.warn({ config: 'deprecated spelling' }, w);
  const identity = await loadIdentityKey(c.identity.path, readPassword(passwordSourceOf(c.identity), opts.env));
  if (!loaded.committee.aggregators.some((a) => a.identityKey.toLowerCase() === identity.publicKey.toLowerCase())) {
    logger.warn({ identityKey: identity.publicKey }, 'identity key is not listed under "aggregators" in the committee file; nodes will refuse its requests (unknown_key)');
  }
  const wallet = await loadTransmitterKey(c.transmitter.path, readPassword(passwordSourceOf(c.transmitter), opts.env));
  const network = Network.from(loaded.committee.chainId);
  const rpc = new FetchRequest(c.chain.rpcUrl);
  rpc.timeout = c.chain.rpcTimeoutMs;
  const provider = new JsonRpcProvider(rpc, network, { staticNetwork: network, pollingInterval: 250 });
  const transport = nodeHttpTransport({ idleMs: c.nodeTransport.idleMs, ...(c.nodeTransport.connectTimeoutMs !== undefined ? { connectTimeoutMs: c.nodeTransport.connectTimeoutMs } : {}) });
  const clients = loaded.committee.nodes.map((n) => {
    const url = loaded.nodeUrls.get(n.index)!;
    return new HttpNodeClient({ index: n.index, url, identitySecret: identity.secret, timeoutMs: Math.max(c.round.observeTimeoutMs, c.round.signTimeoutMs), post: transport.forNode(url, loaded.nodeTls.get(n.index)) });
  });
  const store = new RoundStore(c.db);
  const metrics = new AggregatorMetrics({ aggregator: c.name });
  if (opts.processMetrics) metrics.collectProcessMetrics();
  const transmitter = new Transmitter({
    provider,
    wallet,
    hub: loaded.hub,
    chainId: loaded.committee.chainId,
    maxFeePerGasWei: parseUnits(String(c.chain.maxFeePerGasGwei), 'gwei'),
    ...(c.chain.priorityFeeGwei !== undefined ? { priorityFeeWei: parseUnits(String(c.chain.priorityFeeGwei), 'gwei') } : {}),
    replaceAfterMs: c.chain.replaceAfterSec * 1000,
    feeBumpPct: c.chain.feeBumpPct,
    maxReplacements: c.chain.maxReplacements,
    confirmTimeoutMs: c.chain.confirmTimeoutSec * 1000,
    logger: logger.child({ part: 'transmitter' }),
  });
  const service = new AggregatorService({
    name: c.name,
    committee: loaded.committee,
    clients,
    hub: new EthersHubReader(loaded.hub, provider),
    transmitter,
    store,
    metrics,
    logger,
    feeds: c.feeds.map((f, k) => ({ id: loaded.feedIds[k]!, name: f.name, policy: { deviationPct: f.deviationPct, heartbeatSec: f.heartbeatSec } })),
    schedule: c.schedule,
    round: c.round,
    pullEveryRound: c.pull.signEveryRound,
  });
  metrics.bindState({ feeds: () => (service.status() as { feeds: { feed: string; onchain: { status: string; observedAt: number } | null }[] }).feeds, position: c.schedule.position, balanceWei: () => provider.getBalance(wallet.address) });
  let http: AggregatorHttpServer | undefined;
  try {
    http = await listen(createAggregatorApp({ service, store, metrics, dashboard: { provider, committee: loaded.committee, hub: loaded.hub, nodeUrls: loaded.nodeUrls } }), c.listen.port, { host: c.listen.host, ...(c.listen.tls ? { tls: tlsOf(c.listen.tls) } : {}) });
    if (opts.run === false) await service.checkHub();
    else await service.start();
  } catch (err) {
    await http?.close();
    store.close();
    metrics.close();
    provider.destroy();
    transport.close();
    throw err;
  }
  const prune = () => {
    try {
      const deleted = store.prune(c.dbRetention.retainRounds);
      if (deleted > 0) logger.info({ deleted, retainRounds: c.dbRetention.retainRounds }, `round store: pruned ${deleted} rounds older than the newest ${c.dbRetention.retainRounds}`);
    } catch (err) {
      logger.warn({ err: (err as Error).message }, `round store ${c.db}: prune failed (${(err as Error).message}); rounds are unaffected, the next prune retries`);
    }
  };
  prune();
  const pruner = setInterval(prune, c.dbRetention.pruneEverySec * 1000);
  pruner.unref();
  logger.info({ url: http.url, transmitter: wallet.address, chainId: String(loaded.committee.chainId), hub: loaded.hub, ...(loaded.deployment.name !== undefined ? { deployment: loaded.deployment.name } : {}), nodes: clients.length, tlsNodes: loaded.nodeTls.size, feeds: c.feeds.map((f) => f.name) }, `aggregator listening on ${http.url}`);
  const exposed = exposureWarning({ what: 'the aggregator API', field: 'listen.host', host: c.listen.host, url: http.url, tls: c.listen.tls !== undefined, peers: "its consumers' addresses" });
  if (exposed) logger.warn({ host: c.listen.host, url: http.url }, exposed);
  let stopped = false;
  return {
    service,
    store,
    metrics,
    http,
    url: http.url,
    logger,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      clearInterval(pruner);
      await service.stop();
      await http!.close();
      store.close();
      metrics.close();
      provider.destroy();
      transport.close();
      logger.info('aggregator stopped');
    },
  };
}

export { resolveConfig };
