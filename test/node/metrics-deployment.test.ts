/**
 * `aegis_node_last_signed_epoch{deployment}`: one series per hub the committee file lists
 * (docs/design.md §Committee file), labelled by the name an operator gives the hub, else its
 * chain id; a node restarted on its signing store shows each hub's own highest signed epoch,
 * a signature moves its hub's series, and the aggregator's nodes page reads the highest of them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { ed25519 } from '@noble/curves/ed25519.js';
import { hexlify } from 'ethers';
import { pickNodeMetrics } from '../../aggregator/dashboard/routes.ts';
import { parseNodeConfig } from '../../node/config.ts';
import { deploymentMetricLabel } from '../../node/metrics.ts';
import { NodeService } from '../../node/service.ts';
import { SigningStore } from '../../node/store/index.ts';
import { startNode } from '../../node/start.ts';
import { HttpNodeClient } from '../../protocol/http-node-client.ts';
import { committeeDeployments, dealerKeygen, parseCommittee } from '../../protocol/index.ts';
import { FEEDS, observationBy, reportOf, setupFixture, waitReady } from './harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'aegis-metrics-deployment-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HUB = '0x00000000000000000000000000000000000000aa';
const OTHER = '0x00000000000000000000000000000000000000bb';

describe('deploymentMetricLabel', () => {
  it('is the name, else the chain id, else chain id and hub where one chain holds two hubs', () => {
    const all = [
      { chainId: 1n, hub: HUB },
      { chainId: 8453n, hub: HUB, name: 'base' },
      { chainId: 10n, hub: HUB },
      { chainId: 10n, hub: OTHER },
    ];
    expect(all.map((d) => deploymentMetricLabel(d, all))).toEqual(['1', 'base', `10:${HUB}`, `10:${OTHER}`]);
  });
});

describe('last_signed_epoch per hub', () => {
  it('has one series per hub of the committee file, each from that hub\'s records in the signing store', async () => {
    const dealt = dealerKeygen(2, 3);
    const identities = [1, 2, 3].map((k) => new Uint8Array(32).fill(k));
    const committee = parseCommittee({
      chainId: 1,
      hub: HUB,
      configVersion: 1,
      deployments: [{ chainId: 8453, hub: HUB, configVersion: 1, name: 'base' }, { chainId: 10, hub: OTHER, configVersion: 2 }],
      t: dealt.t,
      groupPublicKey: hexlify(dealt.groupPublicKey),
      nodes: dealt.shares.map((s, k) => ({ index: s.index, identityKey: hexlify(ed25519.getPublicKey(identities[k]!)), publicShare: hexlify(dealt.publicShares[k]!) })),
      aggregators: [],
    });
    const [, base] = committeeDeployments(committee);
    const store = SigningStore.open(join(dir, 'store.sqlite'));
    store.checkAndRecord(base!.configDigest, 1_765_000_000_000n, `0x${'11'.repeat(32)}`);
    const config = parseNodeConfig(
      {
        committee: './committee.json',
        keys: { identity: { path: './id.json', passwordEnv: 'ID_PW' }, share: { path: './share.json', passwordEnv: 'SHARE_PW' } },
        store: './store.sqlite',
        feeds: [{ name: 'BTC/USD', minSources: 1, sources: [{ venue: 'coinbase' }] }],
      },
      join(dir, 'node.yaml'),
    );
    const service = new NodeService({ config, committee, identitySecret: identities[0]!, share: dealt.shares[0]!, store });
    try {
      const text = await service.metrics.registry.metrics();
      const series = text.split('\n').filter((l) => l.startsWith('aegis_node_last_signed_epoch'));
      expect(series.sort()).toEqual(['aegis_node_last_signed_epoch{deployment="1"} 0', 'aegis_node_last_signed_epoch{deployment="10"} 0', 'aegis_node_last_signed_epoch{deployment="base"} 1765000000000'].sort());
      // The aggregator's nodes page shows the highest over the hubs, not a sum of epochs.
      expect(pickNodeMetrics(text).aegis_node_last_signed_epoch).toBe(1_765_000_000_000);
    } finally {
      service.metrics.close();
      store.close();
    }
  });

  it('moves the series of the hub a report is signed for (a one-hub file: deployment is its chain id)', async () => {
    const fx = await setupFixture();
    const node = await startNode(fx.configFile, { logger: pino({ level: 'silent' }), port: 0 });
    try {
      await waitReady(node.http.url);
      const client = new HttpNodeClient({ index: 1, url: node.http.url, identitySecret: fx.aggregatorSecret, timeoutMs: 10_000 });
      const e = BigInt(Date.now());
      const own = await client.observe({ configDigest: fx.digest, epoch: e, feedIds: [FEEDS.BTC] });
      const feeds = own.observation.feeds.map((f) => ({ feedId: f.feedId, answer: f.answer }));
      const observations = [own, observationBy(fx, 2, e, feeds), observationBy(fx, 3, e, feeds)];
      await client.sign({ report: reportOf(fx, e, observations, [FEEDS.BTC]), observations });
      const text = await (await fetch(`${node.http.url}/metrics`)).text();
      expect(text.split('\n').filter((l) => l.startsWith('aegis_node_last_signed_epoch'))).toEqual([`aegis_node_last_signed_epoch{deployment="${fx.committee.chainId}"} ${e}`]);
    } finally {
      await node.stop();
      await fx.close();
    }
  });
});
