import type { Command } from 'commander';
import type { ChalkInstance } from 'chalk';
import type { CommandHost } from './host.js';
import type { SessionRow } from '../src/sessions/manage.js';

/** The default view's columns, in order; a new column is one entry here. */
const COLUMNS: Array<{ header: string; cell: (row: SessionRow, color: ChalkInstance) => string }> = [
  { header: 'NAME', cell: (r) => r.name },
  { header: 'ID', cell: (r) => r.id },
  { header: 'IMAGE', cell: (r) => r.image },
  {
    header: 'STATE',
    cell: (r, color) => (r.orphaned ? color.red(`${r.state} (orphaned)`) : r.state === 'running' ? color.green(r.state) : r.state === 'exited' ? color.dim(r.state) : r.state) + (r.unexported ? color.yellow(' unexported') : ''),
  },
  { header: 'STATUS', cell: (r) => r.status },
  { header: 'HEALTH', cell: (r) => r.health },
  { header: 'AGENT', cell: (r) => (r.mcp ? `mcp${r.agent ? `/${r.agent}` : ''}` : (r.agent ?? '')) },
  { header: 'BRANCH', cell: (r) => r.branch ?? '' },
  { header: 'ISOLATION', cell: (r) => r.isolation },
  { header: 'WORKSPACE', cell: (r) => r.workspace },
];

export function register(program: Command, host: CommandHost): void {
  program
    .command('ps')
    .alias('ls')
    .summary('list sessions')
    .option('-a, --all', 'include stopped sessions')
    .option('--json', 'print a JSON array')
    .option('-q, --quiet', 'print ids only (names: --format \'{{.Name}}\')')
    .option('--format <format>', 'table, json (one object a line) or a template: \'{{.Name}} {{.State}}\', \'table {{.Name}}\\t{{.Image}}\'')
    .action(
      host.action<{ all?: boolean; json?: boolean; quiet?: boolean; format?: string }>(async (ctx, flags) => {
        const [{ listSessionRows }, { table }, { formatItems, parseFormat }] = await Promise.all([
          import('../src/sessions/manage.js'),
          import('../src/output.js'),
          import('../src/format.js'),
        ]);
        const format = parseFormat(flags.format);
        const rows = await listSessionRows(ctx, Boolean(flags.all));
        if (flags.json) return ctx.out.data(JSON.stringify(rows, null, 2));
        if (flags.quiet) return rows.forEach((r) => ctx.out.data(r.id));
        const formatted = formatItems(format, rows);
        if (formatted !== undefined) return formatted ? ctx.out.data(formatted) : undefined;
        const { color } = ctx.out;
        ctx.out.data(table(COLUMNS.map((c) => c.header), rows.map((r) => COLUMNS.map((c) => c.cell(r, color)))));
      }),
    );
}
