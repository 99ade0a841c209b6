/**
 * The aggregator in a run: the real round engine (aggregator/round) over the in-memory node
 * clients, the real posting policy (aggregator/policy) deciding what the round posts, and the
 * real transmitter (aggregator/chain) sending it to the hub (docs/design.md §Round protocol,
 * §Posting policy). The attacks on the hub act between the round and its transmission
 * (attackers.ts, `ChainAttacker`).
 */
import { Wallet, type Contract, type JsonRpcProvider } from 'ethers';
import type { Committee, NodeClient } from '../../protocol/index.ts';
import { RoundEngine, type RoundResult, type SignedReport } from '../../aggregator/round/index.ts';
import { decideBatch, type FeedPolicy } from '../../aggregator/policy.ts';
import { EthersHubReader } from '../../aggregator/chain/hub.ts';
import { Transmitter } from '../../aggregator/chain/transmitter.ts';
import { ANVIL_KEYS } from '../../contracts/index.ts';
import type { Scenario } from '../scenario/schema.ts';
import type { ChainAttacker } from './attackers.ts';
import type { BlockClock } from './clock.ts';
import type { RunLog } from './events.ts';

export interface SimAggregatorDeps {
  committee: Committee;
  clients: NodeClient[];
  provider: JsonRpcProvider;
  chainId: bigint;
  hub: Contract;
  hubAddress: string;
  feedId: string;
  clock: BlockClock;
  nowSec: () => number;
  log: RunLog;
  /** Records the hub's events of a mined transaction. */
  record: (txHash: string, tSec: number) => Promise<void>;
  attacker: ChainAttacker;
}

/** One aggregator (transmitting as anvil account 1) running a round every `roundEverySec`. */
export class SimAggregator {
  roundsRun = 0;
  /** Every report the committee signed, in round order: what pull mode serves and the option keeper proposes. */
  readonly signedHistory: SignedReport[] = [];
  readonly #engine: RoundEngine;
  readonly #reader: EthersHubReader;
  readonly #transmitter: Transmitter;
  readonly #policies: Map<string, FeedPolicy>;

  constructor(
    private readonly s: Scenario,
    private readonly x: SimAggregatorDeps,
  ) {
    this.#engine = new RoundEngine({ committee: x.committee, clients: x.clients, observeTimeoutMs: 5_000, signTimeoutMs: 5_000, graceMs: 0, maxObservationAgeSec: Math.max(120, s.stepSec * 2), nowSec: x.nowSec });
    this.#reader = new EthersHubReader(x.hubAddress, x.provider);
    this.#transmitter = new Transmitter({
      provider: x.provider,
      wallet: new Wallet(ANVIL_KEYS[1], x.provider),
      hub: x.hubAddress,
      chainId: x.chainId,
      maxFeePerGasWei: 1_000_000_000_000n,
      priorityFeeWei: 1_000_000_000n,
      pollMs: 2,
      replaceAfterMs: 600_000,
    });
    this.#policies = new Map<string, FeedPolicy>([[x.feedId, { deviationPct: s.oracle.deviationPct, heartbeatSec: s.oracle.heartbeatSec }]]);
  }

  /**
   * One round for the next epoch: observe, decide with the posting policy against the hub's
   * state, sign; then the attacks on the hub; then the signed report goes to the hub unless a
   * compromised aggregator holds it back or posts a held one instead.
   */
  async round(tSec: number): Promise<void> {
    const { hub, feedId, log, attacker } = this.x;
    const s = this.s;
    this.roundsRun++;
    const epoch = BigInt(await hub.getFunction('latestEpoch')()) + 1n;
    const result: RoundResult = await this.#engine.run(epoch, [feedId], async (aggregate, observedAt) => {
      const states = await this.#reader.feedStates([feedId]);
      const d = decideBatch(aggregate.feeds.map((f) => ({ feed: s.feed.name, feedId: f.feedId, answer: f.answer, observedAt, ...(f.suspendReason !== undefined ? { suspendReason: f.suspendReason } : {}) })), states, this.#policies);
      return { feedIds: d.post.map((p) => p.feedId), skipped: d.hold.map((h) => ({ feedId: h.feedId, reason: h.decision.log })) };
    });
    // The simulator's clock waits for every node: its event log names late bad partials too.
    await result.rest;
    for (const e of result.excluded) log.fired(tSec, e.phase === 'observe' ? 'aggregator excluded observation' : 'aggregator excluded partial', `node ${e.index}: ${e.code}`);
    if (result.status === 'failed') log.fired(tSec, 'round failed', result.failure?.code ?? 'failed');
    const suppress = attacker.suppressing(tSec);
    await attacker.afterRound(tSec, result, this.signedHistory);
    if (await attacker.releaseHeld(tSec)) return;
    if (result.signed) {
      this.signedHistory.push(result.signed);
      if (!suppress) await this.#transmitHonest(result.signed, tSec);
      else log.noteAttack(tSec, 'aggregator suppressed a signed report');
    }
  }

  async #transmitHonest(signed: SignedReport, tSec: number): Promise<void> {
    const { clock, log } = this.x;
    await clock.nextTx();
    const out = await this.#transmitter.transmit(signed);
    if (out.status === 'accepted') {
      await this.x.record(out.txHash, tSec);
    } else if (out.status === 'reverted' || out.status === 'superseded') {
      log.fired(tSec, 'hub rejected report', out.error?.name ?? out.message.slice(0, 80));
      clock.unmined(); // nothing was mined
    } else {
      throw new Error(`sim: transmitter failed at t=${tSec}s: ${out.message}`);
    }
  }
}
