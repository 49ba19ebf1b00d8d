import type { Command } from 'commander';
import type { CommandHost } from './host.js';

export function register(program: Command, host: CommandHost): void {
  program
    .command('logs')
    .summary('show a session\'s output')
    .argument('<session>', 'session name or id prefix')
    .option('-f, --follow', 'keep following new output')
    .option('-n, --tail <lines>', 'number of lines from the end (default: all)')
    .option('--timestamps', 'prefix each line with its time')
    .action(
      host.action<{ follow?: boolean; tail?: string; timestamps?: boolean }>(async (ctx, flags, [session]) => {
        const { streamLogs } = await import('../src/sessions/manage.js');
        if (flags.tail !== undefined && flags.tail !== 'all' && !/^\d+$/.test(flags.tail)) {
          const { UsageError } = await import('../src/errors.js');
          throw new UsageError(`--tail: expected a number of lines, got "${flags.tail}"`);
        }
        await streamLogs(ctx, session!, { follow: Boolean(flags.follow), ...(flags.tail ? { tail: flags.tail } : {}), timestamps: Boolean(flags.timestamps) });
      }),
    );
}
