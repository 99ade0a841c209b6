/**
 * In-process nodes on every core: `worker_threads` that each host some of a committee's node
 * HTTP servers on loopback. A benchmark that serves all n nodes from its own event loop
 * serializes n nodes' checks on one core; with one worker per core the nodes' work runs in
 * parallel, as it would (much more so) on n machines, and still travels over real HTTP.
 *
 * A worker runs `fn(arg)` exported by `module` (a file URL); that function starts its nodes
 * and returns their base URLs and a close function. The module is chosen by the caller: the
 * reference nodes (`reference-node/servers.ts`) or the production node (`bench/round.ts`).
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/** What one worker starts: `(await import(module))[fn](arg)`; `arg` must be structured-cloneable. */
export interface NodeHostSpec {
  module: string;
  fn: string;
  arg: unknown;
}

/** What a host function returns inside its worker. */
export interface HostedNodes {
  urls: string[];
  close(): Promise<void>;
}

export interface WorkerNodes {
  /** Base URLs of every hosted node, in spec order. */
  urls: string[];
  /** Event-loop busy time of all workers so far, ms (CPU work plus synchronous I/O such as fsync). */
  busyMs(): number;
  close(): Promise<void>;
}

/** One worker per core, at most `count`: how many hosts a benchmark should start. */
export function workerCount(count: number): number {
  return Math.max(1, Math.min(count, availableParallelism()));
}

/** Split `items` into `parts` contiguous slices (order kept, sizes differ by at most one). */
export function splitEvenly<T>(items: readonly T[], parts: number): T[][] {
  const out: T[][] = [];
  for (let p = 0, from = 0; p < parts; p++) {
    const size = Math.floor(items.length / parts) + (p < items.length % parts ? 1 : 0);
    out.push(items.slice(from, from + size));
    from += size;
  }
  return out.filter((s) => s.length > 0);
}

// A TypeScript worker entry needs tsx registered inside the worker: Node 20 does not apply a
// parent's `--import tsx` hooks to a `.ts` worker entry ("Unknown file extension").
const ENTRY = new URL('./node-worker.ts', import.meta.url).href;
const TSX_API = import.meta.resolve('tsx/esm/api');
const BOOT = `import(${JSON.stringify(TSX_API)}).then(({ register }) => { register(); return import(${JSON.stringify(ENTRY)}); })`;

type FromWorker = { kind: 'started'; urls: string[] } | { kind: 'failed'; message: string } | { kind: 'closed' };

function next(worker: Worker, what: string): Promise<FromWorker> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: FromWorker) => done(() => resolve(m));
    const onError = (err: Error) => done(() => reject(new Error(`node worker: ${what} failed (${err.message})`, { cause: err })));
    const onExit = (code: number) => done(() => reject(new Error(`node worker: exited with code ${code} during ${what}`)));
    const done = (f: () => void) => {
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
      f();
    };
    worker.once('message', onMessage).once('error', onError).once('exit', onExit);
  });
}

async function stop(worker: Worker): Promise<void> {
  try {
    worker.postMessage('close');
    await next(worker, 'close');
  } finally {
    await worker.terminate();
  }
}

/** Start one worker per spec; all of them or none (a failure stops those already started). */
export async function startNodesInWorkers(specs: readonly NodeHostSpec[]): Promise<WorkerNodes> {
  const workers = specs.map((spec) => new Worker(BOOT, { eval: true, workerData: spec }));
  const answers = await Promise.allSettled(workers.map((w, k) => next(w, `start of host ${k + 1} (${specs[k]!.fn})`)));
  const urls: string[] = [];
  const failures: string[] = [];
  for (const a of answers) {
    if (a.status === 'rejected') failures.push((a.reason as Error).message);
    else if (a.value.kind === 'failed') failures.push(a.value.message);
    else if (a.value.kind === 'started') urls.push(...a.value.urls);
  }
  if (failures.length) {
    await Promise.allSettled(workers.map((w) => stop(w)));
    throw new Error(`node workers: ${failures.join('; ')}`);
  }
  return {
    urls,
    busyMs: () => workers.reduce((sum, w) => sum + w.performance.eventLoopUtilization().active, 0),
    close: async () => {
      const r = await Promise.allSettled(workers.map((w) => stop(w)));
      const bad = r.filter((x) => x.status === 'rejected');
      if (bad.length) throw new Error(`node workers: ${bad.length} did not stop cleanly (${(bad[0] as PromiseRejectedResult).reason})`);
    },
  };
}
