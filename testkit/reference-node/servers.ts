/**
 * Reference nodes behind loopback HTTP for the round benchmark, hostable in a node worker
 * (`node-workers.ts`): `serveReferenceNodes` starts the nodes of the given indices with the
 * benchmark's price function.
 */
import { makeReferenceNodes, type PriceSource, type TestCommittee } from './node.ts';
import { serveReferenceNode, type ReferenceHttpNode } from './http.ts';
import type { HostedNodes } from '../node-workers.ts';

/** A distinct, deterministic price per (feed, node), close enough across nodes to agree. */
export const benchPrice: PriceSource = (id, node) => 1_000_000_000n + BigInt(parseInt(id.slice(2, 10), 16) % 1000) * 1000n + BigInt(node);

export async function serveReferenceNodes(arg: { tc: TestCommittee; indices: number[] }): Promise<HostedNodes> {
  const { nodes } = makeReferenceNodes(arg.tc, benchPrice);
  const allowed = new Set(arg.tc.committee.aggregators.map((a) => a.identityKey.toLowerCase().replace(/^0x/, '')));
  const servers: ReferenceHttpNode[] = [];
  try {
    for (const i of arg.indices) servers.push(await serveReferenceNode(nodes[i - 1]!, allowed));
  } catch (err) {
    await Promise.allSettled(servers.map((s) => s.close()));
    throw err;
  }
  return { urls: servers.map((s) => s.url), close: async () => void (await Promise.all(servers.map((s) => s.close()))) };
}
