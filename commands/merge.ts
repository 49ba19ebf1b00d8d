import type { Command } from 'commander';
import type { CommandHost } from './host.js';

export function register(program: Command, host: CommandHost): void {
  program
    .command('merge')
    .summary("bring a --branch session's branch into the host repository")
    .description(
      "Fetch the session's branch into the repository it came from, as a local branch of the same name; the host's " +
        'working tree is never touched. --into BRANCH then fast-forwards or merges it into BRANCH (refused when BRANCH ' +
        'is checked out, or on conflicts).',
    )
    .argument('<session>', 'session name or id prefix')
    .option('--into <branch>', 'also fast-forward or merge into this (not checked out) branch')
    .option('--json', 'print the result as JSON')
    .action(
      host.action<{ into?: string; json?: boolean }>(async (ctx, flags, [session]) => {
        const { mergeBranch } = await import('../src/sessions/branch-review.js');
        const result = await mergeBranch(ctx, session!, { into: flags.into });
        if (flags.json) return ctx.out.data(JSON.stringify(result, null, 2));
        ctx.out.info(`aca merge: ${result.branch} is at ${result.commit.slice(0, 12)} in the host repository`);
        if (result.into) ctx.out.info(`aca merge: ${result.into}: ${result.how}`);
        if (result.uncommitted > 0) {
          ctx.out.warn(`${result.uncommitted} uncommitted change${result.uncommitted === 1 ? '' : 's'} in ${result.session} not merged: commit them in the session first (aca exec ${result.session} -- git commit -am ...)`);
        }
      }),
    );
}
