/** What a command module gets from the program (commands/cli.ts) to declare its action. */
import type { Context } from '../src/context.js';

export type Action<O> = (ctx: Context, options: O, args: string[]) => Promise<number | void>;

export interface CommandHost {
  /** Wrap an action: build the context from the global flags, record the exit code. */
  action<O>(fn: Action<O>): (...args: unknown[]) => Promise<void>;
}
