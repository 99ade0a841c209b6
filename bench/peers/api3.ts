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
import { concatBytes } from '@noble/hashes/utils.js';
import { AbiCoder, Contract, getBytes, hexlify, id, keccak256, solidityPacked, toBeHex, toUtf8Bytes, zeroPadValue, type Signer, type SigningKey, type Wallet } from 'ethers';
import { keccak256Bytes } from '../../protocol/keccak.ts';
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
  /** Beacon ids by [airnode][feed], filled on first use. */
  beaconIds?: string[][];
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
  s.beaconIds ??= s.airnodes.map(() => []);
  const beacons = s.airnodes.slice(0, n).map((a, j) => (s.beaconIds![j]![i] ??= beaconId(a.address, s.templateIds[i]!)));
  return { beacons, set: beaconSetId(beacons) };
}

/**
 * One update of the first `feeds` feeds by committee `n` at `timestamp` (must exceed the
 * previous one): n signed beacon updates plus one beacon-set update per feed, in one multicall.
 * Returns the gas and the median each beacon set must now hold.
 *
 * Calldata is built in bytes (see `beaconUpdateInto`, `multicallData`): the update at n = 100
 * and 100 feeds holds 10,000 signed calls, and ethers' hex helpers and generic ABI encoder took
 * longer than the signing itself. The bytes are the same (the tests compare against ethers).
 */
export async function api3Update(s: Api3Setup, signer: Signer, n: number, feeds: number, step: number, timestamp: number): Promise<{ gas: number; txs: number; medians: bigint[] }> {
  if (n > s.airnodes.length) throw new PeerError('peer_bad_committee', `api3: committee ${n} exceeds the ${s.airnodes.length} airnodes set up`);
  const groups: Uint8Array[][] = [];
  const medians: bigint[] = [];
  const tsWord = wordBytes(BigInt(timestamp));
  for (let i = 0; i < feeds; i++) {
    const template = getBytes(s.templateIds[i]!);
    const values: bigint[] = [];
    const calls: Uint8Array[] = [];
    for (let j = 0; j < n; j++) {
      const value = testAnswer(i, step, j);
      values.push(value);
      const data = wordBytes(value);
      const signature = signEip191(s.airnodes[j]!.signingKey, keccak256Bytes(concatBytes(template, tsWord, data)));
      const call = new Uint8Array(BEACON_UPDATE_BYTES);
      beaconUpdateInto(call, getBytes(zeroPadValue(s.airnodes[j]!.address, 32)), template, tsWord, data, signature);
      calls.push(call);
    }
    calls.push(beaconSetUpdate(api3Feed(s, n, i).beacons));
    groups.push(calls);
    medians.push(median(values));
  }
  // Pack whole feeds into multicalls of at most MAX_TX_DATA_BYTES of calldata.
  const size = (calls: Uint8Array[]): number => calls.reduce((a, c) => a + 64 + Math.ceil(c.length / 32) * 32, 0);
  const batches: Uint8Array[][] = [];
  let cur: Uint8Array[] = [];
  for (const g of groups) {
    if (cur.length > 0 && 4 + 64 + size(cur) + size(g) > MAX_TX_DATA_BYTES) {
      batches.push(cur);
      cur = [];
    }
    cur = cur.concat(g);
  }
  if (cur.length > 0) batches.push(cur);
  const server = (await s.server.getAddress()).toLowerCase();
  const beaconTopic = s.server.interface.getEvent('UpdatedBeaconWithSignedData')!.topicHash;
  const setTopic = s.server.interface.getEvent('UpdatedBeaconSetWithBeacons')!.topicHash;
  let gas = 0;
  let beaconEvents = 0;
  let setEvents = 0;
  for (const batch of batches) {
    const receipt = await sendRaw(signer, server, multicallData(batch), `api3 multicall (n=${n}, feeds=${feeds})`);
    gas += Number(receipt.gasUsed);
    for (const log of receipt.logs) {
      if (log.address.toLowerCase() !== server) continue;
      if (log.topics[0] === beaconTopic) beaconEvents += 1;
      if (log.topics[0] === setTopic) setEvents += 1;
    }
  }
  if (beaconEvents !== n * feeds || setEvents !== feeds) {
    throw new PeerError('peer_update_rejected', `api3: ${beaconEvents}/${n * feeds} beacons and ${setEvents}/${feeds} beacon sets updated`);
  }
  return { gas, txs: batches.length, medians };
}

const BEACON_UPDATE_SELECTOR = getBytes(id('updateBeaconWithSignedData(address,bytes32,uint256,bytes,bytes)').slice(0, 10));
const BEACON_SET_SELECTOR = getBytes(id('updateBeaconSetWithBeacons(bytes32[])').slice(0, 10));
const MULTICALL_SELECTOR = getBytes(id('multicall(bytes[])').slice(0, 10));
const EIP191_PREFIX = toUtf8Bytes('\x19Ethereum Signed Message:\n32');

/** A 32-byte big-endian two's-complement word. */
function word(v: bigint): string {
  return toBeHex(BigInt.asUintN(256, v), 32);
}

function wordBytes(v: bigint): Uint8Array {
  return getBytes(word(v));
}

/**
 * The 65-byte r ‖ s ‖ v (27/28) EIP-191 signature of a 32-byte digest, as Airnode makes it.
 * ethers' SigningKey (noble-curves 1.2 inside) signs in about 0.4 ms here; @noble/curves 2.x
 * `sign` took 0.6 ms (its base multiplication is blinded), so the hashing is done in bytes and
 * the signing left to ethers.
 */
export function signEip191(key: SigningKey, digest: Uint8Array): Uint8Array {
  return getBytes(key.sign(keccak256Bytes(concatBytes(EIP191_PREFIX, digest))).serialized);
}

/** Bytes of one `updateBeaconWithSignedData` call with a 32-byte `data` and a 65-byte signature. */
const BEACON_UPDATE_BYTES = 4 + 32 * 8 + 96;

/**
 * ABI encoding of `updateBeaconWithSignedData(airnode, templateId, timestamp, data, signature)`
 * for a 32-byte `data` and a 65-byte signature, written into `out` (BEACON_UPDATE_BYTES long,
 * zeroed): head of five words (data at 0xa0, signature at 0xe0), then each bytes value's length
 * and content padded to 32 bytes.
 */
function beaconUpdateInto(out: Uint8Array, airnodeWord: Uint8Array, template: Uint8Array, tsWord: Uint8Array, data: Uint8Array, signature: Uint8Array): void {
  out.set(BEACON_UPDATE_SELECTOR, 0);
  out.set(airnodeWord, 4);
  out.set(template, 36);
  out.set(tsWord, 68);
  out[4 + 32 * 4 - 1] = 0xa0;
  out[4 + 32 * 5 - 1] = 0xe0;
  out[4 + 32 * 6 - 1] = 32;
  out.set(data, 4 + 32 * 6);
  out[4 + 32 * 8 - 1] = 65;
  out.set(signature, 4 + 32 * 8);
}

/** Hex form of `beaconUpdateInto` (the test compares it with ethers' encoder). */
export function encodeBeaconUpdate(airnode: string, template: string, timestamp: number, data: string, signature: string): string {
  const out = new Uint8Array(BEACON_UPDATE_BYTES);
  beaconUpdateInto(out, getBytes(zeroPadValue(airnode, 32)), getBytes(template), wordBytes(BigInt(timestamp)), getBytes(data), getBytes(signature));
  return hexlify(out);
}

/** `updateBeaconSetWithBeacons(bytes32[] beaconIds)`: offset 0x20, length, the ids. */
export function beaconSetUpdate(beaconIds: string[]): Uint8Array {
  const out = new Uint8Array(4 + 64 + 32 * beaconIds.length);
  out.set(BEACON_SET_SELECTOR, 0);
  out[4 + 31] = 0x20;
  out.set(wordBytes(BigInt(beaconIds.length)), 36);
  beaconIds.forEach((b, k) => out.set(getBytes(b), 68 + 32 * k));
  return out;
}

/**
 * `multicall(bytes[] data)` as hex: selector, offset 0x20, the array length, one offset per
 * element (from the start of the offsets), then each element's length and bytes padded to 32.
 */
export function multicallData(calls: Uint8Array[]): string {
  const padded = (c: Uint8Array): number => 32 + Math.ceil(c.length / 32) * 32;
  const total = 4 + 64 + 32 * calls.length + calls.reduce((a, c) => a + padded(c), 0);
  const out = new Uint8Array(total);
  out.set(MULTICALL_SELECTOR, 0);
  out[4 + 31] = 0x20;
  out.set(wordBytes(BigInt(calls.length)), 36);
  let tail = 32 * calls.length;
  calls.forEach((c, k) => {
    out.set(wordBytes(BigInt(tail)), 68 + 32 * k);
    out.set(wordBytes(BigInt(c.length)), 68 + tail);
    out.set(c, 68 + tail + 32);
    tail += padded(c);
  });
  return '0x' + Buffer.from(out.buffer, out.byteOffset, out.byteLength).toString('hex');
}

/**
 * Steady-state warm-up for several committees at once: committee n's beacons are those of the
 * first n Airnodes, so one signed update at the largest n writes every beacon; each smaller
 * committee's beacon sets are then written with `updateBeaconSetWithBeacons` alone.
 */
export async function api3WarmUp(s: Api3Setup, signer: Signer, ns: number[], feeds: number, step: number, timestamp: number): Promise<void> {
  const sorted = [...new Set(ns)].sort((a, b) => b - a);
  await api3Update(s, signer, sorted[0]!, feeds, step, timestamp);
  for (const n of sorted.slice(1)) {
    const calls = Array.from({ length: feeds }, (_, i) => beaconSetUpdate(api3Feed(s, n, i).beacons));
    for (let i = 0; i < calls.length; i += 20) {
      await sendRaw(signer, await s.server.getAddress(), multicallData(calls.slice(i, i + 20)), `api3 beacon-set warm-up (n=${n})`);
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
