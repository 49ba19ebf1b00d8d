import type { Command } from 'commander';
import type { CommandHost } from './host.js';
import { DETACH_KEYS_FLAG, DETACH_KEYS_HELP } from './options.js';

export function register(program: Command, host: CommandHost): void {
  program
    .command('attach')
    .summary('attach the terminal to a session\'s main process')
    .argument('<session>', 'session name or id prefix')
    .option(DETACH_KEYS_FLAG, DETACH_KEYS_HELP)
    .action(
      host.action<{ detachKeys?: string }>(async (ctx, flags, [session]) => {
        const [{ attachSession }, { resolveDetachKeys }] = await Promise.all([
          import('../src/sessions/attach.js'),
          import('../src/sessions/detach-keys.js'),
        ]);
        return attachSession(ctx, session!, await resolveDetachKeys(ctx, flags.detachKeys));
      }),
    );
}
