/**
 * What every command receives: where it runs (cwd, env), its streams, the
 * global flags, and a lazily opened engine. Commands take this as a parameter
 * so tests can call them in-process.
 */
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import type { ConnectOptions, Engine, EngineChoice, TlsFiles } from './engine/index.js';
import { Output } from './output.js';
import { standardInput } from './stdin.js';

export interface GlobalOptions {
  /** --engine, else ACA_ENGINE, else auto; the configuration's `engine` comes between the two (engineFrom says which). */
  engine: EngineChoice;
  engineFrom: '--engine' | 'ACA_ENGINE' | 'default';
  host?: string | undefined;
  /** --context NAME: a Docker context */
  context?: string | undefined;
  tls?: TlsFiles | undefined;
  debug: boolean;
  quiet: boolean;
  noColor: boolean;
}

export interface Context {
  cwd: string;
  env: NodeJS.ProcessEnv;
  stdin: Readable & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  out: Output;
  global: GlobalOptions;
  /** The engine connection, opened on first use. */
  engine(): Promise<Engine>;
  /** How to find the engine: the global flags, then the configuration's engine and host, then the environment. */
  connectOptions(): Promise<ConnectOptions>;
}

export interface ContextInit {
  cwd?: string;
  /** Where the configuration that names the engine is read from (a session's --workspace); default: cwd. */
  configRoot?: string | undefined;
  env?: NodeJS.ProcessEnv;
  stdin?: Context['stdin'];
  stdout?: NodeJS.WritableStream & { isTTY?: boolean };
  stderr?: NodeJS.WritableStream & { isTTY?: boolean };
  global: GlobalOptions;
}

export function createContext(init: ContextInit): Context {
  const env = init.env ?? process.env;
  const out = new Output({
    stdout: init.stdout ?? process.stdout,
    stderr: init.stderr ?? process.stderr,
    env,
    noColor: init.global.noColor,
    quiet: init.global.quiet,
    debug: init.global.debug,
  });
  let engine: Promise<Engine> | undefined;
  let options: Promise<ConnectOptions> | undefined;
  const cwd = init.cwd ?? process.cwd();
  const configRoot = init.configRoot ? resolve(cwd, init.configRoot) : cwd;
  const connectOptions = () => (options ??= engineOptions(init.global, configRoot, env));
  let stdin = init.stdin;
  return {
    cwd,
    env,
    // Made on first use: most commands never read it.
    get stdin() {
      return (stdin ??= standardInput());
    },
    out,
    global: init.global,
    connectOptions,
    engine() {
      engine ??= Promise.all([import('./engine/index.js').then(({ loadConnector }) => loadConnector()), connectOptions()]).then(([{ getEngine }, chosen]) => getEngine(chosen));
      return engine;
    },
  };
}

/**
 * The configuration's `engine` and `host` sit below the flags and above the environment. Read only when a flag
 * leaves them a say; a project file may set them only when trusted (they are widening keys, see config/classify.ts).
 */
async function engineOptions(global: GlobalOptions, configRoot: string, env: NodeJS.ProcessEnv): Promise<ConnectOptions> {
  const base: ConnectOptions = { host: global.host, context: global.context, engine: global.engine, env, ...(global.tls ? { tls: global.tls } : {}) };
  if (global.engineFrom === '--engine' && (global.host || global.context)) return base;
  if (!(await import('./config/engine-keys.js')).mayNameEngine(configRoot, env)) return base;
  const { loadConfig } = await import('./config/load.js');
  // No warnings here: run, shell and config load the whole configuration and say them once.
  const config = await loadConfig({ workspace: configRoot, env, warn: () => {}, keys: ['engine', 'host'] });
  const { engine, host } = config.values;
  return {
    ...base,
    ...(engine !== undefined && global.engineFrom !== '--engine' ? { engine } : {}),
    ...(host !== undefined ? { configHost: { url: host, source: `config ${config.sources.host}` } } : {}),
  };
}
