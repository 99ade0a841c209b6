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

describe('process metrics', () => {
  it('are off by default and, when asked for, carry the registry prefix (node and aggregator)', async () => {
    const { AggregatorMetrics } = await import('../../aggregator/metrics.ts');
    const m = new NodeMetrics();
    expect(await m.registry.metrics()).not.toMatch(/process_resident_memory_bytes/);
    m.collectProcessMetrics();
    m.collectProcessMetrics(); // once: a second call must not register twice
    const text = await m.registry.metrics();
    for (const name of ['process_resident_memory_bytes', 'process_open_fds', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_p99_seconds']) {
      expect(text).toMatch(new RegExp(`^aegis_node_${name}`, 'm'));
    }
    expect(text).not.toMatch(/^process_/m);
    m.close();
    const a = new AggregatorMetrics({ aggregator: 'agg0' });
    a.collectProcessMetrics();
    expect(await a.metrics()).toMatch(/^aegis_aggregator_process_resident_memory_bytes\{aggregator="agg0"\}/m);
    a.close();
  });
});
