/**
 * The testbed's network layer: public API (stable; the scenario runner in
 * `sim/testbed/scenario/` builds on it). Design: docs/running-over-real-networks.md ("The testbed"; the net/ layer,
 * safety rules). Needs root and the Debian packages iproute2 and nftables (libfaketime for
 * clock skew, see `../proc.ts`).
 *
 * Create and tear down
 *   createTestbed({ hosts: [{ name, region? }…], runId?, dir?, handleSignals? = true,
 *                   ctl? = true, delayLayer? = 'auto', progress? }): Promise<Testbed>
 *     builds `aegis-tb-<runId>-br` (bridge br0), one namespace per host with `eth0` at
 *     198.18.<k>.<i>/24 (i = 1.. in the order given), and `aegis-tb-<runId>-ctl` (.254, the
 *     observer), runs the safety check (throws TestbedSafetyError), detects netem, and starts the
 *     observer's forwarder. On any failure it removes what it created and rethrows.
 *   testbed.close()                  stops its processes, deletes its namespaces (idempotent;
 *                                    also on SIGINT/SIGTERM → exit 130/143, and at process exit)
 *   downAll() / testbedStatus()      every `aegis-tb-*` namespace on the machine (CLI down/status)
 *   canCreateNamespaces()            { ok, reason } for CLIs and tests
 *
 * Hosts and processes
 *   testbed.hosts: { name, region, ns, addr }[];  testbed.host(name);  testbed.namespaces()
 *   testbed.start(host, { name, cmd, args?, env?, cwd?, faketime?, stdin?, logFile? })
 *   testbed.startNode(host, name, script, args?, extra?)   node --import tsx script … in host
 *     → TestbedProcess (../proc.ts): pid, stop(), kill() (SIGKILL), restart(), exited
 *   testbed.exec(host, cmd, args)    short command in the host's namespace (ss, nft …)
 *   testbed.expose(addr, port)       → 'http://127.0.0.1:P' reaching addr:port via the observer
 *   testbed.fetch(url, init?)        fetch() that reaches 198.18.x.y URLs (use for /health)
 *   testbed.waitForHealth(host, port, { path? = '/health', timeoutMs?, intervalMs? })
 *                                    bounded polling through the observer → { ok, attempts, status?, error? }
 *   testbed.checkSafety()            re-runs the safety check (TestbedSafetyError)
 *   The observer (control namespace) is never subject to faults or relay delay, so health
 *   samples and chain reads see the hosts, not the faults between them.
 *
 * Delay (layer 'netem' where the kernel has it, else 'relay'; `testbed.delayLayer`)
 *   testbed.startRelay(host, port, privatePort = port + 1000) → RelayHandle
 *     (the service listens on host:privatePort; peers use host:port); .stats() counters
 *   testbed.setDelayProfile({ hosts?: {h: {delayMs, jitterMs?, lossPct?}}, regions?: {r: …}, default? })
 *     → the layer used. One-way delay A→B = d(A) + d(B). Relays get new tables at once;
 *     jitter is added as U[0, jitter] per chunk (order kept); lossPct applies under netem only.
 *
 * Kernel faults (nftables in the receiving host's namespace; tbf on the veth ends)
 *   testbed.loss(host, pct, peers?, id?)               → id   (numgen random, both directions)
 *   testbed.partition(a[], b[], drop = 'both'|'aToB'|'bToA', id?) → id
 *       'bToA': a's packets reach b, b's never reach a (SYN arrives, SYN-ACK is lost)
 *   testbed.applyFault(Fault) / heal(id) / healAll() / faults()
 *   testbed.setBandwidth(host, { rateKbit, burstBytes?, latencyMs? } | null, 'both'|'egress'|'ingress')
 *   testbed.dropCounters(host) → { [faultId]: packets dropped arriving at host }
 *   testbed.ruleset(host)      → `nft list ruleset` in the host's namespace
 *
 * IPv4 only: services bind their host's 198.18.x.y address; faults match IPv4 (the veths also
 * carry IPv6 link-local addresses, which nothing here uses).
 *
 * Each report names the layer of each fault: 'netem' | 'relay' (delay), 'nftables' (loss,
 * partition), 'tbf' (bandwidth), 'signal' (kill/restart), 'libfaketime' (clock).
 */
export { createTestbed, detectNetem, canCreateNamespaces, Testbed, TestbedError, ROOT, type TestbedOptions, type TestbedHost, type HostProcessSpec, type RelayHandle, type DelayLayer } from './testbed.ts';
export { downAll, testbedStatus, listTestbedNamespaces, removeNamespaces, type NamespaceStatus } from './down.ts';
export { checkSafety, checkRootNamespace, checkNamespaces, TestbedSafetyError, defaultRoutes, benchAddresses } from './safety.ts';
export { planTestbed, numberedHosts, nsName, parseNsName, inBenchRange, TestbedPlanError, type HostSpec, type PlannedHost, type TestbedPlan } from './plan.ts';
export { expandFaults, hostRuleset, linkShapeCommands, TestbedFaultError, type Fault, type LinkDrop, type TbfSpec, type NetemSpec, type LinkShape } from './faults.ts';
export { relayTables, netemShapes, hostDelay, type DelayProfile, type HostDelay } from './delay.ts';
export { sh, TestbedExecError, fixFor } from './exec.ts';
