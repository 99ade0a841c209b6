/**
 * The operator path with real processes: seven `aegis dkg serve` node processes (one per node
 * directory, keystores and YAML config as an operator writes them), then `aegis dkg ceremony`,
 * a `start` every node refuses until its operator approved, `aegis dkg approve` / `approvals`,
 * `aegis dkg start`, `aegis dkg status` and `aegis dkg verify` as separate CLI processes.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { bytesToHex } from '@noble/hashes/utils.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadShare, setupDkgNodes, type DkgFixture } from '../../sim/devnet/dkg-nodes.ts';

const run = promisify(execFile);
const AEGIS = ['--import', 'tsx', 'scripts/aegis.ts'];

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
    s.once('error', reject);
  });
}

async function waitUp(url: string, child: ChildProcess, until = Date.now() + 60_000): Promise<void> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`node process for ${url} exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/v1/health`)).ok) return;
    } catch {
      // not yet listening
    }
    if (Date.now() > until) throw new Error(`${url} not up in time`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('aegis dkg over seven node processes', () => {
  let fx: DkgFixture;
  const children: ChildProcess[] = [];
  const urls: string[] = [];
  const env = { ...process.env };

  beforeAll(async () => {
    fx = await setupDkgNodes(7, { start: false });
    env.AEGIS_COORDINATOR_SECRET = bytesToHex(fx.coordinatorSecret);
    for (const node of fx.nodes) {
      const port = await freePort();
      const child = spawn(process.execPath, [...AEGIS, 'dkg', 'serve', '--config', node.configFile, '--port', String(port), '--coordinator', fx.coordinatorKey], { stdio: 'ignore', env });
      children.push(child);
      urls.push(`http://127.0.0.1:${port}`);
    }
    await Promise.all(urls.map((u, k) => waitUp(u, children[k]!, Date.now() + 150_000)));
  }, 180_000);
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode !== null ? undefined : new Promise((r) => c.once('exit', r)))));
    await fx?.close();
  });

  it('ceremony → start → status → verify; each process writes its share keystore', async () => {
    const ceremony = join(fx.root, 'ceremony.json');
    const transcript = join(fx.root, 'transcript.json');
    const committee = join(fx.root, 'committee.json');
    await run(process.execPath, [...AEGIS, 'dkg', 'ceremony', '--id', 'cli-dkg-7', '--t', '5', ...urls.flatMap((u) => ['--node', u]), '--chain-id', '31337', '--hub', '0x0000000000000000000000000000000000000001', '--aggregator', fx.aggregatorKey, '--out', ceremony], { env });
    const startArgs = [...AEGIS, 'dkg', 'start', '--ceremony', ceremony, '--secret-env', 'AEGIS_COORDINATOR_SECRET', '--phase-timeout-s', '90', '--transcript-out', transcript, '--committee-out', committee];

    // Before any operator approved it, every node refuses to deal: the ceremony fails at once.
    const refused = await run(process.execPath, startArgs, { env }).catch((e: { code: number; stderr: string }) => e);
    expect((refused as { code: number }).code).toBe(1);
    expect((refused as { stderr: string }).stderr).toMatch(/too_few_dealers.*only 0 dealers dealt/);
    expect((refused as { stderr: string }).stderr).toMatch(/403 ceremony_not_approved: dkg phase "deal": ceremony cli-dkg-7 \(approval digest 0x[0-9a-f]{64}\) is not approved by this node's operator.*aegis dkg approve --config /);

    // Operator 1 reviews and approves with the CLI; the six others the same way in-process (the
    // same function), to spare the shared machine six more CLI start-ups.
    const approve = await run(process.execPath, [...AEGIS, 'dkg', 'approve', '--config', fx.nodes[0]!.configFile, ceremony], { env });
    expect(approve.stdout).toMatch(/ceremony cli-dkg-7: new key \(DKG\) to n=7, t=5/);
    expect(approve.stdout).toContain(`1 ${fx.nodes[0]!.identityKey}   <- this node`);
    expect(approve.stdout).toMatch(/this node 0x[0-9a-f]{64}: new member 1, dealer/);
    expect(approve.stdout).toMatch(/approved: .*dkg-approvals\/[0-9a-f]{64}\.json/);
    fx.approve(JSON.parse(readFileSync(ceremony, 'utf8')), { nodes: fx.nodes.slice(1) });
    const listed = await run(process.execPath, [...AEGIS, 'dkg', 'approvals', '--config', fx.nodes[0]!.configFile], { env });
    expect(listed.stdout).toMatch(/ceremony cli-dkg-7: new key/);

    const start = await run(process.execPath, startArgs, { env });
    expect(start.stdout).toMatch(/deal: 7 of 7 dealers dealt/);
    expect(start.stdout).toMatch(/complaints: 7 complaint messages, no complaints/);
    expect(start.stdout).toMatch(/finalize: 7 nodes finalized, qualified dealers 1, 2, 3, 4, 5, 6, 7/);
    expect(start.stdout).toMatch(/ceremony cli-dkg-7: done\. n=7 t=5/);
    for (const node of fx.nodes) expect(existsSync(node.shareFile)).toBe(true);
    expect((await loadShare(fx.nodes[6]!.shareFile)).index).toBe(7);

    const status = await run(process.execPath, [...AEGIS, 'dkg', 'status', '--ceremony', ceremony], { env });
    expect(status.stdout.match(/cli-dkg-7 \(dkg\): finalized/g)).toHaveLength(7);

    const verify = await run(process.execPath, [...AEGIS, 'dkg', 'verify', transcript, '--committee', committee], { env });
    expect(verify.stdout).toMatch(/valid\. ceremony cli-dkg-7, n=7 t=5/);
    expect(verify.stdout).toMatch(/committee file .* matches \(configVersion 1\)/);

    // The hub may be unknown at ceremony time: the committee file can be written afterwards,
    // and is the same file `start --committee-out` wrote.
    const later = join(fx.root, 'committee-later.json');
    const written = await run(process.execPath, [...AEGIS, 'dkg', 'committee', '--ceremony', ceremony, '--transcript', transcript, '--chain-id', '31337', '--hub', '0x0000000000000000000000000000000000000001', '--aggregator', fx.aggregatorKey, '-o', later], { env });
    expect(written.stdout).toMatch(/committee file .*committee-later\.json: n=7 t=5, chain 31337/);
    expect(JSON.parse(readFileSync(later, 'utf8'))).toEqual(JSON.parse(readFileSync(committee, 'utf8')));
    // Half a committee block is an error, not silently dropped.
    const half = await run(process.execPath, [...AEGIS, 'dkg', 'ceremony', '--id', 'cli-dkg-8', '--t', '5', ...urls.flatMap((u) => ['--node', u]), '--chain-id', '31337', '--out', join(fx.root, 'c8.json')], { env }).catch((e: { code: number; stderr: string }) => e);
    expect((half as { code: number }).code).toBe(1);
    expect((half as { stderr: string }).stderr).toMatch(/error \(bad_ceremony_file\): dkg: --chain-id\/--aggregator describe the committee file, which also needs --hub; .*aegis dkg committee --ceremony/);
    expect(existsSync(join(fx.root, 'c8.json'))).toBe(false);

    // A tampered transcript is refused with the reason, exit code 1.
    const bad = join(fx.root, 'bad.json');
    const json = JSON.parse(readFileSync(transcript, 'utf8'));
    json.result.qualified = [1, 2, 3, 4, 5];
    writeFileSync(bad, JSON.stringify(json));
    const failed = await run(process.execPath, [...AEGIS, 'dkg', 'verify', bad], { env }).catch((e: { code: number; stderr: string }) => e);
    expect((failed as { code: number }).code).toBe(1);
    expect((failed as { stderr: string }).stderr).toMatch(/claims qualified dealers 1, 2, 3, 4, 5 but its messages qualify 1, 2, 3, 4, 5, 6, 7/);
  }, 300_000); // five CLI processes, each starting tsx on a shared 2-core machine
});
