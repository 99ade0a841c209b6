/**
 * Retries of JSON-RPC calls with exponential backoff and jitter. Only transport-level
 * failures are retried (connection refused, timeouts, 5xx, rate limits); reverts and bad
 * requests are not, since repeating them cannot help.
 */
import { isError } from 'ethers';

export interface RetryOptions {
  attempts: number;
  baseMs: number;
  maxMs: number;
  onRetry?: (attempt: number, err: unknown, delayMs: number) => void;
}

export const DEFAULT_RETRY: RetryOptions = { attempts: 5, baseMs: 200, maxMs: 5000 };

export function isTransientRpcError(err: unknown): boolean {
  if (isError(err, 'CALL_EXCEPTION') || isError(err, 'INSUFFICIENT_FUNDS') || isError(err, 'NONCE_EXPIRED') || isError(err, 'REPLACEMENT_UNDERPRICED')) return false;
  if (isError(err, 'NETWORK_ERROR') || isError(err, 'TIMEOUT') || isError(err, 'SERVER_ERROR')) return true;
  const text = String((err as Error)?.message ?? err);
  return /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|socket hang up|fetch failed|429|502|503|504|rate limit/i.test(text);
}

export async function withRetry<T>(what: string, fn: () => Promise<T>, opts: RetryOptions = DEFAULT_RETRY): Promise<T> {
  let attempt = 0;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      attempt++;
      if (attempt >= opts.attempts || !isTransientRpcError(err)) {
        if (err instanceof Error && attempt > 1) err.message = `${what}: ${err.message} (after ${attempt} attempts)`;
        throw err;
      }
      const delay = Math.min(opts.maxMs, opts.baseMs * 2 ** (attempt - 1)) * (0.75 + Math.random() * 0.5);
      opts.onRetry?.(attempt, err, delay);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
