import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { SUSPENDED_ANSWER, buildReport, feedId, observationsRoot, verifyGroupSignature, reportMessage, decodeReport, observationFromJson, type SignedObservationJson } from '../../protocol/index.ts';
import { getBytes } from 'ethers';
import { AggregatorService } from '../../aggregator/service.ts';
import { RoundStore } from '../../aggregator/store.ts';
import { AggregatorMetrics } from '../../aggregator/metrics.ts';
import { createAggregatorApp, listen } from '../../aggregator/server.ts';
import { epochFor } from '../../aggregator/schedule.ts';
import { healthOf } from '../../aggregator/service.ts';
import type { HubReader } from '../../aggregator/chain/hub.ts';
import type { OnchainFeedState } from '../../aggregator/policy.ts';
import type { TransmitOutcome } from '../../aggregator/chain/transmitter.ts';
import type { SignedReport } from '../../aggregator/round/types.ts';
import { makeReferenceNodes, makeTestCommittee, type TestCommittee } from '../../testkit/reference-node/node.ts';

const BTC = feedId('BTC/USD').toLowerCase();
const ETH = feedId('ETH/USD').toLowerCase();

/** A hub in memory: accepts a report only above the last epoch, as the contract does. */
class FakeHub implements HubReader {
  epoch = 0n;
  accepted: { epoch: bigint; by: string; feeds: string[] }[] = [];
  states = new Map<string, OnchainFeedState>([
    [BTC, { configured: true, status: 'active', answer: 0n, observedAt: 0n, roundId: 0n }],
    [ETH, { configured: true, status: 'active', answer: 0n, observedAt: 0n, roundId: 0n }],
  ]);
  /** Called with each report as it is sent, before the hub judges it. */
  onTransmit?: (s: SignedReport) => void;
  constructor(readonly digest: string) {}
  async latestEpoch() {
    return this.epoch;
  }
  async configDigest() {
    return this.digest;
  }
  async feedStates(ids: readonly string[]) {
    return new Map(ids.map((id) => [id, { ...this.states.get(id)! }]));
  }
  transmitter(name: string) {
    return {
      address: name,
      transmit: async (s: SignedReport): Promise<TransmitOutcome> => {
        this.onTransmit?.(s);
        if (s.report.epoch <= this.epoch) {
          return { status: 'superseded', stage: 'simulation', error: { name: 'EpochNotAboveLast', args: {}, text: `EpochNotAboveLast(given=${s.report.epoch}, last=${this.epoch})` }, message: 'another aggregator already posted' };
        }
        this.epoch = s.report.epoch;
        s.report.feedIds.forEach((id, k) => {
          const st = this.states.get(id)!;
          // The hub's suspension (docs/suspension.md): the served round is held, the status says so.
          if (s.report.answers[k] === SUSPENDED_ANSWER) this.states.set(id, { ...st, status: 'suspended' });
          else this.states.set(id, { ...st, status: 'active', answer: s.report.answers[k]!, observedAt: s.report.observedAt, roundId: st.roundId + 1n });
        });
        this.accepted.push({ epoch: s.report.epoch, by: name, feeds: s.report.feedIds });
        return { status: 'accepted', txHash: '0x' + '11'.repeat(32), gasUsed: 100_000n, effectiveGasPrice: 1n, feeWei: 100_000n, blockNumber: 1, replacements: 0 };
      },
    };
  }
}

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) rmSync(dirs.pop()!, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'aegis-agg-'));
  dirs.push(d);
  return d;
}

let clock = 1_700_000_000;
function make(tc: TestCommittee, hub: FakeHub, db: string, position = 0, of = 1, prices = { btc: 6_000_000_000_000n, eth: 300_000_000_000n }, pullEveryRound = false) {
  const { nodes, clients } = makeReferenceNodes(tc, (id) => (id === BTC ? prices.btc : id === ETH ? prices.eth : null), () => clock);
  const store = new RoundStore(db);
  const metrics = new AggregatorMetrics();
  const service = new AggregatorService({
    name: `agg${position}`,
    committee: tc.committee,
    clients,
    hub,
    transmitter: hub.transmitter(`agg${position}`),
    store,
    metrics,
    logger: pino({ level: 'silent' }),
    feeds: [
      { id: BTC, name: 'BTC/USD', policy: { deviationPct: 0.5, heartbeatSec: 3600 } },
      { id: ETH, name: 'ETH/USD', policy: { deviationPct: 1, heartbeatSec: 3600 } },
    ],
    schedule: { intervalMs: 1000, slotMs: 300, position, of },
    round: { maxObservationAgeSec: 10 ** 10 },
    pullEveryRound,
    now: () => clock * 1000,
  });
  return { service, store, metrics, nodes, prices };
}

describe('aggregator service', () => {
  it('posts the initial report, holds within thresholds, posts only the feed that moved', async () => {
    const tc = makeTestCommittee({ n: 4 });
    const hub = new FakeHub(tc.configDigest);
    const a = make(tc, hub, join(tmp(), 'a.db'));
    const r1 = await a.service.tick(100);
    expect(r1.kind === 'round' && r1.transmission?.status).toBe('accepted');
    expect(r1.kind === 'round' && r1.postingReason).toBe('initial');
    expect(hub.accepted.map((x) => x.feeds)).toEqual([[BTC, ETH]]);
    clock += 10;
    const r2 = await a.service.tick(101);
    expect(r2.kind === 'round' && r2.round.status).toBe('nothing_to_post');
    a.prices.btc = 6_040_000_000_000n; // +0.67 %
    clock += 10;
    const r3 = await a.service.tick(102);
    expect(r3.kind === 'round' && r3.postingReason).toBe('deviation');
    expect(hub.accepted.at(-1)!.feeds).toEqual([BTC]);
    const stored = a.store.get(hub.epoch)!;
    expect(stored.txStatus).toBe('accepted');
    expect(stored.gasUsed).toBe(100_000n);
    expect(stored.answers).toEqual({ [BTC]: '6040000000000' });
    expect(stored.decisions.some((d) => d.startsWith('shouldPost ETH/USD: no, because deviation'))).toBe(true);
    const text = await a.metrics.metrics();
    expect(text).toMatch(/aegis_aggregator_feed_posts_total\{reason="deviation"\} 1/);
    expect(text).toMatch(/aegis_aggregator_feed_posts_total\{reason="initial"\} 2/);
    expect(text).toMatch(/aegis_aggregator_gas_used_total 200000/);
    a.store.close();
    a.metrics.close();
  });

  it('posts on the first t partials, then stores and counts the late ones: bad partials after the signature are still named', async () => {
    const tc = makeTestCommittee({ n: 7 });
    const hub = new FakeHub(tc.configDigest);
    const a = make(tc, hub, join(tmp(), 'a.db'));
    // Nodes 6 and 7 sign 50 ms late with partials that do not verify; t = 5.
    a.nodes[5]!.fault = { kind: 'bad_partial', ms: 50 };
    a.nodes[6]!.fault = { kind: 'bad_partial', ms: 50 };
    // What the round's record said when the transaction went out.
    let sentWith: { signed: number[]; excluded: number } | undefined;
    hub.onTransmit = (s) => {
      const row = a.store.get(s.report.epoch)!;
      sentWith = { signed: [...row.participants.signed], excluded: row.excluded.length };
    };
    const out = await a.service.tick(100);
    expect(out.kind === 'round' && out.transmission?.status).toBe('accepted');
    expect(sentWith).toEqual({ signed: [1, 2, 3, 4, 5], excluded: 0 });
    const stored = a.store.get(hub.epoch)!;
    expect(stored.participants.signed).toEqual([1, 2, 3, 4, 5]);
    expect(stored.excluded.map((e) => [e.index, e.phase, e.code])).toEqual([
      [6, 'sign', 'bad_partial'],
      [7, 'sign', 'bad_partial'],
    ]);
    const text = await a.metrics.metrics();
    expect(text).toMatch(/aegis_aggregator_node_exclusions_total\{node="6",code="bad_partial"\} 1/);
    expect(text).toMatch(/aegis_aggregator_node_exclusions_total\{node="7",code="bad_partial"\} 1/);
    a.store.close();
    a.metrics.close();
  });

  it('continues above the stored and the on-chain epoch after a restart and keeps every recorded round', async () => {
    const tc = makeTestCommittee({ n: 4 });
    const hub = new FakeHub(tc.configDigest);
    const db = join(tmp(), 'a.db');
    const a = make(tc, hub, db);
    for (let k = 0; k < 3; k++) {
      clock += 10;
      await a.service.tick(200 + k);
    }
    const before = a.store.recent(10).map((r) => r.epoch);
    a.store.close();
    const b = make(tc, hub, db);
    expect(b.store.count()).toBe(3);
    clock += 10;
    const out = await b.service.tick(150); // a clock that went backwards still moves epochs forward
    // Epochs are the tick's start in ms (intervalMs 1000): ticks 200..202 used 200000..202000.
    expect(out.kind === 'round' && out.round.epoch).toBe(202_001n);
    hub.epoch = 500_000n;
    clock += 10;
    const out2 = await b.service.tick(204);
    expect(out2.kind === 'round' && out2.round.epoch).toBe(500_001n);
    expect(b.store.recent(10).map((r) => r.epoch).slice(2)).toEqual(before);
    b.store.close();
  });

  it('two aggregators: one accepted report per epoch, standby skips while the active posts and takes over when it stops', async () => {
    const tc = makeTestCommittee({ n: 4 });
    const hub = new FakeHub(tc.configDigest);
    const active = make(tc, hub, join(tmp(), 'a.db'), 0, 2);
    const standby = make(tc, hub, join(tmp(), 'b.db'), 1, 2);
    // Every tick is a heartbeat post: the clock moves 4000 s, and the tick is the clock's (1 s
    // ticks), since the heartbeat is judged at the tick's start.
    const nextTick = () => (clock += 4000);
    const ticks: number[] = [];
    for (let k = 0; k < 3; k++) {
      const tick = nextTick();
      ticks.push(tick);
      expect((await active.service.tick(tick)).kind).toBe('round');
      expect((await standby.service.tick(tick)).kind).toBe('standby_skip');
    }
    // The active aggregator dies: the standby sees no movement at its next check and posts.
    for (let k = 0; k < 2; k++) {
      const tick = nextTick();
      ticks.push(tick);
      const t = await standby.service.tick(tick);
      expect(t.kind === 'round' && t.transmission?.status).toBe('accepted');
    }
    const ms = (tick: number, k: number) => BigInt(tick) * 1000n + BigInt(k);
    expect(hub.accepted.map((x) => [x.epoch, x.by])).toEqual([
      [ms(ticks[0]!, 0), 'agg0'],
      [ms(ticks[1]!, 0), 'agg0'],
      [ms(ticks[2]!, 0), 'agg0'],
      [ms(ticks[3]!, 1), 'agg1'],
      [ms(ticks[4]!, 1), 'agg1'],
    ]);
    for (const s of [active, standby]) s.store.close();
  });

  it('two aggregators: the active one does not send a report whose every feed another aggregator posted, as new, while its round ran', async () => {
    const tc = makeTestCommittee({ n: 4 });
    for (const [laterObservedAt, expected] of [
      [0, 'yielded'],
      [-1, 'accepted'],
    ] as const) {
      const hub = new FakeHub(tc.configDigest);
      const active = make(tc, hub, join(tmp(), 'a.db'), 0, 2);
      clock += 4000;
      // While the active round observes and signs, the standby's report of the same observation
      // time (or one second older) lands: the hub moves and serves both feeds at that time.
      const read = hub.feedStates.bind(hub);
      let calls = 0;
      hub.feedStates = async (ids) => {
        const out = await read(ids);
        if (++calls === 1) {
          hub.epoch = 1n;
          for (const id of [BTC, ETH]) hub.states.set(id, { configured: true, status: 'active', answer: 1n, observedAt: BigInt(clock + laterObservedAt), roundId: 1n });
        }
        return out;
      };
      const out = await active.service.tick(400);
      expect(out.kind === 'round' && out.round.status).toBe('signed');
      expect(active.store.get(400_000n)!.txStatus).toBe(expected);
      expect(hub.accepted.length).toBe(expected === 'accepted' ? 1 : 0);
      active.store.close();
    }
  });

  it('/health: unhealthy with the reason after two failed rounds in a row (no quorum), healthy again after a round succeeds', () => {
    const base = { running: true, standby: false, nowMs: 10_000, lastRoundAt: 9_500, intervalMs: 1000, failedInARow: 0, lastFailure: '' };
    expect(healthOf(base)).toEqual({ ok: true, message: 'ok' });
    expect(healthOf({ ...base, failedInARow: 1, lastFailure: 'too_few_observations: x' }).ok).toBe(true);
    expect(healthOf({ ...base, failedInARow: 2, lastFailure: 'too_few_observations: 2 valid observation(s) of 4 nodes, need t=3' })).toEqual({
      ok: false,
      message: 'no quorum: the last 2 rounds failed; last: too_few_observations: 2 valid observation(s) of 4 nodes, need t=3',
    });
    expect(healthOf({ ...base, running: false })).toEqual({ ok: false, message: 'not running' });
    expect(healthOf({ ...base, lastRoundAt: 5_000 })).toEqual({ ok: false, message: 'no round for 5 s (more than 3 intervals)' });
    expect(healthOf({ ...base, standby: true, failedInARow: 5 }).ok).toBe(true);
    expect(healthOf({ ...base, lastRoundAt: 0 })).toEqual({ ok: true, message: 'starting: no round yet' });
  });

  it('counts failed rounds in a row from real rounds: two of four nodes down fail twice, then a priced round resets the count', async () => {
    const tc = makeTestCommittee({ n: 4 });
    const hub = new FakeHub(tc.configDigest);
    const a = make(tc, hub, join(tmp(), 'a.db'));
    const state = a.service as unknown as { failedInARow: number; lastFailure: string };
    a.nodes[2]!.fault = { kind: 'down' };
    a.nodes[3]!.fault = { kind: 'down' };
    for (const k of [1, 2]) {
      clock += 10;
      const out = await a.service.tick(700 + k);
      expect(out.kind === 'round' && out.round.status).toBe('failed');
      expect(state.failedInARow).toBe(k);
    }
    expect(state.lastFailure).toMatch(/^\w+: /);
    a.nodes[2]!.fault = { kind: 'none' };
    a.nodes[3]!.fault = { kind: 'none' };
    clock += 10;
    const ok = await a.service.tick(703);
    expect(ok.kind === 'round' && ok.round.status).not.toBe('failed');
    expect(state.failedInARow).toBe(0);
    a.store.close();
  });

  it('nodes that cannot price: the service posts the committee suspension at once, holds it while suspended, and resumes when they price again', async () => {
    const tc = makeTestCommittee({ n: 4 });
    const hub = new FakeHub(tc.configDigest);
    const a = make(tc, hub, join(tmp(), 'a.db'));
    clock += 10;
    await a.service.tick(800);
    a.prices.btc = null as unknown as bigint;
    clock += 10;
    const down = await a.service.tick(801);
    expect(down.kind === 'round' && down.round.status).toBe('signed');
    expect(down.kind === 'round' && down.round.signed!.report.answers).toEqual([SUSPENDED_ANSWER]);
    expect(hub.states.get(BTC)!.status).toBe('suspended');
    clock += 10;
    const still = await a.service.tick(802);
    expect(still.kind === 'round' && still.round.status).toBe('nothing_to_post');
    a.prices.btc = 6_000_000_000_000n;
    clock += 10;
    const back = await a.service.tick(803);
    expect(back.kind === 'round' && back.round.signed!.report.feedIds).toEqual([BTC]);
    expect(hub.states.get(BTC)!.status).toBe('active');
    a.store.close();
  });

  it('epochs of aggregators k of m never collide and stay above the floor', () => {
    for (const floor of [0n, 5n, 1000n, 1001n, 1002n]) {
      for (let k = 0; k < 3; k++) {
        const e = epochFor(10, floor, { intervalMs: 1000, position: k, of: 3 });
        expect(e > floor).toBe(true);
        expect(Number(e % 3n)).toBe(k);
      }
    }
  });

  it('serves the latest signed report for pull mode, rounds, health, status and metrics over HTTP', async () => {
    const tc = makeTestCommittee({ n: 4 });
    const hub = new FakeHub(tc.configDigest);
    const a = make(tc, hub, join(tmp(), 'a.db'));
    await a.service.start();
    await a.service.stop();
    clock += 10;
    await a.service.tick(400);
    const http = await listen(createAggregatorApp({ service: a.service, store: a.store, metrics: a.metrics }), 0);
    try {
      const res = await fetch(`${http.url}/v1/reports/latest?feeds=BTC/USD,ETH/USD`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { report: string; signature: string; signatureCompressed: string; feeds: { feed: string }[]; observationFeedIds: string[]; observations: (SignedObservationJson & { answers: (string | null)[] })[] };
      const report = decodeReport(body.report);
      expect(body.feeds.map((f) => f.feed)).toEqual(['BTC/USD', 'ETH/USD']);
      expect(getBytes(body.signature)).toHaveLength(96);
      expect(verifyGroupSignature(getBytes(body.signatureCompressed), reportMessage(report), getBytes(tc.committee.groupPublicKey))).toBe(true);
      const published = body.observations.map((o, k) => observationFromJson(o, body.observationFeedIds, `observations[${k}]`).observation);
      expect(observationsRoot(published)).toBe(report.observationsRoot);
      expect(published.map((o) => o.feeds.map((f) => (f.answer === null ? null : f.answer.toString())))).toEqual(body.observations.map((o) => o.answers));
      expect(buildReport(report.configDigest, report.epoch, published, report.feedIds, tc.committee.t).report).toEqual(report);
      expect((await fetch(`${http.url}/v1/reports/latest?feeds=SOL/USD`)).status).toBe(404);
      expect((await fetch(`${http.url}/v1/reports/latest?feeds=${'X'.repeat(40)}`)).status).toBe(400);
      const rounds = (await (await fetch(`${http.url}/v1/rounds`)).json()) as { rounds: { postingReason: string }[] };
      expect(rounds.rounds[0]!.postingReason).toBe('initial');
      const status = (await (await fetch(`${http.url}/v1/status`)).json()) as { role: string; configDigest: string };
      expect(status).toMatchObject({ role: 'active', configDigest: tc.configDigest });
      expect((await fetch(`${http.url}/v1/health`)).status).toBe(503); // stopped
      const metrics = await (await fetch(`${http.url}/metrics`)).text();
      expect(metrics).toMatch(/aegis_aggregator_round_duration_seconds_bucket/);
      expect(metrics).toMatch(/aegis_aggregator_rounds_total\{status="signed"\} 1/);
    } finally {
      await http.close();
      a.store.close();
      a.metrics.close();
    }
  });

  it('pull.signEveryRound: a round with nothing to post still signs a fresh report over every feed and serves it, without transmitting', async () => {
    const tc = makeTestCommittee({ n: 4 });
    const hub = new FakeHub(tc.configDigest);
    const a = make(tc, hub, join(tmp(), 'a.db'), 0, 1, undefined, true);
    clock += 10;
    const first = await a.service.tick(500);
    expect(first.kind === 'round' && first.transmission?.status).toBe('accepted');
    clock += 10;
    const second = await a.service.tick(501);
    expect(second.kind === 'round' && second.round.status).toBe('signed');
    expect(second.kind === 'round' && second.transmission).toBeUndefined();
    expect(hub.accepted).toHaveLength(1);
    const served = a.store.latestSigned([BTC, ETH])!;
    expect(second.kind === 'round' && served.epoch).toBe(second.kind === 'round' ? second.round.epoch : -1n);
    expect(served.epoch > hub.epoch).toBe(true);
    expect(served.postingReason).toBe('pull');
    const report = decodeReport(served.encodedReport!);
    expect(report.feedIds).toEqual([BTC, ETH]);
    expect(verifyGroupSignature(getBytes(served.signature!), reportMessage(report), getBytes(tc.committee.groupPublicKey))).toBe(true);
    // A feed that moves is still posted as usual, alone.
    a.prices.btc = 6_040_000_000_000n;
    clock += 10;
    const third = await a.service.tick(502);
    expect(third.kind === 'round' && third.postingReason).toBe('deviation');
    expect(hub.accepted.at(-1)!.feeds).toEqual([BTC]);
    a.store.close();
    a.metrics.close();
  });

  it('refuses to start against a hub serving another committee', async () => {
    const tc = makeTestCommittee({ n: 4 });
    const hub = new FakeHub('0x' + '22'.repeat(32));
    const a = make(tc, hub, join(tmp(), 'a.db'));
    await expect(a.service.start()).rejects.toThrow(/config digest mismatch: expected 0x[0-9a-f]{64} \(committee file\), got 0x2222/);
    a.store.close();
  });
});
