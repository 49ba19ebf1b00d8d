import type { Command } from 'commander';
import type { CommandHost } from './host.js';

interface TrustFlags {
  list?: boolean;
  revoke?: boolean;
  json?: boolean;
}

export function register(program: Command, host: CommandHost): void {
  program
    .command('trust')
    .summary("let a project's configuration file widen the sandbox, for its exact contents")
    .argument('[path]', 'the project file (default: the one that applies to the current directory)')
    .option('--list', 'list the trusted files and whether they changed since')
    .option('--revoke', 'forget the file: it is untrusted again')
    .option('--json', 'print JSON')
    .action(
      host.action<TrustFlags>(async (ctx, flags, args) => {
        const [{ listTrusted, revokePath, trustPath }, { UsageError }] = await Promise.all([
          import('../src/config/trust-files.js'), import('../src/errors.js'),
        ]);
        const warn = (m: string) => ctx.out.warn(m);
        if (flags.list && flags.revoke) throw new UsageError('--list and --revoke cannot be combined');
        if (flags.list) {
          if (args.length > 0) throw new UsageError('--list takes no PATH');
          const entries = listTrusted(ctx.env);
          if (flags.json) return ctx.out.json(entries);
          const { table } = await import('../src/output.js');
          ctx.out.data(table(['FILE', 'STATE', 'TRUSTED', 'SHA256'], entries.map((e) => [e.file, e.state, e.trustedAt, e.sha256.slice(0, 12)])));
          return;
        }
        if (flags.revoke) {
          const file = await revokePath(ctx.cwd, ctx.env, args[0], warn);
          if (flags.json) return ctx.out.json({ file, revoked: true });
          ctx.out.info(`untrusted ${file}`);
          return;
        }
        const trusted = await trustPath(ctx.cwd, ctx.env, args[0], warn);
        if (flags.json) return ctx.out.json(trusted);
        const may = trusted.widening.map((w) => `${w.key} (${w.why})`).join(', ');
        ctx.out.info(`trusted ${trusted.file} (sha256 ${trusted.sha256.slice(0, 12)}); ${may ? `it may widen: ${may}` : 'it widens nothing'}; a change to it is untrusted again`);
      }),
    );
}
