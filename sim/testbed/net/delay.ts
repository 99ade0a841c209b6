/**
 * Delay profiles (docs/running-over-real-networks.md, "The testbed"): each host h has a one-way
 * delay d(h) (and jitter j(h)) to the core, given per host or per region; the one-way delay
 * between A and B is d(A) + d(B). Pure functions that turn a profile into each relay's table
 * (relay on B: source addr(A) → d(A)+d(B) each way) or into netem shapes (d(h) on both veth
 * ends of h). Sources not in the table (the control namespace, the host itself) get no delay.
 */
import type { DelayTable } from '../relay.ts';
import type { NetemSpec } from './faults.ts';

export interface HostDelay {
  delayMs: number;
  jitterMs?: number;
  /** Packet loss on both veth ends of the host; netem layer only (the relay cannot drop). */
  lossPct?: number;
}

export interface DelayProfile {
  hosts?: Record<string, HostDelay>;
  regions?: Record<string, HostDelay>;
  /** For hosts named in neither; default none. */
  default?: HostDelay;
}

export interface DelayHost {
  name: string;
  region?: string;
  addr: string;
}

/** d(h), j(h) of one host (pure): its own entry, else its region's, else the default, else 0. */
export function hostDelay(p: DelayProfile, h: DelayHost): { delayMs: number; jitterMs: number } {
  const e = p.hosts?.[h.name] ?? (h.region !== undefined ? p.regions?.[h.region] : undefined) ?? p.default;
  return { delayMs: e?.delayMs ?? 0, jitterMs: e?.jitterMs ?? 0 };
}

/** Every host's relay table for the profile (pure). */
export function relayTables(p: DelayProfile, hosts: readonly DelayHost[]): Record<string, DelayTable> {
  const out: Record<string, DelayTable> = {};
  for (const b of hosts) {
    const db = hostDelay(p, b);
    const bySource: Record<string, { delayMs: number; jitterMs: number }> = {};
    for (const a of hosts) {
      if (a.name === b.name) continue;
      const da = hostDelay(p, a);
      const d = da.delayMs + db.delayMs;
      const j = da.jitterMs + db.jitterMs;
      if (d > 0 || j > 0) bySource[a.addr] = { delayMs: d, jitterMs: j };
    }
    out[b.name] = { bySource };
  }
  return out;
}

/** The netem shape of each host's two veth ends for the profile (pure); undefined = no netem. */
export function netemShapes(p: DelayProfile, hosts: readonly DelayHost[]): Record<string, NetemSpec | undefined> {
  const out: Record<string, NetemSpec | undefined> = {};
  for (const h of hosts) {
    const d = hostDelay(p, h);
    const e = p.hosts?.[h.name] ?? (h.region !== undefined ? p.regions?.[h.region] : undefined) ?? p.default;
    const loss = e?.lossPct ?? 0;
    out[h.name] = d.delayMs > 0 || d.jitterMs > 0 || loss > 0 ? { delayMs: d.delayMs, ...(d.jitterMs > 0 ? { jitterMs: d.jitterMs } : {}), ...(loss > 0 ? { lossPct: loss } : {}) } : undefined;
  }
  return out;
}
