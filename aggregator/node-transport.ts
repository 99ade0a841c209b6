/**
 * The aggregator's HTTP transport to its nodes: `node:http` over one keep-alive agent, in place
 * of the global `fetch` that `HttpNodeClient` uses by default. A round makes 2n requests; under
 * undici's `fetch` each one built web streams, a Request and a Response and combined two abort
 * signals, which at n = 31 cost the aggregator about 50 ms of CPU per round. Same semantics:
 * the body is sent as given, the answer read whole as UTF-8, an abort ends the request.
 */
import { Agent, request } from 'node:http';
import type { HttpPost } from '../protocol/http-node-client.ts';

/**
 * A transport with its own connection pool (keep-alive, one socket per concurrent request).
 * An idle socket is dropped after `idleMs`, before the node's server closes it (its keep-alive
 * timeout is 5 s), so a request is not sent on a connection the server is closing.
 */
export function nodeHttpTransport(opts: { idleMs?: number } = {}): HttpPost & { close(): void } {
  const agent = new Agent({ keepAlive: true, timeout: opts.idleMs ?? 4_000 });
  const post: HttpPost = (url, init) =>
    new Promise((resolve, reject) => {
      if (init.signal.aborted) return reject(init.signal.reason);
      const req = request(url, { method: 'POST', agent, headers: { ...init.headers, 'content-length': String(init.body.byteLength) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          init.signal.removeEventListener('abort', onAbort);
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', fail);
      });
      const onAbort = (): void => {
        req.destroy(init.signal.reason instanceof Error ? init.signal.reason : new Error('aborted'));
      };
      function fail(err: Error): void {
        init.signal.removeEventListener('abort', onAbort);
        reject(err);
      }
      init.signal.addEventListener('abort', onAbort, { once: true });
      req.on('error', fail);
      req.end(init.body);
    });
  return Object.assign(post, { close: () => agent.destroy() });
}
