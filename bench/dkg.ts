/**
 * `npm run bench` section "dkg": wall time of a whole DKG ceremony over loopback HTTP, the
 * way operators run it — n node HTTP servers with the real ceremony endpoints (`node/dkg`,
 * keystores on disk), driven by the real coordinator (`runCeremony`): deal, relay, complaints,
 * responses, finalize with every node writing its EIP-2335 share keystore, transcript fetched
 * and re-verified. Rows `op: "dkg"` for n = 7 and n = 31 (t = 2⌊(n−1)/3⌋+1).
 *
 * All n servers run in this one process, so their work is serialized on one core: the time is
 * an upper bound for n separate machines, where each phase runs in parallel.
 */
import { buildCeremonyFile, runCeremony } from '../node/dkg/coordinator.ts';
import { timingRow, type TimingRow } from './stats.ts';
import { clearDkgCaches } from '../protocol/dkg/index.ts';
import { setupDkgNodes } from '../sim/devnet/dkg-nodes.ts';

export async function benchSection({ quick, progress }: { quick: boolean; progress: (msg: string) => void }): Promise<{ timing: TimingRow[] }> {
  const timing: TimingRow[] = [];
  for (const n of [7, 31]) {
    const t = 2 * Math.floor((n - 1) / 3) + 1;
    const runs = quick || n > 7 ? 1 : 3;
    const fx = await setupDkgNodes(n);
    try {
      const samples: number[] = [];
      let cpuMs = 0;
      for (let k = 0; k < runs; k++) {
        clearDkgCaches();
        const file = await buildCeremonyFile({ ceremonyId: `bench-${n}-${k}-${Date.now()}`, t, nodes: fx.nodes.map((x) => x.url) });
        // Every operator approves the ceremony before it runs (outside the timed section).
        fx.approve(file);
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        const res = await runCeremony(file, { coordinatorSecret: fx.coordinatorSecret, phaseTimeoutMs: 600_000 });
        const ms = performance.now() - t0;
        const cpu = process.cpuUsage(cpu0);
        cpuMs += (cpu.user + cpu.system) / 1000;
        if (res.verification.qualified.length !== n) throw new Error(`dkg bench n=${n}: only ${res.verification.qualified.length} qualified`);
        samples.push(ms);
        progress(`dkg n=${n} t=${t}: ${(ms / 1000).toFixed(2)} s wall (deal ${(res.phaseMs.deal! / 1000).toFixed(2)} s, complaints ${(res.phaseMs.complaints! / 1000).toFixed(2)} s, finalize ${(res.phaseMs.finalize! / 1000).toFixed(2)} s)`);
      }
      timing.push(timingRow('dkg', n, 0, samples, `t=${t}, loopback HTTP, ${n} node servers in one process (serialized), shares written to keystores; CPU ${Math.round(cpuMs / runs)} ms/ceremony`));
    } finally {
      await fx.close();
    }
  }
  return { timing };
}
