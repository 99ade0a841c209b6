/**
 * Hub operations for the benchmark (`npm run bench -- --json`):
 *  - gas rows `op: "applyFeeds"`: `aegis hub apply` of a 100-feed hub.yaml on an empty hub,
 *    one row per transaction (the bar: at most 2 transactions per 50 feeds), after which
 *    `plan` must report no difference (the section fails otherwise);
 *  - timing row `op: "cliStart"`: `aegis --help` from the built CLI (dist/aegis.mjs, the file
 *    `npm pack` ships and `npm install -g` links), wall time of a fresh process.
 */
import { devCommitteeFile } from '../contracts/hub.ts';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../contracts/compile.ts';
import { startBenchAnvil } from './gas.ts';
import { applyPlan } from '../contracts/ops/apply.ts';
import { deployHub } from '../contracts/ops/deploy-hub.ts';
import { resolveHubConfig } from '../contracts/ops/hub-config.ts';
import { planHub } from '../contracts/ops/plan.ts';
import { percentile, type GasRow, type TimingRow } from './stats.ts';
import { dealerKeygen } from '../protocol/index.ts';

const SECRET = 0x0adab7e20adab7e20adab7e20adab7e20adab7e20adab7e20adab7e20adab7e2n;

export async function applyFeedsRows(feeds = 100): Promise<GasRow[]> {
  const anvil = await startBenchAnvil();
  const dir = mkdtempSync(join(tmpdir(), 'aegis-bench-hub-'));
  try {
    const committee = dealerKeygen(3, 4, SECRET);
    const file = join(dir, 'committee.json');
    writeFileSync(
      file,
      JSON.stringify(devCommitteeFile(committee, anvil.chainId)),
    );
    const signer = await anvil.signer(0);
    const d = await deployHub({ signer, committeeFile: file, confirmations: 1 });
    const desired = resolveHubConfig({ hub: d.hub, chainId: anvil.chainId, defaults: { historyCapacity: 32 }, feeds: Array.from({ length: feeds }, (_, i) => ({ name: `F${String(i).padStart(3, '0')}/USD` })) });
    const plan = await planHub(anvil.provider, desired);
    const r = await applyPlan(anvil.provider, d.hub, plan, { signer });
    if (r.mode !== 'sent') throw new Error(`applyFeeds bench: expected the key guardian to send, got ${r.mode}`);
    const left = await planHub(anvil.provider, desired);
    if (left.changes.length) throw new Error(`applyFeeds bench: plan after apply still shows ${left.changes.length} change(s): ${left.changes[0]}`);
    return r.receipts.map((x, k) => ({
      system: 'aegis',
      op: 'applyFeeds',
      n: 4,
      feeds: Number(/add (\d+) feed/.exec(x.what)?.[1] ?? 0),
      gas: Number(x.gasUsed),
      note: `aegis hub apply of ${feeds} feeds on an empty hub: transaction ${k + 1} of ${r.receipts.length} (addFeeds, history 32 slots pre-initialised per feed); plan afterwards: no difference`,
    }));
  } finally {
    await anvil.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function cliStartRow(samples = 15): TimingRow {
  const cli = join(ROOT, 'dist', 'aegis.mjs');
  if (!existsSync(cli)) execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-cli.mjs')], { stdio: 'ignore' });
  const ms: number[] = [];
  for (let i = 0; i < samples + 2; i++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [cli, '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const dt = performance.now() - t0;
    if (r.status !== 0) throw new Error(`cliStart bench: ${cli} --help exited ${r.status}: ${r.stderr}`);
    if (i >= 2) ms.push(dt); // the first two warm the disk cache
  }
  return { op: 'cliStart', n: 0, feeds: 0, p50_ms: percentile(ms, 50), p99_ms: percentile(ms, 99), samples: ms.length, note: 'aegis --help from the built CLI (dist/aegis.mjs), a fresh node process each' };
}

export async function benchSection(o: { quick: boolean; progress: (msg: string) => void }): Promise<{ gas: GasRow[]; timing: TimingRow[] }> {
  o.progress('hub apply of 100 feeds from empty');
  const gas = await applyFeedsRows(o.quick ? 50 : 100);
  o.progress('CLI start');
  return { gas, timing: [cliStartRow(o.quick ? 5 : 15)] };
}
