/**
 * Entry of a node host worker (`node-workers.ts`): import the spec's module, start its nodes,
 * report their URLs; on "close", stop them and report back. A start-up failure is reported
 * as a message, not thrown, so the host can name it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { HostedNodes, NodeHostSpec } from './node-workers.ts';

const port = parentPort!;
const spec = workerData as NodeHostSpec;
let hosted: HostedNodes | undefined;
try {
  const mod = (await import(spec.module)) as Record<string, (arg: unknown) => Promise<HostedNodes>>;
  const start = mod[spec.fn];
  if (typeof start !== 'function') throw new Error(`${spec.module} exports no function ${spec.fn}`);
  hosted = await start(spec.arg);
  port.postMessage({ kind: 'started', urls: hosted.urls });
} catch (err) {
  port.postMessage({ kind: 'failed', message: `${spec.fn} in ${spec.module}: ${(err as Error).stack ?? String(err)}` });
}
port.on('message', async (m) => {
  if (m !== 'close') return;
  await hosted?.close();
  port.postMessage({ kind: 'closed' });
  port.close();
});
