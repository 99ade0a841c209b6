/**
 * One feed priced from exchanges and a DEX pool together, through the node's own config,
 * poller and pricing: exchanges served by the venue simulator in their real formats, the pool a
 * real Uniswap v3 pool on anvil. The outlier filter and the per-source weight cap apply across
 * both kinds: a pool whose TWAP was held off is dropped like a pumped exchange, a pumped
 * exchange is dropped while the pool keeps its vote, and neither a pool with an inflated weight
 * nor an exchange with wash volume carries more than `capShare` of the weighted median.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAnvil, type Anvil } from '../../contracts/anvil.ts';
import { parseNodeConfig, type NodeConfigInput } from '../../node/config.ts';
import { SourcePoller } from '../../node/poller.ts';
import { priceFeeds } from '../../node/pricing.ts';
import { checkSources } from '../../node/sources/check.ts';
import { startVenueServer, type VenueServer } from '../../sim/venues/index.ts';
import { deployUniswapV3, type PoolHandle, type Token, type UniswapV3 } from '../../sim/dex/uniswap.ts';

const FEED = 'ETH/USDC';
const CEX = ['coinbase', 'kraken', 'okx', 'bybit'] as const;
const WINDOW = 1800;

let anvil: Anvil;
let uni: UniswapV3;
let usdc: Token;
let weth: Token;
let pool: PoolHandle;
let venues: VenueServer;
/** The node's clock runs at the chain's time (tests move anvil's time forward by windows). */
let offsetMs = 0;
const clock = () => Date.now() + offsetMs;
const sync = async () => {
  offsetMs = (await uni.chainTime()) * 1000 - Date.now() + 1_000;
};
/** Exchange prices and 24 h volumes, changed by the tests. */
const cex: Record<string, { price: number; volume: number }> = {};
const resetCex = () => {
  CEX.forEach((v, i) => (cex[v] = { price: 3000 * (1 + (i - 1.5) / 10_000), volume: 2_000 }));
};

beforeAll(async () => {
  anvil = await startAnvil();
  uni = await deployUniswapV3(anvil.provider, anvil.wallet(0));
  usdc = await uni.token('USDC', 6);
  weth = await uni.token('WETH', 18);
  pool = await uni.createPool(weth, usdc, 3000, 3000);
  const [a0, a1] = pool.token0 === weth ? [10n ** 21n, 3n * 10n ** 12n] : [3n * 10n ** 12n, 10n ** 21n];
  await uni.addLiquidity(pool, a0, a1);
  await uni.mine(WINDOW + 60);
  await sync();
  resetCex();
  venues = await startVenueServer({ feeds: [FEED], venues: [...CEX], now: clock, price: (venue) => cex[venue] });
}, 120_000);

afterAll(async () => {
  await venues?.close();
  await anvil?.stop();
});

function config(over: { weightScale?: number; capShare?: number } = {}) {
  const input: NodeConfigInput = {
    committee: './committee.json',
    keys: { identity: { path: './id.json', passwordEnv: 'ID_PW' }, share: { path: './share.json', passwordFile: './share.pass' } },
    store: './store.sqlite',
    feeds: [
      {
        name: FEED,
        minSources: 3,
        volumeWeighting: { capShare: over.capShare ?? 0.34 },
        sources: [
          ...CEX.map((venue) => ({ venue, baseUrl: venues.url(venue) })),
          { dex: 'uniswap-v3' as const, id: 'uni-weth-usdc', rpcUrls: [anvil.url], pools: [pool.address], baseToken: weth.address, quoteToken: usdc.address, windowS: WINDOW, maxBlockAgeS: 120, weightScale: over.weightScale ?? 1 },
        ],
      },
    ],
  };
  return parseNodeConfig(input, '/etc/aegis/node.yaml');
}

async function price(over: Parameters<typeof config>[0] = {}) {
  const cfg = config(over);
  const poller = new SourcePoller({ config: cfg, now: clock });
  try {
    const snapshot = await poller.refresh();
    const view = priceFeeds({ feeds: cfg.feeds, snapshot, nowMs: clock() }).get(FEED)!;
    const entries = snapshot.feeds.get(FEED)!;
    return { view, entries, verdict: (id: string) => view.result?.sources.find((s) => s.source === id) };
  } finally {
    await poller.stop();
  }
}

describe('a feed mixing exchanges and a Uniswap v3 pool', () => {
  it('prices from both: the pool votes with its TWAP, weighted by the cost of moving it 1 %', async () => {
    const { view, entries, verdict } = await price();
    expect(entries.map((e) => e.error?.message ?? 'ok')).toEqual(Array(5).fill('ok'));
    expect(view.ok).toBe(true);
    if (!view.ok) return;
    expect(Math.abs(view.price / 3000 - 1)).toBeLessThan(3e-4);
    const dex = verdict('uni-weth-usdc')!;
    expect(dex.used).toBe(true);
    expect(Math.abs(dex.price / 3000 - 1)).toBeLessThan(1e-4);
    expect(dex.volume).toBeGreaterThan(0);
    expect(view.result.ok && view.result.method).toBe('volume_weighted_median');
  });

  it('a pool whose TWAP was held 50 % off for a window is dropped as an outlier; the exchanges price the feed', async () => {
    const spot = await uni.spot(pool);
    await uni.swapToPrice(pool, spot * 1.5);
    await uni.mine(WINDOW);
    await sync();
    try {
      const { view, verdict } = await price();
      const dex = verdict('uni-weth-usdc')!;
      expect(dex.price / 3000).toBeGreaterThan(1.45);
      expect(dex.used).toBe(false);
      expect(dex.reason).toBe('outlier');
      expect(view.ok && Math.abs(view.price / 3000 - 1)).toBeLessThan(3e-4);
    } finally {
      await uni.swapToPrice(pool, spot);
      await uni.mine(WINDOW);
      await sync();
    }
  });

  it('a pumped exchange is dropped as an outlier while the pool keeps its vote', async () => {
    cex.kraken = { price: 3300, volume: 2_000 };
    try {
      const { view, verdict } = await price();
      expect(verdict('kraken')!.reason).toBe('outlier');
      expect(verdict('uni-weth-usdc')!.used).toBe(true);
      expect(view.ok && Math.abs(view.price / 3000 - 1)).toBeLessThan(3e-4);
    } finally {
      resetCex();
    }
  });

  it('aegis node check lists the pool source with its RPC and its freshness rule', async () => {
    const rows = await checkSources(config(), { now: clock });
    const dex = rows.find((r) => r.source === 'uni-weth-usdc')!;
    expect(dex.baseUrl).toBe(anvil.url);
    expect(dex.freshness).toMatch(/TWAP over 1800 s at the latest block; an RPC whose latest block is older than 120 s is skipped/);
    expect(Math.abs(dex.quote!.price / 3000 - 1)).toBeLessThan(1e-4);
    expect(rows.filter((r) => r.quote).map((r) => r.source).sort()).toEqual([...CEX, 'uni-weth-usdc'].sort());
  });

  it('the weight cap holds across both kinds: an inflated pool weight and wash volume on an exchange each carry at most capShare', async () => {
    cex.okx = { price: 3000, volume: 5_000_000 };
    try {
      const { view, verdict } = await price({ weightScale: 1e6, capShare: 0.34 });
      expect(view.ok).toBe(true);
      expect(verdict('uni-weth-usdc')!.weightShare).toBeLessThanOrEqual(0.34 + 1e-9);
      expect(verdict('okx')!.weightShare).toBeLessThanOrEqual(0.34 + 1e-9);
      expect(verdict('uni-weth-usdc')!.weightShare).toBeGreaterThan(0.3);
    } finally {
      resetCex();
    }
  });
});
