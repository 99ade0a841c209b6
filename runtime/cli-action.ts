/**
 * How a CLI command fails: one line on stderr (`error (<code>): <what>; <fix>`, no stack trace
 * for an operator's mistake) and exit status 1. The `aegis` subcommands of every part wrap their
 * commander actions with this, so they all fail the same way.
 */
import { errorLine } from './coded-error.ts';

/** The line printed for a failure; `errorLine` unless a command says otherwise. */
export type FailureLine = (err: unknown) => string;

/** Print `line(err)` to stderr and exit 1. */
export function exitWith(err: unknown, line: FailureLine = errorLine): never {
  process.stderr.write(`${line(err)}\n`);
  process.exit(1);
}

/** Run `fn`; if it throws, `exitWith` its error. */
export async function runOrExit(fn: () => Promise<void>, line: FailureLine = errorLine): Promise<void> {
  try {
    await fn();
  } catch (err) {
    exitWith(err, line);
  }
}

/** A commander action that fails through `runOrExit`. */
export function cliAction<A extends unknown[]>(fn: (...a: A) => Promise<void>, line: FailureLine = errorLine): (...a: A) => Promise<void> {
  return (...a) => runOrExit(() => fn(...a), line);
}

/** `error: <message>`, without the code: for commands whose output never carried one. */
export const plainLine: FailureLine = (err) => `error: ${err instanceof Error ? err.message : String(err)}`;
