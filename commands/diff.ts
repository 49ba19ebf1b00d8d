import type { Command } from 'commander';
import type { CommandHost } from './host.js';

export function register(program: Command, host: CommandHost): void {
  program
    .command('diff')
    .summary('show what a copy-mode session changed in its workspace since it was copied in')
    .argument('<session>', 'session name or id prefix')
    .option('--stat', 'list changed paths only')
    .option('--json', 'print the changes as JSON')
    .action(
      host.action<{ stat?: boolean; json?: boolean }>(async (ctx, flags, [session]) => {
        // A --branch session is reviewed as a git branch (src/sessions/branch-diff.ts).
        if (await import('../src/sessions/branch-diff.js').then((m) => m.diffIfBranch(ctx, session!, flags))) return;
        const { diffSession, statLines } = await import('../src/sessions/workspace.js');
        const { changes, patch } = await diffSession(ctx, session!);
        if (flags.json) return ctx.out.data(JSON.stringify(changes, null, 2));
        if (flags.stat) {
          const lines = statLines(changes);
          changes.forEach((c, i) => ctx.out.data(`${lines[i]}${c.binary ? ' (binary)' : ''}${c.hostChanged ? ' (changed on the host too)' : ''}`));
          return;
        }
        if (patch) ctx.out.stdout.write(patch);
        ctx.out.info(`aca diff: ${changes.length} changed path${changes.length === 1 ? '' : 's'}`);
      }),
    );
}
