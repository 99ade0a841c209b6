/**
 * In-memory driver for DKG tests: node keys, ceremony descriptions, and a loop that runs
 * the four phases over every participant with a shared "broadcast" of messages. Nodes listed
 * in `absent` never speak; `script` replaces one node's behaviour with a scripted adversary.
 */
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import {
  type ComplaintMessage,
  type DealMessage,
  DkgParticipant,
  type DkgOutput,
  type ResponseMessage,
  toHex,
} from '../../protocol/dkg/index.ts';
import type { KeyShare } from '../../protocol/bls/index.ts';

export interface NodeKeys {
  identitySecret: Uint8Array;
  encryptionSecret: Uint8Array;
  identityKey: string;
  encryptionKey: string;
}

export function makeNodes(n: number): NodeKeys[] {
  return Array.from({ length: n }, () => {
    const identitySecret = ed25519.utils.randomSecretKey();
    const encryptionSecret = x25519.utils.randomSecretKey();
    return { identitySecret, encryptionSecret, identityKey: toHex(ed25519.getPublicKey(identitySecret)), encryptionKey: toHex(x25519.getPublicKey(encryptionSecret)) };
  });
}

export function ceremonyFor(ceremonyId: string, t: number, nodes: readonly NodeKeys[], extra: Record<string, unknown> = {}) {
  return {
    ceremonyId,
    t,
    participants: nodes.map((k, i) => ({ index: i + 1, identityKey: k.identityKey, encryptionKey: k.encryptionKey })),
    ...extra,
  };
}

/** A scripted adversary in place of one node: each hook returns what it broadcasts. */
export interface Script {
  deal?: () => DealMessage | undefined;
  complain?: (deals: DealMessage[]) => ComplaintMessage | undefined;
  respond?: (complaints: ComplaintMessage[]) => ResponseMessage | undefined;
}

export interface RunResult {
  participants: Map<string, DkgParticipant>;
  outputs: Map<string, DkgOutput>;
  deals: DealMessage[];
  complaints: ComplaintMessage[];
  responses: ResponseMessage[];
}

/**
 * Runs a ceremony: `players` are keyed by any label; `scripts` (by label) replace players.
 * `now` defaults past every deadline so phases close with what arrived.
 */
export function run(players: Map<string, DkgParticipant>, scripts: Map<string, Script> = new Map(), now = Number.MAX_SAFE_INTEGER): RunResult {
  const deals: DealMessage[] = [];
  for (const p of players.values()) {
    const d = p.deal();
    if (d) deals.push(d);
  }
  for (const s of scripts.values()) {
    const d = s.deal?.();
    if (d) deals.push(d);
  }
  const complaints: ComplaintMessage[] = [];
  for (const p of players.values()) {
    const c = p.closeDeals(deals, now);
    if (c) complaints.push(c);
  }
  for (const s of scripts.values()) {
    const c = s.complain?.(deals);
    if (c) complaints.push(c);
  }
  const responses: ResponseMessage[] = [];
  for (const p of players.values()) {
    const r = p.closeComplaints(complaints, now);
    if (r) responses.push(r);
  }
  for (const s of scripts.values()) {
    const r = s.respond?.(complaints);
    if (r) responses.push(r);
  }
  const outputs = new Map<string, DkgOutput>();
  for (const [label, p] of players) outputs.set(label, p.finalize(responses, now));
  return { participants: players, outputs, deals, complaints, responses };
}

/** DKG participants for nodes 1..n except the absent ones, labelled by index. */
export function dkgPlayers(ceremony: unknown, nodes: readonly NodeKeys[], absent: readonly number[] = []): Map<string, DkgParticipant> {
  const out = new Map<string, DkgParticipant>();
  nodes.forEach((k, i) => {
    if (absent.includes(i + 1)) return;
    out.set(String(i + 1), new DkgParticipant({ ceremony, identitySecret: k.identitySecret, encryptionSecret: k.encryptionSecret }));
  });
  return out;
}

export function sharesOf(outputs: Map<string, DkgOutput>): KeyShare[] {
  return [...outputs.values()].flatMap((o) => (o.share ? [o.share] : [])).sort((a, b) => a.index - b.index);
}

/** Resharing participants: every old dealer (with its current share) and every new member. */
export function reshare(
  ceremonyId: string,
  oldNodes: readonly NodeKeys[],
  oldOutputs: Map<string, DkgOutput>,
  newNodes: readonly NodeKeys[],
  newT: number,
  opts: { absentDealers?: number[]; dealers?: number[] } = {},
) {
  const first = [...oldOutputs.values()][0]!;
  const dealerIdx = opts.dealers ?? oldNodes.map((_, i) => i + 1);
  const ceremony = ceremonyFor(ceremonyId, newT, newNodes, {
    previous: {
      groupPublicKey: toHex(first.groupPublicKey),
      t: first.t,
      publicShares: first.publicShares.map(toHex),
      dealers: dealerIdx.map((i) => ({ index: i, identityKey: oldNodes[i - 1]!.identityKey })),
    },
  });
  const players = new Map<string, DkgParticipant>();
  const shareOf = new Map(sharesOf(oldOutputs).map((s) => [s.index, s]));
  for (const i of dealerIdx) {
    if (opts.absentDealers?.includes(i)) continue;
    const k = oldNodes[i - 1]!;
    const member = newNodes.includes(k);
    players.set(`old${i}`, new DkgParticipant({ ceremony, identitySecret: k.identitySecret, ...(member ? { encryptionSecret: k.encryptionSecret } : {}), currentShare: shareOf.get(i)! }));
  }
  newNodes.forEach((k, j) => {
    // An old member that deals runs one participant for both roles (above); when it is
    // absent, it is absent in both roles.
    if (oldNodes.includes(k) && dealerIdx.includes(oldNodes.indexOf(k) + 1)) return;
    players.set(`new${j + 1}`, new DkgParticipant({ ceremony, identitySecret: k.identitySecret, encryptionSecret: k.encryptionSecret }));
  });
  return { ceremony, players };
}
