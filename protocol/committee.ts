/**
 * The public description of a committee that nodes, aggregators, the hub deployment and the
 * simulator share: chain, hub, config version, threshold, group key, and per node its index,
 * identity key, BLS public share and API address. A file in this shape (JSON) is the
 * "committee file" every process loads; the config digest is recomputed from it at start.
 */
import { z } from 'zod';
import { getBytes } from 'ethers';
import { assertThreshold, g2ToEip2537 } from './bls/index.ts';
import { computeConfigDigest } from './report.ts';

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
