/**
 * `aegis testbed up|down|status` (docs/running-over-real-networks.md, "The testbed"). `up --hosts N` builds a bare testbed
 * (hosts h1..hN) for manual poking (`ip netns exec aegis-tb-<runId>-h1 …`), prints names and
 * addresses, and stays until Ctrl-C (then tears down). `down` removes every `aegis-tb-*`
 * namespace after ending the processes inside it; `status` lists them. Without root each prints
 * one line saying so and exits 2.
 */
import type { Command } from 'commander';

async function needRoot(): Promise<void> {
  const { canCreateNamespaces } = await import('./net/index.ts');
  const c = await canCreateNamespaces();
  if (!c.ok) {
    process.stderr.write(process.getuid?.() !== 0 ? 'aegis testbed: needs root (it creates Linux network namespaces); run it as root\n' : `aegis testbed: cannot create network namespaces: ${c.reason}\n`);
    process.exit(2);
  }
}

export function registerTestbedCommands(program: Command): void {
  const tb = program.command('testbed').description('multi-host testbed: Linux network namespaces on this machine (root)');

  tb.command('up')
    .description('create a bare testbed with N hosts and keep it until Ctrl-C')
    .option('--hosts <n>', 'number of hosts (1..250)', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > 250) throw new Error(`--hosts: expected an integer in 1..250, got "${v}"`);
      return n;
    }, 3)
    .option('--run-id <hex>', '4-6 lowercase hex digits (default random)')
    .action(async (o: { hosts: number; runId?: string }) => {
      await needRoot();
      const { createTestbed, numberedHosts } = await import('./net/index.ts');
      const t = await createTestbed({ hosts: numberedHosts(o.hosts), runId: o.runId, progress: (l) => process.stderr.write(`${l}\n`) });
      process.stdout.write(`testbed ${t.runId} up (${t.plan.subnet}, bridge namespace ${t.plan.bridgeNs}, observer ${t.plan.ctl.ns} ${t.plan.ctl.addr}, delay layer ${t.delayLayer})\n`);
      for (const h of t.hosts) process.stdout.write(`  ${h.name}\t${h.addr}\t${h.ns}\t(ip netns exec ${h.ns} bash)\n`);
      process.stdout.write('Ctrl-C tears it down.\n');
      await new Promise(() => undefined); // the SIGINT/SIGTERM handler closes the testbed and exits
    });

  tb.command('down')
    .description('remove every aegis-tb-* namespace, ending the processes inside them')
    .option('--run <runId>', 'only the namespaces of this run')
    .action(async (o: { run?: string }) => {
      await needRoot();
      const { downAll } = await import('./net/index.ts');
      const r = await downAll(2000, o.run);
      process.stdout.write(r.removed.length === 0 ? 'no testbed namespaces\n' : `removed ${r.removed.length} namespaces (${r.removed.join(', ')}); ended ${r.killed} processes\n`);
    });

  tb.command('status')
    .description('list testbed namespaces, their addresses and process counts')
    .option('--json', 'JSON on stdout')
    .action(async (o: { json?: boolean }) => {
      await needRoot();
      const { testbedStatus } = await import('./net/index.ts');
      const s = await testbedStatus();
      if (o.json) process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
      else if (s.length === 0) process.stdout.write('no testbed namespaces\n');
      else for (const e of s) process.stdout.write(`${e.ns}\trun ${e.runId}\thost ${e.host}\t${e.addrs.join(',') || '-'}\t${e.pids.length} processes\n`);
    });
}
