/**
 * Chainlink's own `EACAggregatorProxy` (@chainlink/contracts 0.8.0, src/v0.6, compiled with
 * solc 0.6.6 and Chainlink's 0.6 settings) in front of Aegis adapters, on anvil with real
 * threshold-signed reports. A protocol already reading a proxy is switched by the proxy's owner:
 * phase 1 is the Chainlink aggregator it read before (Chainlink's own MockV3Aggregator from the
 * same package stands in for it), phase 2 the lenient Aegis adapter, phase 3 the strict one.
 * Through the proxy, in every hub state, the lenient phase serves without a revert and every
 * answer equals the hub's; a committee rotation is not a phase (round ids stay continuous).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBytes, hexlify, type Contract } from 'ethers';
import { compileForeign, deployForeign, foreignArtifact } from '../../contracts/foreign.ts';
import { combinePartials, dealerKeygen, g2ToEip2537, partialSign, signatureToEvm } from '../../protocol/bls/index.ts';
import { expectRevert, latestTime, Oracle, setup, type Fixture } from '../contracts/helpers/chain.ts';
import { adapters, FEED, hubView, ONE, Status, walkHubStates, type HubStateName } from './helpers.ts';

/** Chainlink compiles its v0.6 contracts with solc 0.6.6, optimizer 1,000,000 runs (EVM istanbul, 0.6.6's default). */
const chainlink06 = () =>
  compileForeign({
    label: 'chainlink-0.6-proxy',
    solc: 'solc-0.6.6',
    entries: ['@chainlink/contracts-0.8/src/v0.6/EACAggregatorProxy.sol', '@chainlink/contracts-0.8/src/v0.6/tests/MockV3Aggregator.sol'],
    optimizerRuns: 1_000_000,
    evmVersion: 'istanbul',
  });

const phased = (phase: bigint, round: bigint): bigint => (phase << 64n) | round;

let f: Fixture;
let proxy: Contract;
let previous: Contract;
let lenient: Contract;
let strict: Contract;
/** Signs reports for the current committee (replaced by the rotation test). */
let oracle: Oracle;

beforeAll(async () => {
  const arts = chainlink06();
  f = await setup();
  oracle = f.oracle;
  ({ lenient, strict } = await adapters(f));
  // Phase 1: the Chainlink feed the protocol read before, at 1,999.00000000 USD.
  previous = await deployForeign(f.deployer, foreignArtifact(arts, 'MockV3Aggregator'), [8, 1999n * ONE]);
  proxy = await deployForeign(f.deployer, foreignArtifact(arts, 'EACAggregatorProxy'), [await previous.getAddress(), '0x0000000000000000000000000000000000000000']);
}, 600_000); // a first run compiles the product and the foreign sources (minutes on a loaded 2-core machine)
afterAll(async () => {
  await f?.stop();
});

/** Every read a consumer makes through the proxy agrees with the hub in phase `phase`; none reverts. */
async function expectProxyServesHub(phase: bigint): Promise<void> {
  const hub = await hubView(f);
  const block = await latestTime(f.hub);
  const updatedAt = hub.observedAt < block ? hub.observedAt : block;
  const id = phased(phase, hub.roundId);
  expect([...(await proxy.latestRoundData!())]).toEqual([id, hub.answer, updatedAt, updatedAt, id]);
  expect([...(await proxy.getRoundData!(id))]).toEqual([id, hub.answer, updatedAt, updatedAt, id]);
  expect([await proxy.latestAnswer!(), await proxy.latestTimestamp!(), await proxy.latestRound!()]).toEqual([hub.answer, updatedAt, id]);
  expect([await proxy.getAnswer!(id), await proxy.getTimestamp!(id)]).toEqual([hub.answer, updatedAt]);
}

describe('EACAggregatorProxy in front of Aegis', () => {
  it('phase 1 is the previous Chainlink aggregator; the owner proposes the Aegis adapter, reads it as proposed, confirms it as phase 2', async () => {
    expect(await proxy.phaseId!()).toBe(1n);
    const [r1, a1] = await proxy.latestRoundData!();
    expect([r1, a1]).toEqual([phased(1n, 1n), 1999n * ONE]);
    await (await proxy.proposeAggregator!(await lenient.getAddress())).wait();
    const hub = await hubView(f);
    expect((await proxy.proposedLatestRoundData!())[1]).toBe(hub.answer);
    await (await proxy.confirmAggregator!(await lenient.getAddress())).wait();
    expect(await proxy.phaseId!()).toBe(2n);
    expect(await proxy.phaseAggregators!(2)).toBe(await lenient.getAddress());
    expect([await proxy.decimals!(), await proxy.description!(), await proxy.version!()]).toEqual([8n, 'ETH / USD', 2n]);
    await expectProxyServesHub(2n);
    // Phase 1's rounds stay readable under their phased ids.
    expect((await proxy.getRoundData!(phased(1n, 1n)))[1]).toBe(1999n * ONE);
    expect(await proxy.getAnswer!(phased(1n, 1n))).toBe(1999n * ONE);
  });

  it('lenient phase: in every hub state no read reverts and every answer is the hub answer', async () => {
    const states: HubStateName[] = await walkHubStates(f, async () => {
      await expectProxyServesHub(2n);
    }, oracle);
    expect(states).toEqual(['active', 'tripped', 'recovered from trip', 'paused', 'unpaused', 'suspended', 'resumed', 'stale', 'recovered from stale']);
  });

  it('missing rounds through the proxy: getRoundData reverts (no data), getAnswer / getTimestamp return 0', async () => {
    const { roundId } = await hubView(f);
    await expectRevert(f, proxy.getRoundData!(phased(2n, roundId + 1n)), 'RoundNotFound', [FEED, roundId + 1n]);
    expect([await proxy.getAnswer!(phased(2n, roundId + 1n)), await proxy.getTimestamp!(phased(2n, roundId + 1n))]).toEqual([0n, 0n]);
    expect(await proxy.getAnswer!(phased(9n, 1n))).toBe(0n); // a phase that never existed
  });

  it('a committee rotation is not a new phase: same adapter, round ids continue, the proxy keeps serving', async () => {
    const before = await hubView(f);
    const next = dealerKeygen(3, 4);
    const cfg = { groupPublicKey: hexlify(g2ToEip2537(next.groupPublicKey)), n: 4, t: 3 };
    const [message] = (await f.hub.rotationMessage!(cfg)) as [string, string];
    const partials = f.committee.shares.slice(0, 3).map((s) => partialSign(s, getBytes(message)));
    await (await f.hub.rotateCommittee!(cfg, signatureToEvm(combinePartials(partials, 3)))).wait();
    const rotated = new Oracle(f.hub, next);
    rotated.epoch = (await f.hub.latestEpoch!()) as bigint;
    rotated.lastObservedAt = before.observedAt;
    await rotated.push(2030n * ONE);
    expect(await proxy.phaseId!()).toBe(2n);
    const after = await hubView(f);
    expect([after.roundId, after.answer]).toEqual([before.roundId + 1n, 2030n * ONE]);
    await expectProxyServesHub(2n);
    // The old committee's reports no longer land; the rounds it signed stay readable.
    expect((await proxy.getRoundData!(phased(2n, before.roundId)))[1]).toBe(before.answer);
    oracle = rotated;
  });

  it('phase 3 is the strict adapter: same answers while Active, a named revert otherwise; phase 2 history stays readable', async () => {
    const last2 = (await hubView(f)).roundId;
    await (await proxy.proposeAggregator!(await strict.getAddress())).wait();
    await (await proxy.confirmAggregator!(await strict.getAddress())).wait();
    expect(await proxy.phaseId!()).toBe(3n);
    const reverted: string[] = [];
    await walkHubStates(f, async (state, hub) => {
      if (hub.status === Status.Active) {
        await expectProxyServesHub(3n);
        return;
      }
      await expectRevert(f, proxy.latestRoundData!(), 'FeedNotActive', [FEED, hub.status]);
      await expectRevert(f, proxy.latestAnswer!(), 'FeedNotActive', [FEED, hub.status]);
      // The held round itself is history, readable by id.
      expect((await proxy.getRoundData!(phased(3n, hub.roundId)))[1]).toBe(hub.answer);
      reverted.push(state);
    }, oracle);
    expect(reverted).toEqual(['tripped', 'paused', 'suspended', 'stale']);
    expect((await proxy.getRoundData!(phased(2n, last2)))[1]).toBe(2030n * ONE);
  });
});
