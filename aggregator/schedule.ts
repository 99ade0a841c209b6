/**
 * Several aggregators for one committee (docs/design.md §Several aggregators: standbys take over
 * when the active one goes quiet): an ordered schedule on a shared
 * wall clock. Time is cut into ticks of `intervalMs`; aggregator k of m (k = 0 is the
 * active one) acts at `tick start + k·slotMs`. A standby (k > 0) first checks the hub: if
 * the last accepted epoch moved since its previous check, the active one is alive and the
 * standby skips the tick; otherwise it runs the round itself. A killed active aggregator is
 * thus replaced in the next tick, without a storm of racing transactions.
 *
 * Epochs are unix milliseconds at most (docs/design.md §Epochs and the clock; nodes and the
 * hub refuse an epoch ahead of their clocks), and partitioned so two aggregators never ask
 * nodes to sign the same epoch (nodes refuse a second, different report for an epoch):
 * aggregator k uses epochs ≡ k (mod m), normally the tick's start in ms rounded down to a
 * multiple of m, plus k (`epochAtMs`), and always above the floor (the larger of its stored
 * epoch and the hub's latest epoch). Epochs rise with the clock, so later ticks outrank
 * earlier ones.
 */
import { epochAtMs } from '../protocol/index.ts';

export interface ScheduleConfig {
  intervalMs: number;
  slotMs: number;
  /** 0-based position in the schedule; 0 = active. */
  position: number;
  /** Number of aggregators in the schedule. */
  of: number;
}

export function tickOf(nowMs: number, s: Pick<ScheduleConfig, 'intervalMs'>): number {
  return Math.floor(nowMs / s.intervalMs);
}

/** When aggregator `position` acts in `tick`, unix ms. */
export function actAt(tick: number, s: ScheduleConfig): number {
  return tick * s.intervalMs + s.position * s.slotMs;
}

/** The epoch for this aggregator in `tick`: the tick's start in ms with residue k mod m (`epochAtMs`), raised above `floor` keeping the residue. */
export function epochFor(tick: number, floor: bigint, s: Pick<ScheduleConfig, 'intervalMs' | 'position' | 'of'>): bigint {
  const m = BigInt(s.of);
  const k = BigInt(s.position);
  let e = epochAtMs(tick * s.intervalMs, s.position, s.of);
  if (e <= floor) {
    const base = floor - (((floor % m) + m) % m);
    e = base + k;
    if (e <= floor) e += m;
  }
  return e;
}

export function assertSchedule(s: ScheduleConfig): void {
  if (!Number.isInteger(s.of) || s.of < 1) throw new RangeError(`schedule.of=${s.of}: the number of aggregators must be a positive integer`);
  if (!Number.isInteger(s.position) || s.position < 0 || s.position >= s.of) throw new RangeError(`schedule.position=${s.position}: must be from 0 to ${s.of - 1} (0 is the active aggregator)`);
  if (s.position > 0 && s.position * s.slotMs >= s.intervalMs) {
    throw new RangeError(`schedule: position ${s.position} × slotMs ${s.slotMs} must be less than intervalMs ${s.intervalMs}, or standby ${s.position} never acts within a tick`);
  }
}
