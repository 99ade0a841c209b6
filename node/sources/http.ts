/**
 * The shared request policy of every source: timeout, bounded retries with exponential backoff
 * and jitter, and `Retry-After` handling.
 *
 * Bodies are read as text and parsed here, not by axios, so an HTML error page or a truncated
 * body is seen for what it is instead of surfacing as a confusing type error in a parser.
 */
import axios, { type AxiosInstance } from 'axios';

export interface RetryPolicy {
  /** Per-request timeout. */
  timeoutMs: number;
  /** Retries after the first request (so at most `retries + 1` requests per fetch). */
  retries: number;
  /** First backoff; doubles per retry up to `backoffMaxMs`, with equal jitter. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** A `Retry-After` longer than this is not waited out: the fetch fails and the source cools down. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  timeoutMs: 2_000,
  retries: 2,
  backoffBaseMs: 100,
  backoffMaxMs: 2_000,
  maxRetryAfterMs: 5_000,
};

/** One HTTP answer, body as text, or a transport failure. */
export type HttpOutcome =
  | { ok: true; status: number; headers: Record<string, string>; text: string }
  | { ok: false; reason: 'timeout' | 'network' | 'aborted'; message: string };

export function createHttpClient(baseUrl: string, timeoutMs: number): AxiosInstance {
  return axios.create({
    baseURL: baseUrl.replace(/\/+$/, ''),
    timeout: timeoutMs,
    responseType: 'text',
    transformResponse: [(data: unknown) => data],
    validateStatus: () => true,
    maxRedirects: 0,
    headers: { Accept: 'application/json' },
  });
}

export async function httpGet(
  client: AxiosInstance,
  path: string,
  params: Record<string, string> | undefined,
  signal: AbortSignal | undefined,
): Promise<HttpOutcome> {
  try {
    const res = await client.get<string>(path, { params, signal });
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers[k.toLowerCase()] = v;
    return { ok: true, status: res.status, headers, text: typeof res.data === 'string' ? res.data : String(res.data) };
  } catch (err) {
    if (signal?.aborted) return { ok: false, reason: 'aborted', message: 'aborted by caller' };
    const code = axios.isAxiosError(err) ? err.code : undefined;
    const message = err instanceof Error ? err.message : String(err);
    if (code === 'ECONNABORTED' || code === 'ETIMEDOUT') return { ok: false, reason: 'timeout', message };
    return { ok: false, reason: 'network', message: code ? `${code}: ${message}` : message };
  }
}

/**
 * `Retry-After` as ms: delta-seconds (fractions accepted) or an HTTP date. Undefined when the
 * header is absent or unreadable.
 */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isFinite(date) ? Math.max(0, date - nowMs) : undefined;
}

/** Backoff before retry number `retry` (0-based): exponential, capped, equal jitter. */
export function backoffMs(policy: RetryPolicy, retry: number, random: () => number): number {
  const ceiling = Math.min(policy.backoffMaxMs, policy.backoffBaseMs * 2 ** retry);
  return ceiling / 2 + random() * (ceiling / 2);
}

/** Sleep that ends early (resolving false) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
