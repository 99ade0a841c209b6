/**
 * Pure layout of a testbed (docs/running-over-real-networks.md, "The testbed"): names, addresses and the `ip` commands that
 * build and remove it. Nothing here touches the system, so every rule is unit-tested:
 *
 * - namespaces `aegis-tb-<runId>-<host>`, the bridge namespace `aegis-tb-<runId>-br`, the
 *   control namespace `aegis-tb-<runId>-ctl` (the observer: `Testbed.fetch`/`expose` reach
 *   hosts from it; faults are never applied to it);
 * - addresses 198.18.<k>.<i>/24 with k from the runId (one /24 per run), i = 1.. for hosts in
 *   order, 254 for ctl; the bridge `br0` has no address; no route but the connected /24;
 * - veth pairs are created inside the bridge namespace (`h<i>` there, `eth0` in the host), so
 *   no interface ever appears in the root namespace.
 */

export const NS_PREFIX = 'aegis-tb-';
/** RFC 2544 benchmarking range: the root namespace must never hold an address in it. */
export const BENCH_NET = { base: [198, 18, 0, 0] as const, prefix: 15 };
export const CTL_HOST = 'ctl';
export const BRIDGE_HOST = 'br';
export const HOST_IF = 'eth0';
export const MAX_HOSTS = 250;

const RUN_ID = /^[0-9a-f]{4,6}$/;
const HOST_NAME = /^[a-z][a-z0-9]{0,11}$/;
const NS_NAME = /^aegis-tb-([0-9a-f]{4,6})-([a-z][a-z0-9]*)$/;

export class TestbedPlanError extends Error {
  override readonly name = 'TestbedPlanError';
}

export interface HostSpec {
  name: string;
  /** Region label (delay profiles may be given per region). */
  region?: string;
}

export interface PlannedHost {
  name: string;
  region: string | undefined;
  /** 1-based position; the last octet of the address. */
  index: number;
  ns: string;
  addr: string;
  /** The veth end in the bridge namespace. */
  bridgePort: string;
}

export interface TestbedPlan {
  runId: string;
  subnet: string;
  bridgeNs: string;
  ctl: PlannedHost;
  hosts: PlannedHost[];
}

export function randomRunId(rand: () => number = Math.random): string {
  return Math.floor(rand() * 0x10000).toString(16).padStart(4, '0');
}

export function nsName(runId: string, host: string): string {
  return `${NS_PREFIX}${runId}-${host}`;
}

/** `{ runId, host }` of a testbed namespace name, or undefined for any other name (pure). */
export function parseNsName(name: string): { runId: string; host: string } | undefined {
  const m = NS_NAME.exec(name);
  return m ? { runId: m[1]!, host: m[2]! } : undefined;
}

/** The third octet of a run's /24: the runId's first byte. */
export function subnetOctet(runId: string): number {
  return parseInt(runId.slice(0, 2), 16);
}

export function planTestbed(runId: string, hosts: readonly HostSpec[]): TestbedPlan {
  if (!RUN_ID.test(runId)) throw new TestbedPlanError(`bad runId "${runId}": expected 4-6 lowercase hex digits`);
  if (hosts.length < 1 || hosts.length > MAX_HOSTS) throw new TestbedPlanError(`bad host count ${hosts.length}: expected 1..${MAX_HOSTS}`);
  const seen = new Set<string>();
  for (const h of hosts) {
    if (!HOST_NAME.test(h.name)) throw new TestbedPlanError(`bad host name "${h.name}": expected a lowercase letter then up to 11 letters or digits`);
    if (h.name === BRIDGE_HOST || h.name === CTL_HOST) throw new TestbedPlanError(`bad host name "${h.name}": reserved for the testbed's own namespace; pick another`);
    if (seen.has(h.name)) throw new TestbedPlanError(`duplicate host name "${h.name}": names must be unique`);
    seen.add(h.name);
  }
  const k = subnetOctet(runId);
  const mk = (name: string, region: string | undefined, index: number): PlannedHost => ({
    name,
    region,
    index,
    ns: nsName(runId, name),
    addr: `198.18.${k}.${index}`,
    bridgePort: `h${index}`,
  });
  return {
    runId,
    subnet: `198.18.${k}.0/24`,
    bridgeNs: nsName(runId, BRIDGE_HOST),
    ctl: mk(CTL_HOST, undefined, 254),
    hosts: hosts.map((h, i) => mk(h.name, h.region, i + 1)),
  };
}

/** `n` hosts named h1..hn (the CLI's bare testbed). */
export function numberedHosts(n: number): HostSpec[] {
  return Array.from({ length: n }, (_, i) => ({ name: `h${i + 1}` }));
}

/** Every namespace of the plan, bridge last (teardown order reversed from creation). */
export function planNamespaces(p: TestbedPlan): string[] {
  return [...p.hosts.map((h) => h.ns), p.ctl.ns, p.bridgeNs];
}

/** The `ip` argument lists that build the plan, in order (pure). */
export function setupCommands(p: TestbedPlan): string[][] {
  const cmds: string[][] = [];
  const all = [...p.hosts, p.ctl];
  cmds.push(['netns', 'add', p.bridgeNs]);
  for (const h of all) cmds.push(['netns', 'add', h.ns]);
  cmds.push(['-n', p.bridgeNs, 'link', 'set', 'lo', 'up']);
  cmds.push(['-n', p.bridgeNs, 'link', 'add', 'br0', 'type', 'bridge']);
  cmds.push(['-n', p.bridgeNs, 'link', 'set', 'br0', 'up']);
  for (const h of all) {
    cmds.push(['-n', p.bridgeNs, 'link', 'add', h.bridgePort, 'type', 'veth', 'peer', 'name', HOST_IF, 'netns', h.ns]);
    cmds.push(['-n', p.bridgeNs, 'link', 'set', h.bridgePort, 'master', 'br0']);
    cmds.push(['-n', p.bridgeNs, 'link', 'set', h.bridgePort, 'up']);
    cmds.push(['-n', h.ns, 'link', 'set', 'lo', 'up']);
    cmds.push(['-n', h.ns, 'addr', 'add', `${h.addr}/24`, 'dev', HOST_IF]);
    cmds.push(['-n', h.ns, 'link', 'set', HOST_IF, 'up']);
  }
  return cmds;
}

/**
 * `setupCommands` grouped into `ip [-n NS] -batch -` runs (pure): consecutive commands of the
 * same namespace (or `netns add` lines, with no namespace) share one `ip` process, in order.
 */
export function setupBatches(p: TestbedPlan): { ns: string | undefined; lines: string[] }[] {
  const out: { ns: string | undefined; lines: string[] }[] = [];
  for (const c of setupCommands(p)) {
    const ns = c[0] === '-n' ? c[1] : undefined;
    const line = (ns ? c.slice(2) : c).join(' ');
    const last = out.at(-1);
    if (last && last.ns === ns) last.lines.push(line);
    else out.push({ ns, lines: [line] });
  }
  return out;
}

/** IPv4 address as a 32-bit unsigned number, or undefined if malformed (pure). */
export function ipv4ToInt(addr: string): number | undefined {
  const parts = addr.split('.');
  if (parts.length !== 4) return undefined;
  let v = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    v = v * 256 + Number(p);
  }
  return v;
}

/** True when `addr` lies in 198.18.0.0/15 (pure). */
export function inBenchRange(addr: string): boolean {
  const v = ipv4ToInt(addr);
  if (v === undefined) return false;
  const base = ipv4ToInt(BENCH_NET.base.join('.'))!;
  const mask = 2 ** 32 - 2 ** (32 - BENCH_NET.prefix);
  return (v & mask) >>> 0 === base;
}
