import type { Command } from 'commander';
import type { CommandHost } from './host.js';
import type { MonitorFlags } from '../src/monitor/settings.js';

interface Flags extends MonitorFlags {
  history?: string;
}

export function register(program: Command, host: CommandHost): void {
  program
    .command('monitor')
    .summary('live resource use, health and alerts of sessions')
    .description(
      'Watch sessions (all running ones when none is named): CPU, memory, network, block I/O, pids, health and alerts. ' +
        'A live table on a terminal; --json prints one JSON line per session per sample. ' +
        'With --fail-on-alert, exits 3 when any alert fired. --supervise restarts or stops unhealthy sessions that asked for it.',
    )
    .argument('[sessions...]', 'session names or id prefixes (default: every running session)')
    .option('--interval <duration>', 'time between samples (default 2s, or monitor.interval)')
    .option('--once', 'print one sample and exit (CPU % over about a second, as docker stats --no-stream)')
    .option('--count <n>', 'exit after N samples')
    .option('--json', 'one JSON object per session per sample (NDJSON)')
    .option('--cpu-alert <pct>', 'alert when CPU % is above this (100 = one full CPU; default 95)')
    .option('--mem-alert <pct>', 'alert when memory is above this % of the limit (default 90)')
    .option('--alert-after <n>', 'samples a condition must hold before it alerts (default 3; 1 with --once)')
    .option('--fail-on-alert', 'exit 3 when any alert fired')
    .option('--supervise', 'restart or stop unhealthy sessions per their --on-unhealthy; print each action')
    .option('--max-restarts <n>', 'with --supervise: restarts per session before giving up (default 3)')
    .option('--backoff <duration>', 'with --supervise: wait before a second restart, doubling after each (default 5s)')
    .option('--history <session>', 'print min, average and max per metric and the alerts seen in a recorded session')
    .action(
      host.action<Flags>(async (ctx, flags, names) => {
        if (flags.history) {
          if (names.length > 0) {
            const { UsageError } = await import('../src/errors.js');
            throw new UsageError('--history takes one session: aca monitor --history SESSION');
          }
          const [{ readHistory }, { renderHistory }] = await Promise.all([import('../src/monitor/history.js'), import('../src/monitor/render.js')]);
          const summary = await readHistory(ctx.env, flags.history);
          ctx.out.data(flags.json ? JSON.stringify(summary, null, 2) : renderHistory(summary));
          return 0;
        }
        const [{ resolveMonitorSettings }, { loadConfig }, { monitor }] = await Promise.all([
          import('../src/monitor/settings.js'),
          import('../src/config/load.js'),
          import('../src/monitor/watch.js'),
        ]);
        const config = await loadConfig({ workspace: ctx.cwd, env: ctx.env, warn: (m) => ctx.out.warn(m) });
        const settings = resolveMonitorSettings(flags, config.values.monitor);
        return monitor(ctx, names, settings);
      }),
    );
}
