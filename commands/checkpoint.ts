import type { Command } from 'commander';
import type { CommandHost } from './host.js';

export function register(program: Command, host: CommandHost): void {
  const checkpoint = program
    .command('checkpoint')
    .summary('save a session\'s filesystem and home; ls and rm manage them')
    .description('Save SESSION\'s filesystem (as an image) and its home and copy-mode workspace volumes. '
      + 'All or nothing: a running session is paused while it is saved and resumed afterwards; a failed or interrupted '
      + 'checkpoint leaves nothing (aca gc cleans up after a killed one). Start a new session from one with: aca run --from-checkpoint NAME.')
    .argument('[session]', 'the session to save')
    .option('--name <name>', 'checkpoint name (default: SESSION-<time>)')
    .option('--json', 'print the checkpoint as JSON')
    .action(
      host.action<{ name?: string; json?: boolean }>(async (ctx, flags, [session]) => {
        if (!session) {
          const { UsageError } = await import('../src/errors.js');
          throw new UsageError('checkpoint: missing SESSION (usage: aca checkpoint SESSION [--name NAME] | ls | rm NAME)');
        }
        const { createCheckpoint } = await import('../src/sessions/checkpoint.js');
        const info = await createCheckpoint(ctx, session, flags.name);
        if (flags.json) ctx.out.data(JSON.stringify(info, null, 2));
        else ctx.out.data(info.name);
      }),
    );
  checkpoint
    .command('ls')
    .summary('list checkpoints')
    .option('--json', 'print a JSON array')
    .option('--format <format>', 'table, json (one object a line) or a template: \'{{.Name}} {{.Session}}\'')
    .action(
      host.action<{ json?: boolean; format?: string }>(async (ctx, flags) => {
        const [{ listCheckpoints }, { table, humanBytes }, { formatItems, parseFormat }] = await Promise.all([
          import('../src/sessions/checkpoint.js'),
          import('../src/output.js'),
          import('../src/format.js'),
        ]);
        const format = parseFormat(flags.format);
        const list = await listCheckpoints(ctx);
        if (flags.json) return ctx.out.data(JSON.stringify(list, null, 2));
        const formatted = formatItems(format, list);
        if (formatted !== undefined) return formatted ? ctx.out.data(formatted) : undefined;
        ctx.out.data(table(['NAME', 'SESSION', 'CREATED', 'SIZE', 'VOLUMES'], list.map((c) => [c.name, c.session, c.created, humanBytes(c.sizeBytes), c.volumes.join(',')])));
      }),
    );
  checkpoint
    .command('rm')
    .summary('remove checkpoints')
    .argument('<name...>', 'checkpoint names')
    .action(
      host.action(async (ctx, _flags, names) => {
        const { removeCheckpoint } = await import('../src/sessions/checkpoint.js');
        for (const name of names) {
          await removeCheckpoint(ctx, name);
          ctx.out.data(name);
        }
      }),
    );
}
