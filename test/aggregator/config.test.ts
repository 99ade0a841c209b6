import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { loadConfig } from '../../aggregator/config.ts';
import { createIdentityKey, createTransmitterKey, loadIdentityKey, loadTransmitterKey, readPassword } from '../../aggregator/keys.ts';
import { makeTestCommittee } from '../../aggregator/testing/reference-node.ts';

let dir: string;
const tc = makeTestCommittee({ n: 4, urls: ['http://127.0.0.1:7401', 'http://127.0.0.1:7402', 'http://127.0.0.1:7403', 'http://127.0.0.1:7404'] });
const committeeJson = {
  chainId: 31337,
  hub: tc.committee.hub,
  configVersion: 1,
  t: tc.committee.t,
  groupPublicKey: tc.committee.groupPublicKey,
  nodes: tc.committee.nodes,
  aggregators: tc.committee.aggregators,
};
const base = {
  committee: './committee.json',
  identity: { keyFile: './id.json', password: { env: 'AGG_TEST_PW' } },
  transmitter: { keyFile: './tx.json', password: { file: './pw' } },
  chain: { rpcUrl: 'http://127.0.0.1:8545' },
  feeds: [{ name: 'BTC/USD' }, { name: 'ETH/USD', deviationPct: 1, heartbeatSec: 600 }],
};
function write(cfg: unknown, name = 'agg.yaml'): string {
  const f = join(dir, name);
  writeFileSync(f, stringify(cfg));
  return f;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'aegis-aggcfg-'));
  writeFileSync(join(dir, 'committee.json'), JSON.stringify(committeeJson));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('aggregator config', () => {
  it('applies defaults, resolves paths against the config folder, takes node URLs from the committee file', () => {
    const l = loadConfig(write(base));
    expect(l.config.feeds[0]).toEqual({ name: 'BTC/USD', deviationPct: 0.5, heartbeatSec: 3600 });
    expect(l.config.schedule).toEqual({ intervalMs: 5000, slotMs: 2000, position: 0, of: 1 });
    expect(l.config.db).toBe(join(dir, 'aggregator.db'));
    expect(l.config.transmitter.password).toEqual({ file: join(dir, 'pw') });
    expect(l.nodeUrls.get(3)).toBe('http://127.0.0.1:7403');
    expect(l.hub).toBe(tc.committee.hub);
    expect(l.feedIds).toHaveLength(2);
  });

  it.each([
    [{ ...base, feeds: [] }, /feeds: .*/],
    [{ ...base, feeds: [{ name: 'BTC/USD', deviationPct: -1 }] }, /feeds\.0\.deviationPct/],
    [{ ...base, chain: { rpcUrl: 'http://127.0.0.1:8545', hub: '0x' + '12'.repeat(20) } }, /chain.hub 0x1212.* differs from the committee file's hub/],
    [{ ...base, schedule: { intervalMs: 1000, slotMs: 600, position: 2, of: 2 } }, /schedule.position=2: must be from 0 to 1/],
    [{ ...base, schedule: { intervalMs: 1000, slotMs: 600, position: 2, of: 3 } }, /position 2 × slotMs 600 must be less than intervalMs 1000/],
    [{ ...base, feeds: [{ name: 'BTC/USD' }, { name: 'BTC/USD' }] }, /BTC\/USD listed twice/],
    [{ ...base, extra: 1 }, /extra|Unrecognized/i],
  ])('rejects a bad config with a message naming the field (%#)', (cfg, msg) => {
    expect(() => loadConfig(write(cfg))).toThrow(msg);
  });

  it('rejects a committee node without a loopback URL', () => {
    const bad = { ...committeeJson, nodes: committeeJson.nodes.map((n, k) => (k === 1 ? { ...n, url: 'http://10.0.0.2:7402' } : n)) };
    writeFileSync(join(dir, 'committee-bad.json'), JSON.stringify(bad));
    expect(() => loadConfig(write({ ...base, committee: './committee-bad.json' }))).toThrow(/node 2 url http:\/\/10.0.0.2:7402: must be a loopback URL/);
  });

  it('creates and loads both keys; a wrong password or missing password source is named', async () => {
    const id = await createIdentityKey(join(dir, 'id.json'), 'pw-1', { fast: true });
    const tx = await createTransmitterKey(join(dir, 'tx.json'), 'pw-1', { fast: true });
    expect((await loadIdentityKey(join(dir, 'id.json'), 'pw-1')).publicKey).toBe(id.publicKey);
    expect((await loadTransmitterKey(join(dir, 'tx.json'), 'pw-1')).address).toBe(tx.address);
    await expect(loadIdentityKey(join(dir, 'id.json'), 'nope')).rejects.toThrow(/identity key .*id.json: cannot decrypt/);
    await expect(loadTransmitterKey(join(dir, 'tx.json'), 'nope')).rejects.toThrow(/transmitter key .*tx.json: cannot decrypt/);
    await expect(createIdentityKey(join(dir, 'id.json'), 'pw-1', { fast: true })).rejects.toThrow(/already exists/);
    expect(() => readPassword({ env: 'AEGIS_SURELY_UNSET_VAR' }, {})).toThrow(/AEGIS_SURELY_UNSET_VAR is not set/);
  });
});
