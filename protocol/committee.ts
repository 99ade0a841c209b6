/**
 * The public description of a committee that nodes, aggregators, the hub deployment and the
 * simulator share: chain, hub, config version, threshold, group key, and per node its index,
 * identity key, BLS public share, API address and, for a TLS node, its certificate pin. A file
 * in this shape (JSON) is the "committee file" every process loads; the config digest is
 * recomputed from it at start.
 *
 * One committee can serve several hubs (docs/design.md §Committee file): `chainId`, `hub` and
 * `configVersion` name the primary deployment (so a file without `deployments` keeps its
 * digest byte for byte), and `deployments` lists further hubs of the same group key, n, t and
 * nodes. Each hub has its own config digest, which binds the chain id and hub address, so a
 * report signed for one hub never verifies on another; `committeeDeployments` lists them all.
 */
import { z } from 'zod';
import { getBytes } from 'ethers';
import { assertThreshold, g2ToEip2537 } from './bls/index.ts';
import { computeConfigDigest } from './report.ts';

/**
 * How an aggregator authenticates a node served over TLS (`https://` url): `ca`, the only
 * certificates it trusts for that node (PEM text, or a PEM file path relative to the committee
 * file; the node's own self-signed certificate works), and/or `certSha256`, the SHA-256
 * fingerprint of the exact certificate the node must present (hex, colons allowed, as
 * `openssl x509 -fingerprint -sha256` prints it). Without `ca` the chain is checked against the
 * public CAs and the fingerprint then pins the leaf; either way a certificate other than the
 * pinned one is refused even if a public CA vouches for it.
 */
export const NodeTlsPinSchema = z
  .strictObject({
    ca: z.string().min(1, 'give the PEM text or the path of a PEM file').optional(),
    certSha256: z
      .string()
      .regex(/^(?:[0-9a-fA-F]{64}|(?:[0-9a-fA-F]{2}:){31}[0-9a-fA-F]{2})$/, 'expected the SHA-256 fingerprint of the certificate: 64 hex digits, colons allowed (openssl x509 -noout -fingerprint -sha256 -in cert.pem)')
      .optional(),
  })
  .refine((t) => t.ca !== undefined || t.certSha256 !== undefined, { message: 'give ca (PEM text or file) or certSha256 (or both): an https node is always pinned' });

const hexBytes = (n: number) => z.string().regex(new RegExp(`^0x[0-9a-fA-F]{${n * 2}}$`), `expected 0x-prefixed ${n}-byte hex`);
const chainIdField = z.union([z.number().int().positive(), z.string().regex(/^\d+$/)]).transform((v) => BigInt(v));
const hubField = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'expected a 20-byte 0x address');
const configVersionField = z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/)]).transform((v) => BigInt(v));

/**
 * A further hub of the same committee: its chain, address and the config version that hub
 * holds (each hub rotates on its own, so versions may differ), and an optional name the
 * aggregator config and logs use (`deployment: base`).
 */
export const DeploymentSchema = z.strictObject({
  chainId: chainIdField,
  hub: hubField,
  configVersion: configVersionField,
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'expected a short name: letters, digits, . _ - (such as base or arbitrum-one)').optional(),
});

export const CommitteeSchema = z.strictObject({
  chainId: chainIdField,
  hub: hubField,
  configVersion: configVersionField,
  /** Further hubs this committee signs for (docs/design.md §Committee file); the primary is chainId/hub above. */
  deployments: z.array(DeploymentSchema).max(64).optional(),
  t: z.number().int().min(1),
  groupPublicKey: hexBytes(96),
  nodes: z
    .array(
      z.strictObject({
        index: z.number().int().min(1).max(256),
        identityKey: hexBytes(32),
        publicShare: hexBytes(96),
        url: z.string().url().optional(),
        /** Certificate pin for an `https://` url (see NodeTlsPinSchema); not part of the config digest. */
        tls: NodeTlsPinSchema.optional(),
      }),
    )
    .min(1)
    .max(256),
  aggregators: z.array(z.strictObject({ identityKey: hexBytes(32), name: z.string().optional() })).default([]),
}).superRefine((c, ctx) => {
  // Two entries for one hub would give it two digests (two configVersions) or list it twice:
  // either way a node could sign two reports for one hub and epoch under different scopes.
  const seen = new Map<string, string>();
  const names = new Map<string, string>();
  const all = [{ chainId: c.chainId, hub: c.hub, name: undefined as string | undefined }, ...(c.deployments ?? [])];
  all.forEach((d, k) => {
    const where = k === 0 ? 'the primary deployment (chainId, hub)' : `deployments.${k - 1}`;
    const key = `${d.chainId}:${d.hub.toLowerCase()}`;
    const before = seen.get(key);
    if (before !== undefined) {
      ctx.addIssue({ code: 'custom', path: k === 0 ? [] : ['deployments', k - 1], message: `hub ${d.hub} on chain ${d.chainId} is listed twice (${before} and ${where}); list each hub once` });
    } else seen.set(key, where);
    if (d.name !== undefined) {
      const prior = names.get(d.name);
      if (prior !== undefined) ctx.addIssue({ code: 'custom', path: ['deployments', k - 1, 'name'], message: `name ${d.name} is used twice (${prior} and ${where}); give each deployment its own name` });
      else names.set(d.name, where);
    }
  });
});
export type Committee = z.output<typeof CommitteeSchema>;
export type CommitteeInput = z.input<typeof CommitteeSchema>;

/** Parses and checks a committee: threshold rules, indices 1..n each once. */
export function parseCommittee(input: unknown): Committee {
  const c = CommitteeSchema.parse(input);
  assertThreshold(c.t, c.nodes.length);
  const indices = c.nodes.map((x) => x.index).sort((a, b) => a - b);
  indices.forEach((i, k) => {
    if (i !== k + 1) throw new RangeError(`committee nodes: indices must be 1..${c.nodes.length} each once, got ${indices.join(',')}`);
  });
  return c;
}

/** The config digest of the committee's primary deployment (chainId, hub, configVersion at top level). */
export function committeeConfigDigest(c: Committee): string {
  return computeConfigDigest({
    chainId: c.chainId,
    hub: c.hub,
    configVersion: c.configVersion,
    groupPublicKey: g2ToEip2537(getBytes(c.groupPublicKey)),
    n: c.nodes.length,
    t: c.t,
  });
}

/** Public shares in index order (position i−1 for node i), as batch verification takes them. */
export function publicSharesOf(c: Committee): Uint8Array[] {
  return [...c.nodes].sort((a, b) => a.index - b.index).map((x) => getBytes(x.publicShare));
}

/** One hub a committee signs for, with the config digest that hub holds. */
export interface CommitteeDeployment {
  chainId: bigint;
  hub: string;
  configVersion: bigint;
  /** The deployment's name, when the committee file gives one (the primary has none). */
  name?: string;
  /** True for the top-level chainId/hub/configVersion. */
  primary: boolean;
  /** Lower-case 0x hex. */
  configDigest: string;
}

/** Every deployment of the committee, the primary first, each with its config digest. */
export function committeeDeployments(c: Committee): CommitteeDeployment[] {
  const list = [{ chainId: c.chainId, hub: c.hub, configVersion: c.configVersion, name: undefined as string | undefined }, ...(c.deployments ?? [])];
  return list.map((d, k) => ({
    chainId: d.chainId,
    hub: d.hub,
    configVersion: d.configVersion,
    ...(d.name !== undefined ? { name: d.name } : {}),
    primary: k === 0,
    configDigest: committeeConfigDigest({ ...c, chainId: d.chainId, hub: d.hub, configVersion: d.configVersion }).toLowerCase(),
  }));
}

/** How logs and errors name a deployment: `base (chain 8453, hub 0x…)`. */
export function deploymentLabel(d: Pick<CommitteeDeployment, 'chainId' | 'hub' | 'name'>): string {
  return `${d.name !== undefined ? `${d.name} ` : ''}(chain ${d.chainId}, hub ${d.hub})`;
}

/**
 * The committee as one hub sees it: that deployment's chainId, hub and configVersion at the top
 * level and no further deployments, so `committeeConfigDigest` of the result is that hub's
 * digest and code written for one hub (round engine, transmitter, signer) runs unchanged.
 */
export function committeeForDeployment(c: Committee, d: Pick<CommitteeDeployment, 'chainId' | 'hub' | 'configVersion'>): Committee {
  const { deployments: _rest, ...base } = c;
  return { ...base, chainId: d.chainId, hub: d.hub, configVersion: d.configVersion };
}

/**
 * Picks one deployment by name, chain id and/or hub (every one given must match). With nothing
 * given, the primary. Throws a RangeError naming the deployments there are when none or several match.
 */
export function selectDeployment(c: Committee, want: { name?: string | undefined; chainId?: bigint | undefined; hub?: string | undefined }): CommitteeDeployment {
  const all = committeeDeployments(c);
  if (want.name === undefined && want.chainId === undefined && want.hub === undefined) return all[0]!;
  const hits = all.filter(
    (d) =>
      (want.name === undefined || d.name === want.name) &&
      (want.chainId === undefined || d.chainId === want.chainId) &&
      (want.hub === undefined || d.hub.toLowerCase() === want.hub.toLowerCase()),
  );
  const asked = [want.name !== undefined ? `name ${want.name}` : '', want.chainId !== undefined ? `chain ${want.chainId}` : '', want.hub !== undefined ? `hub ${want.hub}` : ''].filter(Boolean).join(', ');
  const listed = all.map(deploymentLabel).join('; ');
  if (hits.length === 0) throw new RangeError(`committee deployments: none is ${asked}; the committee file lists ${listed}`);
  if (hits.length > 1) throw new RangeError(`committee deployments: ${hits.length} match ${asked} (${hits.map(deploymentLabel).join('; ')}); give the name or chain id too`);
  return hits[0]!;
}
