import type { Command } from 'commander';
import type { CommandHost } from './host.js';

export function register(program: Command, host: CommandHost): void {
  program
    .command('config')
    .summary('show the resolved configuration and where each value comes from')
    .option('--json', 'print JSON')
    .action(
      host.action<{ json?: boolean }>(async (ctx, flags) => {
        const [{ describeConfig }, { table }] = await Promise.all([import('../src/config-report.js'), import('../src/output.js')]);
        const report = await describeConfig(ctx);
        if (flags.json) return ctx.out.data(JSON.stringify(report, null, 2));
        ctx.out.info(`user file:    ${report.files.user ?? `(none in ${report.files.userDir ?? '$XDG_CONFIG_HOME/aca'})`}`);
        const trust = report.projectTrust === 'trusted' ? ' (trusted)' : report.projectTrust ? ' (not trusted: it may only narrow the sandbox)' : '';
        ctx.out.info(`project file: ${report.files.project ?? '(none)'}${trust}`);
        const dc = report.devcontainer;
        if (dc) {
          const state = dc.error ? `unusable: ${dc.error}` : dc.used ? `used (${dc.trust}), image ${dc.image ?? '?'}` : `not used: ${dc.why ?? ''}`;
          ctx.out.info(`devcontainer: ${dc.file}: ${state}${Object.keys(dc.sets).length ? `; sets ${Object.keys(dc.sets).join(', ')}` : ''}`);
        }
        const show = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
        ctx.out.data(table(['KEY', 'VALUE', 'SOURCE'], report.entries.map((e) => [e.key, show(e.value), e.source])));
      }),
    );
}
