/**
 * Ceremony fixture over loopback: n node directories (identity keystore, password file, YAML
 * config as an operator writes it), each serving the real ceremony endpoints of `node/dkg`
 * (`startDkgServer`, the same router `startNode` mounts) on its own HTTP port, plus a
 * coordinator key the nodes allow (`dkg.coordinators` in each config) and a separate
 * aggregator key for the committee files (nodes refuse a coordinator that is an aggregator).
 *
 * Nodes deal only in ceremonies their operator approved: `approve(file)` plays every
 * operator's `aegis dkg approve` (the same function, writing into each node's
 * `dkg-approvals` folder). Everything started is stopped by `close()`.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { stringify } from 'yaml';
import { loadNodeConfig } from '../../node/config.ts';
import { importIdentity, loadBlsShare, type KdfChoice } from '../../node/keys/index.ts';
import type { ApprovalRecord } from '../../node/dkg/approvals.ts';
import { approveCeremonyFile, startDkgServer, type DkgServer } from '../../node/dkg/server.ts';

export const KDF: KdfChoice = { function: 'pbkdf2', c: 16 };
export const SHARE_PASSWORD = 'dkg share password';

export interface DkgNode {
  dir: string;
  configFile: string;
  identitySecret: Uint8Array;
  identityKey: string;
  server?: DkgServer;
  url: string;
  shareFile: string;
}

export interface DkgFixture {
  root: string;
  nodes: DkgNode[];
  coordinatorSecret: Uint8Array;
  coordinatorKey: string;
  /** An aggregator identity for committee blocks: not a coordinator. */
  aggregatorKey: string;
  /**
   * Every listed node's operator approves the ceremony file (`aegis dkg approve`); by default
   * the nodes of the fixture that take part in it.
   */
  approve(file: unknown, opts?: { nodes?: readonly DkgNode[]; allowLowerThreshold?: boolean }): ApprovalRecord[];
  /** Writes the committee file (`committee.json` in each node directory, as the config names it). */
  installCommittee(committee: unknown, nodes?: readonly DkgNode[]): void;
  /** Adds `count` more node directories (not started). */
  addNodes(count: number): Promise<DkgNode[]>;
  start(node: DkgNode): Promise<void>;
  stop(node: DkgNode): Promise<void>;
  close(): Promise<void>;
}

export async function setupDkgNodes(n: number, opts: { start?: boolean } = {}): Promise<DkgFixture> {
  const root = mkdtempSync(join(tmpdir(), 'aegis-dkg-e2e-'));
  const coordinatorSecret = ed25519.utils.randomSecretKey();
  const coordinatorKey = `0x${bytesToHex(ed25519.getPublicKey(coordinatorSecret))}`;
  const aggregatorKey = `0x${bytesToHex(ed25519.getPublicKey(ed25519.utils.randomSecretKey()))}`;
  const nodes: DkgNode[] = [];

  async function makeNode(): Promise<DkgNode> {
    const dir = join(root, `node${nodes.length + 1}`);
    mkdirSync(dir);
    const identitySecret = ed25519.utils.randomSecretKey();
    await importIdentity(join(dir, 'identity.json'), bytesToHex(identitySecret), { password: SHARE_PASSWORD, kdf: KDF });
    writeFileSync(join(dir, 'password'), `${SHARE_PASSWORD}\n`, { mode: 0o600 });
    const config = {
      listen: { host: '127.0.0.1', port: 0 },
      committee: './committee.json',
      keys: { identity: { path: './identity.json', passwordFile: './password' }, share: { path: './share.json', passwordFile: './password' } },
      store: './signing.sqlite',
      feeds: [{ name: 'BTC/USD', minSources: 1, sources: [{ venue: 'coinbase', baseUrl: 'http://127.0.0.1:9' }] }],
      log: { level: 'silent' },
      dkg: { coordinators: [coordinatorKey] },
    };
    const configFile = join(dir, 'node.yaml');
    writeFileSync(configFile, stringify(config));
    const node: DkgNode = { dir, configFile, identitySecret, identityKey: `0x${bytesToHex(ed25519.getPublicKey(identitySecret))}`, url: '', shareFile: join(dir, 'share.json') };
    nodes.push(node);
    return node;
  }

  const fx: DkgFixture = {
    root,
    nodes,
    coordinatorSecret,
    coordinatorKey,
    aggregatorKey,
    approve(file, o = {}) {
      const f = file as { participants?: { identityKey?: string }[]; previous?: { dealers?: { identityKey?: string }[] } };
      const listed = new Set([...(f.participants ?? []), ...(f.previous?.dealers ?? [])].map((p) => String(p.identityKey).toLowerCase()));
      const who = o.nodes ?? nodes.filter((n) => listed.has(n.identityKey));
      return who.map((n) => approveCeremonyFile(loadNodeConfig(n.configFile), file, { allowLowerThreshold: o.allowLowerThreshold ?? false }));
    },
    installCommittee(committee, who = nodes) {
      for (const n of who) writeFileSync(join(n.dir, 'committee.json'), `${JSON.stringify(committee, null, 2)}\n`);
    },
    async addNodes(count) {
      const out: DkgNode[] = [];
      for (let k = 0; k < count; k++) out.push(await makeNode());
      return out;
    },
    async start(node) {
      node.server = await startDkgServer(node.configFile, { port: 0, kdf: KDF });
      node.url = node.server.url;
    },
    async stop(node) {
      await node.server?.close();
      delete node.server;
    },
    async close() {
      for (const node of nodes) await node.server?.close().catch(() => undefined);
      rmSync(root, { recursive: true, force: true });
    },
  };
  await fx.addNodes(n);
  if (opts.start !== false) for (const node of nodes) await fx.start(node);
  return fx;
}

/** An unused loopback URL (nothing listens there): an offline participant. */
export function offlineUrl(k: number): string {
  return `http://127.0.0.1:${9 + k}`;
}

export async function loadShare(file: string) {
  return loadBlsShare(file, SHARE_PASSWORD);
}
