/**
 * `NodeMetrics.countServed`: answers counted on the hot path reach
 * `aegis_node_observations_served_total` by every way the counter is read.
 */
import { describe, expect, it } from 'vitest';
import { NodeMetrics } from '../../node/metrics.ts';

describe('NodeMetrics.countServed', () => {
  it('gives the same totals as one labelled inc per answer, at every read', async () => {
    const m = new NodeMetrics();
    for (const feed of ['BTC/USD', 'BTC/USD', 'ETH/USD', 'BTC/USD']) m.countServed(feed);
    m.observationsServed.inc({ feed: 'ETH/USD' }); // a direct inc still adds up
    const text = await m.registry.metrics();
    expect(text).toMatch(/aegis_node_observations_served_total\{feed="BTC\/USD"\} 3\n/);
    expect(text).toMatch(/aegis_node_observations_served_total\{feed="ETH\/USD"\} 2\n/);
    m.countServed('BTC/USD');
    const values = (await m.observationsServed.get()).values.map((v) => [v.labels.feed, v.value]);
    expect(Object.fromEntries(values)).toEqual({ 'BTC/USD': 4, 'ETH/USD': 2 });
    expect(await m.registry.metrics()).toMatch(/\{feed="BTC\/USD"\} 4\n/);
    m.close();
  });
});
