/**
 * The run's record (sim/run/events.ts): one entry per distinct defence and detail with its
 * first and last second and a count, in the order first seen; the hub's events turned into
 * breaker events and defences.
 */
import { describe, expect, it } from 'vitest';
import { RunLog, type HubLog } from '../../../sim/run/events.ts';

const named = (values: Record<string, unknown>, positional: unknown[] = []): HubLog['args'] => Object.assign([...positional], { getValue: (k: string) => values[k] });
const fromAnswer = (a: bigint): number => Number(a) / 1e8;

describe('RunLog', () => {
  it('folds repeats of a defence into one entry, keyed by defence and detail', () => {
    const log = new RunLog();
    log.fired(30, 'node filter dropped source', 'kraken: stale');
    log.fired(60, 'hub rejected report', 'x');
    log.fired(90, 'node filter dropped source', 'kraken: stale');
    log.fired(120, 'node filter dropped source', 'okx: stale');
    expect([...log.defences.values()]).toEqual([
      { defence: 'node filter dropped source', detail: 'kraken: stale', firstSec: 30, lastSec: 90, count: 2 },
      { defence: 'hub rejected report', detail: 'x', firstSec: 60, lastSec: 60, count: 1 },
      { defence: 'node filter dropped source', detail: 'okx: stale', firstSec: 120, lastSec: 120, count: 1 },
    ]);
  });

  it('notes attacks apart from defences', () => {
    const log = new RunLog();
    log.noteAttack(10, 'node 1 withheld its observation');
    log.noteAttack(40, 'node 1 withheld its observation');
    expect([...log.attackNotes.values()]).toEqual([{ defence: 'attack', detail: 'node 1 withheld its observation', firstSec: 10, lastSec: 40, count: 2 }]);
    expect(log.defences.size).toBe(0);
  });

  it('reads the hub events: accepted reports, breakers, suspension, resumption, skipped feeds', () => {
    const log = new RunLog();
    const logs: HubLog[] = [
      { name: 'ReportAccepted', args: named({}) },
      { name: 'BreakerTripped', args: named({ candidate: 250_000_000_000n }) },
      { name: 'BreakerHeld', args: named({}) },
      { name: 'CommitteeSuspendedFeed', args: named({}, ['0xfeed', 2n]) },
      { name: 'FeedResumed', args: named({}, ['0xfeed', 7n, 300_000_000_000n]) },
      { name: 'FeedSkipped', args: named({}, ['0xfeed', 3n]) },
      { name: 'FeedSkipped', args: named({}, ['0xfeed', 9n]) },
    ];
    log.hubLogs(logs, 600, fromAnswer);
    expect(log.reportsAccepted).toBe(1);
    expect(log.breakerEvents).toEqual([
      { tSec: 600, event: 'BreakerTripped', answer: 2500 },
      { tSec: 600, event: 'BreakerHeld' },
      { tSec: 600, event: 'CommitteeSuspendedFeed (sources_disagree)' },
      { tSec: 600, event: 'FeedResumed', answer: 3000 },
    ]);
    expect([...log.defences.values()].map((d) => `${d.defence} | ${d.detail}`)).toEqual([
      'hub breaker | BreakerTripped',
      'hub breaker | BreakerHeld',
      'committee suspended the feed | sources_disagree',
      'committee resumed the feed | round 7',
      'hub bounds | FeedSkipped reason OutOfBounds',
      'hub bounds | FeedSkipped reason 9',
    ]);
  });
});
