/**
 * Wall time of in-memory DKG ceremonies (all participants in this one process, one after the
 * other, so the time is the sum of every node's work; on separate machines the phases run in
 * parallel; CPU time is printed too because wall time on a shared machine is noisy). The
 * process-wide point and PoP memos (crypto.ts) are cleared before each ceremony but shared
 * between its in-process participants. Run: `npx tsx test/dkg/bench-dkg.ts [n…]` (default 7 31). Prints a table; no
 * assertions (DESIGN: timing belongs in benchmarks, not tests).
 */
import { combinePartials, partialSign, verifyGroupSignature } from '../../protocol/bls/index.ts';
import { clearDkgCaches, verifyTranscript } from '../../protocol/dkg/index.ts';
import { ceremonyFor, dkgPlayers, makeNodes, run, sharesOf } from './harness.ts';

const sizes = process.argv.slice(2).map(Number).filter((x) => x > 0);
const rows: Record<string, string | number>[] = [];
for (const n of sizes.length ? sizes : [7, 31]) {
  const t = 2 * Math.floor((n - 1) / 3) + 1;
  const nodes = makeNodes(n);
  clearDkgCaches();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const res = run(dkgPlayers(ceremonyFor(`bench-${n}`, t, nodes), nodes));
  const ceremonyMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const out = [...res.outputs.values()][0]!;
  clearDkgCaches();
  const t1 = performance.now();
  const v = verifyTranscript(out.transcript);
  const verifyMs = performance.now() - t1;
  const msg = new TextEncoder().encode('bench');
  const ok = verifyGroupSignature(combinePartials(sharesOf(res.outputs).slice(0, t).map((s) => partialSign(s, msg)), t), msg, out.groupPublicKey);
  rows.push({ op: 'dkg', n, t, 'ceremony ms (all nodes, 1 process)': Math.round(ceremonyMs), 'CPU ms': Math.round(cpuMs), 'CPU ms per node': Math.round(cpuMs / n), 'verifyTranscript ms (cold)': Math.round(verifyMs), ok: String(v.ok && ok) });
}
console.table(rows);
