/**
 * The aggregator's choice of hub when the committee file lists several (docs/design.md
 * §Committee file): `chain.deployment` by name or chain id, `chain.hub` to pick or check; the
 * loaded committee is the chosen hub's view (its digest is that hub's).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { loadConfig } from '../../aggregator/config.ts';
import { committeeConfigDigest, committeeDeployments, parseCommittee } from '../../protocol/index.ts';
import { makeTestCommittee } from '../../testkit/reference-node/node.ts';

let dir: string;
const tc = makeTestCommittee({ n: 4, urls: ['http://127.0.0.1:7401', 'http://127.0.0.1:7402', 'http://127.0.0.1:7403', 'http://127.0.0.1:7404'] });
const OTHER_HUB = '0x' + 'cd'.repeat(20);
const committeeJson = {
  chainId: 31337,
  hub: tc.committee.hub,
  configVersion: 1,
  deployments: [
    { chainId: 8453, hub: tc.committee.hub, configVersion: 4, name: 'base' },
    { chainId: 10, hub: OTHER_HUB, configVersion: 1 },
  ],
  t: tc.committee.t,
  groupPublicKey: tc.committee.groupPublicKey,
  nodes: tc.committee.nodes,
  aggregators: tc.committee.aggregators,
};
const config = (chain: Record<string, unknown>) => ({
  committee: './committee.json',
  identity: { path: './id.json', passwordEnv: 'AGG_PW' },
  transmitter: { path: './tx.json', passwordEnv: 'AGG_PW' },
  chain: { rpcUrl: 'http://127.0.0.1:8545', ...chain },
  feeds: [{ name: 'BTC/USD' }],
});
let k = 0;
function load(chain: Record<string, unknown>) {
  const f = join(dir, `agg${k++}.yaml`);
  writeFileSync(f, stringify(config(chain)));
  return loadConfig(f);
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'aegis-aggdep-'));
  writeFileSync(join(dir, 'committee.json'), JSON.stringify(committeeJson));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('aggregator config: which hub', () => {
  const all = committeeDeployments(parseCommittee(committeeJson));

  it('defaults to the primary hub', () => {
    const l = load({});
    expect([l.committee.chainId, l.hub, l.deployment.primary]).toEqual([31337n, tc.committee.hub, true]);
    expect(committeeConfigDigest(l.committee).toLowerCase()).toBe(all[0]!.configDigest);
  });

  it('picks a deployment by name, by chain id (number or string), or by hub', () => {
    const byName = load({ deployment: 'base' });
    expect([byName.committee.chainId, byName.committee.configVersion, byName.committee.deployments]).toEqual([8453n, 4n, undefined]);
    expect(committeeConfigDigest(byName.committee).toLowerCase()).toBe(all[1]!.configDigest);
    expect(load({ deployment: 8453 }).deployment.name).toBe('base');
    expect(load({ deployment: '10' }).hub).toBe(OTHER_HUB);
    expect(load({ hub: OTHER_HUB }).committee.chainId).toBe(10n);
    expect(load({ deployment: 'base', hub: tc.committee.hub }).committee.chainId).toBe(8453n);
  });

  it('refuses a hub or deployment the committee file does not list, naming the ones it does', () => {
    expect(() => load({ deployment: 'arbitrum' })).toThrow(/chain\.deployment arbitrum: committee deployments: none is name arbitrum; the committee file lists \(chain 31337, hub 0x.*base \(chain 8453/);
    expect(() => load({ deployment: 'base', hub: OTHER_HUB })).toThrow(/chain\.deployment base, chain\.hub 0xcdcd.*: committee deployments: none is name base, hub 0xcdcd/);
    // The same hub address on two chains: the hub alone does not choose.
    expect(() => load({ hub: tc.committee.hub })).toThrow(/chain\.hub 0x[0-9a-fA-F]{40}: committee deployments: 2 match hub .*give the name or chain id too/);
    expect(() => load({ hub: '0x' + '12'.repeat(20) })).toThrow(/chain\.hub 0x1212.* differs from the committee file's hub \(chain 31337/);
  });
});
