import type { Command } from 'commander';
import type { CommandHost } from '../src/cli.js';

export function register(program: Command, host: CommandHost): void {
  program
    .command('diff')
    .summary('show what a copy-mode session changed in its workspace')
    .argument('<session>', 'session name or id prefix')
    .option('--stat', 'list changed paths only')
    .option('--json', 'print the changes as JSON')
    .action(
      host.action<{ stat?: boolean; json?: boolean }>(async (ctx, flags, [session]) => {
        // A --branch session is reviewed as a git branch (src/sessions/branch-diff.ts).
        if (await import('../src/sessions/branch-diff.js').then((m) => m.diffIfBranch(ctx, session!, flags))) return;
        const { diffSession } = await import('../src/sessions/workspace.js');
        const { changes, patch } = await diffSession(ctx, session!);
        if (flags.json) return ctx.out.data(JSON.stringify(changes, null, 2));
        if (flags.stat) {
          const mark = { added: 'A', modified: 'M', deleted: 'D' } as const;
          for (const c of changes) ctx.out.data(`${mark[c.kind]} ${c.path}${c.binary ? ' (binary)' : ''}`);
          return;
        }
        if (patch) ctx.out.stdout.write(patch);
        ctx.out.info(`aca diff: ${changes.length} changed path${changes.length === 1 ? '' : 's'}`);
      }),
    );
}
