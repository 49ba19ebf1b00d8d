import type { Command } from 'commander';
import type { CommandHost } from '../src/cli.js';

export function register(program: Command, host: CommandHost): void {
  program
    .command('export')
    .summary('write a copy-mode session\'s changes back to the host')
    .description('Write the files a copy-mode session added or changed into DIR (default: the workspace it was copied from). '
      + 'Paths that would escape DIR (.., symlinks out of it) refuse the whole export; deletions are listed, never applied.')
    .argument('<session>', 'session name or id prefix')
    .argument('[dir]', 'where to write (default: the session\'s workspace)')
    .option('--json', 'print what was written as JSON')
    .action(
      host.action<{ json?: boolean }>(async (ctx, flags, [session, dir]) => {
        const { exportSession } = await import('../src/sessions/workspace.js');
        const result = await exportSession(ctx, session!, dir);
        if (flags.json) return ctx.out.data(JSON.stringify(result, null, 2));
        for (const path of result.written) ctx.out.data(path);
        for (const path of result.notDeleted) ctx.out.warn(`${path} was deleted in the session; left in place on the host`);
        ctx.out.info(`aca export: wrote ${result.written.length} path${result.written.length === 1 ? '' : 's'} to ${result.dir}`);
      }),
    );
}
