/**
 * Finding and removing testbed namespaces by name (`aegis testbed down|status`): only names
 * matching `aegis-tb-<runId>-<host>` are touched. A namespace's processes (`ip netns pids`)
 * get SIGTERM, then SIGKILL after a bounded wait, then the namespace is deleted; bridge
 * namespaces go last (deleting a namespace removes its veth ends).
 */
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sh, shSync } from './exec.ts';
import { BRIDGE_HOST, parseNsName } from './plan.ts';
import { removeRootBlackhole } from './safety.ts';

/** Testbed namespace names in `ip -j netns list` output, bridges last (pure). */
export function testbedNamespaces(json: string): string[] {
  const list = (json.trim() ? JSON.parse(json) : []) as { name?: string }[];
  const names = list.map((e) => e.name ?? '').filter((n) => parseNsName(n) !== undefined);
  const isBr = (n: string): boolean => parseNsName(n)!.host === BRIDGE_HOST;
  return [...names.filter((n) => !isBr(n)).sort(), ...names.filter(isBr).sort()];
}

export async function listTestbedNamespaces(): Promise<string[]> {
  return testbedNamespaces((await sh('ip', ['-j', 'netns', 'list'])).stdout);
}

export async function namespacePids(ns: string): Promise<number[]> {
  const r = await sh('ip', ['netns', 'pids', ns], { allowFail: true });
  return r.stdout.split(/\s+/).filter((s) => /^\d+$/.test(s)).map(Number);
}

/** Where a run's observer socket lives (see ctl-agent.ts). */
export function ctlSocketPath(runId: string): string {
  return join(tmpdir(), `aegis-tb-${runId}-ctl.sock`);
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* already gone */
  }
}

/** Ends every process inside `ns` (SIGTERM, then SIGKILL after graceMs) and deletes it. */
export async function removeNamespace(ns: string, graceMs = 2000): Promise<{ killed: number }> {
  let pids = await namespacePids(ns);
  const killed = pids.length;
  for (const p of pids) signal(p, 'SIGTERM');
  for (let i = 0; i < Math.ceil(graceMs / 100) && pids.length > 0; i++) {
    await new Promise((r) => setTimeout(r, 100));
    pids = await namespacePids(ns);
  }
  for (const p of pids) signal(p, 'SIGKILL');
  for (let i = 0; i < 20 && pids.length > 0; i++) {
    await new Promise((r) => setTimeout(r, 50));
    pids = await namespacePids(ns);
  }
  await sh('ip', ['netns', 'del', ns], { allowFail: true });
  return { killed };
}

/** Removes the given namespaces in order; returns what was removed. */
export async function removeNamespaces(names: readonly string[], graceMs = 2000): Promise<{ removed: string[]; killed: number }> {
  let killed = 0;
  for (const ns of names) killed += (await removeNamespace(ns, graceMs)).killed;
  for (const runId of new Set(names.map((n) => parseNsName(n)?.runId))) if (runId) rmSync(ctlSocketPath(runId), { force: true });
  return { removed: [...names], killed };
}

/** `aegis testbed down`: every `aegis-tb-*` namespace on the machine (or only run `runId`'s). */
export async function downAll(graceMs = 2000, runId?: string): Promise<{ removed: string[]; killed: number }> {
  const names = (await listTestbedNamespaces()).filter((n) => runId === undefined || parseNsName(n)!.runId === runId);
  const result = await removeNamespaces(names, graceMs);
  if ((await listTestbedNamespaces()).length === 0) await removeRootBlackhole();
  return result;
}

/** Last resort from a process `exit` hook (synchronous; SIGKILL at once). */
export function removeNamespacesSync(names: readonly string[]): void {
  for (const ns of names) {
    const pids = shSync('ip', ['netns', 'pids', ns]).stdout.split(/\s+/).filter((s) => /^\d+$/.test(s)).map(Number);
    for (const p of pids) signal(p, 'SIGKILL');
    shSync('ip', ['netns', 'del', ns]);
  }
}

export interface NamespaceStatus {
  ns: string;
  runId: string;
  host: string;
  addrs: string[];
  pids: number[];
}

export async function testbedStatus(): Promise<NamespaceStatus[]> {
  const out: NamespaceStatus[] = [];
  for (const ns of await listTestbedNamespaces()) {
    const p = parseNsName(ns)!;
    const j = await sh('ip', ['-n', ns, '-j', '-4', 'addr', 'show'], { allowFail: true });
    const addrs: string[] = [];
    try {
      for (const l of JSON.parse(j.stdout || '[]') as { ifname?: string; addr_info?: { local?: string; prefixlen?: number }[] }[])
        for (const a of l.addr_info ?? []) if (l.ifname !== 'lo' && a.local) addrs.push(`${a.local}/${a.prefixlen}`);
    } catch {
      /* namespace vanished meanwhile */
    }
    out.push({ ns, runId: p.runId, host: p.host, addrs, pids: await namespacePids(ns) });
  }
  return out;
}
