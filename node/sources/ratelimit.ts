/**
 * How each venue says "too many requests" and how long it asks us to stay away when it sends
 * no `Retry-After`. Each wait below is the venue's own: a header it sends with the refusal, or
 * the window its public API documentation gives. The shared source never requests a venue
 * again inside that wait (the circuit opens for it), so a rate-limited node backs off the way
 * the venue asked instead of retrying at once and turning a short limit into a ban.
 */
import type { RateLimitSignal, VenueAnswer } from './types.ts';

/** A documented wait, named by where it comes from. */
export function documented(waitMs: number, basis: string): RateLimitSignal {
  return { waitMs, basis };
}

/** A header giving the ms until the limit resets (KuCoin `gw-ratelimit-reset`). */
export function resetInMs(answer: VenueAnswer, header: string): RateLimitSignal | undefined {
  const raw = answer.headers[header];
  if (raw === undefined || !/^\d+$/.test(raw.trim())) return undefined;
  return { waitMs: Number(raw.trim()), basis: `${header} header` };
}

/**
 * A header giving the epoch ms at which the limit resets (Bybit `X-Bapi-Limit-Reset-Timestamp`).
 * Bybit sends the server's current time in it when the limit was not hit, so a time not in the
 * future gives no wait.
 */
export function resetAtMs(answer: VenueAnswer, header: string): RateLimitSignal | undefined {
  const raw = answer.headers[header];
  if (raw === undefined || !/^\d+$/.test(raw.trim())) return undefined;
  const waitMs = Number(raw.trim()) - answer.receivedAtMs;
  return waitMs > 0 ? { waitMs, basis: `${header} header` } : undefined;
}
