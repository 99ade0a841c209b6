/**
 * The public description of a committee that nodes, aggregators, the hub deployment and the
 * simulator share: chain, hub, config version, threshold, group key, and per node its index,
 * identity key, BLS public share, API address and, for a TLS node, its certificate pin. A file
 * in this shape (JSON) is the "committee file" every process loads; the config digest is
 * recomputed from it at start.
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

export const CommitteeSchema = z.strictObject({
  chainId: z.union([z.number().int().positive(), z.string().regex(/^\d+$/)]).transform((v) => BigInt(v)),
  hub: z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'expected a 20-byte 0x address'),
  configVersion: z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/)]).transform((v) => BigInt(v)),
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
