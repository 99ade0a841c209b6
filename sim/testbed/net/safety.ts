/**
 * The pre-start safety check (docs/running-over-real-networks.md, "The testbed"): no namespace of ours has a default
 * route, and the root namespace holds no address in 198.18.0.0/15. Then no testbed packet can
 * leave the machine and no root-namespace socket can reach a testbed host by accident. The
 * parsers of `ip -j` output are pure and unit-tested; `checkSafety` runs them on the system
 * and throws `TestbedSafetyError` naming the namespace, the route or address, and the fix.
 */
import { sh } from './exec.ts';
import { inBenchRange } from './plan.ts';

export class TestbedSafetyError extends Error {
  override readonly name = 'TestbedSafetyError';
  constructor(
    readonly where: string,
    readonly found: string,
    fix: string,
  ) {
    super(`testbed safety check failed in ${where}: ${found}; ${fix}`);
  }
}

interface IpRoute {
  dst?: string;
  gateway?: string;
  dev?: string;
}

interface IpAddrInfo {
  ifname?: string;
  addr_info?: { family?: string; local?: string; prefixlen?: number }[];
}

/** Default routes in `ip -j route show` output (pure). */
export function defaultRoutes(json: string): string[] {
  const routes = (json.trim() ? JSON.parse(json) : []) as IpRoute[];
  return routes.filter((r) => r.dst === 'default' || r.dst === '0.0.0.0/0' || r.dst === '::/0').map((r) => `default${r.gateway ? ` via ${r.gateway}` : ''}${r.dev ? ` dev ${r.dev}` : ''}`);
}

/** `ifname addr/len` of every 198.18.0.0/15 address in `ip -j addr show` output (pure). */
export function benchAddresses(json: string): string[] {
  const links = (json.trim() ? JSON.parse(json) : []) as IpAddrInfo[];
  const out: string[] = [];
  for (const l of links) for (const a of l.addr_info ?? []) if (a.family === 'inet' && a.local && inBenchRange(a.local)) out.push(`${l.ifname ?? '?'} ${a.local}/${a.prefixlen ?? '?'}`);
  return out;
}

/** Root namespace: no testbed address (run before creating anything, and after). */
export async function checkRootNamespace(): Promise<void> {
  const addrs = benchAddresses((await sh('ip', ['-j', 'addr', 'show'])).stdout);
  if (addrs.length > 0) throw new TestbedSafetyError('the root namespace', `address ${addrs.join(', ')} is in 198.18.0.0/15`, 'remove it (`ip addr del …`): the root namespace must never hold a testbed address');
}

/**
 * Root namespace: a blackhole route for 198.18.0.0/15, so that a packet sent to a testbed
 * address from the root namespace (a test that connects directly instead of through the
 * observer) is dropped here instead of following the machine's default route out. It is a
 * route, not an address; it stays after the run (harmless, and it protects the next one) and
 * `aegis testbed down` removes it when no testbed namespace is left.
 */
export async function ensureRootBlackhole(): Promise<void> {
  const routes = (await sh('ip', ['-j', 'route', 'show', 'type', 'blackhole'])).stdout;
  if (routes.includes('"198.18.0.0/15"')) return;
  await sh('ip', ['route', 'add', 'blackhole', '198.18.0.0/15']);
}

/** Removes the root blackhole route (only when no testbed is left). */
export async function removeRootBlackhole(): Promise<void> {
  const routes = (await sh('ip', ['-j', 'route', 'show', 'type', 'blackhole'])).stdout;
  if (routes.includes('"198.18.0.0/15"')) await sh('ip', ['route', 'del', 'blackhole', '198.18.0.0/15']);
}

/** Our namespaces: no default route (IPv4 or IPv6). */
export async function checkNamespaces(namespaces: readonly string[]): Promise<void> {
  for (const ns of namespaces) {
    for (const fam of ['-4', '-6']) {
      const found = defaultRoutes((await sh('ip', ['-n', ns, '-j', fam, 'route', 'show', 'default'])).stdout);
      if (found.length > 0) throw new TestbedSafetyError(`namespace ${ns}`, `route "${found.join(', ')}"`, `tear the testbed down (\`aegis testbed down\`): no testbed namespace may have a default route`);
    }
  }
}

/** Both checks; called before any process starts. */
export async function checkSafety(namespaces: readonly string[]): Promise<void> {
  await checkRootNamespace();
  await checkNamespaces(namespaces);
}
