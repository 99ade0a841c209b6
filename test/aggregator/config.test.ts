import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { loadConfig } from '../../aggregator/config.ts';
import { createIdentityKey, createTransmitterKey, loadIdentityKey, loadTransmitterKey, readPassword } from '../../aggregator/keys.ts';
import { makeTestCommittee } from '../../testkit/reference-node/node.ts';
import { makeTlsFixture, pem, TLS_SKIP } from '../fixtures/tls.ts';

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
    expect(l.config.transmitter).toEqual({ path: join(dir, 'tx.json'), passwordFile: join(dir, 'pw') });
    expect(l.warnings).toEqual([expect.stringMatching(/identity: \{ keyFile, password \} is the old spelling; write \{ path: \.\/id\.json, passwordEnv: … \} as in the node's config/), expect.stringMatching(/^config .*: transmitter: /)]);
    expect(l.nodeUrls.get(3)).toBe('http://127.0.0.1:7403');
    expect(l.hub).toBe(tc.committee.hub);
    expect(l.feedIds).toHaveLength(2);
  });

  it("reads the node's keystore spelling without a warning", () => {
    const l = loadConfig(write({ ...base, identity: { path: './id.json', passwordEnv: 'AGG_PW' }, transmitter: { path: './tx.json', passwordFile: './pw' } }, 'agg-new.yaml'));
    expect(l.warnings).toEqual([]);
    expect(l.config.identity).toEqual({ path: join(dir, 'id.json'), passwordEnv: 'AGG_PW' });
    expect(() => loadConfig(write({ ...base, identity: { path: './id.json', passwordEnv: 'AGG_PW', passwordFile: './pw' } }, 'agg-both.yaml'))).toThrow(/identity/);
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

  function withNode2(patch: Record<string, unknown>, name: string): string {
    const c = { ...committeeJson, nodes: committeeJson.nodes.map((n, k) => (k === 1 ? { ...n, ...patch } : n)) };
    writeFileSync(join(dir, name), JSON.stringify(c));
    return `./${name}`;
  }

  it('takes node URLs on other machines, and reads the listen host, TLS and timeout fields', () => {
    const l = loadConfig(write({ ...base, committee: withNode2({ url: 'http://10.0.0.2:7402' }, 'committee-remote.json'), listen: { host: '0.0.0.0' }, nodeTransport: { connectTimeoutMs: 3000, idleMs: 55_000 }, chain: { rpcUrl: 'http://10.0.0.9:8545', rpcTimeoutMs: 20_000 } }));
    expect(l.nodeUrls.get(2)).toBe('http://10.0.0.2:7402');
    expect(l.config.listen).toEqual({ host: '0.0.0.0', port: 7600 });
    expect(l.config.nodeTransport).toEqual({ connectTimeoutMs: 3000, idleMs: 55_000 });
    expect(l.config.chain.rpcTimeoutMs).toBe(20_000);
    const d = loadConfig(write(base));
    expect(d.config.listen).toEqual({ host: '127.0.0.1', port: 7600 });
    expect(d.config.nodeTransport).toEqual({ idleMs: 4000 });
    expect(d.config.chain.rpcTimeoutMs).toBe(10_000);
    expect(d.nodeTls.size).toBe(0);
  });

  it.each([
    [{ listen: { host: 'aggregator.example', port: 7600 } }, /listen\.host: "aggregator\.example" is not an IP address; give 127\.0\.0\.1/],
    [{ listen: { port: 7600, tls: { cert: './missing.pem', key: './missing.key' } } }, /listen\.tls\.cert: cannot read .*missing\.pem \(ENOENT\); give the PEM certificate file/],
    [{ nodeTransport: { idleMs: 10 } }, /nodeTransport\.idleMs/],
  ])('names the field of a bad listen or transport setting (%#)', (patch, msg) => {
    expect(() => loadConfig(write({ ...base, ...patch }))).toThrow(msg);
  });

  it.each([
    [{ url: 'https://10.0.0.2:7402' }, /node 2 url https:\/\/10\.0\.0\.2:7402 is https but the node has no "tls" pin; add "tls"/],
    [{ tls: { certSha256: 'ab'.repeat(32) } }, /node 2 has a "tls" pin but url http:\/\/127\.0\.0\.1:7402 is plain http; use https/],
    [{ url: 'https://10.0.0.2:7402', tls: {} }, /tls: give ca \(PEM text or file\) or certSha256/],
    [{ url: 'https://10.0.0.2:7402', tls: { certSha256: 'abcd' } }, /certSha256: expected the SHA-256 fingerprint/],
    [{ url: 'https://10.0.0.2:7402', tls: { ca: './node2-ca.pem' } }, /node 2: tls\.ca: cannot read .*node2-ca\.pem \(ENOENT\); give a PEM file path relative to the committee file, or the PEM text itself/],
    [{ url: 'https://10.0.0.2:7402', tls: { ca: '-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----' } }, /node 2: tls\.ca: a certificate does not parse/],
    [{ url: 'ftp://10.0.0.2/' }, /node 2 url ftp:\/\/10\.0\.0\.2\/: expected an http:\/\/ or https:\/\/ URL/],
  ])('refuses a node whose TLS pin is missing or unusable, naming the node and the fix (%#)', (patch, msg) => {
    expect(() => loadConfig(write({ ...base, committee: withNode2(patch, 'committee-tls-bad.json') }))).toThrow(msg);
  });

  it.skipIf(TLS_SKIP !== undefined)(`reads a node's CA pin from a file beside the committee file, or inline, and normalizes the fingerprint${TLS_SKIP ? ` (${TLS_SKIP})` : ''}`, () => {
    const tls = makeTlsFixture(join(dir, 'tls'));
    const fp = tls.certSha256.toUpperCase().match(/../g)!.join(':');
    const byFile = loadConfig(write({ ...base, committee: withNode2({ url: 'https://127.0.0.1:7402', tls: { ca: './tls/ca.pem', certSha256: fp } }, 'committee-tls.json') }));
    expect(byFile.nodeTls.get(2)).toEqual({ ca: pem(tls.ca), certSha256: tls.certSha256 });
    const inline = loadConfig(write({ ...base, committee: withNode2({ url: 'https://127.0.0.1:7402', tls: { ca: pem(tls.ca) } }, 'committee-tls-inline.json') }));
    expect(inline.nodeTls.get(2)).toEqual({ ca: pem(tls.ca) });
    expect(() => loadConfig(write({ ...base, listen: { port: 0, tls: { cert: './tls/node.pem', key: './tls/impostor.key' } } }))).toThrow(/listen\.tls: the key in .*impostor\.key does not belong to the certificate/);
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
