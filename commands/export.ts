import type { Command } from 'commander';
import type { CommandHost } from './host.js';
import { collect } from './options.js';

interface Flags {
  json?: boolean;
  dryRun?: boolean;
  includeDeleted?: boolean;
  preferSession?: boolean;
  preferHost?: boolean;
  include: string[];
}

export function register(program: Command, host: CommandHost): void {
  program
    .command('export')
    .summary('apply a copy-mode session\'s changes to the host (a three-way merge)')
    .description('Apply what a copy-mode session changed since its workspace was copied in to DIR (default: the workspace it was copied from). '
      + 'A path the host changed too since the copy is a conflict: nothing is written and each conflict is listed (exit 1), unless '
      + '--prefer-session or --prefer-host picks a side. Each file is written to a temporary file and renamed into place. '
      + 'Paths that would escape DIR refuse the whole export. Never written unless named with --include: .git/**, aca\'s configuration '
      + '(.acarc*, aca.config.*, .config/acarc*), the directory core.hooksPath names, a package.json whose "aca" key changed, setuid/setgid files.')
    .argument('<session>', 'session name or id prefix')
    .argument('[dir]', 'where to write (default: the session\'s workspace)')
    .option('--dry-run', 'print what would be written; write nothing')
    .option('--include-deleted', 'also delete on the host what the session deleted')
    .option('--prefer-session', 'on a conflict, write the session\'s version over the host\'s')
    .option('--prefer-host', 'on a conflict, keep the host\'s version')
    .option('--include <path>', 'export this protected path (or directory) anyway (repeatable)', collect, [])
    .option('--json', 'print the result as JSON')
    .action(
      host.action<Flags>(async (ctx, flags, [session, dir]) => {
        const { UsageError } = await import('../src/errors.js');
        if (flags.preferSession && flags.preferHost) throw new UsageError('--prefer-session and --prefer-host contradict each other');
        const { exportSession } = await import('../src/sessions/workspace.js');
        const result = await exportSession(ctx, session!, {
          dir,
          dryRun: Boolean(flags.dryRun),
          includeDeleted: Boolean(flags.includeDeleted),
          prefer: flags.preferSession ? 'session' : flags.preferHost ? 'host' : undefined,
          include: flags.include.map((p) => p.replace(/^\.\//, '').replace(/\/+$/, '')),
        });
        const failed = result.conflicts.length > 0;
        if (flags.json) {
          ctx.out.data(JSON.stringify(result, null, 2));
          return failed ? 1 : 0;
        }
        for (const s of result.skipped) ctx.out.warn(`skipped ${s.path}: ${s.reason} (export it with --include ${s.path})`);
        if (failed) {
          for (const c of result.conflicts) ctx.out.error(`conflict: ${c.path}: ${c.reason}`);
          ctx.out.error(`aca export: ${result.conflicts.length} conflict${result.conflicts.length === 1 ? '' : 's'}; nothing was written. `
            + 'Pick a side with --prefer-session or --prefer-host, or export to another directory.');
          return 1;
        }
        for (const path of result.written) ctx.out.data(path);
        for (const path of result.deleted) ctx.out.data(`deleted ${path}`);
        for (const path of result.keptHost) ctx.out.warn(`${path}: kept the host's version (--prefer-host)`);
        for (const path of result.notDeleted) ctx.out.warn(`${path} was deleted in the session; left in place on the host (--include-deleted deletes it)`);
        const verb = result.dryRun ? 'would write' : 'wrote';
        ctx.out.info(`aca export: ${verb} ${result.written.length} path${result.written.length === 1 ? '' : 's'}`
          + `${result.deleted.length ? `, ${result.dryRun ? 'would delete' : 'deleted'} ${result.deleted.length}` : ''} to ${result.dir}`);
        return 0;
      }),
    );
}
