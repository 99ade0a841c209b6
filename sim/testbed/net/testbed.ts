/**
 * A running testbed: creation (plan → `ip` commands → safety check → netem detection → the
 * control namespace's forwarder), processes in hosts, relays, delay profiles, kernel faults,
 * and teardown by the names created (on `close()`, on failure half way, on SIGINT/SIGTERM when
 * `handleSignals`, and synchronously from a process `exit` hook as a last resort).
 * See `index.ts` for the public API.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { createServer, connect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sh, TestbedExecError } from './exec.ts';
import { planTestbed, planNamespaces, randomRunId, setupBatches, setupCommands, nsName, inBenchRange, HOST_IF, type HostSpec, type PlannedHost, type TestbedPlan } from './plan.ts';
import { checkRootNamespace, checkSafety, ensureRootBlackhole } from './safety.ts';
import { expandFaults, hostRuleset, linkShapeCommands, netemProbeCommands, parseDropCounters, validateFault, NFT_TABLE, TestbedFaultError, type Fault, type LinkShape, type TbfSpec } from './faults.ts';
import { netemShapes, relayTables, type DelayProfile } from './delay.ts';
import { ctlSocketPath, listTestbedNamespaces, removeNamespaces, removeNamespacesSync } from './down.ts';
import { startProcess, waitForHealth, type HealthResult, type ProcessSpec, type TestbedProcess } from '../proc.ts';
import type { DelayTable, RelayCounters } from '../relay.ts';

export const ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const RELAY_HOST = join(ROOT, 'sim', 'testbed', 'relay-host.ts');
const CTL_AGENT = join(ROOT, 'sim', 'testbed', 'net', 'ctl-agent.ts');

export type DelayLayer = 'netem' | 'relay';

export interface TestbedOptions {
  hosts: HostSpec[];
  /** 4–6 lowercase hex; default random. */
  runId?: string;
  /** Logs and the control socket; default $TMPDIR/aegis-tb-<runId>. */
  dir?: string;
  /** Tear down and exit 130/143 on SIGINT/SIGTERM; default true. */
  handleSignals?: boolean;
  /** Start the control namespace's forwarder (needed by expose/fetch); default true. */
  ctl?: boolean;
  /** Where delay comes from: 'auto' (netem if the kernel has it, else relays); default 'auto'. */
  delayLayer?: 'auto' | DelayLayer;
  progress?: (line: string) => void;
}

export interface TestbedHost {
  name: string;
  region: string | undefined;
  ns: string;
  addr: string;
}

export interface HostProcessSpec extends Omit<ProcessSpec, 'ns' | 'logFile' | 'name'> {
  name: string;
  /** Default <dir>/logs/<host>-<name>.log. */
  logFile?: string;
}

export interface RelayHandle {
  host: string;
  addr: string;
  port: number;
  privatePort: number;
  process: TestbedProcess;
  setTable(t: DelayTable): void;
  stats(timeoutMs?: number): Promise<RelayCounters>;
}

export class TestbedError extends Error {
  override readonly name = 'TestbedError';
}

export class Testbed {
  readonly hosts: TestbedHost[];
  readonly processes: TestbedProcess[] = [];
  readonly relays: RelayHandle[] = [];
  private activeFaults: Fault[] = [];
  private shapes = new Map<string, { egress: LinkShape; ingress: LinkShape }>();
  private profile: DelayProfile = {};
  private exposed = new Map<string, Promise<{ server: Server; port: number }>>();
  private closing: Promise<void> | undefined;
  private unhook: () => void = () => undefined;
  private faultSeq = 0;
  delayLayer: DelayLayer = 'relay';

  constructor(
    readonly plan: TestbedPlan,
    readonly dir: string,
    readonly netem: boolean,
  ) {
    this.hosts = plan.hosts.map((h) => ({ name: h.name, region: h.region, ns: h.ns, addr: h.addr }));
  }

  get runId(): string {
    return this.plan.runId;
  }

  /** The observer's Unix socket: short and fixed (sun_path holds 107 bytes; `dir` may be long). */
  get ctlSocket(): string {
    return ctlSocketPath(this.runId);
  }

  host(name: string): TestbedHost {
    const h = this.hosts.find((x) => x.name === name);
    if (!h) throw new TestbedError(`no host "${name}" in testbed ${this.runId} (hosts: ${this.hosts.map((x) => x.name).join(', ')})`);
    return h;
  }

  /** All namespaces of this testbed, bridge last. */
  namespaces(): string[] {
    return planNamespaces(this.plan);
  }

  private planned(name: string): PlannedHost {
    const h = this.plan.hosts.find((x) => x.name === name);
    if (!h) throw new TestbedError(`no host "${name}" in testbed ${this.runId} (hosts: ${this.hosts.map((x) => x.name).join(', ')})`);
    return h;
  }

  // -- processes --

  /** Starts a command inside `host`'s namespace (cwd: the repository root by default). */
  async start(host: string, spec: HostProcessSpec): Promise<TestbedProcess> {
    const h = this.host(host);
    const p = await startProcess({ ...spec, ns: h.ns, cwd: spec.cwd ?? ROOT, logFile: spec.logFile ?? join(this.dir, 'logs', `${host}-${spec.name}.log`) });
    this.processes.push(p);
    return p;
  }

  /** `node --import tsx <script> args…` inside `host` (the PID held is node's). */
  startNode(host: string, name: string, script: string, args: string[] = [], extra: Partial<HostProcessSpec> = {}): Promise<TestbedProcess> {
    return this.start(host, { ...extra, name, cmd: process.execPath, args: ['--import', 'tsx', script, ...args] });
  }

  /** Runs a short command inside `host`'s namespace (e.g. `ss`), bounded by the exec helper. */
  exec(host: string, cmd: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return sh('ip', ['netns', 'exec', this.host(host).ns, cmd, ...args], { allowFail: true });
  }

  // -- delay --

  /**
   * Starts a relay on host:port forwarding to host:privatePort (default port+1000) with the
   * current profile's table; resolves once it listens (bounded, 30 s).
   */
  async startRelay(host: string, port: number, privatePort = port + 1000): Promise<RelayHandle> {
    const h = this.host(host);
    const table = this.delayLayer === 'relay' ? (relayTables(this.profile, this.hosts)[host] ?? {}) : {};
    const proc = await this.startNode(host, `relay-${port}`, RELAY_HOST, ['--listen', `${h.addr}:${port}`, '--target', `${h.addr}:${privatePort}`, '--table', JSON.stringify(table)], { stdin: 'pipe' });
    const waiters: ((o: Record<string, unknown>) => void)[] = [];
    proc.onLine((line) => {
      try {
        const o = JSON.parse(line) as Record<string, unknown>;
        for (const w of waiters.splice(0)) w(o);
      } catch {
        /* not a JSON line */
      }
    });
    const next = (pred: (o: Record<string, unknown>) => boolean, timeoutMs: number, what: string): Promise<Record<string, unknown>> =>
      new Promise((ok, fail) => {
        const timer = setTimeout(() => fail(new TestbedError(`relay ${host}:${port}: no ${what} within ${timeoutMs} ms; see ${proc.spec.logFile}`)), timeoutMs);
        const w = (o: Record<string, unknown>): void => {
          if (pred(o)) {
            clearTimeout(timer);
            ok(o);
          } else waiters.push(w);
        };
        waiters.push(w);
        void proc.exited.then(() => {
          clearTimeout(timer);
          fail(new TestbedError(`relay ${host}:${port} exited; see ${proc.spec.logFile}`));
        });
      });
    await next((o) => o.event === 'listening', 30_000, '"listening" line');
    const handle: RelayHandle = {
      host,
      addr: h.addr,
      port,
      privatePort,
      process: proc,
      setTable: (t) => proc.send(JSON.stringify({ table: t })),
      stats: async (timeoutMs = 5000) => {
        const p = next((o) => o.event === 'stats', timeoutMs, 'stats line');
        proc.send('{"cmd":"stats"}');
        const o = await p;
        delete o.event;
        return o as unknown as RelayCounters;
      },
    };
    this.relays.push(handle);
    return handle;
  }

  /**
   * Sets every host's delay to the core (per host, per region, default) and returns the layer
   * that carries it: netem on both veth ends where the kernel has it (and `delayLayer` allows),
   * else the relays' tables (relays started later get the current table too).
   */
  async setDelayProfile(p: DelayProfile): Promise<DelayLayer> {
    this.profile = p;
    if (this.delayLayer === 'netem') {
      const shapes = netemShapes(p, this.hosts);
      for (const h of this.hosts) {
        const s = this.shapeOf(h.name);
        s.egress = { ...s.egress, netem: shapes[h.name] };
        s.ingress = { ...s.ingress, netem: shapes[h.name] };
        await this.applyShape(h.name);
      }
    } else {
      const tables = relayTables(p, this.hosts);
      for (const r of this.relays) if (r.process.running) r.setTable(tables[r.host] ?? {});
    }
    return this.delayLayer;
  }

  // -- kernel faults --

  private shapeOf(host: string): { egress: LinkShape; ingress: LinkShape } {
    let s = this.shapes.get(host);
    if (!s) this.shapes.set(host, (s = { egress: {}, ingress: {} }));
    return s;
  }

  private async applyShape(host: string): Promise<void> {
    const h = this.planned(host);
    const s = this.shapeOf(host);
    for (const [ns, dev, shape] of [
      [h.ns, HOST_IF, s.egress],
      [this.plan.bridgeNs, h.bridgePort, s.ingress],
    ] as const)
      for (const c of linkShapeCommands(ns, dev, shape)) await sh('tc', c.args, { allowFail: c.allowFail });
  }

  /** Caps `host`'s bandwidth with tbf (null removes the cap). 'egress' = what it sends. */
  async setBandwidth(host: string, tbf: TbfSpec | null, direction: 'both' | 'egress' | 'ingress' = 'both'): Promise<void> {
    const s = this.shapeOf(this.host(host).name);
    if (direction !== 'ingress') s.egress = { ...s.egress, tbf: tbf ?? undefined };
    if (direction !== 'egress') s.ingress = { ...s.ingress, tbf: tbf ?? undefined };
    await this.applyShape(host);
  }

  private async syncRules(touched: Set<string>): Promise<void> {
    const drops = expandFaults(this.activeFaults, this.hosts.map((h) => h.name));
    const addrOf = (n: string): string => this.host(n).addr;
    await Promise.all(
      [...touched].map(async (name) => {
        const ns = this.host(name).ns;
        // Always inside the host's namespace: never the root namespace's ruleset.
        await sh('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], { input: hostRuleset(name, drops, addrOf) }).catch((err: unknown) => {
          throw err instanceof TestbedExecError ? new TestbedFaultError(`cannot load nftables rules into ${ns}: ${err.message}`) : err;
        });
      }),
    );
  }

  private touchedBy(f: Fault): Set<string> {
    return new Set(expandFaults([f], this.hosts.map((h) => h.name)).map((d) => d.to));
  }

  /** Applies a fault (see faults.ts); its id must be new. Returns the id. */
  async applyFault(f: Fault): Promise<string> {
    validateFault(f, this.hosts.map((h) => h.name));
    if (this.activeFaults.some((x) => x.id === f.id)) throw new TestbedFaultError(`fault id "${f.id}" is already active: heal it first or pick another id`);
    this.activeFaults.push(f);
    try {
      await this.syncRules(this.touchedBy(f));
    } catch (err) {
      this.activeFaults = this.activeFaults.filter((x) => x !== f);
      await this.syncRules(this.touchedBy(f)).catch(() => undefined);
      throw err;
    }
    return f.id;
  }

  /** Removes an active fault's rules (unknown id: an error naming the active ones). */
  async heal(id: string): Promise<void> {
    const f = this.activeFaults.find((x) => x.id === id);
    if (!f) throw new TestbedFaultError(`no active fault "${id}" (active: ${this.activeFaults.map((x) => x.id).join(', ') || 'none'})`);
    this.activeFaults = this.activeFaults.filter((x) => x !== f);
    await this.syncRules(this.touchedBy(f));
  }

  async healAll(): Promise<void> {
    for (const f of [...this.activeFaults]) await this.heal(f.id);
  }

  faults(): readonly Fault[] {
    return [...this.activeFaults];
  }

  /** Drops pct% of packets between `host` and `peers` (default: every other host), both ways. */
  loss(host: string, pct: number, peers?: string[], id = `loss${++this.faultSeq}`): Promise<string> {
    return this.applyFault({ kind: 'loss', id, host, pct, ...(peers ? { peers } : {}) });
  }

  /** Cuts hosts `a` from hosts `b`; drop 'bToA' = a's requests arrive, b's answers don't. */
  partition(a: string[], b: string[], drop: 'both' | 'aToB' | 'bToA' = 'both', id = `partition${++this.faultSeq}`): Promise<string> {
    return this.applyFault({ kind: 'partition', id, a, b, drop });
  }

  /** Packets dropped so far by each fault's rules in `host`'s namespace (arrivals at host). */
  async dropCounters(host: string): Promise<Record<string, number>> {
    const inNs = await sh('ip', ['netns', 'exec', this.host(host).ns, 'nft', '-j', 'list', 'table', 'inet', NFT_TABLE], { allowFail: true });
    return inNs.code === 0 ? parseDropCounters(inNs.stdout) : {};
  }

  /** `nft list ruleset` inside `host`'s namespace (for reports and tests). */
  async ruleset(host: string): Promise<string> {
    return (await sh('ip', ['netns', 'exec', this.host(host).ns, 'nft', 'list', 'ruleset'])).stdout;
  }

  // -- observer access --

  /**
   * A 127.0.0.1 URL base (`http://127.0.0.1:P`) in this namespace that reaches addr:port in the
   * testbed through the control namespace (see ctl-agent.ts). Cached per target.
   */
  async expose(addr: string, port: number): Promise<string> {
    if (!inBenchRange(addr)) throw new TestbedError(`expose: ${addr} is not a testbed address (198.18.0.0/15)`);
    const key = `${addr} ${port}`;
    let p = this.exposed.get(key);
    if (!p) {
      p = new Promise((ok, fail) => {
        const server = createServer((client) => {
          const up = connect({ path: this.ctlSocket });
          up.once('error', () => client.destroy());
          client.once('error', () => up.destroy());
          up.write(`${key}\n`);
          client.pipe(up);
          up.pipe(client);
        });
        server.once('error', fail);
        server.listen(0, '127.0.0.1', () => {
          const a = server.address();
          ok({ server, port: typeof a === 'object' && a ? a.port : 0 });
        });
      });
      this.exposed.set(key, p);
    }
    return `http://127.0.0.1:${(await p).port}`;
  }

  /** fetch() that reaches testbed addresses through `expose`; other URLs go out unchanged. */
  fetch = async (url: string, init?: RequestInit): Promise<Response> => {
    const u = new URL(url);
    if (!inBenchRange(u.hostname)) return fetch(url, init);
    const base = await this.expose(u.hostname, Number(u.port || 80));
    return fetch(`${base}${u.pathname}${u.search}`, init);
  };

  /** Polls http://<host addr>:port<path> through the observer until 2xx (bounded; see proc.ts). */
  waitForHealth(host: string, port: number, o: { path?: string; timeoutMs?: number; intervalMs?: number } = {}): Promise<HealthResult> {
    return waitForHealth(`http://${this.host(host).addr}:${port}${o.path ?? '/health'}`, { timeoutMs: o.timeoutMs, intervalMs: o.intervalMs, fetch: this.fetch });
  }

  /** Re-runs the safety check (no default route, root has no testbed address). */
  checkSafety(): Promise<void> {
    return checkSafety(this.namespaces());
  }

  // -- teardown --

  /** Stops every process, removes every namespace of this testbed. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.unhook();
      await Promise.all(this.processes.map((p) => p.stop(2000).catch(() => undefined)));
      for (const p of this.exposed.values()) await p.then(({ server }) => new Promise((r) => server.close(() => r(undefined)))).catch(() => undefined);
      await removeNamespaces([...this.namespaces(), nsName(this.runId, 'nx')], 1000);
      rmSync(this.ctlSocket, { force: true });
    })();
    return this.closing;
  }

  /** @internal */
  hook(handleSignals: boolean): void {
    const names = [...this.namespaces(), nsName(this.runId, 'nx')];
    const onExit = (): void => removeNamespacesSync(names);
    const onSignal = (sig: NodeJS.Signals): void => {
      void this.close().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
    };
    process.on('exit', onExit);
    if (handleSignals) {
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
    }
    this.unhook = () => {
      process.off('exit', onExit);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    };
  }
}

/** True if `tc … netem` works here (probed once in a scratch namespace, then removed). */
export async function detectNetem(runId: string): Promise<boolean> {
  const scratch = nsName(runId, 'nx');
  await sh('ip', ['netns', 'add', scratch]);
  try {
    const [add, del] = netemProbeCommands(scratch);
    const r = await sh('tc', add!, { allowFail: true });
    if (r.code === 0) await sh('tc', del!, { allowFail: true });
    return r.code === 0;
  } finally {
    await sh('ip', ['netns', 'del', scratch], { allowFail: true });
  }
}

/** True when this process may create namespaces (root) and `ip netns` answers. */
export async function canCreateNamespaces(): Promise<{ ok: boolean; reason: string }> {
  if (process.getuid?.() !== 0) return { ok: false, reason: 'not root: network namespaces need root' };
  try {
    await sh('ip', ['netns', 'list']);
    await sh('nft', ['--version']);
    return { ok: true, reason: '' };
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
}

export async function createTestbed(opts: TestbedOptions): Promise<Testbed> {
  const progress = opts.progress ?? (() => undefined);
  await checkRootNamespace();
  await ensureRootBlackhole();
  const existing = await listTestbedNamespaces();
  let runId = opts.runId ?? randomRunId();
  for (let i = 0; i < 20 && !opts.runId && existing.some((n) => n.startsWith(`aegis-tb-${runId}-`)); i++) runId = randomRunId();
  if (existing.some((n) => n.startsWith(`aegis-tb-${runId}-`))) throw new TestbedError(`testbed run ${runId} already has namespaces (${existing.filter((n) => n.startsWith(`aegis-tb-${runId}-`)).join(', ')}): run \`aegis testbed down\` or pick another runId`);
  const plan = planTestbed(runId, opts.hosts);
  const dir = opts.dir ?? join(tmpdir(), `aegis-tb-${runId}`);
  mkdirSync(join(dir, 'logs'), { recursive: true });
  let tb: Testbed | undefined;
  const created: string[] = [];
  try {
    progress(`testbed ${runId}: creating ${plan.hosts.length} hosts in ${plan.subnet}`);
    for (const args of setupCommands(plan)) if (args[0] === 'netns' && args[1] === 'add') created.push(args[2]!);
    for (const b of setupBatches(plan)) await sh('ip', [...(b.ns ? ['-n', b.ns] : []), '-batch', '-'], { input: `${b.lines.join('\n')}\n` });
    await checkSafety(planNamespaces(plan));
    const netem = await detectNetem(runId);
    tb = new Testbed(plan, dir, netem);
    tb.hook(opts.handleSignals ?? true);
    const want = opts.delayLayer ?? 'auto';
    if (want === 'netem' && !netem) throw new TestbedError('delayLayer "netem" asked but this kernel has no netem (tc answered "unknown qdisc"): use delayLayer "auto" or "relay"');
    tb.delayLayer = want === 'auto' ? (netem ? 'netem' : 'relay') : want;
    progress(`testbed ${runId}: netem ${netem ? 'available' : 'missing'}; delay layer ${tb.delayLayer}`);
    if (opts.ctl ?? true) {
      const agent = await startProcess({ name: 'ctl-agent', ns: plan.ctl.ns, cmd: process.execPath, args: ['--import', 'tsx', CTL_AGENT, '--socket', tb.ctlSocket], cwd: ROOT, logFile: join(dir, 'logs', 'ctl-agent.log'), stdin: 'pipe' });
      tb.processes.push(agent);
      await new Promise<void>((ok, fail) => {
        const timer = setTimeout(() => fail(new TestbedError(`ctl agent did not listen within 30 s; see ${join(dir, 'logs', 'ctl-agent.log')}`)), 30_000);
        agent.onLine((l) => {
          if (l.includes('"listening"')) {
            clearTimeout(timer);
            ok();
          }
        });
        void agent.exited.then(() => {
          clearTimeout(timer);
          fail(new TestbedError(`ctl agent exited at start; see ${join(dir, 'logs', 'ctl-agent.log')}`));
        });
      });
    }
    return tb;
  } catch (err) {
    if (tb) await tb.close().catch(() => undefined);
    else await removeNamespaces([...created].reverse(), 500).catch(() => undefined);
    throw err;
  }
}
