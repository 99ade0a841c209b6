/**
 * The ceremony file: the protocol's ceremony description plus transport and deployment data
 * the signatures do not cover (a `url` on each participant and previous dealer, and an optional
 * `committee` block — chainId, hub, configVersion, deployments, aggregators — for the committee
 * file). A resharing carries every hub of the current committee forward (docs/design.md
 * §Committee file), each at its own configVersion + 1: the version that hub reaches when it
 * rotates (`aegis dkg rotate --deployment`, once per hub).
 * Building one (`aegis dkg ceremony`), splitting it into the signed description and the
 * transport plan, and the committee file of a finished ceremony.
 */
import { z } from 'zod';
import { parseCommittee, type Committee, type CommitteeInput } from '../../protocol/index.ts';
import { parseCeremony, type Ceremony, type TranscriptVerification } from '../../protocol/dkg/index.ts';
import { fetchCeremonyKeys } from './client.ts';
import { CoordinatorError } from './coordinator-error.ts';

const hex = (n: number) => z.string().regex(new RegExp(`^0x[0-9a-f]{${n * 2}}$`), `expected 0x-prefixed lowercase ${n}-byte hex`);
const url = z.url({ message: 'expected the node API URL, e.g. http://127.0.0.1:7401' });

export const CommitteeBaseSchema = z.strictObject({
  chainId: z.union([z.number().int().positive(), z.string().regex(/^\d+$/)]),
  hub: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
  /** configVersion of the committee this ceremony produces. */
  configVersion: z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/)]),
  /** Further hubs of the committee this ceremony produces, each with its configVersion after the rotation. */
  deployments: z
    .array(
      z.strictObject({
        chainId: z.union([z.number().int().positive(), z.string().regex(/^\d+$/)]),
        hub: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
        configVersion: z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/)]),
        name: z.string().optional(),
      }),
    )
    .optional(),
  aggregators: z.array(z.strictObject({ identityKey: hex(32), name: z.string().optional() })).default([]),
});

export const CeremonyFileSchema = z.looseObject({
  participants: z.array(z.looseObject({ index: z.number(), identityKey: z.string(), url })),
  previous: z.looseObject({ dealers: z.array(z.looseObject({ index: z.number(), identityKey: z.string(), url })) }).optional(),
  committee: CommitteeBaseSchema.optional(),
});
export type CeremonyFile = z.input<typeof CeremonyFileSchema> & Record<string, unknown>;

export interface Plan {
  ceremony: Ceremony;
  /** One entry per distinct node (a current member that stays is one node with two roles). */
  nodes: PlanNode[];
  committee?: z.output<typeof CommitteeBaseSchema>;
}

export interface PlanNode {
  url: string;
  identityKey: string;
  recipient?: number;
  dealer?: number;
  label: string;
}

/** Splits a ceremony file into the signed ceremony description and the transport plan. */
export function planOf(file: unknown): Plan {
  const parsed = CeremonyFileSchema.safeParse(file);
  if (!parsed.success) throw new CoordinatorError('bad_ceremony_file', `ceremony file: ${z.prettifyError(parsed.error).replace(/\n/g, '; ')}`);
  const { committee, ...rest } = parsed.data as Record<string, unknown> & { committee?: z.output<typeof CommitteeBaseSchema> };
  const strip = <T extends { url?: unknown }>(x: T) => {
    const { url: _u, ...y } = x;
    return y;
  };
  const f = rest as { participants: { url: string; index: number; identityKey: string }[]; previous?: { dealers: { url: string; index: number; identityKey: string }[] } };
  const description = {
    ...rest,
    participants: f.participants.map(strip),
    ...(f.previous ? { previous: { ...f.previous, dealers: f.previous.dealers.map(strip) } } : {}),
  };
  let ceremony: Ceremony;
  try {
    ceremony = parseCeremony(description);
  } catch (err) {
    throw new CoordinatorError('bad_ceremony_file', (err as Error).message);
  }
  const byKey = new Map<string, PlanNode>();
  const add = (identityKey: string, nodeUrl: string, role: 'recipient' | 'dealer', index: number) => {
    const n = byKey.get(identityKey) ?? { url: nodeUrl, identityKey, label: '' };
    if (n.url !== nodeUrl) throw new CoordinatorError('bad_ceremony_file', `ceremony file: identity key ${identityKey.slice(0, 18)}… is listed with two URLs (${n.url}, ${nodeUrl})`);
    n[role] = index;
    byKey.set(identityKey, n);
  };
  for (const p of f.participants) add(p.identityKey, p.url, 'recipient', p.index);
  for (const d of f.previous?.dealers ?? []) add(d.identityKey, d.url, 'dealer', d.index);
  if (!ceremony.previous) for (const n of byKey.values()) n.dealer = n.recipient;
  for (const n of byKey.values()) {
    n.label = ceremony.previous
      ? [n.dealer !== undefined ? `old ${n.dealer}` : '', n.recipient !== undefined ? `new ${n.recipient}` : ''].filter(Boolean).join('/')
      : `node ${n.recipient}`;
    n.label += ` (${n.url})`;
  }
  return { ceremony, nodes: [...byKey.values()], ...(committee ? { committee } : {}) };
}

/** The committee file of the ceremony's result (public shares from the verified transcript). */
export function committeeFileOf(plan: Plan, v: Extract<TranscriptVerification, { ok: true }>): Record<string, unknown> {
  const base = plan.committee!;
  const urlOf = new Map(plan.nodes.filter((n) => n.recipient !== undefined).map((n) => [n.recipient!, n.url]));
  return {
    chainId: typeof base.chainId === 'string' ? base.chainId : Number(base.chainId),
    hub: base.hub,
    configVersion: typeof base.configVersion === 'string' ? Number(base.configVersion) : base.configVersion,
    t: v.t,
    groupPublicKey: v.groupPublicKey,
    ...(base.deployments?.length ? { deployments: base.deployments.map((d) => ({ ...d, configVersion: typeof d.configVersion === 'string' ? Number(d.configVersion) : d.configVersion })) } : {}),
    nodes: v.ceremony.participants.map((p) => ({ index: p.index, identityKey: p.identityKey, publicShare: v.publicShares[p.index - 1]!, url: urlOf.get(p.index)! })),
    aggregators: base.aggregators,
  };
}

export interface BuildOptions {
  ceremonyId: string;
  t: number;
  /** API URLs of the members of the committee to produce, in index order. */
  nodes: readonly string[];
  /** Resharing: the current committee (its nodes need `url`, or pass `dealerUrls`). */
  previous?: Committee | unknown;
  dealerUrls?: readonly string[];
  /** Relative deadlines: each phase gets this many ms after the previous. */
  phaseMs?: number;
  committee?: z.input<typeof CommitteeBaseSchema>;
  timeoutMs?: number;
}

/**
 * Builds a ceremony file by asking each node for its identity and per-ceremony encryption
 * key. Operators then compare the identity keys with the ones they know (the committee file,
 * out of band) before starting.
 */
export async function buildCeremonyFile(o: BuildOptions): Promise<CeremonyFile> {
  const timeoutMs = o.timeoutMs ?? 10_000;
  const keys = await Promise.all(o.nodes.map((u) => fetchCeremonyKeys(u, o.ceremonyId, timeoutMs)));
  const participants = keys.map((k, i) => ({ index: i + 1, ...k, url: o.nodes[i]! }));
  const file: Record<string, unknown> = { ceremonyId: o.ceremonyId, t: o.t, participants };
  if (o.previous) {
    const prev = parseCommittee(o.previous);
    const urls = o.dealerUrls;
    const dealers = [...prev.nodes]
      .sort((a, b) => a.index - b.index)
      .map((n, k) => {
        const u = urls?.[k] ?? n.url;
        if (!u) throw new CoordinatorError('bad_ceremony_file', `current committee node ${n.index} has no url; add it to the committee file or pass the dealer URLs`);
        return { index: n.index, identityKey: n.identityKey.toLowerCase(), url: u };
      });
    // A current member's identity key must be the one its API reports.
    for (const d of dealers) {
      const p = participants.find((x) => x.url === d.url);
      if (p && p.identityKey !== d.identityKey) throw new CoordinatorError('bad_ceremony_file', `${d.url} reports identity key ${p.identityKey.slice(0, 18)}…, but the current committee lists ${d.identityKey.slice(0, 18)}… for node ${d.index}`);
    }
    file.previous = {
      groupPublicKey: prev.groupPublicKey.toLowerCase(),
      t: prev.t,
      publicShares: [...prev.nodes].sort((a, b) => a.index - b.index).map((n) => n.publicShare.toLowerCase()),
      dealers,
    };
    file.committee = {
      chainId: Number(prev.chainId),
      hub: prev.hub,
      configVersion: Number(prev.configVersion + 1n),
      // Every hub moves to the new committee by its own rotation, each one version up.
      ...(prev.deployments?.length
        ? { deployments: prev.deployments.map((d): NonNullable<CommitteeInput['deployments']>[number] => ({ chainId: Number(d.chainId), hub: d.hub, configVersion: Number(d.configVersion + 1n), ...(d.name !== undefined ? { name: d.name } : {}) })) }
        : {}),
      aggregators: prev.aggregators,
      ...(o.committee ?? {}),
    };
  } else if (o.committee) {
    file.committee = o.committee;
  }
  if (o.phaseMs) {
    const now = Date.now();
    file.deadlines = { deal: now + o.phaseMs, complaints: now + 2 * o.phaseMs, responses: now + 3 * o.phaseMs };
  }
  return file as CeremonyFile;
}
