/**
 * The incumbents' contracts, installed from npm, on a real anvil: each peer's update is
 * accepted and stores the values (read back), and each rejects what it must (too few
 * signatures, unknown signers), so the benchmark's gas numbers measure real, accepted updates.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBytes, hashMessage, hexlify, keccak256, toUtf8Bytes, type JsonRpcSigner } from 'ethers';
import { startAnvil, type Anvil } from '../../contracts/anvil.ts';
import { api3Feed, api3Read, api3Update, beaconId, beaconSetUpdate, encodeBeaconUpdate, median, multicallData, setupApi3, signEip191, type Api3Setup } from '../../bench/peers/api3.ts';
import { comparison, comparisonMarkdown, keystoneBar, renderCharts } from '../../bench/peers.ts';
import { formatTick } from '../../bench/peers/chart.ts';
import { committeeWallets, PeerError, testAnswer } from '../../bench/peers/common.ts';
import { mapImportPath } from '../../contracts/foreign.ts';
import { KEYSTONE_MAX_SIGNERS, keystoneRawReport, keystoneRead, keystoneSign, keystoneUpdate, setupKeystone, type KeystoneSetup } from '../../bench/peers/keystone.ts';
import { redstonePayload, redstoneRead, redstoneUpdate, setupRedstone } from '../../bench/peers/redstone.ts';

let anvil: Anvil;
let signer: JsonRpcSigner;
let step = 0;

beforeAll(async () => {
  anvil = await startAnvil({ gasLimit: 1_000_000_000n });
  signer = await anvil.signer(0);
});
afterAll(async () => {
  await anvil?.stop();
});

/** Revert data of a call that must fail, decoded against `iface` (custom error or Error(string)). */
async function revertOf(to: string, data: string, parse: (d: string) => string | undefined): Promise<string> {
  try {
    await signer.call({ to, data });
  } catch (err) {
    const d = (err as { data?: string }).data ?? (err as { info?: { error?: { data?: string } } }).info?.error?.data;
    if (typeof d !== 'string') throw err;
    return parse(d) ?? d;
  }
  throw new Error('call did not revert');
}

describe('import paths', () => {
  it("maps Chainlink's versioned OpenZeppelin imports to the npm aliases", () => {
    expect(mapImportPath('@openzeppelin/contracts@5.0.2/interfaces/IERC165.sol')).toBe('@openzeppelin/contracts-5.0.2/interfaces/IERC165.sol');
    expect(mapImportPath('@openzeppelin/contracts@4.8.3/utils/introspection/ERC165Checker.sol')).toBe('@openzeppelin/contracts-4.8.3/utils/introspection/ERC165Checker.sol');
    expect(mapImportPath('@chainlink/contracts/src/v0.8/keystone/KeystoneForwarder.sol')).toBe('@chainlink/contracts/src/v0.8/keystone/KeystoneForwarder.sol');
  });
});

describe('chainlink-keystone: KeystoneForwarder → DataFeedsCache', () => {
  let ks: KeystoneSetup;
  beforeAll(async () => {
    ks = await setupKeystone(signer, { committees: [4, 31], feeds: 10 });
  });

  it.each([4, 31])('accepts an f+1-signed report at n=%i and stores every answer', async (n) => {
    const ts = Number(await anvil.now()) + ++step;
    const { gas, answers } = await keystoneUpdate(ks, signer, n, 10, step, ts);
    expect(gas).toBeGreaterThan(21_000);
    for (let i = 0; i < 10; i++) {
      const got = await keystoneRead(ks, i);
      expect(got.answer).toBe(answers[i]);
      expect(got.timestamp).toBe(BigInt(ts));
    }
  });

  it('rejects a report carrying only f signatures', async () => {
    const c = ks.committees.get(4)!;
    const { rawReport } = keystoneRawReport(ks, 4, [testAnswer(0, 999)], Number(await anvil.now()) + ++step);
    const ctx = '0x' + '11'.repeat(96);
    const data = ks.forwarder.interface.encodeFunctionData('report', [await ks.cache.getAddress(), rawReport, ctx, keystoneSign(c.wallets, c.f, rawReport, ctx)]);
    const err = await revertOf(await ks.forwarder.getAddress(), data, (d) => ks.forwarder.interface.parseError(d)?.name);
    expect(err).toBe('InvalidSignatureCount');
  });

  it('rejects a signature from outside the DON', async () => {
    const c = ks.committees.get(4)!;
    const outsider = committeeWallets('keystone-outsider', 1);
    const { rawReport } = keystoneRawReport(ks, 4, [testAnswer(0, 998)], Number(await anvil.now()) + ++step);
    const ctx = '0x' + '22'.repeat(96);
    const sigs = [...keystoneSign(c.wallets, c.f, rawReport, ctx), ...keystoneSign(outsider, 1, rawReport, ctx)];
    const data = ks.forwarder.interface.encodeFunctionData('report', [await ks.cache.getAddress(), rawReport, ctx, sigs]);
    const err = await revertOf(await ks.forwarder.getAddress(), data, (d) => ks.forwarder.interface.parseError(d)?.name);
    expect(err).toBe('InvalidSigner');
  });

  it(`refuses a DON larger than ${KEYSTONE_MAX_SIGNERS} signers (why the benchmark stops at n=31)`, async () => {
    const wallets = committeeWallets('keystone-too-many', KEYSTONE_MAX_SIGNERS + 1);
    const data = ks.forwarder.interface.encodeFunctionData('setConfig', [1, 999, 10, wallets.map((w) => w.address)]);
    const err = await revertOf(await ks.forwarder.getAddress(), data, (d) => ks.forwarder.interface.parseError(d)?.name);
    expect(err).toBe('ExcessSigners');
    await expect(setupKeystone(signer, { committees: [100], feeds: 1 })).rejects.toThrow(PeerError);
  });
});

describe('api3: Api3ServerV1 signed beacons and beacon-set median', () => {
  let ap: Api3Setup;
  beforeAll(async () => {
    ap = await setupApi3(signer, { maxCommittee: 7, feeds: 10 });
  });

  it.each([4, 7])('updates n=%i beacons per feed and the beacon set holds their median', async (n) => {
    const ts = Number(await anvil.now()) + ++step;
    const { gas, medians } = await api3Update(ap, signer, n, 10, step, ts);
    expect(gas).toBeGreaterThan(21_000);
    for (let i = 0; i < 10; i++) {
      const got = await api3Read(ap, n, i);
      expect(got.value).toBe(medians[i]);
      expect(got.value).toBe(median(Array.from({ length: n }, (_, j) => testAnswer(i, step, j))));
      expect(got.timestamp).toBe(BigInt(ts));
    }
    // Each beacon holds its own Airnode's value.
    const [v] = (await ap.server.readDataFeedWithId!(api3Feed(ap, n, 0).beacons[n - 1]!)) as [bigint];
    expect(v).toBe(testAnswer(0, step, n - 1));
  });

  it('hand-written beacon-update calldata equals the ABI encoding', () => {
    const a = ap.airnodes[1]!;
    const data = '0x' + '00'.repeat(31) + '2a';
    const sig = '0x' + 'ab'.repeat(65);
    expect(encodeBeaconUpdate(a.address, ap.templateIds[3]!, 1_700_000_000, data, sig)).toBe(
      ap.server.interface.encodeFunctionData('updateBeaconWithSignedData', [a.address, ap.templateIds[3]!, 1_700_000_000, data, sig]),
    );
  });

  it('hand-written beacon-set update and multicall calldata equal the ABI encoding', () => {
    const iface = ap.server.interface;
    const ids = api3Feed(ap, 7, 2).beacons;
    const set = beaconSetUpdate(ids);
    expect(hexlify(set)).toBe(iface.encodeFunctionData('updateBeaconSetWithBeacons', [ids]));
    const calls = [set, getBytes(encodeBeaconUpdate(ap.airnodes[0]!.address, ap.templateIds[0]!, 1_700_000_000, '0x' + '00'.repeat(31) + '07', '0x' + 'cd'.repeat(65))), new Uint8Array([1, 2, 3])];
    expect(multicallData(calls)).toBe(iface.encodeFunctionData('multicall', [calls.map((c) => hexlify(c))]));
  });

  it("signs beacon data exactly as ethers' Wallet (EIP-191, RFC 6979)", () => {
    for (const k of [0, 3, 6]) {
      const digest = keccak256(toUtf8Bytes(`digest ${k}`));
      const w = ap.airnodes[k]!;
      expect(hexlify(signEip191(w.signingKey, getBytes(digest)))).toBe(w.signingKey.sign(hashMessage(getBytes(digest))).serialized);
    }
  });

  it('rejects data not signed by the named Airnode', async () => {
    const [impostor] = committeeWallets('api3-impostor', 1);
    const airnode = ap.airnodes[0]!;
    const iface = ap.server.interface;
    const { AbiCoder, solidityPacked } = await import('ethers');
    const ts = Number(await anvil.now()) + ++step;
    const data = AbiCoder.defaultAbiCoder().encode(['int256'], [1n]);
    const digest = keccak256(solidityPacked(['bytes32', 'uint256', 'bytes'], [ap.templateIds[0]!, ts, data]));
    const sig = impostor!.signingKey.sign(hashMessage(getBytes(digest))).serialized;
    const call = iface.encodeFunctionData('updateBeaconWithSignedData', [airnode.address, ap.templateIds[0]!, ts, data, sig]);
    const err = await revertOf(await ap.server.getAddress(), call, (d) => iface.parseError(d)?.args[0] as string | undefined);
    expect(err).toBe('Signature mismatch');
    expect(beaconId(airnode.address, ap.templateIds[0]!)).toBe(api3Feed(ap, 4, 0).beacons[0]);
  });
});

describe('redstone: consumer over RedstoneConsumerNumericBase', () => {
  it.each([
    [3, 3],
    [3, 5],
  ])('verifies %i-of-%i signed packages in calldata and stores the medians', async (threshold, signers) => {
    const rs = await setupRedstone(signer, { signers, threshold, feeds: 10 });
    const ms = Number(await anvil.now()) * 1000 + ++step;
    const { gas, medians } = await redstoneUpdate(rs, signer, 10, step, ms);
    expect(gas).toBeGreaterThan(21_000);
    for (let i = 0; i < 10; i++) {
      const got = await redstoneRead(rs, i);
      expect(got.value).toBe(medians[i]);
      expect(got.timestampMs).toBe(BigInt(ms));
    }
  });

  it('rejects an unauthorised signer and too few packages', async () => {
    const rs = await setupRedstone(signer, { signers: 5, threshold: 3, feeds: 2 });
    const iface = rs.consumer.interface;
    const to = await rs.consumer.getAddress();
    const call = iface.encodeFunctionData('updatePrices', [rs.feedIds]);
    const ms = Number(await anvil.now()) * 1000 + ++step;
    const outsiders = { ...rs, signers: committeeWallets('redstone-outsider', 3) };
    expect(await revertOf(to, call + redstonePayload(outsiders, 2, step, ms).payload, (d) => iface.parseError(d)?.name)).toBe('SignerNotAuthorised');
    const tooFew = { ...rs, packages: 2 };
    expect(await revertOf(to, call + redstonePayload(tooFew, 2, step, ms).payload, (d) => iface.parseError(d)?.name)).toBe('InsufficientNumberOfUniqueSigners');
  });
});

describe('table and charts', () => {
  const rows = [
    { system: 'aegis', op: 'transmit', n: 4, feeds: 10, gas: 300_000 },
    { system: 'aegis', op: 'transmit', n: 31, feeds: 10, gas: 300_000 },
    { system: 'chainlink-keystone', op: 'update', n: 31, feeds: 10, gas: 600_000 },
    { system: 'redstone', op: 'update', n: 3, feeds: 10, gas: 150_000 },
    { system: 'aegis', op: 'transmit', n: 31, feeds: 1, gas: 170_000 },
    { system: 'chainlink-keystone', op: 'update', n: 31, feeds: 1, gas: 195_000 },
  ];

  it('divides each peer by Aegis at the same n and feeds, per update and per feed', () => {
    const cmp = comparison(rows);
    const ks = cmp.find((r) => r.system === 'chainlink-keystone' && r.feeds === 10)!;
    expect(ks).toMatchObject({ gasPerFeed: 60_000, aegisGas: 300_000, aegisN: 31, ratioToAegis: 2 });
    // n=3 has no Aegis run: compared with Aegis at its smallest n (Aegis is flat in n).
    expect(cmp.find((r) => r.system === 'redstone')).toMatchObject({ aegisN: 4, ratioToAegis: 0.5 });
  });

  it('gives the Keystone bar both ways: average per feed and marginal per feed (slope 1→10)', () => {
    const cmp = comparison(rows);
    expect(cmp.find((r) => r.system === 'aegis' && r.n === 31 && r.feeds === 10)!.marginalPerFeed).toBe(14_444); // (300,000 − 170,000) / 9
    expect(cmp.find((r) => r.system === 'aegis' && r.n === 4)!.marginalPerFeed).toBeUndefined(); // no 1-feed row at n=4
    // A split update (its note names the multicalls) still has a slope against the 1-feed row.
    const split = comparison([...rows, { system: 'api3', op: 'update', n: 31, feeds: 1, gas: 700_000, note: 'one multicall' }, { system: 'api3', op: 'update', n: 31, feeds: 10, gas: 6_600_000, note: '2 multicalls' }]);
    expect(split.find((r) => r.system === 'api3' && r.feeds === 10)!.marginalPerFeed).toBe(655_556);
    const bar = keystoneBar(cmp)!;
    expect(bar).toMatchObject({ n: 31, feeds: 10, averageRatio: 0.5, marginalRatio: 0.321 }); // 300k/600k; 14,444/45,000
    expect(comparisonMarkdown(cmp, { date: 'd', anvil: 'a' })).toContain('marginal per feed (slope 1→10 feeds): 14,444 ÷ 45,000 = **0.32**');
  });

  it('renders both charts as standalone SVG with one polyline per system', () => {
    const { gasVsN, gasVsFeeds } = renderCharts(rows, [4, 31]);
    for (const svg of [gasVsN, gasVsFeeds]) {
      expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
      expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    }
    expect(gasVsFeeds.match(/<polyline/g)).toHaveLength(2); // aegis and keystone at n=31
    expect(formatTick(1_500_000)).toBe('1.5M');
    expect(formatTick(200_000)).toBe('200k');
  });
});
