/**
 * Per-source circuit breaker, as an explicit state machine.
 *
 * A venue that keeps failing (down, banning us, sending garbage) should not cost a timeout and
 * retries every round, nor be hammered while it recovers. After `failureThreshold` consecutive
 * failed fetches the circuit opens for `coolDownMs`; requests fail fast with `cooling_down`.
 * When the cool-down ends the circuit is half-open: one trial fetch goes out; success closes it,
 * failure opens it again. A rate limit opens it at once until the time the venue asked for
 * (its `Retry-After`, its own header, or the wait its documentation gives), so no request goes
 * out inside a venue's cool-down. A failure without any answer from the
 * venue (connection refused or unreachable, timeout: our own network may be what failed) opens
 * it for the shorter `transportCoolDownMs`: a trial every few seconds costs a silent venue
 * nothing, and a node whose own link was cut prices again within seconds of the heal instead
 * of waiting out a cool-down meant for a venue that answered badly.
 *
 *   closed --(threshold failures)--> open --(cool-down over, one trial)--> half_open
 *   half_open --(success)--> closed       half_open --(failure)--> open
 */
import type { CircuitState, SourceHealth } from './types.ts';

export interface BreakerOptions {
  failureThreshold: number;
  coolDownMs: number;
  /** Cool-down after failures where the venue never answered (at most `coolDownMs`). */
  transportCoolDownMs?: number;
  now: () => number;
}

/** The outcome of asking the breaker for permission to send a request. */
export type Admission = { allowed: true } | { allowed: false; retryAfterMs: number };

export class CircuitBreaker {
  private state: CircuitState = 'closed';
  private failures = 0;
  private openUntil = 0;
  private trialInFlight = false;

  constructor(private readonly opts: BreakerOptions) {}

  /** May a fetch go out now? Moves open → half_open when the cool-down is over. */
  admit(): Admission {
    const now = this.opts.now();
    if (this.state === 'open' && now >= this.openUntil) this.toHalfOpen();
    if (this.state === 'closed') return { allowed: true };
    if (this.state === 'half_open' && !this.trialInFlight) {
      this.trialInFlight = true;
      return { allowed: true };
    }
    return { allowed: false, retryAfterMs: Math.max(0, this.openUntil - now) };
  }

  recordSuccess(): void {
    this.failures = 0;
    this.trialInFlight = false;
    this.state = 'closed';
  }

  /**
   * A failed fetch; `holdMs` (from a long Retry-After) opens the circuit for at least that long;
   * `transport` marks a failure where the venue never answered (shorter cool-down, see header).
   */
  recordFailure(holdMs?: number, transport = false): void {
    this.failures += 1;
    const wasTrial = this.state === 'half_open';
    this.trialInFlight = false;
    if (wasTrial || this.failures >= this.opts.failureThreshold) {
      const base = transport ? Math.min(this.opts.coolDownMs, this.opts.transportCoolDownMs ?? this.opts.coolDownMs) : this.opts.coolDownMs;
      this.toOpen(Math.max(base, holdMs ?? 0));
    } else if (holdMs !== undefined) {
      // The venue named its wait (rate limit): stay away exactly that long, even below the threshold.
      this.toOpen(holdMs);
    }
  }

  /** A fetch that ended without an answer about the venue (caller aborted): frees the trial slot. */
  recordNeutral(): void {
    this.trialInFlight = false;
  }

  /** Consecutive failures so far; read when building a cool-down message. */
  get consecutiveFailures(): number {
    return this.failures;
  }

  health(): SourceHealth {
    const base = { state: this.state, consecutiveFailures: this.failures };
    return this.state === 'open' ? { ...base, openUntilMs: this.openUntil } : base;
  }

  private toOpen(forMs: number): void {
    this.state = 'open';
    this.openUntil = this.opts.now() + forMs;
  }

  private toHalfOpen(): void {
    this.state = 'half_open';
    this.trialInFlight = false;
  }
}
