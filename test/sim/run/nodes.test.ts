/**
 * The committee's node configuration (sim/run/nodes.ts), checked by the node's own config
 * schema: one source per venue at the served URL, the scenario's filter and signer settings.
 */
import { describe, expect, it } from 'vitest';
import { parseNodeConfig, type CexSourceConfig } from '../../../node/config.ts';
import { nodeConfigInput } from '../../../sim/run/nodes.ts';
import { thresholdOf } from '../../../sim/run/chain.ts';
import { scenario } from './fixture.ts';

describe('nodeConfigInput', () => {
  const url = (v: string) => `http://127.0.0.1:9/${v}`;

  it('is a valid node config with one source per venue', () => {
    const s = scenario({ stepSec: 45, oracle: { nodes: 4, minSources: 2, sanityBandBps: 150, maxAgeMs: 30_000 } });
    const c = parseNodeConfig(nodeConfigInput(s, 2, ['binance', 'coinbase', 'kraken'], url), 'node-2.yaml');
    expect(c.feeds).toHaveLength(1);
    const feed = c.feeds[0]!;
    expect(feed.name).toBe('ETH/USD');
    expect(feed.policy).toMatchObject({ minSources: 2, maxAgeMs: 30_000 });
    expect((feed.sources as CexSourceConfig[]).map((x) => [x.venue, x.baseUrl])).toEqual([
      ['binance', url('binance')],
      ['coinbase', url('coinbase')],
      ['kraken', url('kraken')],
    ]);
    expect(c.signer.sanityBandBps).toBe(150);
    // Reports may be two steps old (a round reads the last step's poll), never less than a minute.
    expect(c.signer.maxReportAgeS).toBe(90);
    expect('volumeWeighting' in feed.policy).toBe(false);
  });

  it('weights by volume only when the scenario caps a venue share', () => {
    const s = scenario({ stepSec: 10, oracle: { nodes: 4, volumeCapShare: 0.34 } });
    const c = parseNodeConfig(nodeConfigInput(s, 1, ['binance', 'coinbase', 'kraken'], url), 'node-1.yaml');
    expect(c.feeds[0]!.policy.volumeWeighting).toMatchObject({ capShare: 0.34 });
    expect(c.signer.maxReportAgeS).toBe(60);
  });
});

describe('thresholdOf', () => {
  it('defaults to 2⌊(n−1)/3⌋+1 and keeps an explicit one', () => {
    expect([4, 5, 7, 10].map((n) => thresholdOf(n, undefined))).toEqual([3, 3, 5, 7]);
    expect(thresholdOf(7, 4)).toBe(4);
  });
});
