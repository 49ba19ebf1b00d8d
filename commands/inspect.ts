import type { Command } from 'commander';
import type { CommandHost } from './host.js';

export function register(program: Command, host: CommandHost): void {
  program
    .command('inspect')
    .summary('show a session; --security: its effective profile, scored against CIS Docker Benchmark v1.6.0 section 5')
    .argument('<session>', 'session name or id prefix')
    .option('--security', 'the effective security profile and the CIS container-runtime checks')
    .option('--json', 'print JSON')
    .option('--format <format>', 'table, json or a template over the JSON fields: \'{{.State}}\', \'{{json .Mounts}}\'')
    .action(
      host.action<{ security?: boolean; json?: boolean; format?: string }>(async (ctx, flags, [session]) => {
        const [{ describeSession, securityReport }, { formatItems, parseFormat }] = await Promise.all([
          import('../src/sessions/inspect.js'),
          import('../src/format.js'),
        ]);
        const format = parseFormat(flags.format);
        /** Print `value` as --json or --format ask; false when the default view is wanted. */
        const print = (value: unknown): boolean => {
          const formatted = flags.json ? JSON.stringify(value, null, 2) : formatItems(format, [value]);
          if (formatted === undefined) return false;
          ctx.out.data(formatted);
          return true;
        };
        if (!flags.security) {
          const info = await describeSession(ctx, session!);
          if (print(info)) return 0;
          const lines: Array<[string, string]> = [
            ['name', info.name], ['id', info.id.slice(0, 12)], ['image', info.image], ['state', info.state], ['user', info.user],
            ['command', info.command.join(' ')], ['workspace', info.workspace], ['created', info.created], ['networks', info.networks.join(', ')],
          ];
          for (const [k, v] of lines) ctx.out.data(`${k.padEnd(10)} ${v}`);
          for (const m of info.mounts) ctx.out.data(`${'mount'.padEnd(10)} ${m.destination} <- ${m.source || m.type}${m.readOnly ? ' (ro)' : ''}`);
          return 0;
        }
        const report = await securityReport(ctx, session!);
        if (print(report)) return 0;
        const { table } = await import('../src/output.js');
        const { color } = ctx.out;
        const mib = (n: number) => `${Math.round(n / 1024 / 1024)} MiB`;
        const rows: Array<[string, string]> = [
          ['user', report.user],
          ['root filesystem', report.rootFilesystem],
          ['privileged', String(report.privileged)],
          ['capabilities', `drop ${report.capabilities.drop.join(',') || 'none'}; add ${report.capabilities.add.join(',') || 'none'}`],
          ['no-new-privileges', String(report.noNewPrivileges)],
          ['seccomp', report.seccomp],
          ['apparmor', report.apparmor],
          ['selinux', report.selinux],
          ['isolation', report.isolation === 'gvisor' ? `gvisor (gVisor's user-space kernel, runtime ${report.runtime})` : `container (runtime ${report.runtime}, the host's kernel)`],
          ['limits', `memory ${mib(report.limits.memory)} (swap ${mib(report.limits.memorySwap)}), cpus ${report.limits.cpus}, cpu-shares ${report.limits.cpuShares}, pids ${report.limits.pids}`],
          ['ulimits', report.limits.ulimits.map((u) => `${u.Name}=${u.Soft}:${u.Hard}`).join(' ') || 'none'],
          ['namespaces', Object.entries(report.namespaces).map(([k, v]) => `${k}=${v}`).join(' ')],
          ['tmpfs', Object.keys(report.tmpfs).join(' ') || 'none'],
          ['network', `${report.network.name}${report.network.internal ? ' (internal)' : ''}${report.network.interContainer === false ? ', icc off' : ''}${report.network.allow.length ? `, allow ${report.network.allow.join(' ')}` : ''}`],
          ['restart', report.restartPolicy],
          ['secrets', report.secrets.join(' ') || 'none'],
          ['relaxed', report.relaxedFrom.length ? '' : 'none'],
          ...report.relaxedFrom.map((r): [string, string] => ['', `${r.what} (from ${r.from})`]),
          ['unsafe', String(report.unsafe)],
        ];
        for (const [k, v] of rows) ctx.out.data(`${k.padEnd(18)} ${v}`);
        for (const m of report.mounts) ctx.out.data(`${'mount'.padEnd(18)} ${m.destination} <- ${m.source} (${m.mode}, ${m.propagation})`);
        ctx.out.data('');
        const paint = (s: string) => (s === 'pass' ? color.green(s) : s === 'warn' ? color.red(s) : color.dim(s));
        ctx.out.data(table(['CIS', 'CHECK', 'STATUS', 'DETAIL'], report.cis.checks.map((c) => [c.id, c.title, paint(c.status), c.detail])));
        const s = report.cis.summary;
        ctx.out.data(`\n${s.pass} pass, ${s.warn} warn, ${s.info} info (${report.cis.benchmark})`);
        return 0;
      }),
    );
}
