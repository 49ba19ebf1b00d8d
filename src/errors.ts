/**
 * Typed errors. The CLI's single top-level catch maps them to exit codes, so
 * engine code never calls process.exit and commands stay testable in-process.
 */

/** Exit codes shared by run, exec and shell (documented in README). */
export const EXIT = {
  ok: 0,
  /** failure of any subcommand other than run/exec/shell */
  failure: 1,
  usage: 2,
  /** monitor --fail-on-alert */
  alert: 3,
  /** --timeout expired (as timeout(1) does) */
  timeout: 124,
  /** aca or the engine failed in run, exec or shell */
  engineFailure: 125,
  cannotExecute: 126,
  notFound: 127,
} as const;

export class AcaError extends Error {
  /** A hint shown on a second line, e.g. how to fix the problem. */
  readonly hint: string | undefined;
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.hint = options.hint;
  }
}

/** Bad flags, values or arguments: exit 2. */
export class UsageError extends AcaError {}

/** A configuration file that cannot be used: names the file and the key. */
export class ConfigError extends AcaError {}

/** No engine answered, or the engine refused a request. */
export class EngineError extends AcaError {
  readonly statusCode: number | undefined;
  constructor(message: string, options: { hint?: string; cause?: unknown; statusCode?: number } = {}) {
    super(message, options);
    this.statusCode = options.statusCode;
  }
}

/** A session name or id prefix that matches nothing, or more than one session. */
export class SessionNotFoundError extends AcaError {}

/** An image build or pull that reported an error. */
export class BuildError extends AcaError {}

/**
 * The command inside the container finished; carries its exit code through the
 * same path as errors so cleanup in `finally` blocks always runs first.
 */
export class CommandExit extends Error {
  constructor(readonly exitCode: number, readonly reason?: string) {
    super(reason ?? `exit ${exitCode}`);
  }
}
