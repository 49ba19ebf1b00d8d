/**
 * The command line: global options, one module per subcommand (each lazily
 * importing its implementation), and the single place where errors become
 * exit codes.
 */
import { Command, CommanderError, Help, Option } from 'commander';
import { createContext, type Context, type ContextInit, type GlobalOptions } from '../src/context.js';
import { EngineDownError, parseEngineChoice } from '../src/engine/choice.js';
import { AcaError, CommandExit, EXIT, UsageError } from '../src/errors.js';
import { VERSION } from '../src/version.js';
import type { Action, CommandHost } from './host.js';
import { COMMANDS } from './index.js';

// commander is bundled into aca's build (rolldown.config.mjs), so it costs no module resolution of its own.

/** Subcommands whose own failures exit 125, leaving 1..124 to the command inside. */
const CONTAINER_COMMANDS = new Set(['run', 'exec', 'shell', 'attach']);


export interface MainOptions extends Partial<Omit<ContextInit, 'global'>> {}

function collectGlobal(program: Command, env: NodeJS.ProcessEnv): GlobalOptions {
  const opts = program.opts<{
    engine?: string; host?: string; context?: string; debug?: boolean; quiet?: boolean; color?: boolean;
    tlscacert?: string; tlscert?: string; tlskey?: string;
  }>();
  const tls = opts.tlscacert || opts.tlscert ? { ca: opts.tlscacert, cert: opts.tlscert, key: opts.tlskey } : undefined;
  return {
    engine: parseEngineChoice(opts.engine ?? env.ACA_ENGINE, opts.engine ? '--engine' : 'ACA_ENGINE'),
    engineFrom: opts.engine ? '--engine' : env.ACA_ENGINE ? 'ACA_ENGINE' : 'default',
    host: opts.host,
    context: opts.context,
    tls: tls as GlobalOptions['tls'],
    debug: Boolean(opts.debug) || env.ACA_DEBUG === '1',
    quiet: Boolean(opts.quiet),
    noColor: opts.color === false,
  };
}

/**
 * Where argv names the subcommand, found by stepping over the global options (and the values they take) as
 * commander will; -1 when there is none, e.g. `aca --help`. What comes before it are the global options.
 */
export function commandIndex(program: Command, argv: string[]): number {
  const takesValue = (flag: string) => program.options.some((o) => (o.long === flag || o.short === flag) && (o.required || o.optional));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') return i + 1 < argv.length ? i + 1 : -1;
    if (!arg.startsWith('-') || arg === '-') return i;
    if (arg.startsWith('--')) {
      if (!arg.includes('=') && takesValue(arg)) i++;
      continue;
    }
    // A cluster of short flags (-qH URL): a value-taking flag swallows the rest of the cluster, else the next word.
    for (let j = 1; j < arg.length; j++) {
      if (takesValue(`-${arg[j]}`)) {
        if (j === arg.length - 1) i++;
        break;
      }
    }
  }
  return -1;
}

/** The subcommand argv names (see commandIndex). */
export function invokedCommand(program: Command, argv: string[]): string | undefined {
  const at = commandIndex(program, argv);
  return at < 0 ? undefined : argv[at];
}

export async function buildProgram(init: MainOptions, result: { code: number; ctx?: Context }, argv: string[] = []): Promise<Command> {
  const env = init.env ?? process.env;
  const stdout = init.stdout ?? process.stdout;
  const stderr = init.stderr ?? process.stderr;
  const program = new Command('aca')
    .description('Run AI coding agents (or any command) in sandboxed container sessions on Docker or Podman.')
    .version(VERSION, '-V, --version', 'print the version')
    .addOption(new Option('--engine <engine>', 'engine to use: auto, docker or podman (config: engine; env ACA_ENGINE)'))
    .option('-H, --host <url>', 'engine address: unix:///path, tcp://host:port, ssh://user@host (config: host; env DOCKER_HOST)')
    .option('-c, --context <name>', 'Docker context to use (env DOCKER_CONTEXT; default: docker\'s current context)')
    .option('--tlscacert <file>', 'CA certificate for a TLS engine')
    .option('--tlscert <file>', 'client certificate for a TLS engine')
    .option('--tlskey <file>', 'client key for a TLS engine')
    .option('--debug', 'show debug output and stack traces')
    .option('--no-color', 'no colours (also: NO_COLOR)')
    .option('-q, --quiet', 'only data and errors; no progress')
    .enablePositionalOptions()
    .showSuggestionAfterError()
    .configureHelp({
      // A repeatable flag starts as []: "(repeatable)" in its text says it, "(default: [])" would say nothing.
      optionDescription(option) {
        const shown = Array.isArray(option.defaultValue) && option.defaultValue.length === 0 ? Object.create(option, { defaultValue: { value: undefined } }) : option;
        return Help.prototype.optionDescription.call(this, shown);
      },
    })
    .exitOverride()
    .configureOutput({
      writeOut: (text) => stdout.write(text),
      writeErr: (text) => stderr.write(text),
      // One line, aca-prefixed, like every other error.
      outputError: (text, write) => write(`aca: ${text.replace(/^error: /, '')}`),
    });

  const host: CommandHost = {
    action<O>(fn: Action<O>) {
      return async (...args: unknown[]) => {
        const command = args[args.length - 1] as Command;
        const options = command.opts() as O;
        const positional = command.args;
        // A session's configuration, the engine it names included, is the one in its --workspace.
        const workspace = (options as { workspace?: unknown }).workspace;
        const ctx = createContext({ ...init, ...(typeof workspace === 'string' ? { configRoot: workspace } : {}), global: collectGlobal(program, env) });
        result.ctx = ctx;
        const code = await fn(ctx, options, positional);
        result.code = typeof code === 'number' ? code : EXIT.ok;
      };
    },
  };
  // Only the invoked subcommand is declared, so a run pays for its own module alone. Help, unknown names
  // (which get a "did you mean"), a bare `aca` and `aca completion` (generated from them) declare them all.
  const invoked = invokedCommand(program, argv);
  const entries = invoked === 'completion' ? [] : COMMANDS.filter((c) => c.name === invoked || c.aliases?.includes(invoked ?? ''));
  for (const register of await Promise.all((entries.length > 0 ? entries : COMMANDS).map((c) => c.load()))) register(program, host);
  return program;
}

/** Map any error to one stderr line (a hint line at most) and an exit code. */
export function exitCodeFor(error: unknown, commandName: string | undefined, ctx: Context | undefined, stderr: NodeJS.WritableStream, debug: boolean): number {
  if (error instanceof CommandExit) return error.exitCode;
  if (error instanceof CommanderError) {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return EXIT.ok;
    return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  const failure = commandName && CONTAINER_COMMANDS.has(commandName) ? EXIT.engineFailure : EXIT.failure;
  const write = (message: string, hint?: string) => {
    if (ctx) ctx.out.error(message, hint);
    else stderr.write(`aca: ${message}\n${hint ? `${hint}\n` : ''}`);
  };
  if (error instanceof AcaError) {
    write(error.message, error.hint);
    if (debug && error.stack) stderr.write(`${error.stack}\n`);
    if (error instanceof UsageError) return EXIT.usage;
    // The engine unreachable or lost is the engine's failure whatever the command (a monitor, a gc): 125.
    return error instanceof EngineDownError ? EXIT.engineFailure : failure;
  }
  const err = error as Error;
  write(`unexpected error: ${err?.message ?? String(error)}`, debug ? undefined : 'Run again with --debug for details.');
  if (debug && err?.stack) stderr.write(`${err.stack}\n`);
  return failure;
}

export async function main(argv: string[], init: MainOptions = {}): Promise<number> {
  const result: { code: number; ctx?: Context } = { code: EXIT.ok };
  const stderr = init.stderr ?? process.stderr;
  let program: Command | undefined;
  // The global options: those before the subcommand (a --debug after it belongs to the command inside).
  let globals = argv;
  try {
    program = await buildProgram(init, result, argv);
    const at = commandIndex(program, argv);
    if (at >= 0) globals = argv.slice(0, at);
    // --debug also traces engine API calls: src/engine/http.ts reads ACA_DEBUG once, when a command first loads it.
    if (globals.includes('--debug')) process.env.ACA_DEBUG = '1';
    await program.parseAsync(argv, { from: 'user' });
    return result.code;
  } catch (error) {
    const at = program ? commandIndex(program, argv) : -1;
    const commandName = at >= 0 && program?.commands.some((c) => c.name() === argv[at]) ? argv[at] : undefined;
    const debug = globals.includes('--debug') || (init.env ?? process.env).ACA_DEBUG === '1';
    return exitCodeFor(error, commandName, result.ctx, stderr, debug);
  }
}
