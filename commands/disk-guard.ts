import type { Command } from 'commander';
import type { CommandHost } from './host.js';

/**
 * Internal: the detached process that enforces the disk limits of the sessions on one engine
 * (src/sessions/disk-guard.ts). Not for users. The container id an older aca passed is accepted and ignored: the
 * guard finds every session it keeps by itself.
 */
export function register(program: Command, host: CommandHost): void {
  program
    .command('__disk-guard', { hidden: true })
    .argument('[id]', 'ignored (an older aca named one session)')
    .action(
      host.action<Record<string, never>>(async (ctx) => {
        const { guardDisk } = await import('../src/sessions/disk-guard.js');
        await guardDisk(ctx);
      }),
    );
}
