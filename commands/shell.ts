import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { CommandHost } from './host.js';
import type { RunFlags } from '../src/sessions/options.js';
import { DETACH_KEYS_FLAG, DETACH_KEYS_HELP } from './options.js';
import { addSessionOptions, sessionRequest } from './session-options.js';

interface Flags extends RunFlags {
  keep?: boolean;
  new?: boolean;
}

export function register(program: Command, host: CommandHost): void {
  const shell = program
    .command('shell')
    .summary('open a login shell in a session (a new one unless SESSION is named)')
    .description(
      'Open a login shell (bash when the image has it, else sh). Without SESSION, start a fresh session on the workspace ' +
        'and remove it when the shell exits (unless --keep or detached). Where a session of the same workspace runs already, ' +
        'offer it first (--new or --name: start another without asking). Without a terminal, the shell reads commands from stdin.',
    )
    .argument('[session]', 'an existing session to open the shell in')
    .option('--keep', 'keep a new session after the shell exits')
    .option('--new', 'start a new session even where one of this workspace runs')
    .option(DETACH_KEYS_FLAG, DETACH_KEYS_HELP);
  addSessionOptions(shell).action(
    host.action<Flags>(async (ctx, flags, [named]) => {
      const { LOGIN_SHELL, offerRunningSession, shellMode } = await import('../src/sessions/shell.js');
      const mode = shellMode(ctx.stdin, ctx.out.stdout);
      // A named new session (--name) or --new asks for a new one; no workspace, no project to match.
      const offer = !named && !flags.new && !flags.name && flags.workspace !== false;
      const session = named ?? (offer ? await offerRunningSession(ctx, resolve(ctx.cwd, flags.workspace || '.'), mode.tty) : undefined);
      if (session) {
        const [{ execInSession }, { resolveDetachKeys }] = await Promise.all([
          import('../src/sessions/exec.js'),
          import('../src/sessions/detach-keys.js'),
        ]);
        return execInSession(ctx, {
          session,
          command: LOGIN_SHELL,
          action: 'shell',
          env: [],
          interactive: mode.interactive,
          tty: mode.tty,
          detachKeys: await resolveDetachKeys(ctx, flags.detachKeys),
        });
      }
      const [{ resolveRun }, { runSession }] = await Promise.all([import('../src/sessions/options.js'), import('../src/sessions/run.js')]);
      const resolved = await resolveRun(ctx, { ...flags, ...mode }, LOGIN_SHELL, { shell: true });
      const result = await runSession(ctx, sessionRequest(ctx, resolved, flags));
      return typeof result === 'number' ? result : 0;
    }),
  );
}
