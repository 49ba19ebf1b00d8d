import type { Command } from 'commander';
import type { CommandHost } from './host.js';

export function register(program: Command, host: CommandHost): void {
  program
    .command('audit')
    .summary('show the audit trail: session actions, refusals and --unsafe overrides')
    .option('--session <name>', 'only this session')
    .option('--since <time>', 'only entries since a duration ago (30m, 2h, 7d) or an ISO date (2025-01-31, 2025-01-31T12:00Z)')
    .option('--json', 'print JSON lines, as stored')
    .action(
      host.action<{ session?: string; since?: string; json?: boolean }>(async (ctx, flags) => {
        const { parseSince, readAudit } = await import('../src/audit.js');
        const since = flags.since === undefined ? undefined : parseSince(flags.since, new Date());
        const entries = readAudit(ctx.env, { session: flags.session, since });
        if (flags.json) {
          for (const entry of entries) ctx.out.data(JSON.stringify(entry));
          return 0;
        }
        const { table } = await import('../src/output.js');
        ctx.out.data(
          table(
            ['TIME', 'USER', 'SESSION', 'ACTION', 'OUTCOME', 'DETAIL'],
            entries.map((e) => [
              e.time, e.user, e.session, e.action, e.outcome,
              [e.error, e.unsafe?.length ? `unsafe: ${e.unsafe.join(',')}` : '', e.relaxations?.length ? `relaxed: ${e.relaxations.map((r) => `${r.what} (${r.from})`).join(', ')}` : e.relaxed?.length ? `relaxed: ${e.relaxed.join(',')}` : '', e.args.join(' ')]
                .filter(Boolean).join('; '),
            ]),
          ),
        );
        return 0;
      }),
    );
}
