import type { Command } from 'commander';
import type { CommandHost } from './host.js';
import { collect, DETACH_KEYS_FLAG, DETACH_KEYS_HELP } from './options.js';

interface Flags {
  interactive?: boolean;
  tty?: boolean;
  env: string[];
  workdir?: string;
  user?: string;
  detachKeys?: string;
}

export function register(program: Command, host: CommandHost): void {
  program
    .command('exec')
    .summary('run a command in a running session')
    .description('Run COMMAND in a running session, with the same stream and exit-code rules as run.')
    .argument('<session>', 'session name or id prefix')
    .argument('[command...]', 'command and arguments (put -- before them)')
    .option('-i, --interactive', 'forward stdin to the command')
    .option('-t, --tty', 'allocate a terminal (needs one on stdin)')
    .option('-e, --env <K=V|K>', 'set a variable (repeatable)', collect, [])
    .option('-w, --workdir <dir>', 'working directory inside')
    .option('-u, --user <user>', 'run as this user')
    .option(DETACH_KEYS_FLAG, DETACH_KEYS_HELP)
    .passThroughOptions()
    .action(
      host.action<Flags>(async (ctx, flags, args) => {
        const [{ execInSession }, { parseEnvEntry }] = await Promise.all([import('../src/sessions/exec.js'), import('../src/parse.js')]);
        // Detach keys only matter when the command reads our input; a plain exec loads no configuration for them.
        const detachKeys = flags.interactive || flags.tty
          ? await (await import('../src/sessions/detach-keys.js')).resolveDetachKeys(ctx, flags.detachKeys)
          : undefined;
        const [session, ...rest] = args;
        // Options stop at SESSION, so a "--" after it reaches us: it only separates.
        const command = rest[0] === '--' ? rest.slice(1) : rest;
        const env = flags.env.map((e) => parseEnvEntry(e, ctx.env)).filter((e): e is [string, string] => e !== undefined);
        return execInSession(ctx, {
          session: session!,
          command,
          env,
          workdir: flags.workdir,
          user: flags.user,
          interactive: Boolean(flags.interactive),
          tty: Boolean(flags.tty),
          detachKeys,
        });
      }),
    );
}
