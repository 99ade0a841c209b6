/**
 * The run's committee: n real node services (node/service.ts: production sources, filter,
 * signer, SQLite store) reading the simulated venues and the runner's clock, and the in-memory
 * clients the round engine calls, wrapped by the attackers' node faults (docs/design.md
 * §Components, §Round protocol).
 *
 * Nodes run without a cron: the step loop polls their sources once per step
 * (`poller.refresh()`), so each node's view follows the simulated clock exactly.
 */
import { join } from 'node:path';
import pino from 'pino';
import type { Committee, DealerOutput, NodeClient, NodeHandlers } from '../../protocol/index.ts';
import { NodeService } from '../../node/service.ts';
import { parseNodeConfig } from '../../node/config.ts';
import { SigningStore } from '../../node/store/index.ts';
import type { VenueId } from '../../node/sources/index.ts';
import { faultyHandlers, type NodeFaults } from '../attack/index.ts';
import type { Scenario } from '../scenario/schema.ts';
import { venueSymbols } from './market.ts';

/**
 * Node `index`'s configuration (the YAML an operator would write), from the scenario: its
 * filter, signer and venue settings, one source per venue at `urlOf(venue)`. The committee and
 * key paths are placeholders: the service gets them in memory.
 */
export function nodeConfigInput(s: Scenario, index: number, venueIds: readonly VenueId[], urlOf: (v: VenueId) => string): Record<string, unknown> {
  const symbols = venueSymbols(s.feed.name, venueIds);
  return {
    committee: 'committee.json',
    keys: { identity: { path: 'identity.json', passwordEnv: 'SIM' }, share: { path: 'share.json', passwordEnv: 'SIM' } },
    store: `node-${index}.sqlite`,
    poll: { schedule: '*/5 * * * * *', concurrency: 16 },
    signer: { sanityBandBps: s.oracle.sanityBandBps, maxReportAgeS: Math.max(60, s.stepSec * 2), maxFutureS: 5 },
    venues: Object.fromEntries(venueIds.map((v) => [v, { retries: 0, timeoutMs: 2_000, maxStalenessMs: s.oracle.maxAgeMs }])),
    feeds: [
      {
        name: s.feed.name,
        decimals: s.feed.decimals,
        minSources: s.oracle.minSources,
        maxAgeMs: s.oracle.maxAgeMs,
        band: { madMultiplier: s.oracle.madMultiplier, minBandBps: s.oracle.minBandBps, maxBandBps: s.oracle.maxBandBps },
        ...(s.oracle.volumeCapShare !== undefined ? { volumeWeighting: { capShare: s.oracle.volumeCapShare } } : {}),
        sources: venueIds.map((v) => ({ venue: v, symbol: symbols[v]![s.feed.name]!.symbol, quote: 'USD', baseUrl: urlOf(v) })),
      },
    ],
    log: { level: 'silent' },
  };
}

/** Starts the n node services, each with its own SQLite store in `workDir`; `cleanup` gets the stores' close. */
export function startNodes(
  s: Scenario,
  x: { workDir: string; venueIds: readonly VenueId[]; urlOf: (v: VenueId) => string; committee: Committee; identitySecrets: readonly Uint8Array[]; dealt: DealerOutput; now: () => number },
  cleanup: (() => Promise<void> | void)[],
): NodeService[] {
  const services: NodeService[] = [];
  for (let i = 0; i < s.oracle.nodes; i++) {
    const file = join(x.workDir, `node-${i + 1}.yaml`);
    const config = parseNodeConfig(nodeConfigInput(s, i + 1, x.venueIds, x.urlOf), file);
    const store = SigningStore.open(join(x.workDir, `node-${i + 1}.sqlite`));
    cleanup.push(() => store.close?.());
    services.push(new NodeService({ config, committee: x.committee, identitySecret: x.identitySecrets[i]!, share: x.dealt.shares[i]!, store, logger: pino({ level: 'silent' }), now: x.now }));
  }
  return services;
}

export interface NodeLinks {
  /** Each node's handlers behind its faults, by committee index (1-based). */
  handlers: { index: number; handlers: NodeHandlers }[];
  /** What the round engine calls: the same handlers as in-memory `NodeClient`s. */
  clients: NodeClient[];
}

/** Wraps node k (index k + 1) in the attackers' faults for it. */
export function faultyLinks(services: readonly NodeService[], x: { identitySecrets: readonly Uint8Array[]; dealt: DealerOutput; faults: NodeFaults; nowSec: () => number }): NodeLinks {
  const handlers = services.map((svc, k) => ({
    index: k + 1,
    handlers: faultyHandlers(k + 1, svc, { identitySecret: x.identitySecrets[k]!, share: x.dealt.shares[k]! }, x.faults, x.nowSec),
  }));
  const clients: NodeClient[] = handlers.map((h) => ({ index: h.index, observe: (call) => h.handlers.observe(call), sign: (call) => h.handlers.sign(call) }));
  return { handlers, clients };
}
