/** stop, start and rm share one shape: a list of sessions, one action each. */
import type { Command } from 'commander';
import type { CommandHost } from './host.js';
import type { LifecycleAction } from '../src/sessions/manage.js';

interface Flags {
  force?: boolean;
  time?: string;
  json?: boolean;
}

function define(program: Command, host: CommandHost, action: LifecycleAction, summary: string): Command {
  return program
    .command(action)
    .summary(summary)
    .argument('<session...>', 'session names or id prefixes')
    .option('--json', 'print the result of each as JSON')
    .action(
      host.action<Flags>(async (ctx, flags, sessions) => {
        const [{ applyToSessions }, { UsageError }] = await Promise.all([import('../src/sessions/manage.js'), import('../src/errors.js')]);
        // 0 is valid: stop at once, as docker stop -t 0 does.
        if (flags.time !== undefined && !/^\d+$/.test(flags.time)) throw new UsageError(`--time: expected a whole number of seconds, got "${flags.time}"`);
        const results = await applyToSessions(ctx, action, sessions, {
          force: Boolean(flags.force),
          ...(flags.time !== undefined ? { timeoutSeconds: Number(flags.time) } : {}),
        });
        if (flags.json) ctx.out.data(JSON.stringify(results, null, 2));
        for (const result of results) {
          if (!result.ok) ctx.out.error(result.error!);
          else if (!flags.json) ctx.out.data(result.session);
        }
        return results.every((r) => r.ok) ? 0 : 1;
      }),
    );
}

export function registerStop(program: Command, host: CommandHost): void {
  define(program, host, 'stop', 'stop running sessions (their storage is kept)').option('-t, --time <seconds>', 'seconds to wait before killing (default 10)');
}

export function registerStart(program: Command, host: CommandHost): void {
  define(program, host, 'start', 'start stopped sessions');
}

export function registerRm(program: Command, host: CommandHost): void {
  define(program, host, 'rm', 'remove sessions').option('-f, --force', 'remove running sessions too');
}
