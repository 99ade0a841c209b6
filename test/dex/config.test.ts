/**
 * DEX sources in the node config: a `{ dex: uniswap-v3, … }` source sits beside exchange
 * sources in a feed, resolves with its defaults, and every mistake is named with the field path
 * and the fix, as for exchange sources.
 */
import { describe, expect, it } from 'vitest';
import { parseNodeConfig } from '../../node/config.ts';
import { NodeError } from '../../node/errors.ts';

const POOL = '0x' + '22'.repeat(20);
const WETH = '0x' + '11'.repeat(20);
const dex = (over: Record<string, unknown> = {}) => ({ dex: 'uniswap-v3', rpcUrls: ['http://127.0.0.1:8545'], pools: [POOL], baseToken: WETH, ...over });
const config = (sources: unknown[], minSources = 2) => ({
  committee: './committee.json',
  keys: { identity: { path: './id.json', passwordEnv: 'ID_PW' }, share: { path: './share.json', passwordFile: './share.pass' } },
  store: './store.sqlite',
  feeds: [{ name: 'ETH/USDC', minSources, sources }],
});

function configError(sources: unknown[], minSources = 2): string {
  try {
    parseNodeConfig(config(sources, minSources), '/etc/aegis/node.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(NodeError);
    return (err as Error).message;
  }
  throw new Error('config was accepted');
}

describe('DEX sources in the node config', () => {
  it('resolves a pool source beside an exchange with its defaults', () => {
    const c = parseNodeConfig(config([{ venue: 'coinbase' }, dex()]), '/etc/aegis/node.yaml');
    expect(c.feeds[0]!.sources[1]).toEqual({
      kind: 'dex', venue: 'uniswap-v3', id: 'uniswap-v3', market: { symbol: `uniswap-v3:${POOL}`, quote: 'USDC' },
      rpcUrls: ['http://127.0.0.1:8545'], pools: [POOL], baseToken: WETH, windowS: 1800, maxBlockAgeMs: 60_000, weightScale: 1,
    });
    expect(c.feeds[0]!.conversionFeeds).toEqual([]);
  });

  it('a pool quoted in another currency needs its conversion feed, like an exchange market', () => {
    expect(configError([{ venue: 'coinbase' }, dex({ quote: 'DAI' })])).toMatch(/feeds\.0\.conversionFeeds: conversion feed DAI\/USDC is not configured/);
  });

  it.each([
    [dex({ pools: ['0x1234'] }), /feeds\.0\.sources\.1\.pools\.0: expected a 0x-prefixed 20-byte address/],
    [dex({ windowSec: 60 }), /feeds\.0\.sources\.1: Unrecognized key: "windowSec"/],
    [dex({ windowS: 10 }), /feeds\.0\.sources\.1\.windowS: /],
    [dex({ rpcUrls: [] }), /feeds\.0\.sources\.1\.rpcUrls: list at least one RPC URL/],
    [dex({ id: 'Uni V3' }), /feeds\.0\.sources\.1\.id: expected a lower-case id/],
  ])('names the field and the fix: %o', (source, message) => {
    expect(configError([{ venue: 'coinbase' }, source])).toMatch(message);
  });

  it('two pool sources in one feed need distinct ids', () => {
    expect(configError([dex(), dex()])).toMatch(/feeds\.0\.sources\.1: source id uniswap-v3 is listed twice for ETH\/USDC; give each pool source its own id/);
    expect(() => parseNodeConfig(config([dex({ id: 'uni-a' }), dex({ id: 'uni-b' })]), '/etc/aegis/node.yaml')).not.toThrow();
  });
});
