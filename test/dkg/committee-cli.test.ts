/**
 * `aegis dkg committee --deployment CHAIN_ID:HUB[:NAME]`: the committee file of a finished
 * ceremony lists further hubs (docs/design.md §Committee file), each at the committee's config
 * version, and a malformed or duplicate entry is refused by name before anything is written.
 * The ceremony runs in memory (test/dkg/harness.ts); the command runs as the operator runs it.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parseDeploymentOption } from '../../node/dkg/cli.ts';
import { committeeDeployments, parseCommittee } from '../../protocol/committee.ts';
import { ceremonyFor, dkgPlayers, makeNodes, run } from './harness.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const AEGIS = ['--import', 'tsx', 'scripts/aegis.ts'];
const dir = mkdtempSync(join(tmpdir(), 'aegis-dkg-committee-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HUB = '0x00000000000000000000000000000000000000aa';
const BASE_HUB = '0x00000000000000000000000000000000000000bb';

describe('parseDeploymentOption', () => {
  it('reads CHAIN_ID:HUB[:NAME] at the given config version', () => {
    expect(parseDeploymentOption(`8453:${BASE_HUB}:base`, 1)).toEqual({ chainId: 8453, hub: BASE_HUB, configVersion: 1, name: 'base' });
    expect(parseDeploymentOption(`10:${BASE_HUB}`, 3)).toEqual({ chainId: 10, hub: BASE_HUB, configVersion: 3 });
  });
  it.each([['base'], [`${BASE_HUB}:8453`], ['8453:0x1234'], [`0:${BASE_HUB}`], [`8453:${BASE_HUB}:`]])('refuses %s, naming the form', (v) => {
    expect(() => parseDeploymentOption(v, 1)).toThrow(`--deployment ${v}: expected CHAIN_ID:HUB[:NAME], such as 8453:0x<hub address>:base`);
  });
});

describe('aegis dkg committee --deployment', () => {
  const nodes = makeNodes(3);
  const ceremony = ceremonyFor('committee-deployments', 2, nodes);
  const transcript = run(dkgPlayers(ceremony, nodes)).outputs.get('1')!.transcript;
  const ceremonyFile = join(dir, 'ceremony.json');
  const transcriptFile = join(dir, 'transcript.json');
  writeFileSync(ceremonyFile, JSON.stringify({ ...ceremony, participants: ceremony.participants.map((p) => ({ ...p, url: `http://127.0.0.1:${7400 + p.index}` })) }));
  writeFileSync(transcriptFile, JSON.stringify(transcript));
  const aegis = (args: string[]) => promisify(execFile)(process.execPath, [...AEGIS, 'dkg', 'committee', '--ceremony', ceremonyFile, '--transcript', transcriptFile, '--chain-id', '1', '--hub', HUB, ...args], { cwd: ROOT });

  it('writes every --deployment under "deployments", the primary unchanged, and prints each hub', async () => {
    const out = join(dir, 'committee.json');
    const r = await aegis(['--deployment', `8453:${BASE_HUB}:base`, '--deployment', `10:${BASE_HUB}`, '-o', out]);
    const file = JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown>;
    expect(file).toMatchObject({ chainId: 1, hub: HUB, configVersion: 1, deployments: [{ chainId: 8453, hub: BASE_HUB, configVersion: 1, name: 'base' }, { chainId: 10, hub: BASE_HUB, configVersion: 1 }] });
    expect(committeeDeployments(parseCommittee(file)).map((d) => [String(d.chainId), d.name])).toEqual([['1', undefined], ['8453', 'base'], ['10', undefined]]);
    expect(r.stdout).toContain(`also base (chain 8453, hub ${BASE_HUB}), configVersion 1`);
    expect(r.stdout).toContain(`also (chain 10, hub ${BASE_HUB}), configVersion 1`);
    // Without --deployment: the file has no "deployments" field (its digest is the one it always had).
    const plain = join(dir, 'plain.json');
    await aegis(['-o', plain]);
    expect(JSON.parse(readFileSync(plain, 'utf8'))).not.toHaveProperty('deployments');
  });

  it('refuses a malformed entry and a hub listed twice, writing nothing', async () => {
    const out = join(dir, 'refused.json');
    const bad = await aegis(['--deployment', `base:${BASE_HUB}`, '-o', out]).catch((e: { code: number; stderr: string }) => e);
    expect(bad).toMatchObject({ code: 1, stderr: expect.stringContaining(`--deployment base:${BASE_HUB}: expected CHAIN_ID:HUB[:NAME]`) });
    const twice = await aegis(['--deployment', `1:${HUB}:again`, '-o', out]).catch((e: { code: number; stderr: string }) => e);
    expect(twice).toMatchObject({ code: 1, stderr: expect.stringMatching(/hub 0x0+aa on chain 1 is listed twice \(the primary deployment \(chainId, hub\) and deployments\.0\); list each hub once/) });
    expect(existsSync(out)).toBe(false);
  });
});
