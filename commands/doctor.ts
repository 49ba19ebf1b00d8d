import type { Command } from 'commander';
import type { CommandHost } from './host.js';

export function register(program: Command, host: CommandHost): void {
  program
    .command('doctor')
    .summary('check this machine and its engine for what aca needs')
    .description('Check every engine candidate, the engine aca uses (version, rootless, cgroups, storage, security features, disk), aca\'s base image, node-pty and the configuration files. Exits 1 when aca cannot work here.')
    .option('--json', 'print the report as JSON: {"ok", "checks": [{name, status, detail, hint?, data?}]}')
    .option('--fix', 'set up gVisor for the engine (install runsc, register it, reload the engine), as root on Debian/Ubuntu; says what it changes first')
    .action(
      host.action<{ json?: boolean; fix?: boolean }>(async (ctx, flags) => {
        const { runDoctor } = await import('../src/doctor.js');
        const report = await runDoctor(ctx, { fix: Boolean(flags.fix) });
        if (flags.json) {
          ctx.out.data(JSON.stringify(report, null, 2));
        } else {
          const { color } = ctx.out;
          const mark = { ok: color.green('ok  '), warn: color.yellow('warn'), fail: color.red('FAIL') };
          for (const check of report.checks) {
            ctx.out.data(`${mark[check.status]}  ${check.name}: ${check.detail}`);
            if (check.hint && check.status !== 'ok') ctx.out.data(`      fix: ${check.hint}`);
          }
          ctx.out.data(report.ok ? 'aca can work here.' : 'aca cannot work here: fix the FAIL lines above.');
        }
        return report.ok ? 0 : 1;
      }),
    );
}
