import type { Command } from 'commander';
import type { CommandHost } from '../src/cli.js';

export function register(program: Command, host: CommandHost): void {
  program
    .command('ps')
    .summary('list sessions')
    .option('-a, --all', 'include stopped sessions')
    .option('--json', 'print a JSON array')
    .option('-q, --quiet', 'print names only')
    .action(
      host.action<{ all?: boolean; json?: boolean; quiet?: boolean }>(async (ctx, flags) => {
        const [{ listSessionRows }, { table }] = await Promise.all([import('../src/sessions/manage.js'), import('../src/output.js')]);
        const rows = await listSessionRows(ctx, Boolean(flags.all));
        if (flags.json) return ctx.out.data(JSON.stringify(rows, null, 2));
        if (flags.quiet) return rows.forEach((r) => ctx.out.data(r.name));
        const { color } = ctx.out;
        const paint = (state: string) => (state === 'running' ? color.green(state) : state === 'exited' ? color.dim(state) : state);
        ctx.out.data(
          table(
            ['NAME', 'ID', 'IMAGE', 'STATE', 'STATUS', 'HEALTH', 'WORKSPACE'],
            rows.map((r) => [r.name, r.id, r.image, (r.orphaned ? color.red(`${r.state} (orphaned)`) : paint(r.state)) + (r.unexported ? color.yellow(' unexported') : ''), r.status, r.health, r.workspace]),
          ),
        );
      }),
    );
}
