import type { Command } from 'commander';
import type { CommandHost } from '../src/cli.js';

export function register(program: Command, host: CommandHost): void {
  program
    .command('attach')
    .summary('attach the terminal to a session\'s main process')
    .argument('<session>', 'session name or id prefix')
    .option('--detach-keys <keys>', 'keys that detach (default ctrl-p,ctrl-q)')
    .action(
      host.action<{ detachKeys?: string }>(async (ctx, flags, [session]) => {
        const [{ attachSession }, { parseDetachKeys, DEFAULT_DETACH_KEYS }] = await Promise.all([
          import('../src/sessions/attach.js'),
          import('../src/terminal.js'),
        ]);
        return attachSession(ctx, session!, parseDetachKeys(flags.detachKeys ?? DEFAULT_DETACH_KEYS));
      }),
    );
}
