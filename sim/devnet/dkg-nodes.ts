/**
 * Ceremony fixture over loopback: n node directories (identity keystore, password file, YAML
 * config as an operator writes it), each serving the real ceremony endpoints of `node/dkg`
 * (`startDkgServer`, the same router `startNode` mounts) on its own HTTP port, plus a
 * coordinator key the nodes allow. Everything started is stopped by `close()`.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { stringify } from 'yaml';
import { importIdentity, loadBlsShare, type KdfChoice } from '../../node/keys/index.ts';
import { startDkgServer, type DkgServer } from '../../node/dkg/server.ts';

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
    async addNodes(count) {
      const out: DkgNode[] = [];
      for (let k = 0; k < count; k++) out.push(await makeNode());
      return out;
    },
    async start(node) {
      node.server = await startDkgServer(node.configFile, { port: 0, coordinators: [coordinatorKey], kdf: KDF });
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
