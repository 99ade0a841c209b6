/**
 * The in-process venue transport: the production HTTP sources (`node/sources`) read the
 * simulated venues without a socket. An axios adapter answers requests whose URL starts with a
 * registered prefix by calling the same `VenueResponder` the HTTP server wraps, so the bytes
 * the adapters parse are identical in both modes; any other URL goes to axios' own adapter.
 *
 * A `slow` venue answers at once when its delay is within the request timeout and times out
 * otherwise, as it would over HTTP, without waiting in wall-clock time (time is simulated).
 */
import axios, { AxiosError, AxiosHeaders, type AxiosAdapter, type InternalAxiosRequestConfig } from 'axios';
import type { VenueId } from '../../node/sources/index.ts';
import type { VenueResponder } from '../venues/index.ts';

const registry = new Map<string, { responder: VenueResponder }>();
let previous: unknown;
let installed = false;

/** Base URLs never resolved (port 9 on loopback): requests to them are answered in process. */
let counter = 0;

function install(): void {
  if (installed) return;
  installed = true;
  previous = axios.defaults.adapter;
  const fallback = axios.getAdapter(previous as Parameters<typeof axios.getAdapter>[0]);
  const adapter: AxiosAdapter = async (config: InternalAxiosRequestConfig) => {
    const full = new URL(axios.getUri(config));
    for (const [prefix, entry] of registry) {
      if (!full.href.startsWith(prefix)) continue;
      const rest = full.href.slice(prefix.length);
      const slash = rest.indexOf('/');
      const venue = (slash < 0 ? rest : rest.slice(0, slash)) as VenueId;
      const path = new URL(`http://x/${slash < 0 ? '' : rest.slice(slash + 1)}`).pathname;
      const params = entry.responder.venues.includes(venue) ? entry.responder.match(venue, path) : undefined;
      if (!params) {
        return { data: `<!DOCTYPE html><html><body><pre>Cannot GET ${path}</pre></body></html>`, status: 404, statusText: 'Not Found', headers: new AxiosHeaders({ 'content-type': 'text/html' }), config, request: {} };
      }
      const query: Record<string, string> = {};
      full.searchParams.forEach((v, k) => (query[k] = v));
      const out = entry.responder.answer(venue, { params, query });
      if (config.timeout && out.delayMs >= config.timeout) {
        throw new AxiosError(`timeout of ${config.timeout}ms exceeded`, 'ECONNABORTED', config, {});
      }
      const isText = typeof out.body === 'string';
      const headers = new AxiosHeaders({ 'content-type': isText ? 'text/html; charset=utf-8' : 'application/json; charset=utf-8', ...(out.headers ?? {}) });
      return { data: isText ? (out.body as string) : JSON.stringify(out.body), status: out.status, statusText: String(out.status), headers, config, request: {} };
    }
    return fallback(config);
  };
  axios.defaults.adapter = adapter;
}

export interface InprocVenues {
  /** Base URL to give the sources for `venue`. */
  url(venue: VenueId): string;
  close(): void;
}

/** Serve `responder` in process. Sources must be created after this call (axios copies defaults at create). */
export function serveInProcess(responder: VenueResponder): InprocVenues {
  install();
  const prefix = `http://127.0.0.1:9/aegis-sim-${process.pid}-${++counter}/`;
  registry.set(prefix, { responder });
  return {
    url: (venue) => `${prefix}${venue}`,
    close: () => {
      registry.delete(prefix);
    },
  };
}
