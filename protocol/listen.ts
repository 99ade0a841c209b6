/**
 * Where an Aegis server listens, shared by the node, the DKG-only server and the aggregator so
 * the three read `listen: { host, port, tls }` the same way:
 *
 *  - `host` is an IP literal: 127.0.0.1 (the default; this machine only), an address of one of
 *    the machine's interfaces, or `0.0.0.0` / `::` for all of them. Host names are refused: a
 *    name can resolve to another interface than the operator meant, and the address a server
 *    binds is a security decision.
 *  - `tls: { cert, key }` names PEM files (Node's own `https`, no proxy needed). Both are read
 *    and checked against each other when the config is loaded, so a wrong path or a key of
 *    another certificate stops the process before it listens.
 *  - A host outside 127.0.0.0/8 and ::1 is reachable from other machines: every server logs
 *    `exposureWarning` at start.
 *
 * Node-only (node:http, node:https, node:crypto); not re-exported from `protocol/index.ts`.
 */
import { readFileSync } from 'node:fs';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { createServer as createHttpServer, type RequestListener, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { BlockList, isIP, type AddressInfo } from 'node:net';
import { z } from 'zod';

/** `listen.host`: an IP literal (IPv4 or IPv6), `0.0.0.0` / `::` for every interface. */
export const ListenHostSchema = z.string().refine((h) => isIP(h) !== 0, {
  error: (iss) =>
    `${JSON.stringify(iss.input)} is not an IP address; give 127.0.0.1 (this machine only), the address of one of this machine's interfaces such as 10.0.0.5, or 0.0.0.0 (IPv4) / :: (IPv6) for every interface (host names are not accepted)`,
});

/** `listen.tls`: PEM certificate (chain) and unencrypted PEM private key files. */
export const TlsFilesSchema = z.strictObject({
  cert: z.string().min(1, 'give the PEM certificate file (the leaf first, then any intermediates)'),
  key: z.string().min(1, 'give the PEM private key file of the certificate'),
});
export type TlsFiles = z.output<typeof TlsFilesSchema>;

/** The contents of `TlsFiles`, as `https.createServer` takes them. */
export interface TlsPems {
  cert: string;
  key: string;
}

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

/** True for 127.0.0.0/8, ::1 and their IPv4-mapped forms: reachable from this machine only. */
export function isLoopbackHost(host: string): boolean {
  const family = isIP(host);
  return family !== 0 && loopback.check(host, family === 6 ? 'ipv6' : 'ipv4');
}

/** The base URL a server on `host:port` prints (IPv6 literals in brackets). */
export function listenUrl(host: string, port: number, tls: boolean): string {
  return `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * The start-up warning for a server reachable from other machines, or undefined on loopback.
 * `what` names the server ("the node API"), `peers` who alone should reach it.
 */
export function exposureWarning(o: { what: string; field: string; host: string; url: string; tls: boolean; peers: string }): string | undefined {
  if (isLoopbackHost(o.host)) return undefined;
  const advice = o.tls ? `it is served over TLS; let only ${o.peers} through a firewall to this port` : `serve it over TLS (listen.tls: { cert, key }) and let only ${o.peers} through a firewall to this port`;
  return `${o.field} ${o.host} is not a loopback address: ${o.what} at ${o.url} is reachable from other machines; ${advice}`;
}

/**
 * Reads and checks `listen.tls`: both files readable, the certificate parses, the key parses
 * and belongs to it. Errors start with the field (`listen.tls.cert: …`) and say the fix; the
 * caller prefixes the config file.
 */
export function readTlsFiles(files: TlsFiles, field: string): TlsPems {
  const read = (which: 'cert' | 'key'): string => {
    try {
      return readFileSync(files[which], 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new Error(`${field}.${which}: cannot read ${files[which]} (${code}); give the PEM ${which === 'cert' ? 'certificate' : 'private key'} file, relative to the config file`);
    }
  };
  const cert = read('cert');
  const key = read('key');
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (err) {
    throw new Error(`${field}.cert: ${files.cert} is not a PEM certificate (${(err as Error).message}); give the file that starts with -----BEGIN CERTIFICATE-----`);
  }
  let keyObject: ReturnType<typeof createPrivateKey>;
  try {
    keyObject = createPrivateKey(key);
  } catch (err) {
    throw new Error(`${field}.key: ${files.key} is not an unencrypted PEM private key (${(err as Error).message}); give the key file the certificate was issued for, without a passphrase`);
  }
  if (!x509.checkPrivateKey(keyObject)) {
    throw new Error(`${field}: the key in ${files.key} does not belong to the certificate in ${files.cert} (subject ${x509.subject.replace(/\n/g, ', ')}); give the key the certificate was issued for`);
  }
  return { cert, key };
}

/** Server timeouts (node:http names); unset ones keep Node's defaults. */
export interface ServerTimeouts {
  requestTimeoutMs?: number;
  headersTimeoutMs?: number;
  keepAliveTimeoutMs?: number;
}

export interface Listening {
  server: HttpServer;
  host: string;
  port: number;
  url: string;
}

/**
 * Serves `handler` on `host:port`, over TLS when `tls` is given (port 0: any free one). A
 * failure to bind is an Error naming the address and the fix for its cause.
 */
export async function listenOn(handler: RequestListener, o: { host: string; port: number; tls?: TlsPems; timeouts?: ServerTimeouts; portField?: string; hostField?: string }): Promise<Listening> {
  // https.Server is an http.Server with a TLS layer underneath: same events, timeouts and close.
  const server = (o.tls ? createHttpsServer({ cert: o.tls.cert, key: o.tls.key }, handler) : createHttpServer(handler)) as HttpServer;
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => reject(new Error(listenFailure(err, o.host, o.port, o.hostField ?? 'listen.host', o.portField ?? 'listen.port'), { cause: err }));
    server.once('error', onError);
    server.listen(o.port, o.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  if (o.timeouts?.requestTimeoutMs !== undefined) server.requestTimeout = o.timeouts.requestTimeoutMs;
  if (o.timeouts?.headersTimeoutMs !== undefined) server.headersTimeout = o.timeouts.headersTimeoutMs;
  if (o.timeouts?.keepAliveTimeoutMs !== undefined) server.keepAliveTimeout = o.timeouts.keepAliveTimeoutMs;
  const port = (server.address() as AddressInfo).port;
  return { server, host: o.host, port, url: listenUrl(o.host, port, o.tls !== undefined) };
}

function listenFailure(err: NodeJS.ErrnoException, host: string, port: number, hostField: string, portField: string): string {
  const where = `cannot listen on ${listenUrl(host, port, false).replace(/^http:\/\//, '')}`;
  switch (err.code) {
    case 'EADDRINUSE':
      return `${where} (EADDRINUSE: the port is taken); pick a free port in ${portField}`;
    case 'EADDRNOTAVAIL':
      return `${where} (EADDRNOTAVAIL: no interface of this machine has address ${host}); set ${hostField} to one of this machine's addresses, or 0.0.0.0 for all`;
    case 'EACCES':
      return `${where} (EACCES: ports below 1024 need privileges); pick a port from 1024 up in ${portField}`;
    default:
      return `${where} (${err.code ?? err.message}); check ${hostField} and ${portField}`;
  }
}
