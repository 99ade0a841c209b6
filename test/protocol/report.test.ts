import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ed25519 } from '@noble/curves/ed25519.js';
import { getBytes, hexlify, keccak256, randomBytes as ethersRandom } from 'ethers';
import {
  ReportError,
  SUSPENDED_ANSWER,
  aggregateFeeds,
  buildReport,
  computeConfigDigest,
  decodeReport,
  encodeReport,
  feedId,
  feedName,
  medianOf,
  observationsRoot,
  observersBitmap,
  observersFromBitmap,
  reportMessage,
  rotationMessage,
  rotationTo,
  signObservation,
  spreadBpsOf,
  verifyObservation,
  type Observation,
  type Report,
} from '../../protocol/index.ts';

const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => hexlify(b));
const reportArb: fc.Arbitrary<Report> = fc
  .integer({ min: 1, max: 12 })
  .chain((k) =>
    fc.record({
      configDigest: bytes32,
      epoch: fc.bigInt({ min: 1n, max: (1n << 64n) - 1n }),
      observedAt: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      observationsRoot: bytes32,
      observers: fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }),
      feedIds: fc.uniqueArray(bytes32, { minLength: k, maxLength: k }),
      answers: fc.array(fc.bigInt({ min: -(1n << 191n), max: (1n << 191n) - 1n }), { minLength: k, maxLength: k }),
      spreadBps: fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: k, maxLength: k }),
    }),
  );

function errCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof ReportError ? err.code : String(err);
  }
  return undefined;
}

describe('report codec', () => {
  it('encode/decode round-trips and the message is a function of the fields', () => {
    fc.assert(
      fc.property(reportArb, (r) => {
        const back = decodeReport(encodeReport(r));
        expect(back).toEqual(r);
        expect(reportMessage(back)).toEqual(reportMessage(r));
      }),
      { numRuns: 100 },
    );
  });

  it('any changed field changes the message', () => {
    fc.assert(
      fc.property(reportArb, (r) => {
        const m = hexlify(reportMessage(r));
        expect(hexlify(reportMessage({ ...r, epoch: r.epoch === 1n ? 2n : r.epoch - 1n }))).not.toBe(m);
        expect(hexlify(reportMessage({ ...r, answers: r.answers.map((a, i) => (i === 0 ? (a === 0n ? 1n : 0n) : a)) }))).not.toBe(m);
        expect(hexlify(reportMessage({ ...r, observers: r.observers ^ 1n }))).not.toBe(m);
      }),
      { numRuns: 30 },
    );
  });

  it('rejects malformed reports with a named error', () => {
    const ok: Report = {
      configDigest: hexlify(ethersRandom(32)),
      epoch: 1n,
      observedAt: 1n,
      observationsRoot: hexlify(ethersRandom(32)),
      observers: 1n,
      feedIds: [feedId('BTC/USD')],
      answers: [1n],
      spreadBps: [0],
    };
    expect(errCode(() => encodeReport({ ...ok, feedIds: [] , answers: [], spreadBps: []}))).toBe('empty');
    expect(errCode(() => encodeReport({ ...ok, answers: [1n, 2n] }))).toBe('length_mismatch');
    expect(errCode(() => encodeReport({ ...ok, epoch: 0n }))).toBe('bad_field');
    expect(errCode(() => encodeReport({ ...ok, answers: [1n << 191n] }))).toBe('bad_field');
    expect(errCode(() => encodeReport({ ...ok, feedIds: [ok.feedIds[0]!, ok.feedIds[0]!], answers: [1n, 1n], spreadBps: [0, 0] }))).toBe('bad_field');
    expect(errCode(() => decodeReport('0x1234'))).toBe('bad_encoding');
    expect(errCode(() => feedId('X'.repeat(32)))).toBe('bad_field');
    expect(feedName(feedId('ETH/USD'))).toBe('ETH/USD');
  });

  it('the hand-written report encoders equal abi.encode for any report', async () => {
    const { AbiCoder, getBytes, keccak256 } = await import('ethers');
    const { REPORT_TUPLE_ABI, encodeReportMessage } = await import('../../protocol/report.ts');
    const abi = AbiCoder.defaultAbiCoder();
    fc.assert(
      fc.property(reportArb, (r) => {
        const fields = [r.configDigest, r.epoch, r.observedAt, r.observationsRoot, r.observers, r.feedIds, r.answers, r.spreadBps];
        const message = abi.encode(['string', 'bytes32', 'uint64', 'uint64', 'bytes32', 'uint256', 'bytes32[]', 'int192[]', 'uint32[]'], ['AEGIS_REPORT_V1', ...fields]);
        expect(encodeReportMessage(r)).toEqual(getBytes(message));
        expect(hexlify(reportMessage(r))).toBe(keccak256(message));
        expect(encodeReport(r)).toBe(abi.encode([REPORT_TUPLE_ABI], [{ ...r }]));
      }),
      { numRuns: 200 },
    );
  });

  it('decodeReport agrees with the generic ABI decoder on canonical, altered and garbage input', async () => {
    const { AbiCoder, getBytes } = await import('ethers');
    const { REPORT_TUPLE_ABI } = await import('../../protocol/report.ts');
    const abi = AbiCoder.defaultAbiCoder();
    // The decoder before the fast path: ethers' decode, then the field checks.
    const generic = (data: string | Uint8Array): Report | string => {
      try {
        const [d] = abi.decode([REPORT_TUPLE_ABI], data);
        const r: Report = {
          configDigest: hexlify(d.configDigest),
          epoch: BigInt(d.epoch),
          observedAt: BigInt(d.observedAt),
          observationsRoot: hexlify(d.observationsRoot),
          observers: BigInt(d.observers),
          feedIds: [...d.feedIds].map((x: string) => hexlify(x)),
          answers: [...d.answers].map((x: bigint) => BigInt(x)),
          spreadBps: [...d.spreadBps].map((x: bigint) => Number(x)),
        };
        return errCode(() => encodeReport(r)) ?? r;
      } catch {
        return 'bad_encoding';
      }
    };
    const fast = (data: string | Uint8Array): Report | string => {
      try {
        return decodeReport(data);
      } catch (err) {
        return err instanceof ReportError ? err.code : String(err);
      }
    };
    fc.assert(
      fc.property(
        reportArb,
        fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { maxLength: 3 }),
        fc.integer({ min: -40, max: 40 }),
        (r, edits, resize) => {
          const canonical = getBytes(encodeReport(r));
          expect(fast(encodeReport(r))).toEqual(r);
          expect(fast(encodeReport(r).toUpperCase().replace('0X', '0x'))).toEqual(r);
          expect(fast(canonical)).toEqual(r);
          const altered = new Uint8Array(Math.max(0, canonical.length + resize));
          altered.set(canonical.subarray(0, altered.length));
          for (const e of edits) if (altered.length) altered[e.at % altered.length] = e.value;
          expect(fast(hexlify(altered))).toEqual(generic(hexlify(altered)));
        },
      ),
      { numRuns: 300 },
    );
    // Structured alterations the random edits rarely reach: a widened epoch, an answer outside
    // int192, a spread above uint32, a moved array offset.
    const r: Report = { configDigest: hexlify(ethersRandom(32)), epoch: 7n, observedAt: 9n, observationsRoot: hexlify(ethersRandom(32)), observers: 3n, feedIds: [feedId('A/USD'), feedId('B/USD')], answers: [5n, -5n], spreadBps: [1, 2] };
    const word = (b: Uint8Array, k: number, v: bigint) => b.set(getBytes('0x' + BigInt.asUintN(256, v).toString(16).padStart(64, '0')), 32 + 32 * k);
    const variants: ((b: Uint8Array) => void)[] = [
      (b) => word(b, 1, 1n << 64n),
      (b) => word(b, 13, 1n << 191n),
      (b) => word(b, 15, 1n << 32n),
      (b) => word(b, 5, 8n * 32n + 32n),
      (b) => word(b, 6, 11n * 32n + 32n),
      (b) => word(b, 7, 14n * 32n - 32n),
      (b) => word(b, 11, 3n),
      (b) => word(b, 14, 1n),
      (b) => word(b, 1, 0n),
      (b) => word(b, 2, -1n),
      (b) => word(b, 13, -(1n << 191n) - 1n),
      (b) => word(b, 13, -(1n << 191n)),
      (b) => b.copyWithin(32 + 32 * 10, 32 + 32 * 9, 32 + 32 * 10),
    ];
    for (const v of variants) {
      const b = getBytes(encodeReport(r));
      v(b);
      expect(fast(hexlify(b))).toEqual(generic(hexlify(b)));
    }
    expect(fast('0x')).toBe('bad_encoding');
    expect(fast('0x123')).toEqual(generic('0x123'));
    expect(fast('not hex')).toEqual(generic('not hex'));
  });

  it('config digest binds chain, hub, version, key, n and t', () => {
    const base = { chainId: 31337n, hub: '0x' + '11'.repeat(20), configVersion: 1n, groupPublicKey: new Uint8Array(256).fill(3), n: 7, t: 5 };
    const d = computeConfigDigest(base);
    const variants = [
      { ...base, chainId: 1n },
      { ...base, hub: '0x' + '12'.repeat(20) },
      { ...base, configVersion: 2n },
      { ...base, groupPublicKey: new Uint8Array(256).fill(4) },
      { ...base, n: 8 },
      { ...base, t: 6 },
    ];
    for (const v of variants) expect(computeConfigDigest(v)).not.toBe(d);
  });

  it('rotation message is keccak256 of the 5-word abi.encode("AEGIS_ROTATE_V1", current, next) and binds both in order', () => {
    fc.assert(
      fc.property(bytes32, bytes32, (current, next) => {
        // Head: string offset 0x60, current, next; tail: length 15, the padded domain.
        const enc = new Uint8Array(5 * 32);
        enc[31] = 0x60;
        enc.set(getBytes(current), 32);
        enc.set(getBytes(next), 64);
        enc[127] = 15;
        enc.set(new TextEncoder().encode('AEGIS_ROTATE_V1'), 128);
        const m = rotationMessage(current, next);
        expect(hexlify(m)).toBe(keccak256(enc));
        if (current !== next) expect(rotationMessage(next, current)).not.toEqual(m);
      }),
      { numRuns: 50 },
    );
    expect(errCode(() => rotationMessage('0x12', '0x' + '00'.repeat(32)))).toBe('bad_field');
    expect(() => rotationMessage('0x' + '00'.repeat(32), 'nope')).toThrow(/nextDigest: expected 0x-prefixed 32-byte hex/);
  });

  it('rotationTo hashes the current digest with the next committee at configVersion + 1', () => {
    const current = { chainId: 31337n, hub: '0x' + '11'.repeat(20), configVersion: 4n, groupPublicKey: new Uint8Array(256).fill(3), n: 7, t: 5 };
    const next = { groupPublicKey: new Uint8Array(256).fill(3), n: 10, t: 7 };
    const nextDigest = computeConfigDigest({ ...current, ...next, configVersion: 5n });
    expect(rotationTo(current, next)).toEqual({ message: rotationMessage(computeConfigDigest(current), nextDigest), nextDigest });
  });
});

describe('median rule shared by aggregator and nodes', () => {
  it('median is the element at ⌊k/2⌋ and stays inside the honest range with f < k/2 liars', () => {
    expect(medianOf([3n, 1n, 2n])).toBe(2n);
    expect(medianOf([4n, 1n, 3n, 2n])).toBe(3n);
    fc.assert(
      fc.property(
        fc.array(fc.bigInt({ min: 1000n, max: 2000n }), { minLength: 3, maxLength: 20 }),
        fc.array(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), { maxLength: 20 }),
        (honest, liars) => {
          const bad = liars.slice(0, Math.ceil(honest.length / 2) - 1);
          const m = medianOf([...honest, ...bad]);
          const lo = honest.reduce((a, b) => (a < b ? a : b));
          const hi = honest.reduce((a, b) => (a > b ? a : b));
          expect(m >= lo && m <= hi).toBe(true);
        },
      ),
    );
  });

  it('spread trims max(⌊(k−1)/3⌋, ⌊(t−1)/2⌋) from each end so f liars cannot inflate it', () => {
    const honest = [100_000n, 100_010n, 100_020n, 100_030n, 100_040n];
    const withLiars = [...honest, 1n, 10n ** 20n];
    const m = medianOf(withLiars);
    // At most the honest range (100,000 .. 100,040) around the median.
    expect(spreadBpsOf(withLiars, m, 5)).toBeLessThanOrEqual(spreadBpsOf([100_000n, 100_040n], m, 1));
    expect(spreadBpsOf([100n, 101n], 100n, 1)).toBe(100);
    // n = 7, t = 5, one honest node missing: 4 honest + 2 liars. Trimming ⌊(6−1)/3⌋ = 1 would
    // leave a liar at each end; the quorum's ⌊(t−1)/2⌋ = 2 removes both.
    const six = [100_000n, 100_010n, 100_020n, 100_030n, 150_000n, 150_000n];
    expect(spreadBpsOf(six, medianOf(six), 5)).toBeLessThanOrEqual(3);
  });

  it('property: with k ≥ t answers of which at most ⌊(t−1)/2⌋ lie, the spread never exceeds the honest range', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }).chain((t) =>
          fc.record({
            t: fc.constant(t),
            honest: fc.array(fc.bigInt({ min: 1n, max: 10n ** 12n }), { minLength: t - Math.floor((t - 1) / 2), maxLength: 60 }),
            liars: fc.array(fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n }), { maxLength: Math.floor((t - 1) / 2) }),
          }),
        ),
        ({ t, honest, liars }) => {
          const all = [...honest, ...liars];
          fc.pre(all.length >= t);
          const m = medianOf(all);
          const lo = honest.reduce((a, b) => (a < b ? a : b));
          const hi = honest.reduce((a, b) => (a > b ? a : b));
          expect(m >= lo && m <= hi).toBe(true);
          const bound = spreadBpsOf([lo, hi], m, 1);
          expect(spreadBpsOf(all, m, t)).toBeLessThanOrEqual(bound);
        },
      ),
    );
  });

  it('buildReport skips feeds below t answers and attributes observers', () => {
    const digest = hexlify(ethersRandom(32));
    const btc = feedId('BTC/USD');
    const eth = feedId('ETH/USD');
    const obs: Observation[] = [1, 2, 3, 4].map((i) => ({
      configDigest: digest,
      epoch: 7n,
      nodeIndex: i,
      observedAt: BigInt(1000 + i),
      feeds: [
        { feedId: btc, answer: BigInt(60_000 + i) },
        { feedId: eth, answer: i <= 2 ? BigInt(3000 + i) : null, reason: i <= 2 ? undefined : 'too_few_sources' },
      ],
    }));
    const { report, aggregate } = buildReport(digest, 7n, obs, [btc, eth], 3);
    expect(report!.feedIds).toEqual([btc]);
    expect(report!.answers).toEqual([60_003n]);
    expect(report!.observedAt).toBe(1003n);
    expect(observersFromBitmap(report!.observers)).toEqual([1, 2, 3, 4]);
    expect(report!.observationsRoot).toBe(observationsRoot(obs));
    expect(aggregate.skipped).toEqual([{ feedId: eth, reason: 'ETH/USD: 2 node(s) observed it, need t=3' }]);
    expect(buildReport(digest, 7n, obs.slice(0, 2), [btc], 3).report).toBeNull();
    expect(observersBitmap([1, 256])).toBe(1n | (1n << 255n));
  });
  it('aggregateFeeds takes each observation\'s first entry per feed id, whatever its feed list (shared, differing, duplicated, any case), answer size or node order', () => {
    const ids = ['A/USD', 'B/USD', 'C/USD', 'D/USD'].map((n) => feedId(n).toLowerCase());
    // Small answers (sorted as doubles), int192 ones (sorted as BigInts) and both around 2^53.
    const safe = BigInt(Number.MAX_SAFE_INTEGER);
    const answer = fc.oneof(
      fc.bigInt({ min: -1000n, max: 1000n }),
      fc.bigInt({ min: -(1n << 191n), max: (1n << 191n) - 1n }),
      fc.bigInt({ min: safe - 3n, max: safe + 3n }),
      fc.bigInt({ min: -safe - 3n, max: -safe + 3n }),
    );
    const entry = fc.record({ id: fc.constantFrom(...ids), upper: fc.boolean(), answer: fc.option(answer, { nil: null }) });
    const list = fc.array(entry, { maxLength: 6 });
    fc.assert(
      fc.property(list, fc.array(fc.tuple(fc.boolean(), list), { minLength: 1, maxLength: 8 }), fc.subarray(ids, { minLength: 1 }), fc.integer({ min: 1, max: 4 }), fc.boolean(), (shared, lists, asked, t, reversed) => {
        // Some observations share one list (as decoded observations of a round do), others carry their own.
        const obs: Observation[] = lists.map(([useShared, own], k) => ({
          configDigest: '0x' + '11'.repeat(32),
          epoch: 1n,
          nodeIndex: reversed ? lists.length - k : k + 1,
          observedAt: 1n,
          feeds: (useShared ? shared : own).map((e) => ({ feedId: e.upper ? '0x' + e.id.slice(2).toUpperCase() : e.id, answer: e.answer })),
        }));
        const got = aggregateFeeds(obs, asked, t);
        for (const id of asked) {
          const present = obs.flatMap((o) => {
            const f = o.feeds.find((x) => x.feedId.toLowerCase() === id);
            return f && f.answer !== null ? [{ node: o.nodeIndex, answer: f.answer }] : [];
          });
          const absent = obs.flatMap((o) => {
            const f = o.feeds.find((x) => x.feedId.toLowerCase() === id);
            return f && f.answer === null ? [o.nodeIndex] : [];
          });
          const row = got.feeds.find((f) => f.feedId === id);
          // Fewer than t answers: a suspension entry when t nodes signed "no observation" (reason 0 here).
          if (present.length < t && absent.length >= t) expect(row).toEqual({ feedId: id, answer: SUSPENDED_ANSWER, spreadBps: 0, contributors: absent.sort((a, b) => a - b), suspendReason: 0 });
          else if (present.length < t) expect(row).toBeUndefined();
          else expect(row).toEqual({ feedId: id, answer: medianOf(present.map((p) => p.answer)), spreadBps: spreadBpsOf(present.map((p) => p.answer), medianOf(present.map((p) => p.answer)), t), contributors: present.map((p) => p.node).sort((a, b) => a - b) });
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('signed observations', () => {
  it('verify under the signer key only, and any change breaks the signature', () => {
    const sk = ed25519.utils.randomSecretKey();
    const other = ed25519.utils.randomSecretKey();
    const o: Observation = { configDigest: hexlify(ethersRandom(32)), epoch: 3n, nodeIndex: 2, observedAt: 1000n, feeds: [{ feedId: feedId('BTC/USD'), answer: 5n }] };
    const s = signObservation(o, sk);
    expect(verifyObservation(s, ed25519.getPublicKey(sk))).toBe(true);
    expect(verifyObservation(s, ed25519.getPublicKey(other))).toBe(false);
    expect(verifyObservation({ ...s, observation: { ...o, feeds: [{ feedId: feedId('BTC/USD'), answer: 6n }] } }, ed25519.getPublicKey(sk))).toBe(false);
    expect(verifyObservation({ ...s, observation: { ...o, feeds: [{ feedId: feedId('BTC/USD'), answer: null }] } }, ed25519.getPublicKey(sk))).toBe(false);
    expect(verifyObservation({ ...s, signature: '0x00' }, ed25519.getPublicKey(sk))).toBe(false);
  });
});

describe('observation encoding v2', () => {
  const feedList = (n: number) => fc.uniqueArray(bytes32, { minLength: n, maxLength: n });
  const observationArb: fc.Arbitrary<Observation> = fc.integer({ min: 0, max: 40 }).chain((k) =>
    fc.record({
      configDigest: bytes32,
      epoch: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      nodeIndex: fc.integer({ min: 0, max: 0xffff }),
      observedAt: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      feeds: fc.tuple(
        feedList(k),
        fc.array(
          fc.option(fc.oneof(fc.bigInt({ min: -(1n << 191n), max: (1n << 191n) - 1n }), fc.bigInt({ min: -(1n << 64n), max: 1n << 64n }), fc.constantFrom(-(1n << 191n), (1n << 191n) - 1n, -(1n << 63n), (1n << 63n) - 1n, -1n, 0n)), { nil: null }),
          { minLength: k, maxLength: k },
        ),
      ).map(([ids, answers]) => ids.map((feedId, j) => ({ feedId, answer: answers[j]! }))),
    }),
  );

  it('equals Solidity abi.encodePacked of the documented layout (ethers solidityPacked), and decodes back', async () => {
    const { solidityPacked, concat } = await import('ethers');
    const { decodeObservation, encodeObservation, encodedObservationLength, observationHash } = await import('../../protocol/observation.ts');
    fc.assert(
      fc.property(observationArb, (o) => {
        const k = o.feeds.length;
        const bitmap = new Uint8Array(Math.ceil(k / 8));
        o.feeds.forEach((f, j) => f.answer !== null && (bitmap[j >> 3]! |= 1 << (j & 7)));
        const expected = solidityPacked(
          ['bytes20', 'bytes32', 'uint64', 'uint16', 'uint64', 'bytes32', 'uint16', 'bytes', ...o.feeds.map(() => 'int192')],
          [hexlify(new TextEncoder().encode('AEGIS_OBSERVATION_V2')), o.configDigest, o.epoch, o.nodeIndex, o.observedAt, keccak256(concat(o.feeds.map((f) => f.feedId))), k, bitmap, ...o.feeds.map((f) => f.answer ?? 0n)],
        );
        const encoded = encodeObservation(o);
        expect(hexlify(encoded)).toBe(expected);
        expect(encoded.length).toBe(encodedObservationLength(k));
        expect(observationHash(o)).toBe(keccak256(expected));
        const back = decodeObservation(encoded, o.feeds.map((f) => f.feedId));
        expect(back).toEqual({ ...o, configDigest: o.configDigest.toLowerCase() });
        expect(observationHash(back)).toBe(keccak256(expected));
      }),
      { numRuns: 300 },
    );
  });

  it('decodes strictly and canonically: a flipped byte is rejected or decodes to what re-encodes to exactly those bytes; cut or extended is rejected', async () => {
    const { decodeObservation, encodeObservation } = await import('../../protocol/observation.ts');
    fc.assert(
      fc.property(observationArb, fc.nat(), fc.integer({ min: 1, max: 255 }), (o, at, x) => {
        const ids = o.feeds.map((f) => f.feedId);
        const encoded = encodeObservation(o);
        const flipped = encoded.slice();
        flipped[at % encoded.length]! ^= x;
        // Canonical: a changed encoding never decodes to the same observation.
        try {
          expect(encodeObservation(decodeObservation(flipped, ids))).toEqual(flipped);
        } catch (err) {
          expect(err).toBeInstanceOf(ReportError);
          expect((err as ReportError).code).toBe('bad_field');
        }
        expect(() => decodeObservation(encoded.subarray(0, encoded.length - 1), ids)).toThrow(ReportError);
        expect(() => decodeObservation(new Uint8Array([...encoded, 0]), ids)).toThrow(ReportError);
      }),
      { numRuns: 300 },
    );
  });

  it('names the field and the value of each strictness rule', async () => {
    const { decodeObservation, encodeObservation } = await import('../../protocol/observation.ts');
    const ids = Array.from({ length: 10 }, (_, k) => feedId(`F${k}/USD`));
    const o: Observation = { configDigest: hexlify(ethersRandom(32)), epoch: 9n, nodeIndex: 3, observedAt: 1000n, feeds: ids.map((feedId, k) => ({ feedId, answer: k === 4 ? null : BigInt(-k) })) };
    const good = encodeObservation(o);
    expect(good.length).toBe(104 + 2 + 240);
    const edit = (f: (b: Uint8Array) => void) => {
      const b = good.slice();
      f(b);
      return b;
    };
    const cases: [Uint8Array, readonly string[], RegExp][] = [
      [good.subarray(0, 103), ids, /^obs: 103 bytes, shorter than the 104-byte header of encoding v2$/],
      [edit((b) => b.set(new TextEncoder().encode('AEGIS_OBSERVATION_V1'))), ids, /^obs\.domain: expected "AEGIS_OBSERVATION_V2", got "AEGIS_OBSERVATION_V1"/],
      [good, ids.slice(1), /^obs\.count: 10, but the feed list sent has 9 feeds$/],
      [good.subarray(0, good.length - 24), ids, /^obs: 322 bytes, expected 346 for 10 feeds$/],
      [good, [...ids.slice(1), ids[0]!], /^obs\.feedsHash: 0x[0-9a-f]{64}, but the feed list sent hashes to 0x[0-9a-f]{64}; an observation covers exactly the requested feeds in order$/],
      [edit((b) => (b[105]! |= 0x04)), ids, /^obs\.present: bits set beyond count 10 \(last bitmap byte 0x07\)$/],
      [edit((b) => (b[106 + 24 * 4 + 23] = 7)), ids, new RegExp(`^obs\\.answers\\[4\\]: feed ${ids[4]} is absent but its answer is 7, not zero$`)],
    ];
    for (const [bytes, list, message] of cases) expect(() => decodeObservation(bytes, list, 'obs')).toThrow(message);
    expect(() => encodeObservation({ ...o, feeds: [{ feedId: ids[0]!, answer: 1n << 191n }] })).toThrow(/observation\.feeds\[0\]\.answer: expected an int192 or null, got 3138550867693340381917894711603833208051177722232017256448/);
    expect(() => encodeObservation({ ...o, epoch: 1n << 64n })).toThrow(/observation\.epoch: expected a uint64, got 18446744073709551616/);
    expect(() => encodeObservation({ ...o, nodeIndex: 70_000 })).toThrow(/observation\.nodeIndex: expected a uint16, got 70000/);
  });
});
