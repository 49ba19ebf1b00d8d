import type { Command } from 'commander';
import type { CommandHost } from './host.js';
import { DETACH_KEYS_FLAG, DETACH_KEYS_HELP } from './options.js';
import { addSessionOptions, sessionRequest } from './session-options.js';
import type { RunFlags } from '../src/sessions/options.js';

interface Flags extends RunFlags {
  json?: boolean;
  rm?: boolean;
  respectGitignore?: boolean;
}

export function register(program: Command, host: CommandHost): void {
  const run = program
    .command('run')
    .summary('run a command in a new session')
    .description('Run COMMAND in a new sandboxed session. Exits with the command\'s exit code; the session is removed afterwards unless --keep.')
    .argument('[command...]', 'command and arguments (put -- before them)')
    .option('-i, --interactive', 'forward stdin to the command')
    .option('-t, --tty', 'allocate a terminal (needs one on stdin)')
    .option('-d, --detach', 'start the session and leave it running; print its name')
    // Only run has -d, so only run has --ttl.
    .option('--ttl <duration>', 'with -d: the session expires after this long and aca gc reaps it')
    .option('--keep', 'keep the session after the command exits')
    .option('--timeout <duration>', 'stop the command after this long (exit 124), e.g. 30s, 10m')
    .option('--json', 'with --detach: print {"name","id"}')
    .option(DETACH_KEYS_FLAG, DETACH_KEYS_HELP)
    .passThroughOptions();
  addSessionOptions(run).action(
    host.action<Flags>(async (ctx, flags, args) => {
      const [{ resolveRun }, { runSession }] = await Promise.all([
        import('../src/sessions/options.js'),
        import('../src/sessions/run.js'),
      ]);
      if (flags.rm && flags.keep) {
        const { UsageError } = await import('../src/errors.js');
        throw new UsageError('--rm and --keep contradict each other');
      }
      const resolved = await resolveRun(ctx, flags, args);
      const result = await runSession(ctx, {
        ...sessionRequest(ctx, resolved, flags),
        discard: Boolean(flags.rm),
        respectGitignore: Boolean(flags.respectGitignore),
        timeoutMs: resolved.timeoutMs,
      });
      if (result === 0 && resolved.spec.command.length === 0 && !flags.detach && !flags.tty && !flags.interactive) {
        await (await import('../src/sessions/shell.js')).explainShellWithoutTerminal(ctx, resolved.spec.image);
      }
      if (typeof result === 'number') return result;
      if (flags.json) ctx.out.data(JSON.stringify({ name: result.name, id: result.id }));
      else ctx.out.data(result.name);
      return 0;
    }),
  );
}
