import type { Command } from 'commander';
import type { CommandHost } from './host.js';

interface Flags {
  olderThan?: string;
  includeRunning?: boolean;
  keepVolumes?: boolean;
  caches?: boolean;
  keepCheckpoints?: string;
  ifDiskAbove?: string;
  dryRun?: boolean;
  json?: boolean;
  label: string[];
  includeUnexported?: boolean;
  unexportedMaxAge?: string;
}

export function register(program: Command, host: CommandHost): void {
  program
    .command('gc')
    .summary('remove stopped, orphaned and expired sessions and what they leave behind')
    .description(
      'Remove, by label only: stopped sessions, orphaned sessions (their aca process is gone) and expired ones (--ttl), ' +
        'the volumes and networks of removed sessions, dangling aca images, checkpoints beyond the keep count and what interrupted checkpoints left. ' +
        'A session whose copy-mode workspace has un-exported changes is kept (and said so) unless --include-unexported or older than --unexported-max-age. ' +
        'Never touches a running, owned session unless --include-running, nor anything aca did not create.',
    )
    .option('--older-than <duration>', 'only sessions stopped at least this long ago (default 0)')
    .option('--include-running', 'remove running sessions too')
    .option('--keep-volumes', 'keep the volumes of removed sessions')
    .option('--caches', 'also remove shared cache volumes')
    .option('--keep-checkpoints <n>', 'checkpoints kept per session (default 5)')
    .option('--if-disk-above <pct>', 'do nothing unless the engine\'s disk is fuller than PCT percent')
    .option('--include-unexported', 'also remove sessions whose copy-mode workspace has changes not yet exported')
    .option('--unexported-max-age <duration>', 'un-exported work older than this is removed anyway (default 7d)')
    .option('--label <K=V>', 'only sessions with this label, and their own volumes and networks (repeatable)', (v: string, p: string[] = []) => [...p, v], [])
    .option('--dry-run', 'print the plan; change nothing')
    .option('--json', 'print the plan or the result as JSON')
    .action(
      host.action<Flags>(async (ctx, flags) => {
        const [{ collectGarbage }, { parseDuration }, { humanBytes }, { UsageError }] = await Promise.all([
          import('../src/gc/collect.js'),
          import('../src/parse.js'),
          import('../src/output.js'),
          import('../src/errors.js'),
        ]);
        const whole = (value: string | undefined, flag: string, fallback: number, max = Number.MAX_SAFE_INTEGER) => {
          if (value === undefined) return fallback;
          if (!/^\d+$/.test(value) || Number(value) > max) throw new UsageError(`${flag}: expected a whole number${max < 1000 ? ` from 0 to ${max}` : ''}, got "${value}"`);
          return Number(value);
        };
        const report = await collectGarbage(ctx, {
          olderThanMs: flags.olderThan ? parseDuration(flags.olderThan, '--older-than') : 0,
          includeRunning: Boolean(flags.includeRunning),
          keepVolumes: Boolean(flags.keepVolumes),
          caches: Boolean(flags.caches),
          includeUnexported: Boolean(flags.includeUnexported),
          unexportedMaxAgeMs: flags.unexportedMaxAge ? parseDuration(flags.unexportedMaxAge, '--unexported-max-age') : undefined,
          keepCheckpoints: whole(flags.keepCheckpoints, '--keep-checkpoints', 5),
          dryRun: Boolean(flags.dryRun),
          labels: flags.label.map((l) => { if (!l.includes('=')) throw new UsageError(`--label: expected K=V, got "${l}"`); return l; }),
          ifDiskAbovePct: flags.ifDiskAbove === undefined ? undefined : whole(flags.ifDiskAbove, '--if-disk-above', 0, 100),
        });
        (await import('../src/gc/audit.js')).auditCollected(ctx, report, process.argv.slice(2));
        if (flags.json) return ctx.out.data(JSON.stringify(report, null, 2));
        if (report.skipped) return ctx.out.info(`aca gc: ${report.skipped}; nothing to do`);
        const verb = report.dryRun ? 'would remove' : 'removed';
        for (const a of report.actions) {
          if (a.error) ctx.out.warn(`could not remove ${a.kind} ${a.name}: ${a.error}`);
          else if (a.kind === 'resume') ctx.out.data(`${report.dryRun ? 'would resume' : 'resumed'} session ${a.name} (${a.reason})`);
          else ctx.out.data(`${verb} ${a.kind} ${a.name} (${a.reason})`);
        }
        for (const s of report.spared) ctx.out.info(`kept ${s.kind} ${s.name}: ${s.reason}`);
        const count = report.actions.filter((a) => report.dryRun || a.removed).length;
        ctx.out.info(`aca gc: ${verb} ${count} object${count === 1 ? '' : 's'}, ${report.dryRun ? 'would reclaim' : 'reclaimed'} ${humanBytes(report.reclaimedBytes)}`);
        return report.actions.some((a) => a.error) ? 1 : 0;
      }),
    );
}
