/**
 * Fan-out to every node in parallel with a per-node deadline and a quorum grace: once
 * `quorum` good answers are in, stragglers get `graceMs` more, then are cut off. A node that
 * answers late, refuses or fails never delays the round beyond `timeoutMs`, and every node
 * gets exactly one outcome with a reason the operator can act on.
 */
import { NodeRefusal, type NodeClient } from '../../protocol/index.ts';
import { describeError } from '../errors.ts';
import { NodeConnectionError } from '../node-transport.ts';

/** A node's answer failed a check on the aggregator side (bad signature, wrong epoch, …). */
export class InvalidAnswer extends Error {
  override readonly name = 'InvalidAnswer';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export type Outcome<T> =
  | { index: number; ok: true; value: T; ms: number }
  | { index: number; ok: false; code: string; reason: string; ms: number };

export interface GatherOptions {
  timeoutMs: number;
  graceMs: number;
  quorum: number;
  now?: () => number;
}

export function gather<T>(
  clients: readonly NodeClient[],
  call: (client: NodeClient, signal: AbortSignal) => Promise<T>,
  what: string,
  opts: GatherOptions,
): Promise<Outcome<T>[]> {
  const now = opts.now ?? (() => performance.now());
  return new Promise((resolve) => {
    const outcomes = new Map<number, Outcome<T>>();
    const controllers = clients.map(() => new AbortController());
    const started = now();
    let good = 0;
    let done = false;
    let graceTimer: NodeJS.Timeout | undefined;

    const finish = (cause: 'timeout' | 'grace' | 'all'): void => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      if (graceTimer) clearTimeout(graceTimer);
      clients.forEach((c, k) => {
        if (outcomes.has(c.index)) return;
        controllers[k]!.abort();
        const reason =
          cause === 'grace'
            ? `node ${c.index}: no ${what} answer within ${opts.graceMs} ms after the quorum of ${opts.quorum} was reached; check its latency`
            : `node ${c.index}: no ${what} answer within ${opts.timeoutMs} ms; check that it is running and reachable`;
        outcomes.set(c.index, { index: c.index, ok: false, code: 'timeout', reason, ms: now() - started });
      });
      resolve(clients.map((c) => outcomes.get(c.index)!));
    };
    const deadline = setTimeout(() => finish('timeout'), opts.timeoutMs);
    const settle = (o: Outcome<T>): void => {
      if (done || outcomes.has(o.index)) return;
      outcomes.set(o.index, o);
      if (o.ok) good++;
      if (outcomes.size === clients.length) return finish('all');
      if (good >= opts.quorum && !graceTimer) graceTimer = setTimeout(() => finish('grace'), opts.graceMs);
    };
    if (clients.length === 0) return finish('all');
    clients.forEach((client, k) => {
      const signal = controllers[k]!.signal;
      Promise.resolve()
        .then(() => call(client, signal))
        .then(
          (value) => settle({ index: client.index, ok: true, value, ms: now() - started }),
          (err: unknown) => settle({ index: client.index, ok: false, ...classify(client.index, err, what), ms: now() - started }),
        );
    });
  });
}

function classify(index: number, err: unknown, what: string): { code: string; reason: string } {
  if (err instanceof NodeRefusal) return { code: String(err.code), reason: `node ${index} refused ${what}: ${err.message}` };
  if (err instanceof InvalidAnswer) return { code: err.code, reason: `node ${index}: ${err.message}` };
  // The client wraps transport errors (`cause`): a refused certificate or a connect timeout keeps its own code.
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    if (e instanceof NodeConnectionError) return { code: e.code, reason: `node ${index}: ${what} failed: ${describeError(err)}` };
  }
  return { code: 'unreachable', reason: `node ${index}: ${what} failed: ${describeError(err)}` };
}
