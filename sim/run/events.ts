/**
 * The run's record of what happened, for the result (sim/result.ts): which defence fired when
 * (`defences`), what the attackers did (`attackNotes`), the hub's breaker and suspension
 * events, and the count of reports the hub accepted, honest and forged.
 *
 * A defence or note is one entry per distinct (defence, detail), with its first and last second
 * and a count, in the order first seen; the report lists them in that order.
 */
import type { Interface, TransactionReceipt } from 'ethers';
import type { DefenceEvent } from '../result.ts';
import { suspendReasonName } from '../../protocol/index.ts';

export interface BreakerEvent {
  tSec: number;
  event: string;
  answer?: number;
}

/** A hub event as an ethers `LogDescription` gives it: name and arguments (by position, and by name through `getValue`). */
export interface HubLog {
  name: string;
  args: { readonly [i: number]: unknown; getValue?: (name: string) => unknown };
}

/** `FeedSkipped`'s reason codes (`IAegisHub.SkipReason`), by value. */
const SKIP_REASONS = ['UnknownFeed', 'FeedPaused', 'NotNewer', 'OutOfBounds'];

export class RunLog {
  readonly defences = new Map<string, DefenceEvent>();
  readonly attackNotes = new Map<string, DefenceEvent>();
  readonly breakerEvents: BreakerEvent[] = [];
  /** `ReportAccepted` events seen: reports the hub took, from anyone. */
  reportsAccepted = 0;
  /** Reports not made by the committee's honest round that the hub accepted, or equivocations that reached t signatures. */
  forgedAccepted = 0;

  /** A defence fired at `tSec`. */
  fired(tSec: number, defence: string, detail: string): void {
    bump(this.defences, `${defence}|${detail}`, tSec, () => ({ defence, detail }));
  }

  /** An attacker acted at `tSec`. */
  noteAttack(tSec: number, what: string): void {
    bump(this.attackNotes, what, tSec, () => ({ defence: 'attack', detail: what }));
  }

  /** Records the hub's events of one transaction; `fromAnswer` turns an answer into a price. */
  hubLogs(logs: readonly HubLog[], tSec: number, fromAnswer: (answer: bigint) => number): void {
    for (const parsed of logs) {
      if (parsed.name === 'ReportAccepted') this.reportsAccepted++;
      if (parsed.name.startsWith('Breaker')) {
        const answer = parsed.args.getValue?.('candidate') ?? parsed.args.getValue?.('answer');
        this.breakerEvents.push({ tSec, event: parsed.name, ...(answer !== undefined ? { answer: fromAnswer(BigInt(answer as bigint)) } : {}) });
        this.fired(tSec, 'hub breaker', parsed.name);
      }
      if (parsed.name === 'CommitteeSuspendedFeed') {
        const why = suspendReasonName(Number(parsed.args[1]));
        this.breakerEvents.push({ tSec, event: `CommitteeSuspendedFeed (${why})` });
        this.fired(tSec, 'committee suspended the feed', why);
      }
      if (parsed.name === 'FeedResumed') {
        this.breakerEvents.push({ tSec, event: 'FeedResumed', answer: fromAnswer(BigInt(parsed.args[2] as bigint)) });
        this.fired(tSec, 'committee resumed the feed', `round ${parsed.args[1] as bigint}`);
      }
      if (parsed.name === 'FeedSkipped') this.fired(tSec, 'hub bounds', `FeedSkipped reason ${SKIP_REASONS[Number(parsed.args[1])] ?? (parsed.args[1] as bigint)}`);
    }
  }
}

function bump(events: Map<string, DefenceEvent>, key: string, tSec: number, fresh: () => { defence: string; detail: string }): void {
  const e = events.get(key);
  if (e) {
    e.lastSec = tSec;
    e.count++;
  } else events.set(key, { ...fresh(), firstSec: tSec, lastSec: tSec, count: 1 });
}

/** The hub's events in a receipt, in log order; logs of other contracts are skipped. */
export function parseHubLogs(receipt: TransactionReceipt | null, hubIface: Interface): HubLog[] {
  const out: HubLog[] = [];
  for (const log of receipt?.logs ?? []) {
    let parsed;
    try {
      parsed = hubIface.parseLog(log);
    } catch {
      continue;
    }
    if (parsed) out.push(parsed);
  }
  return out;
}

/** `record(txHash, tSec)`: fetches a mined transaction's receipt and records its hub events in `log`. */
export function receiptRecorder(
  log: RunLog,
  x: { provider: { getTransactionReceipt(hash: string): Promise<TransactionReceipt | null> }; hubIface: Interface; fromAnswer: (answer: bigint) => number },
): (txHash: string, tSec: number) => Promise<void> {
  return async (txHash, tSec) => log.hubLogs(parseHubLogs(await x.provider.getTransactionReceipt(txHash), x.hubIface), tSec, x.fromAnswer);
}
