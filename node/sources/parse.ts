/**
 * Small assert helpers for reading venue bodies.
 *
 * Venues send numbers as decimal strings (`"67012.50"`), sometimes as JSON numbers, and in bad
 * moments as `""`, `"NaN"`, `null` or HTML. Each helper accepts exactly the good shapes and
 * throws `BadBody` naming the field and the value, so a rejection always says what was wrong.
 */
import { BadBody, WrongSymbol, excerpt } from './errors.ts';

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The object at `body`, or BadBody naming what it was instead. */
export function record(value: unknown, what: string): Record<string, unknown> {
  if (!isRecord(value)) throw new BadBody(`${what} is not an object: ${excerpt(value)}`);
  return value;
}

/** A field that must be present (not undefined or null). */
export function field(obj: Record<string, unknown>, key: string, what: string): unknown {
  const value = obj[key];
  if (value === undefined || value === null) throw new BadBody(`missing field ${what}.${key}`);
  return value;
}

/** A decimal number given as a JSON number or a decimal string; NaN, Infinity, "" and text are rejected. */
export function decimal(value: unknown, what: string): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new BadBody(`${what} is not a finite number: ${String(value)}`);
    return value;
  }
  if (typeof value === 'string' && DECIMAL.test(value.trim())) return Number(value.trim());
  throw new BadBody(`${what} is not a decimal number: ${excerpt(value, 40)}`);
}

/** An integer time in ms (or seconds, scaled by `unitMs`), as a number or a digit string. */
export function epoch(value: unknown, what: string, unitMs = 1): number {
  const n = decimal(value, what);
  if (!Number.isInteger(n) || n <= 0) throw new BadBody(`${what} is not a positive integer time: ${String(value)}`);
  return n * unitMs;
}

/** An ISO 8601 time string, to ms since epoch. */
export function isoTime(value: unknown, what: string): number {
  const ms = typeof value === 'string' ? Date.parse(value) : NaN;
  if (!Number.isFinite(ms)) throw new BadBody(`${what} is not an ISO 8601 time: ${excerpt(value, 40)}`);
  return ms;
}

/** Reject a body that answers another market than `expected` (case-insensitive). */
export function expectSymbol(echoed: unknown, expected: string, what: string): string {
  if (typeof echoed !== 'string') throw new BadBody(`${what} is not a string: ${excerpt(echoed, 40)}`);
  if (echoed.toUpperCase() !== expected.toUpperCase()) {
    throw new WrongSymbol(`venue answered ${what} ${echoed}, asked for ${expected}`);
  }
  return echoed;
}
