/**
 * The consumer Chainlink's data-feed documentation tells every integrator to write
 * ("Consuming Data Feeds" / "Using Data Feeds": `DataConsumerV3.getChainlinkDataFeedLatestAnswer`),
 * kept verbatim in DataConsumerV3.sol; the only edit is the one the docs ask for, the feed
 * address in the constructor, here an Aegis adapter's. Compiled with solc 0.8.26 against
 * @chainlink/contracts' AggregatorV3Interface, on anvil with real threshold-signed reports.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getAddress, type Contract } from 'ethers';
import { ROOT } from '../../contracts/compile.ts';
import { compileForeign, deployForeign, foreignArtifact } from '../../contracts/foreign.ts';
import { feedId } from '../../protocol/report.ts';
import { expectRevert, feedConfig, latestTime, setup, type Fixture } from '../contracts/helpers/chain.ts';
import { adapters, FEED, hubView, ONE, Status, walkHubStates } from './helpers.ts';

const DOCS_SOURCE = readFileSync(join(ROOT, 'test', 'consumers', 'DataConsumerV3.sol'), 'utf8');
/** The Sepolia BTC / USD address the docs hard-code in the constructor (the comment keeps it). */
const DOCS_FEED = /(AggregatorV3Interface\(\s*)0x1b44F3514812d835EB1BDB0acB33d3fA3351Ee43/;

/** The docs' contract pointed at `feed`: compiled and deployed exactly as a user would. */
async function docsConsumer(f: Fixture, feed: string): Promise<Contract> {
  if (!DOCS_FEED.test(DOCS_SOURCE)) throw new Error('DataConsumerV3.sol: the constructor no longer holds the docs\' Sepolia address; restore the docs\' text');
  const source = DOCS_SOURCE.replace(DOCS_FEED, `$1${getAddress(feed)}`);
  const arts = compileForeign({ label: 'chainlink-docs-consumer', solc: 'solc-0.8.26', entries: [{ unit: 'DataConsumerV3.sol', content: source }], optimizerRuns: 200, evmVersion: 'cancun' });
  return deployForeign(f.deployer, foreignArtifact(arts, 'DataConsumerV3'));
}

let f: Fixture;
let factory: Contract;
let lenient: Contract;
let strict: Contract;
let onLenient: Contract;
let onStrict: Contract;

beforeAll(async () => {
  f = await setup();
  ({ factory, lenient, strict } = await adapters(f));
  onLenient = await docsConsumer(f, await lenient.getAddress());
  onStrict = await docsConsumer(f, await strict.getAddress());
}, 600_000); // a first run compiles the product and the foreign sources (minutes on a loaded 2-core machine)
afterAll(async () => {
  await f?.stop();
});

describe("Chainlink docs' DataConsumerV3 reading Aegis", () => {
  it('on the lenient adapter: in every hub state it returns the hub answer without a revert; updatedAt never leads the block', async () => {
    const states = await walkHubStates(f, async (_state, hub) => {
      expect(await onLenient.getChainlinkDataFeedLatestAnswer!()).toBe(hub.answer);
      const [, , , updatedAt] = await lenient.latestRoundData!();
      expect(updatedAt).toBeLessThanOrEqual(await latestTime(f.hub));
    });
    expect(states.length).toBe(9);
  });

  it('on the strict adapter: the hub answer while Active, FeedNotActive with the status otherwise', async () => {
    const seen: bigint[] = [];
    await walkHubStates(f, async (_state, hub) => {
      if (hub.status === Status.Active) expect(await onStrict.getChainlinkDataFeedLatestAnswer!()).toBe(hub.answer);
      else await expectRevert(f, onStrict.getChainlinkDataFeedLatestAnswer!(), 'FeedNotActive', [FEED, hub.status]);
      seen.push(hub.status);
    });
    expect(new Set(seen)).toEqual(new Set([Status.Active, Status.Tripped, Status.Paused, Status.Suspended, Status.Stale]));
  });

  it('a report observed ahead of the chain (within the hub drift) reads without a revert', async () => {
    await f.oracle.push(2100n * ONE, { observedAt: (await latestTime(f.hub)) + 45n });
    expect((await hubView(f)).answer).toBe(2100n * ONE);
    expect(await onLenient.getChainlinkDataFeedLatestAnswer!()).toBe(2100n * ONE);
    expect(await onStrict.getChainlinkDataFeedLatestAnswer!()).toBe(2100n * ONE);
  });

  it('before a feed\'s first round the read reverts "no data" (RoundNotFound round 0), never a 0 price', async () => {
    const fresh = feedId('SOL/USD');
    await (await f.hub.addFeed!(fresh, feedConfig({ description: 'SOL / USD' }))).wait();
    const hub = await f.hub.getAddress();
    await (await factory.create!(hub, fresh)).wait();
    const c = await docsConsumer(f, await factory.adapterOf!(hub, fresh));
    await expectRevert(f, c.getChainlinkDataFeedLatestAnswer!(), 'RoundNotFound', [fresh, 0n]);
  });
});
