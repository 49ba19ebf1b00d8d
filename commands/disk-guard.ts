import type { Command } from 'commander';
import type { CommandHost } from './host.js';

/** Internal: the detached process that enforces a session's disk limit (src/sessions/disk-limit.ts). Not for users. */
export function register(program: Command, host: CommandHost): void {
  program
    .command('__disk-guard', { hidden: true })
    .argument('<id>', 'container id')
    .action(
      host.action<Record<string, never>>(async (ctx, _flags, [id]) => {
        const { guardDisk } = await import('../src/sessions/disk-limit.js');
        await guardDisk(ctx, id!);
      }),
    );
}
