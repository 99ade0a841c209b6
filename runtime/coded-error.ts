/**
 * The error shape every Aegis process shares: a stable `code` for programs, metrics and tests,
 * and a message that names the thing, the value and the fix, printed by the CLIs as one line,
 * `error (<code>): <what>; <fix>` (docs/running-a-node.md).
 *
 * Each part keeps its own subclass and code union (`NodeError`, `AggregatorError`, `StoreError`,
 * …) so a code says where it came from; this base is what they have in common, so that a CLI, a
 * log line or an HTTP answer can treat any of them alike (docs/design.md §Components).
 */

export interface CodedErrorOptions {
  cause?: unknown;
  /** What to do about it; appended to the message as `; <fix>` and kept apart in `fix`. */
  fix?: string;
}

export class CodedError<C extends string = string> extends Error {
  override readonly name: string = 'CodedError';
  /** The fix when it was given apart (it is also the message's tail). Absent otherwise. */
  declare readonly fix?: string;

  constructor(
    readonly code: C,
    what: string,
    options?: CodedErrorOptions,
  ) {
    // `cause` is passed on only when given, as `new Error(message, options)` did in each subclass.
    super(options?.fix ? `${what}; ${options.fix}` : what, options && 'cause' in options ? { cause: options.cause } : undefined);
    if (options?.fix) this.fix = options.fix;
  }
}

/**
 * The one-line form of any thrown value: `error (<code>): <message>` when it carries a non-empty
 * string `code` (a `CodedError`, or a library error such as `ENOENT`), `error: <message>` otherwise.
 */
export function errorLine(err: unknown): string {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  const what = err instanceof Error ? err.message : String(err);
  return typeof code === 'string' && code !== '' ? `error (${code}): ${what}` : `error: ${what}`;
}
