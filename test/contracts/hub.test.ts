/**
 * AegisHub on a real EVM (anvil): message and digest agreement with protocol/report, report
 * acceptance and every rejection with its exact custom error, domain separation (committee,
 * chain id, hub address), breaker trip / confirm / clear / guardian resolution, history and
 * round continuity, pull mode, committee rotation, guardian-only configuration.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Contract, hexlify, type ContractTransactionReceipt, type Log } from 'ethers';
import { startAnvil, type Anvil } from '../../contracts/anvil.ts';
import { compileContracts, type CompileOutput } from '../../contracts/compile.ts';
import {
  FeedStatus,
  SkipReason,
  committeeConfig,
  deployHub,
  feedConfig,
  signReport,
  testCommittee,
  thresholdSign,
  type TestCommittee,
} from '../../contracts/hub.ts';
import { g2ToEip2537 } from '../../protocol/bls/index.ts';
import { computeConfigDigest, feedId, reportMessage, rotationMessage, rotationTo, type Report } from '../../protocol/report.ts';

let anvil: Anvil;
let compiled: CompileOutput;
let c: TestCommittee;
let hub: Contract;
let epoch = 0n;
let clock = 0n; // observedAt base: strictly increasing across the suite

const BTC = feedId('BTC/USD');
const ETH = feedId('ETH/USD');

beforeAll(async () => {
  compiled = compileContracts();
  anvil = await startAnvil();
  c = testCommittee(4);
  // A generous future drift lets the suite's observedAt clock run ahead of anvil's blocks.
  hub = await deployHub(await anvil.signer(0), c, { compiled, maxFutureDrift: 86_400, maxReportAge: 86_400 });
  for (const [id, desc] of [[BTC, 'BTC / USD'], [ETH, 'ETH / USD']] as const) {
    await (await hub.addFeed!(id, feedConfig({ description: desc, historyCapacity: 4, deviationBps: 1000, confirmations: 2, confirmationTime: 60 }))).wait();
  }
  clock = (await anvil.now()) - 50_000n;
});
afterAll(async () => {
  await anvil?.stop();
});

async function report(fields: Partial<Report> & { answers: bigint[]; feedIds?: string[] }, target: Contract = hub): Promise<Report> {
  clock += 10n;
  epoch += 1n;
  return {
    configDigest: (await target.configDigest!()) as string,
    epoch,
    observedAt: clock,
    observationsRoot: hexlify(new Uint8Array(32).fill(1)),
    observers: 0b0111n,
    feedIds: fields.feedIds ?? [BTC],
    spreadBps: (fields.feedIds ?? [BTC]).map(() => 5),
    ...fields,
  };
}

async function send(r: Report, sig = signReport(c, r), target: Contract = hub): Promise<ContractTransactionReceipt> {
  return (await (await target.transmit!(r, sig)).wait())!;
}

function events(rc: ContractTransactionReceipt, name: string): Log[] {
  return rc.logs.filter((l) => hub.interface.parseLog(l)?.name === name);
}

function args(rc: ContractTransactionReceipt, name: string): unknown[][] {
  return events(rc, name).map((l) => [...hub.interface.parseLog(l)!.args]);
}

/** Asserts the call reverts with custom error `name` (and the given arguments, if any). */
async function reverts(p: Promise<unknown>, name: string, expected?: unknown[]): Promise<void> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  expect(err, `expected revert ${name}`).toBeDefined();
  const data = (err as { data?: string }).data ?? (err as { info?: { error?: { data?: string } } }).info?.error?.data;
  const parsed = (err as { revert?: { name: string; args: unknown[] } }).revert ?? (data ? hub.interface.parseError(data) : null);
  expect(parsed?.name, String((err as Error).message).slice(0, 300)).toBe(name);
  if (expected) expect([...parsed!.args]).toEqual(expected);
}

describe('agreement with protocol/report', () => {
  it('computeConfigDigest equals the on-chain configDigest', async () => {
    const committee = await hub.committee!();
    expect(committee.configVersion).toBe(1n);
    const expected = computeConfigDigest({
      chainId: BigInt(anvil.chainId),
      hub: await hub.getAddress(),
      configVersion: 1n,
      groupPublicKey: g2ToEip2537(c.groupPublicKey),
      n: c.n,
      t: c.t,
    });
    expect(await hub.configDigest!()).toBe(expected);
    expect(committee.configDigest).toBe(expected);
    expect(committee.groupPublicKey).toBe(hexlify(g2ToEip2537(c.groupPublicKey)));
    expect(await hub.computeConfigDigest!(1n, g2ToEip2537(c.groupPublicKey), c.n, c.t)).toBe(expected);
  });

  it('reportMessage equals the contract message hash for random reports', async () => {
    const hex32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => hexlify(b));
    const arb = fc.integer({ min: 1, max: 5 }).chain((k) =>
      fc.record({
        configDigest: hex32,
        epoch: fc.bigInt(1n, (1n << 64n) - 1n),
        observedAt: fc.bigInt(0n, (1n << 64n) - 1n),
        observationsRoot: hex32,
        observers: fc.bigInt(0n, (1n << 256n) - 1n),
        feedIds: fc.uniqueArray(hex32, { minLength: k, maxLength: k }),
        answers: fc.array(fc.bigInt(-(1n << 191n), (1n << 191n) - 1n), { minLength: k, maxLength: k }),
        spreadBps: fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: k, maxLength: k }),
      }),
    );
    await fc.assert(
      fc.asyncProperty(arb, async (r) => {
        expect(await hub.reportMessage!(r)).toBe(hexlify(reportMessage(r)));
      }),
      { numRuns: 8 },
    );
  });

  it('rotationMessage and rotationTo equal the hub rotationMessage view for random next committees', async () => {
    const current = { chainId: BigInt(anvil.chainId), hub: await hub.getAddress(), configVersion: 1n, groupPublicKey: g2ToEip2537(c.groupPublicKey), n: c.n, t: c.t };
    // The view hashes any key bytes (validity is rotateCommittee's check), so random keys do.
    const arb = fc.integer({ min: 1, max: 256 }).chain((n) =>
      fc.record({ groupPublicKey: fc.uint8Array({ minLength: 256, maxLength: 256 }), n: fc.constant(n), t: fc.integer({ min: 1, max: n }) }),
    );
    await fc.assert(
      fc.asyncProperty(arb, async (next) => {
        const [message, nextDigest] = (await hub.rotationMessage!(next)) as [string, string];
        const local = rotationTo(current, next);
        expect([hexlify(local.message), local.nextDigest]).toEqual([message, nextDigest]);
        expect(hexlify(rotationMessage(await hub.configDigest!(), nextDigest))).toBe(message);
      }),
      { numRuns: 8 },
    );
  });
});

describe('transmit', () => {
  it('accepts an honest report and serves it', async () => {
    const r = await report({ feedIds: [BTC, ETH], answers: [6_000_000_000_000n, 300_000_000_000n], spreadBps: [7, 9] });
    const rc = await send(r);
    expect(args(rc, 'ReportAccepted')).toEqual([[await (await anvil.signer(0)).getAddress(), r.epoch, r.observedAt]]);
    expect(args(rc, 'FeedUpdated')).toEqual([
      [BTC, 6_000_000_000_000n],
      [ETH, 300_000_000_000n],
    ]);
    const b = await hub.tryRead!(BTC);
    expect([b.answer, b.observedAt, b.spreadBps, b.roundId]).toEqual([6_000_000_000_000n, r.observedAt, 7n, 1n]);
    await reverts(hub.read!(BTC, 0), 'FeedStale');
    // observedAt is far in the past relative to the block: staleness uses the feed's limit.
    const t = await hub.tryRead!(ETH);
    expect(t.answer).toBe(300_000_000_000n);
    expect(Number(t.status)).toBe(FeedStatus.Stale);
    expect(await hub.latestEpoch!()).toBe(r.epoch);
    expect(await hub.decimals!(BTC)).toBe(8n);
    expect(await hub.description!(BTC)).toBe('BTC / USD');
  });

  it('serves a fresh report as Active and read honours the caller maxAge', async () => {
    const now = await anvil.now();
    clock = clock > now ? clock : now;
    const r = await report({ answers: [6_010_000_000_000n] });
    await send(r);
    expect(Number((await hub.tryRead!(BTC)).status)).toBe(FeedStatus.Active);
    const [answer] = await hub.read!(BTC, 3600);
    expect(answer).toBe(6_010_000_000_000n);
    await anvil.increaseTime(30);
    await reverts(hub.read!(BTC, 5), 'FeedStale');
  });

  it('rejects a wrong config digest', async () => {
    const r = await report({ answers: [1n], configDigest: hexlify(new Uint8Array(32).fill(9)) });
    await reverts(hub.transmit!(r, signReport(c, r)), 'ConfigDigestMismatch', [r.configDigest, await hub.configDigest!()]);
  });

  it('rejects an epoch not above the last', async () => {
    const r = await report({ answers: [6_000_000_000_000n] });
    await send(r);
    const again = { ...r, observedAt: r.observedAt + 1n };
    await reverts(hub.transmit!(again, signReport(c, again)), 'EpochNotAboveLast', [r.epoch, r.epoch]);
  });

  it('rejects a signature by another committee', async () => {
    const other = testCommittee(4);
    const r = await report({ answers: [6_000_000_000_000n] });
    await reverts(hub.transmit!(r, signReport(other, r)), 'SignatureInvalid', [hexlify(reportMessage(r))]);
  });

  it('rejects malformed signatures: wrong length, infinity, off-curve', async () => {
    const r = await report({ answers: [6_000_000_000_000n] });
    const sig = signReport(c, r);
    await reverts(hub.transmit!(r, sig.slice(0, 95)), 'SignatureMalformed', [95n, 96n]);
    await reverts(hub.transmit!(r, new Uint8Array(96)), 'SignatureAtInfinity');
    const bad = sig.slice();
    bad[95] = bad[95]! ^ 1;
    await reverts(hub.transmit!(r, bad), 'SignatureInvalid');
  });

  it('refuses to verify with too little gas instead of calling a starved pairing invalid', async () => {
    const r = await report({ answers: [6_000_000_000_000n] });
    const sig = signReport(c, r);
    const tx = await hub.transmit!(r, sig, { gasLimit: 120_000n });
    await expect(tx.wait()).rejects.toThrow(/reverted/);
    // The same call with the same limit names the reason.
    await reverts(hub.transmit!.staticCall(r, sig, { gasLimit: 120_000n }), 'InsufficientGasForVerification');
  });

  it('rejects arrays of different lengths', async () => {
    const r = await report({ feedIds: [BTC, ETH], answers: [1n], spreadBps: [1, 2] });
    await reverts(hub.transmit!(r, new Uint8Array(96).fill(1)), 'ReportLengthMismatch', [2n, 1n, 2n]);
  });

  it('rejects an empty report', async () => {
    const r = await report({ feedIds: [], answers: [], spreadBps: [] });
    await reverts(hub.transmit!(r, new Uint8Array(96).fill(1)), 'EmptyReport');
  });

  it('rejects observedAt too far in the future', async () => {
    const r = await report({ answers: [1n] });
    r.observedAt = (await anvil.now()) + 2n * 86_400n;
    await reverts(hub.transmit!(r, signReport(c, r)), 'ObservedAtInFuture');
  });

  it('skips, without reverting, a feed not newer than its last, an unknown feed and an out-of-bounds answer', async () => {
    const fresh = await report({ answers: [6_000_000_000_000n] });
    await send(fresh);
    const [, , , roundBefore] = await hub.tryRead!(BTC);
    const stale = await report({ answers: [6_000_000_000_000n], observedAt: fresh.observedAt });
    const rc = await send(stale);
    expect(args(rc, 'FeedSkipped')).toEqual([[BTC, BigInt(SkipReason.NotNewer)]]);
    const unknown = await report({ feedIds: [feedId('DOGE/USD')], answers: [1n] });
    expect(args(await send(unknown), 'FeedSkipped')).toEqual([[feedId('DOGE/USD'), BigInt(SkipReason.UnknownFeed)]]);
    const oob = await report({ answers: [-5n] });
    expect(args(await send(oob), 'FeedSkipped')).toEqual([[BTC, BigInt(SkipReason.OutOfBounds)]]);
    expect((await hub.tryRead!(BTC)).roundId).toBe(roundBefore);
  });
});

describe('domain separation', () => {
  it('a report signed for another hub address fails', async () => {
    const hub2 = await deployHub(await anvil.signer(0), c, { compiled, maxFutureDrift: 86_400, maxReportAge: 86_400 });
    const forHub2 = await report({ answers: [6_000_000_000_000n] }, hub2);
    const sig = signReport(c, forHub2);
    // Same committee, but the digest binds the hub address.
    await reverts(hub.transmit!(forHub2, sig), 'ConfigDigestMismatch');
    const relabelled = { ...forHub2, configDigest: await hub.configDigest!() };
    await reverts(hub.transmit!(relabelled, sig), 'SignatureInvalid');
    // And it is valid where it belongs.
    await send(forHub2, sig, hub2);
  });

  it('a report signed for another chain id fails', async () => {
    const otherChain = computeConfigDigest({
      chainId: 1n,
      hub: await hub.getAddress(),
      configVersion: 1n,
      groupPublicKey: g2ToEip2537(c.groupPublicKey),
      n: c.n,
      t: c.t,
    });
    const r = await report({ answers: [6_000_000_000_000n], configDigest: otherChain });
    const sig = signReport(c, r);
    await reverts(hub.transmit!(r, sig), 'ConfigDigestMismatch', [otherChain, await hub.configDigest!()]);
    await reverts(hub.transmit!({ ...r, configDigest: await hub.configDigest!() }, sig), 'SignatureInvalid');
  });
});

describe('circuit breaker', () => {
  it('trips on a move beyond the limit, holds the served answer, and confirms over K reports spanning T', async () => {
    const [B] = (await hub.tryRead!(ETH)) as unknown as [bigint];
    const base = await report({ feedIds: [ETH], answers: [B] });
    await send(base);
    const round = (await hub.tryRead!(ETH)).roundId as bigint;
    const jump = await report({ feedIds: [ETH], answers: [(B * 150n) / 100n] });
    const rc = await send(jump);
    expect(args(rc, 'BreakerTripped')).toEqual([[ETH, B, (B * 150n) / 100n, jump.observedAt]]);
    const t = await hub.tryRead!(ETH);
    expect([t.answer, Number(t.status), t.roundId]).toEqual([B, FeedStatus.Tripped, round]);
    await reverts(hub.read!(ETH, 0), 'FeedTripped', [ETH]);
    // One confirmation within 10 % of the candidate, but too early (30 s < 60 s) and K = 2.
    const c1 = await report({ feedIds: [ETH], answers: [(B * 152n) / 100n], observedAt: jump.observedAt + 30n });
    clock = c1.observedAt;
    expect(args(await send(c1), 'BreakerConfirmed')).toEqual([]);
    expect((await hub.breakerState!(ETH)).confirmationsSeen).toBe(1n);
    const c2 = await report({ feedIds: [ETH], answers: [(B * 149n) / 100n], observedAt: jump.observedAt + 61n });
    clock = c2.observedAt;
    expect(args(await send(c2), 'BreakerConfirmed')).toEqual([[ETH, round + 1n, (B * 149n) / 100n]]);
    const after = await hub.tryRead!(ETH);
    expect([after.answer, after.roundId, after.observedAt]).toEqual([(B * 149n) / 100n, round + 1n, c2.observedAt]);
    expect((await hub.breakerState!(ETH)).tripped).toBe(false);
  });

  it('a new candidate outside the old one restarts confirmation; a return within the limit clears', async () => {
    const [served] = await hub.tryRead!(ETH);
    await send(await report({ feedIds: [ETH], answers: [served * 2n] }));
    const other = await report({ feedIds: [ETH], answers: [served * 3n] });
    const rc = await send(other);
    expect(args(rc, 'BreakerTripped')).toEqual([[ETH, served, served * 3n, other.observedAt]]);
    expect((await hub.breakerState!(ETH)).candidate).toBe(served * 3n);
    const back = await report({ feedIds: [ETH], answers: [served + 1n] });
    const rc2 = await send(back);
    expect(events(rc2, 'BreakerCleared')).toHaveLength(1);
    expect((await hub.tryRead!(ETH)).answer).toBe(served + 1n);
  });

  it('the guardian accepts or rejects a held candidate; nobody else can', async () => {
    const [served] = await hub.tryRead!(ETH);
    const jump = await report({ feedIds: [ETH], answers: [served * 2n] });
    await send(jump);
    const outsider = hub.connect(await anvil.signer(1)) as Contract;
    await reverts(outsider.resolveBreaker!(ETH, true), 'NotGuardian');
    const rej = (await (await hub.resolveBreaker!(ETH, false)).wait())!;
    expect(args(rej, 'BreakerRejected')).toEqual([[ETH, await (await anvil.signer(0)).getAddress(), served * 2n]]);
    expect((await hub.tryRead!(ETH)).answer).toBe(served);
    await reverts(hub.resolveBreaker!(ETH, true), 'BreakerNotTripped', [ETH]);

    await send(await report({ feedIds: [ETH], answers: [served * 2n] }));
    const round = (await hub.tryRead!(ETH)).roundId as bigint;
    const acc = (await (await hub.resolveBreaker!(ETH, true)).wait())!;
    expect(args(acc, 'BreakerResolved')).toEqual([[ETH, await (await anvil.signer(0)).getAddress(), round + 1n, served * 2n]]);
    const t = await hub.tryRead!(ETH);
    expect([t.answer, t.roundId]).toEqual([served * 2n, round + 1n]);
  });
});

describe('history and round continuity', () => {
  it('keeps the last historyCapacity rounds readable, continuous by round id', async () => {
    const start = (await hub.latestRoundId!(BTC)) as bigint;
    const sent: Report[] = [];
    for (let k = 1n; k <= 5n; k++) {
      const r = await report({ answers: [6_000_000_000_000n + k], spreadBps: [Number(k)] });
      await send(r);
      sent.push(r);
    }
    const latest = (await hub.latestRoundId!(BTC)) as bigint;
    expect(latest).toBe(start + 5n);
    // capacity 4: rounds latest-3 … latest are readable, each one its report's values.
    for (let k = 0n; k < 4n; k++) {
      const id = latest - k;
      const r = sent[Number(4n - k)]!;
      const [answer, observedAt, spread] = await hub.getRound!(BTC, id);
      expect([answer, observedAt, spread]).toEqual([r.answers[0], r.observedAt, BigInt(r.spreadBps[0]!)]);
    }
    await reverts(hub.getRound!(BTC, latest - 4n), 'RoundNotFound', [BTC, latest - 4n]);
    await reverts(hub.getRound!(BTC, latest + 1n), 'RoundNotFound', [BTC, latest + 1n]);
    await reverts(hub.getRound!(BTC, 0n), 'RoundNotFound', [BTC, 0n]);
  });
});

describe('pull mode', () => {
  it('updateAndRead applies a newer report and reads it in the same call', async () => {
    const now = await anvil.now();
    clock = clock > now ? clock : now;
    const r = await report({ answers: [6_100_000_000_000n] });
    const sig = signReport(c, r);
    const [answer, , , round] = await hub.updateAndRead!.staticCall(r, sig, BTC, 3600);
    expect(answer).toBe(6_100_000_000_000n);
    const rc = (await (await hub.updateAndRead!(r, sig, BTC, 3600)).wait())!;
    expect(events(rc, 'FeedUpdated')).toHaveLength(1);
    expect((await hub.latestRoundId!(BTC)) as bigint).toBe(round);
  });

  it('updateAndRead with a report older than the state is a no-op, then reads', async () => {
    const old = await report({ answers: [6_200_000_000_000n] });
    const oldSig = signReport(c, old);
    const newer = await report({ answers: [6_150_000_000_000n] });
    await send(newer); // the push lands first
    const [answer, observedAt, , round] = await hub.updateAndRead!.staticCall(old, oldSig, BTC, 3600);
    expect([answer, observedAt]).toEqual([6_150_000_000_000n, newer.observedAt]);
    const rc = (await (await hub.updateAndRead!(old, oldSig, BTC, 3600)).wait())!;
    expect(rc.logs).toHaveLength(0);
    expect(await hub.latestRoundId!(BTC)).toBe(round);
    // transmit of the same old report reverts, as a push must not go backwards.
    await reverts(hub.transmit!(old, oldSig), 'EpochNotAboveLast');
  });
});

describe('clock bounds: epochs, report age, future drift', () => {
  let tight: Contract;
  let tEpoch = 0n;
  const DRIFT = 60n;
  const AGE = 120n;
  beforeAll(async () => {
    tight = await deployHub(await anvil.signer(0), c, { compiled, maxFutureDrift: Number(DRIFT), maxReportAge: Number(AGE) });
    await (await tight.addFeed!(BTC, feedConfig({ description: 'BTC / USD', historyCapacity: 4 }))).wait();
    await (await tight.addFeed!(ETH, feedConfig({ description: 'ETH / USD', historyCapacity: 4 }))).wait();
  });
  async function tr(fields: Partial<Report> & { answers: bigint[] }): Promise<Report> {
    tEpoch += 1n;
    return { ...(await report(fields, tight)), epoch: tEpoch, observedAt: fields.observedAt ?? (await anvil.now()), ...(fields.epoch !== undefined ? { epoch: fields.epoch } : {}) };
  }

  it('the constructor refuses a future drift or report age beyond one day, and a zero report age', async () => {
    const { deploy } = await import('../../contracts/deploy.ts');
    const key = { groupPublicKey: hexlify(g2ToEip2537(c.groupPublicKey)), n: c.n, t: c.t };
    const who = await (await anvil.signer(0)).getAddress();
    await reverts(deploy(await anvil.signer(0), 'AegisHub', [who, 86_401, 300, key], { compiled }), 'InvalidClockBound', ['maxFutureDrift', 86_401n, 86_400n]);
    await reverts(deploy(await anvil.signer(0), 'AegisHub', [who, 60, 0, key], { compiled }), 'InvalidClockBound', ['maxReportAge', 0n, 86_400n]);
    await reverts(deploy(await anvil.signer(0), 'AegisHub', [who, 60, 86_401, key], { compiled }), 'InvalidClockBound', ['maxReportAge', 86_401n, 86_400n]);
    expect([await tight.maxFutureDrift!(), await tight.maxReportAge!()]).toEqual([DRIFT, AGE]);
  });

  it('refuses an epoch above (block time + maxFutureDrift) in ms, and accepts the clock\'s own', async () => {
    const now = await anvil.now();
    const far = await tr({ answers: [6_000_000_000_000n], epoch: (1n << 64n) - 1n });
    await reverts(tight.transmit!(far, signReport(c, far)), 'EpochAheadOfClock');
    const ahead = await tr({ answers: [6_000_000_000_000n], epoch: (now + DRIFT + 30n) * 1000n });
    await reverts(tight.transmit!(ahead, signReport(c, ahead)), 'EpochAheadOfClock');
    const ok = await tr({ answers: [6_000_000_000_000n], epoch: now * 1000n });
    await send(ok, signReport(c, ok), tight);
    expect(await tight.latestEpoch!()).toBe(now * 1000n);
    tEpoch = now * 1000n;
  });

  it('refuses a report observed longer ago than maxReportAge, accepts one just inside it', async () => {
    const now = await anvil.now();
    const old = await tr({ answers: [6_010_000_000_000n], observedAt: now - AGE - 5n });
    await reverts(tight.transmit!(old, signReport(c, old)), 'ReportTooOld');
    // Pull mode fails loudly too: the caller brought a report the hub will not take.
    await reverts(tight.updateAndRead!(old, signReport(c, old), BTC, 0), 'ReportTooOld');
    const inside = await tr({ feedIds: [ETH], answers: [300_000_000_000n], observedAt: now - AGE + 30n });
    await send(inside, signReport(c, inside), tight);
    expect((await tight.tryRead!(ETH)).observedAt).toBe(inside.observedAt);
  });

  it('updateAndRead reverts FeedNotUpdated instead of returning a price older than the caller\'s report', async () => {
    const now = await anvil.now();
    const mine = await tr({ answers: [6_020_000_000_000n], observedAt: now + 5n });
    const mineSig = signReport(c, mine);
    // A front-runner lands a newer report that carries ETH only: the caller's report becomes a no-op.
    const other = await tr({ feedIds: [ETH], answers: [301_000_000_000n], observedAt: now + 6n });
    await send(other, signReport(c, other), tight);
    await reverts(tight.updateAndRead!(mine, mineSig, BTC, 0), 'FeedNotUpdated');
    // A report whose feed the hub skips (out of bounds) is no better than an old price.
    const oob = await tr({ answers: [-5n], observedAt: now + 7n });
    await reverts(tight.updateAndRead!(oob, signReport(c, oob), BTC, 0), 'FeedNotUpdated');
    // The honest path still reads its own price in the same call.
    const fresh = await tr({ answers: [6_030_000_000_000n], observedAt: now + 8n });
    const [answer, observedAt] = await tight.updateAndRead!.staticCall(fresh, signReport(c, fresh), BTC, 0);
    expect([answer, observedAt]).toEqual([6_030_000_000_000n, fresh.observedAt]);
  });
});

describe('guardian', () => {
  it('only the guardian configures feeds, pauses and moves the role', async () => {
    const outsider = hub.connect(await anvil.signer(1)) as Contract;
    const who = await (await anvil.signer(1)).getAddress();
    const guardian = await hub.guardian!();
    await reverts(outsider.addFeed!(feedId('SOL/USD'), feedConfig()), 'NotGuardian', [who, guardian]);
    await reverts(outsider.configureFeed!(BTC, feedConfig({ historyCapacity: 4 })), 'NotGuardian');
    await reverts(outsider.pause!(), 'NotGuardian');
    await reverts(outsider.setFeedPaused!(BTC, true), 'NotGuardian');
    await reverts(outsider.setGuardian!(who), 'NotGuardian');
    await reverts(hub.addFeed!(BTC, feedConfig()), 'FeedAlreadyExists', [BTC]);
    await reverts(hub.addFeed!(feedId('X/USD'), feedConfig({ minAnswer: 5n, maxAnswer: 5n })), 'InvalidBounds', [5n, 5n]);
    await reverts(hub.configureFeed!(BTC, feedConfig({ historyCapacity: 9 })), 'HistoryCapacityFixed', [9n, 4n]);
  });

  it('a paused hub rejects reports and its reads revert FeedPaused; a paused feed is skipped', async () => {
    await (await hub.pause!()).wait();
    const r = await report({ answers: [6_000_000_000_000n] });
    await reverts(hub.transmit!(r, signReport(c, r)), 'HubIsPaused');
    await reverts(hub.read!(BTC, 0), 'FeedPaused', [BTC]);
    await (await hub.unpause!()).wait();
    await (await hub.setFeedPaused!(BTC, true)).wait();
    const rc = await send(r);
    expect(args(rc, 'FeedSkipped')).toEqual([[BTC, BigInt(SkipReason.FeedPaused)]]);
    expect(Number((await hub.tryRead!(BTC)).status)).toBe(FeedStatus.Paused);
    await (await hub.setFeedPaused!(BTC, false)).wait();
  });

  it('configureFeed changes what transmit enforces (bounds)', async () => {
    await (await hub.configureFeed!(BTC, feedConfig({ historyCapacity: 4, maxAnswer: 7_000_000_000_000n, deviationBps: 0, confirmations: 0 }))).wait();
    const r = await report({ answers: [8_000_000_000_000n] });
    expect(args(await send(r), 'FeedSkipped')).toEqual([[BTC, BigInt(SkipReason.OutOfBounds)]]);
    expect((await hub.feedConfig!(BTC)).maxAnswer).toBe(7_000_000_000_000n);
  });
});

describe('committee rotation', () => {
  it('accepts only the current committee signature over the new configuration; old reports fail after; rounds continue', async () => {
    const next = testCommittee(7);
    const cfg = committeeConfig(next);
    const [message, nextDigest] = await hub.rotationMessage!(cfg);
    // Signed by the incoming committee instead of the current one: rejected.
    await reverts(hub.rotateCommittee!(cfg, thresholdSign(next.shares, next.t, getMsg(message))), 'SignatureInvalid', [message]);
    // Signed by the current committee over a different message: rejected.
    await reverts(hub.rotateCommittee!(cfg, thresholdSign(c.shares, c.t, new Uint8Array(32).fill(3))), 'SignatureInvalid');

    const pending = await report({ answers: [6_000_000_000_000n] }); // old configuration
    const pendingSig = signReport(c, pending);
    const roundBefore = (await hub.latestRoundId!(BTC)) as bigint;
    const rc = (await (await hub.rotateCommittee!(cfg, thresholdSign(c.shares, c.t, getMsg(message)))).wait())!;
    expect(events(rc, 'CommitteeRotated')).toHaveLength(1);
    const committee = await hub.committee!();
    expect([committee.configDigest, committee.configVersion, committee.n, committee.t]).toEqual([nextDigest, 2n, 7n, BigInt(next.t)]);
    expect(nextDigest).toBe(
      computeConfigDigest({ chainId: BigInt(anvil.chainId), hub: await hub.getAddress(), configVersion: 2n, groupPublicKey: g2ToEip2537(next.groupPublicKey), n: 7, t: next.t }),
    );
    expect(await hub.latestEpoch!()).toBe(0n);

    await reverts(hub.transmit!(pending, pendingSig), 'ConfigDigestMismatch', [pending.configDigest, nextDigest]);
    // The old committee cannot sign for the new digest either.
    epoch = 0n;
    const r = await report({ answers: [6_000_000_000_000n] });
    expect(r.configDigest).toBe(nextDigest);
    await reverts(hub.transmit!(r, signReport(c, r)), 'SignatureInvalid');
    await send(r, signReport(next, r));
    expect(await hub.latestRoundId!(BTC)).toBe(roundBefore + 1n);
    // The view now hashes from the new digest, and rotationTo follows it.
    const v2 = { chainId: BigInt(anvil.chainId), hub: await hub.getAddress(), configVersion: 2n, groupPublicKey: g2ToEip2537(next.groupPublicKey), n: 7, t: next.t };
    const [again] = (await hub.rotationMessage!(cfg)) as [string, string];
    expect(hexlify(rotationTo(v2, { groupPublicKey: v2.groupPublicKey, n: 7, t: next.t }).message)).toBe(again);
    // Replaying the rotation fails: the current committee is now `next`.
    await reverts(hub.rotateCommittee!(cfg, thresholdSign(c.shares, c.t, getMsg(message))), 'SignatureInvalid');
  });
});

function getMsg(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex.slice(2), 'hex'));
}
