/**
 * API3 from `@api3/contracts` 34.0.0: `Api3ServerV1` (still the contract API3 serves data feeds
 * from; `Api3ServerV1OevExtension` only adds OEV) with first-party Airnode beacons updated from
 * signed data and a beacon set (the on-chain median) per feed.
 *
 * Compiler: API3 pins `pragma solidity 0.8.17`, which is not installed here (only solc 0.8.26
 * and 0.8.30 are, and the pragma is exact). We therefore deploy the creation bytecode that the
 * package itself ships in `dist/typechain-types` (API3's own build of the same sources) — from
 * the npm package, never copied, never recompiled with another compiler.
 *
 * One update of k feeds with committee n (what Airseeker v2 sends when a feed deviates): one
 * `multicall` transaction holding, per feed, n `updateBeaconWithSignedData` calls (one per
 * Airnode, each an EIP-191 signature over `keccak256(templateId ‖ timestamp ‖ data)`) followed by
 * `updateBeaconSetWithBeacons` over those n beacons (median of values and timestamps). When that
 * multicall would exceed `MAX_TX_DATA_BYTES` of calldata, whole feeds are split over several
 * multicalls and the gas is their sum.
 */
import { createRequire } from 'node:module';
import { AbiCoder, Contract, concat, getBytes, hashMessage, id, keccak256, solidityPacked, toBeHex, toUtf8Bytes, zeroPadValue, type Signer, type Wallet } from 'ethers';
import { committeeWallets, deployArtifact, MAX_TX_DATA_BYTES, PeerError, sendRaw, testAnswer } from './common.ts';

const require = createRequire(import.meta.url);
const coder = AbiCoder.defaultAbiCoder();

interface Factory {
  abi: unknown[];
  bytecode: string;
}

/** The package's shipped artifacts (API3's build, solc 0.8.17). */
export function api3Artifacts(): { server: Factory; registry: Factory } {
  const server = (require('@api3/contracts/dist/typechain-types/factories/api3-server-v1/Api3ServerV1__factory.js') as { Api3ServerV1__factory: Factory }).Api3ServerV1__factory;
  const registry = (require('@api3/contracts/dist/typechain-types/factories/access/AccessControlRegistry__factory.js') as { AccessControlRegistry__factory: Factory }).AccessControlRegistry__factory;
  if (!server?.bytecode || !registry?.bytecode) throw new PeerError('peer_artifact_missing', 'api3: @api3/contracts does not ship Api3ServerV1/AccessControlRegistry bytecode; run npm ci');
  return { server, registry };
}

export interface Api3Setup {
  server: Contract;
  /** Airnodes (committee members); committee n uses the first n. */
  airnodes: Wallet[];
  templateIds: string[];
}

export function templateId(feed: number): string {
  return keccak256(toUtf8Bytes(`aegis-bench template F${feed}/USD`));
}

export function beaconId(airnode: string, template: string): string {
  return keccak256(solidityPacked(['address', 'bytes32'], [airnode, template]));
}

export function beaconSetId(beaconIds: string[]): string {
  return keccak256(coder.encode(['bytes32[]'], [beaconIds]));
}

export async function setupApi3(signer: Signer, opts: { maxCommittee: number; feeds: number }): Promise<Api3Setup> {
  const { server, registry } = api3Artifacts();
  const acr = await deployArtifact(signer, registry);
  const srv = await deployArtifact(signer, server, [await acr.getAddress(), 'Api3ServerV1 admin', await signer.getAddress()]);
  return {
    server: srv,
    airnodes: committeeWallets('api3-airnode', opts.maxCommittee),
    templateIds: Array.from({ length: opts.feeds }, (_, i) => templateId(i)),
  };
}

/** The beacon ids and beacon-set id of feed `i` under committee `n`. */
export function api3Feed(s: Api3Setup, n: number, i: number): { beacons: string[]; set: string } {
  const beacons = s.airnodes.slice(0, n).map((a) => beaconId(a.address, s.templateIds[i]!));
  return { beacons, set: beaconSetId(beacons) };
}

/**
 * One update of the first `feeds` feeds by committee `n` at `timestamp` (must exceed the
 * previous one): n signed beacon updates plus one beacon-set update per feed, in one multicall.
 * Returns the gas and the median each beacon set must now hold.
 */
export async function api3Update(s: Api3Setup, signer: Signer, n: number, feeds: number, step: number, timestamp: number): Promise<{ gas: number; txs: number; medians: bigint[] }> {
  if (n > s.airnodes.length) throw new PeerError('peer_bad_committee', `api3: committee ${n} exceeds the ${s.airnodes.length} airnodes set up`);
  const iface = s.server.interface;
  const groups: string[][] = [];
  const medians: bigint[] = [];
  for (let i = 0; i < feeds; i++) {
    const template = s.templateIds[i]!;
    const values: bigint[] = [];
    const calls: string[] = [];
    for (let j = 0; j < n; j++) {
      const airnode = s.airnodes[j]!;
      const value = testAnswer(i, step, j);
      values.push(value);
      const data = word(value);
      const digest = keccak256(concat([template, word(BigInt(timestamp)), data]));
      const signature = airnode.signingKey.sign(hashMessage(getBytes(digest))).serialized; // EIP-191, as Airnode signs
      calls.push(encodeBeaconUpdate(airnode.address, template, timestamp, data, signature));
    }
    calls.push(iface.encodeFunctionData('updateBeaconSetWithBeacons', [api3Feed(s, n, i).beacons]));
    groups.push(calls);
    medians.push(median(values));
  }
  // Pack whole feeds into multicalls of at most MAX_TX_DATA_BYTES of calldata.
  const size = (calls: string[]): number => calls.reduce((a, c) => a + 64 + Math.ceil((c.length - 2) / 2 / 32) * 32, 0);
  const batches: string[][] = [];
  let cur: string[] = [];
  for (const g of groups) {
    if (cur.length > 0 && 4 + 64 + size(cur) + size(g) > MAX_TX_DATA_BYTES) {
      batches.push(cur);
      cur = [];
    }
    cur = cur.concat(g);
  }
  if (cur.length > 0) batches.push(cur);
  let gas = 0;
  let beaconEvents = 0;
  let setEvents = 0;
  for (const batch of batches) {
    const data = iface.encodeFunctionData('multicall', [batch]);
    const receipt = await sendRaw(signer, await s.server.getAddress(), data, `api3 multicall (n=${n}, feeds=${feeds})`);
    gas += Number(receipt.gasUsed);
    for (const log of receipt.logs) {
      const ev = iface.parseLog(log);
      if (ev?.name === 'UpdatedBeaconWithSignedData') beaconEvents += 1;
      if (ev?.name === 'UpdatedBeaconSetWithBeacons') setEvents += 1;
    }
  }
  if (beaconEvents !== n * feeds || setEvents !== feeds) {
    throw new PeerError('peer_update_rejected', `api3: ${beaconEvents}/${n * feeds} beacons and ${setEvents}/${feeds} beacon sets updated`);
  }
  return { gas, txs: batches.length, medians };
}

const BEACON_UPDATE_SELECTOR = id('updateBeaconWithSignedData(address,bytes32,uint256,bytes,bytes)').slice(0, 10);

/** A 32-byte big-endian two's-complement word. */
function word(v: bigint): string {
  return toBeHex(BigInt.asUintN(256, v), 32);
}

/**
 * ABI encoding of `updateBeaconWithSignedData(airnode, templateId, timestamp, data, signature)`
 * for a 32-byte `data` and a 65-byte signature, written out because ethers' generic encoder
 * dominates the time of a 10,000-call update (the test checks it against ethers).
 */
export function encodeBeaconUpdate(airnode: string, template: string, timestamp: number, data: string, signature: string): string {
  return concat([BEACON_UPDATE_SELECTOR, zeroPadValue(airnode, 32), template, word(BigInt(timestamp)), word(0xa0n), word(0xe0n), word(32n), data, word(65n), signature, '0x' + '00'.repeat(31)]);
}

/**
 * Steady-state warm-up for several committees at once: committee n's beacons are those of the
 * first n Airnodes, so one signed update at the largest n writes every beacon; each smaller
 * committee's beacon sets are then written with `updateBeaconSetWithBeacons` alone.
 */
export async function api3WarmUp(s: Api3Setup, signer: Signer, ns: number[], feeds: number, step: number, timestamp: number): Promise<void> {
  const sorted = [...new Set(ns)].sort((a, b) => b - a);
  await api3Update(s, signer, sorted[0]!, feeds, step, timestamp);
  const iface = s.server.interface;
  for (const n of sorted.slice(1)) {
    const calls = Array.from({ length: feeds }, (_, i) => iface.encodeFunctionData('updateBeaconSetWithBeacons', [api3Feed(s, n, i).beacons]));
    for (let i = 0; i < calls.length; i += 20) {
      await sendRaw(signer, await s.server.getAddress(), iface.encodeFunctionData('multicall', [calls.slice(i, i + 20)]), `api3 beacon-set warm-up (n=${n})`);
    }
  }
}

/** API3's median (`Median.sol`): middle value, or the mean of the two middle values for even n. */
export function median(values: bigint[]): bigint {
  const v = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const m = v.length >> 1;
  return v.length % 2 === 1 ? v[m]! : (v[m - 1]! + v[m]!) / 2n;
}

/** Reads the beacon set of feed `i` under committee `n`. */
export async function api3Read(s: Api3Setup, n: number, i: number): Promise<{ value: bigint; timestamp: bigint }> {
  const [value, timestamp] = (await s.server.readDataFeedWithId!(api3Feed(s, n, i).set)) as [bigint, bigint];
  return { value, timestamp };
}
