/**
 * What every command receives: where it runs (cwd, env), its streams, the
 * global flags, and a lazily opened engine. Commands take this as a parameter
 * so tests can call them in-process.
 */
import type { Readable } from 'node:stream';
import type { Engine, EngineChoice, TlsFiles } from './engine/index.js';
import { Output } from './output.js';

export interface GlobalOptions {
  engine: EngineChoice;
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
}

export interface ContextInit {
  cwd?: string;
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
  return {
    cwd: init.cwd ?? process.cwd(),
    env,
    stdin: init.stdin ?? process.stdin,
    out,
    global: init.global,
    engine() {
      engine ??= import('./engine/index.js').then(({ loadConnector }) => loadConnector()).then(({ getEngine }) =>
        getEngine({ host: init.global.host, context: init.global.context, engine: init.global.engine, env, ...(init.global.tls ? { tls: init.global.tls } : {}) }),
      );
      return engine;
    },
  };
}
