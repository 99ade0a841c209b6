/**
 * The aggregator's HTTP transport to its nodes: `node:http` over one keep-alive agent, in place
 * of the global `fetch` that `HttpNodeClient` uses by default. A round makes 2n requests; under
 * undici's `fetch` each one built web streams, a Request and a Response and combined two abort
 * signals, which at n = 31 cost the aggregator about 50 ms of CPU per round. Same semantics:
 * the body is sent as given, the answer read whole as UTF-8, an abort ends the request.
 *
 * Nodes at `https://` URLs get `node:https` with an agent of their own, pinned to the
 * committee file's `tls` of that node: `ca` replaces the public CAs for that node, and
 * `certSha256` must equal the presented certificate's fingerprint (checked during the
 * handshake, before a request byte is sent). A refusal is a `NodeConnectionError` with a code
 * the round records as the node's exclusion reason. The choice of agent is made once per node
 * (`forNode`), so the plain-http path does exactly the per-request work it did before.
 */
import { Agent as HttpAgent, request as httpRequest, type ClientRequestArgs } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { PeerCertificate } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { HttpPost } from '../protocol/http-node-client.ts';
import { CodedError } from '../runtime/coded-error.ts';

/** A node's certificate pin, from the committee file (`ca` as PEM text, `certSha256` as lower-case hex without colons). */
export interface NodeTlsPin {
  ca?: string;
  certSha256?: string;
}

export type NodeConnectionErrorCode = 'tls_pin_mismatch' | 'tls_handshake_failed' | 'connect_timeout';

/** The transport refused or could not open a node's connection; `code` becomes the node's exclusion code. */
export class NodeConnectionError extends CodedError<NodeConnectionErrorCode> {
  override readonly name = 'NodeConnectionError';
}

export interface NodeTransportOptions {
  /**
   * An idle socket is dropped after `idleMs` (default 4 s), before the node's server closes it
   * (its keep-alive timeout, 5 s by default), so a request is not sent on a closing connection.
   */
  idleMs?: number;
  /** A new connection (TCP, and the TLS handshake for https) must be up within this; unset: no limit of its own. */
  connectTimeoutMs?: number;
}

export interface NodeTransport extends HttpPost {
  /** The `HttpPost` for one node: the shared plain agent for `http://`, a pinned agent of its own for `https://`. */
  forNode(url: string, tls?: NodeTlsPin): HttpPost;
  close(): void;
}

/** Certificate verification failures, by OpenSSL / Node code: the node's certificate is not the pinned one. */
const PIN_FAILURES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * A transport with its own connection pools (keep-alive, one socket per concurrent request).
 * Called directly it posts over the shared plain-http agent, as before TLS existed.
 */
export function nodeHttpTransport(opts: NodeTransportOptions = {}): NodeTransport {
  const idleMs = opts.idleMs ?? 4_000;
  const agents: HttpAgent[] = [];
  const plainAgent = opts.connectTimeoutMs === undefined ? new HttpAgent({ keepAlive: true, timeout: idleMs }) : new (withConnectTimeout(HttpAgent, opts.connectTimeoutMs, false))({ keepAlive: true, timeout: idleMs });
  agents.push(plainAgent);
  const plain = poster(httpRequest, plainAgent);
  const forNode = (url: string, tls?: NodeTlsPin): HttpPost => {
    if (!url.startsWith('https:')) return plain;
    const options = {
      keepAlive: true,
      timeout: idleMs,
      rejectUnauthorized: true,
      ...(tls?.ca !== undefined ? { ca: tls.ca } : {}),
      ...(tls?.certSha256 !== undefined ? { checkServerIdentity: fingerprintCheck(tls.certSha256) } : {}),
    };
    const agent = opts.connectTimeoutMs === undefined ? new HttpsAgent(options) : new (withConnectTimeout(HttpsAgent, opts.connectTimeoutMs, true))(options);
    agents.push(agent);
    return poster(httpsRequest, agent, (err) => tlsFailure(err, tls));
  };
  return Object.assign(plain, { forNode, close: () => agents.forEach((a) => a.destroy()) });
}

/** One POST over `agent`; `failed` may rename an error (the https path names TLS refusals). */
function poster(request: typeof httpRequest, agent: HttpAgent, failed?: (err: Error) => Error): HttpPost {
  return (url, init) =>
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
        reject(failed && !init.signal.aborted ? failed(err) : err);
      }
      init.signal.addEventListener('abort', onAbort, { once: true });
      req.on('error', fail);
      req.end(init.body);
    });
}

/**
 * `checkServerIdentity` for a fingerprint pin: the exact certificate is the identity, so the
 * host name check is replaced, not added to (a pinned certificate need not name the address).
 */
function fingerprintCheck(expected: string): (host: string, cert: PeerCertificate) => Error | undefined {
  return (_host, cert) => {
    const got = (cert.fingerprint256 ?? '').replace(/:/g, '').toLowerCase();
    if (got === expected) return undefined;
    return new NodeConnectionError(
      'tls_pin_mismatch',
      `certificate ${colons(got)} (subject ${cert.subject?.CN ?? '?'}) is not the pinned tls.certSha256 ${colons(expected)}; check that the node serves the certificate its operator pinned, or update the node's tls in the committee file`,
    );
  };
}

const colons = (hex: string): string => (hex.match(/../g) ?? []).join(':').toUpperCase();

/** A TLS refusal of the https path, named for the operator; any other error unchanged. */
function tlsFailure(err: Error, tls: NodeTlsPin | undefined): Error {
  if (err instanceof NodeConnectionError) return err;
  const code = (err as NodeJS.ErrnoException).code ?? '';
  if (PIN_FAILURES.has(code)) {
    const pinned = tls?.ca !== undefined ? 'the pinned tls.ca' : 'the public CAs (no tls.ca pinned)';
    return new NodeConnectionError('tls_pin_mismatch', `certificate refused (${code}: ${err.message}) against ${pinned}; check that the node serves the certificate its operator pinned, or update the node's tls in the committee file`, { cause: err });
  }
  if (code.startsWith('ERR_SSL_') || code === 'EPROTO') {
    return new NodeConnectionError('tls_handshake_failed', `TLS handshake failed (${code}: ${err.message.split('\n')[0]}); check that the node serves TLS (listen.tls in its config) at this https:// URL`, { cause: err });
  }
  return err;
}

/** `Base` whose new connections fail with `connect_timeout` unless up (connected, and for TLS handshaken) within `ms`. */
function withConnectTimeout<A extends typeof HttpAgent | typeof HttpsAgent>(Base: A, ms: number, tls: boolean): A {
  // Armed per connection, not per request: keep-alive reuse costs nothing.
  const Timed = class extends (Base as typeof HttpAgent) {
    override createConnection(options: ClientRequestArgs, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
      const socket = super.createConnection(options, callback);
      if (!socket) return socket;
      const timer = setTimeout(() => {
        socket.destroy(new NodeConnectionError('connect_timeout', `no connection to ${options.host ?? '?'}:${options.port ?? '?'} within nodeTransport.connectTimeoutMs ${ms} ms${tls ? ' (TCP and TLS handshake)' : ''}; check the address, the firewall and the link, or raise the timeout`));
      }, ms);
      const clear = (): void => clearTimeout(timer);
      socket.once(tls ? 'secureConnect' : 'connect', clear);
      socket.once('close', clear);
      return socket;
    }
  };
  return Timed as unknown as A;
}
