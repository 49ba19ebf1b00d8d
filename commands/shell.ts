import type { Command } from 'commander';
import type { CommandHost } from '../src/cli.js';
import type { RunFlags } from '../src/sessions/options.js';
import { addSessionOptions, DETACH_KEYS_FLAG, DETACH_KEYS_HELP } from './options.js';

interface Flags extends RunFlags {
  keep?: boolean;
}

export function register(program: Command, host: CommandHost): void {
  const shell = program
    .command('shell')
    .summary('open a login shell in a session (a new one unless SESSION is named)')
    .description(
      'Open a login shell (bash when the image has it, else sh). Without SESSION, start a fresh session on the workspace ' +
        'and remove it when the shell exits (unless --keep or detached). Without a terminal, the shell reads commands from stdin.',
    )
    .argument('[session]', 'an existing session to open the shell in')
    .option('--keep', 'keep a new session after the shell exits')
    .option(DETACH_KEYS_FLAG, DETACH_KEYS_HELP);
  addSessionOptions(shell).action(
    host.action<Flags>(async (ctx, flags, [session]) => {
      const { LOGIN_SHELL, shellMode } = await import('../src/sessions/shell.js');
      const mode = shellMode(ctx.stdin, ctx.out.stdout);
      if (session) {
        const [{ execInSession }, { resolveDetachKeys }] = await Promise.all([
          import('../src/sessions/exec.js'),
          import('../src/sessions/detach-keys.js'),
        ]);
        return execInSession(ctx, {
          session,
          command: LOGIN_SHELL,
          env: [],
          interactive: mode.interactive,
          tty: mode.tty,
          detachKeys: await resolveDetachKeys(ctx, flags.detachKeys),
        });
      }
      const [{ resolveRun }, { runSession }] = await Promise.all([import('../src/sessions/options.js'), import('../src/sessions/run.js')]);
      const resolved = await resolveRun(ctx, { ...flags, ...mode }, LOGIN_SHELL, { shell: true });
      const result = await runSession(ctx, {
        spec: resolved.spec,
        keep: Boolean(flags.keep || flags.branch),
        noBuild: resolved.noBuild,
        base: resolved.base,
        detachKeys: resolved.detachKeys,
        fromCheckpoint: flags.fromCheckpoint,
        monitor: resolved.config.values.monitor,
      });
      return typeof result === 'number' ? result : 0;
    }),
  );
}
