/**
 * Kernel-layer faults as data, and the pure functions that turn them into nftables scripts and
 * tc argument lists (docs/running-over-real-networks.md, "The testbed").
 *
 * Every packet drop is a directional "link drop" from host X to host Y, installed in Y's
 * namespace on arrival (`prerouting`, `iifname eth0 ip saddr X`): the packet was lost in the
 * network. Dropping on the sender's `output` hook instead would hand the sender's socket an
 * EPERM (netfilter's verdict on local output), which no real network does.
 *
 * - `loss`: each packet between `host` and each peer (default: every other host) is dropped with
 *   probability pct/100 in both directions (`numgen random mod 100 < pct`).
 * - `partition`: hosts `a` cut from hosts `b`. `drop: 'both'` is a clean cut. `'bToA'` is the
 *   asymmetric cut "a's requests arrive, b's answers don't": a TCP SYN from a reaches b (b holds
 *   the connection in SYN-RECV and retransmits SYN-ACKs that all vanish), so a's connect times
 *   out while b saw the attempt; and b cannot open a connection to a at all (its SYN is lost).
 *   `'aToB'` is the mirror.
 * Each host's table `inet aegis` is regenerated from all active faults and replaced in one
 * nft transaction; healing a fault = regenerating without it (no rule is patched in place).
 *
 * Bandwidth (`tbf`) and netem (delay, jitter, loss) live on the two veth ends of a host: its
 * `eth0` (what it sends) and its port `h<i>` in the bridge namespace (what it receives). With
 * netem, the one-way delay A→B is d(A) on A's eth0 plus d(B) on B's bridge port.
 */

export type Fault =
  | { kind: 'loss'; id: string; host: string; pct: number; peers?: string[] }
  | { kind: 'partition'; id: string; a: string[]; b: string[]; drop: 'both' | 'aToB' | 'bToA' };

export interface LinkDrop {
  from: string;
  to: string;
  pct: number;
  fault: string;
}

export class TestbedFaultError extends Error {
  override readonly name = 'TestbedFaultError';
}

export const NFT_TABLE = 'aegis';

function checkPct(pct: number, what: string): void {
  if (!Number.isInteger(pct) || pct < 0 || pct > 100) throw new TestbedFaultError(`${what}: loss percentage ${pct} is not an integer in 0..100; give a whole percentage`);
}

/** Validates a fault against the host names (throws naming the field and value). */
export function validateFault(f: Fault, hosts: readonly string[]): void {
  const known = new Set(hosts);
  const need = (h: string, field: string): void => {
    if (!known.has(h)) throw new TestbedFaultError(`fault ${f.id}: ${field} "${h}" is not a host of this testbed (hosts: ${hosts.join(', ')})`);
  };
  if (f.kind === 'loss') {
    need(f.host, 'host');
    for (const p of f.peers ?? []) need(p, 'peers');
    checkPct(f.pct, `fault ${f.id}`);
  } else {
    if (f.a.length === 0 || f.b.length === 0) throw new TestbedFaultError(`fault ${f.id}: partition needs hosts on both sides (a: ${f.a.length}, b: ${f.b.length})`);
    for (const h of f.a) need(h, 'a');
    for (const h of f.b) need(h, 'b');
    const both = f.a.filter((h) => f.b.includes(h));
    if (both.length > 0) throw new TestbedFaultError(`fault ${f.id}: host ${both.join(', ')} is on both sides of the partition`);
  }
}

/** The directional drops of the active faults (pure). */
export function expandFaults(faults: readonly Fault[], hosts: readonly string[]): LinkDrop[] {
  const out: LinkDrop[] = [];
  for (const f of faults) {
    if (f.kind === 'loss') {
      if (f.pct === 0) continue;
      const peers = f.peers ?? hosts.filter((h) => h !== f.host);
      for (const p of peers) {
        if (p === f.host) continue;
        out.push({ from: p, to: f.host, pct: f.pct, fault: f.id });
        out.push({ from: f.host, to: p, pct: f.pct, fault: f.id });
      }
    } else {
      for (const a of f.a)
        for (const b of f.b) {
          if (f.drop !== 'bToA') out.push({ from: a, to: b, pct: 100, fault: f.id });
          if (f.drop !== 'aToB') out.push({ from: b, to: a, pct: 100, fault: f.id });
        }
    }
  }
  return out;
}

/**
 * The nft script that replaces table `inet aegis` in `host`'s namespace with the drops towards
 * it (pure). With no drops the script only deletes the table.
 */
export function hostRuleset(host: string, drops: readonly LinkDrop[], addrOf: (host: string) => string, dev = 'eth0'): string {
  const mine = drops.filter((d) => d.to === host);
  const lines = [`table inet ${NFT_TABLE}`, `delete table inet ${NFT_TABLE}`];
  if (mine.length === 0) return `${lines.join('\n')}\n`;
  // One rule per (fault, pct): the sources as an anonymous set.
  const groups = new Map<string, { fault: string; pct: number; from: string[] }>();
  for (const d of mine) {
    const key = `${d.fault}\u0000${d.pct}`;
    const g = groups.get(key) ?? { fault: d.fault, pct: d.pct, from: [] };
    if (!g.from.includes(d.from)) g.from.push(d.from);
    groups.set(key, g);
  }
  lines.push(`table inet ${NFT_TABLE} {`, '  chain prerouting {', '    type filter hook prerouting priority -300; policy accept;');
  for (const g of groups.values()) {
    const srcs = g.from.map(addrOf);
    const saddr = srcs.length === 1 ? srcs[0]! : `{ ${srcs.join(', ')} }`;
    const chance = g.pct >= 100 ? '' : ` numgen random mod 100 < ${g.pct}`;
    lines.push(`    iifname "${dev}" ip saddr ${saddr}${chance} counter drop comment "${g.fault.replace(/"/g, '')}"`);
  }
  lines.push('  }', '}');
  return `${lines.join('\n')}\n`;
}

/** Dropped-packet counters by fault id from `nft -j list table inet aegis` (pure). */
export function parseDropCounters(json: string): Record<string, number> {
  const out: Record<string, number> = {};
  if (!json.trim()) return out;
  const doc = JSON.parse(json) as { nftables?: { rule?: { comment?: string; expr?: { counter?: { packets?: number } }[] } }[] };
  for (const item of doc.nftables ?? []) {
    const r = item.rule;
    if (!r?.comment) continue;
    for (const e of r.expr ?? []) if (e.counter) out[r.comment] = (out[r.comment] ?? 0) + (e.counter.packets ?? 0);
  }
  return out;
}

// -- tc: bandwidth and netem --

export interface TbfSpec {
  /** Rate in kbit/s (1000 bit). */
  rateKbit: number;
  /** Bucket size in bytes; default max(rate/50 per second, 3,000). */
  burstBytes?: number;
  /** Longest a packet may wait in the bucket; default 400 ms. */
  latencyMs?: number;
}

export interface NetemSpec {
  delayMs: number;
  jitterMs?: number;
  lossPct?: number;
}

/** What one veth end carries. */
export interface LinkShape {
  netem?: NetemSpec;
  tbf?: TbfSpec;
}

export function tbfParams(t: TbfSpec): string[] {
  if (!(t.rateKbit > 0) || !Number.isFinite(t.rateKbit)) throw new TestbedFaultError(`bandwidth: rateKbit ${t.rateKbit} must be a positive number of kbit/s`);
  const burst = t.burstBytes ?? Math.max(Math.ceil((t.rateKbit * 1000) / 8 / 50), 3000);
  return ['tbf', 'rate', `${t.rateKbit}kbit`, 'burst', String(burst), 'latency', `${t.latencyMs ?? 400}ms`];
}

export function netemParams(n: NetemSpec): string[] {
  if (!(n.delayMs >= 0)) throw new TestbedFaultError(`netem: delayMs ${n.delayMs} must be >= 0`);
  const p = ['netem', 'delay', `${n.delayMs}ms`];
  if (n.jitterMs) p.push(`${n.jitterMs}ms`);
  if (n.lossPct) {
    checkPct(n.lossPct, 'netem');
    p.push('loss', `${n.lossPct}%`);
  }
  return p;
}

/**
 * The `tc` argument lists that give device `dev` in namespace `ns` exactly `shape` (pure): the
 * root qdisc is deleted first (its failure, "no qdisc", is expected and ignored by the caller:
 * the first list is marked by `allowFail`), then netem at the root and tbf as its child, or
 * either alone.
 */
export function linkShapeCommands(ns: string, dev: string, shape: LinkShape): { args: string[]; allowFail?: boolean }[] {
  const base = ['-n', ns, 'qdisc'];
  const cmds: { args: string[]; allowFail?: boolean }[] = [{ args: [...base, 'del', 'dev', dev, 'root'], allowFail: true }];
  if (shape.netem && shape.tbf) {
    cmds.push({ args: [...base, 'add', 'dev', dev, 'root', 'handle', '1:', ...netemParams(shape.netem)] });
    cmds.push({ args: [...base, 'add', 'dev', dev, 'parent', '1:1', 'handle', '10:', ...tbfParams(shape.tbf)] });
  } else if (shape.netem) cmds.push({ args: [...base, 'add', 'dev', dev, 'root', 'handle', '1:', ...netemParams(shape.netem)] });
  else if (shape.tbf) cmds.push({ args: [...base, 'add', 'dev', dev, 'root', 'handle', '1:', ...tbfParams(shape.tbf)] });
  return cmds;
}

/** The `tc` lists that probe for netem on `lo` of a scratch namespace and remove it (pure). */
export function netemProbeCommands(scratchNs: string): string[][] {
  return [
    ['-n', scratchNs, 'qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', '1ms'],
    ['-n', scratchNs, 'qdisc', 'del', 'dev', 'lo', 'root'],
  ];
}
