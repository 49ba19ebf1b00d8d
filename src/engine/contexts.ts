/**
 * Docker contexts, read as the docker CLI stores them, so `docker context use
 * NAME` (or DOCKER_CONTEXT, or `aca --context NAME`) points aca at the same
 * engine:
 *   $DOCKER_CONFIG/config.json                         {"currentContext": "NAME"}
 *   $DOCKER_CONFIG/contexts/meta/<sha256(NAME)>/meta.json  {"Endpoints":{"docker":{"Host":..., "SkipTLSVerify":...}}}
 *   $DOCKER_CONFIG/contexts/tls/<sha256(NAME)>/docker/{ca,cert,key}.pem
 * ($DOCKER_CONFIG defaults to ~/.docker.) Only read when no --host or
 * DOCKER_HOST names the engine: a small, synchronous read of one file.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import type { EngineChoice } from './endpoint.js';
import type { TlsFiles } from './http.js';

export interface ContextChoice {
  name: string;
  /** How the context was chosen: "--context", "DOCKER_CONTEXT", "current context in ~/.docker/config.json". */
  source: string;
}

export interface DockerContext extends ContextChoice {
  host: string;
  tls?: TlsFiles | undefined;
}

export function dockerConfigDir(env: NodeJS.ProcessEnv): string {
  return env.DOCKER_CONFIG || join(env.HOME || homedir(), '.docker');
}

/**
 * Which context applies, in the docker CLI's order: --context (never together
 * with --host), then DOCKER_HOST (no context), DOCKER_CONTEXT, the current
 * context in config.json. "default" means no context: aca's own discovery.
 * The current context is the docker CLI's setting, so `--engine podman` skips it.
 */
export function chooseContext(options: {
  flag?: string | undefined;
  host?: string | undefined;
  engine: EngineChoice;
  env: NodeJS.ProcessEnv;
  currentContext?: string | undefined;
}): ContextChoice | undefined {
  const { flag, host, env } = options;
  if (flag && host) throw new UsageError('--context and --host both name an engine; give one of them');
  const chosen: ContextChoice | undefined = flag
    ? { name: flag, source: '--context' }
    : host || env.DOCKER_HOST
      ? undefined
      : env.DOCKER_CONTEXT
        ? { name: env.DOCKER_CONTEXT, source: 'DOCKER_CONTEXT' }
        : options.currentContext && options.engine !== 'podman'
          ? { name: options.currentContext, source: 'current context in the docker config' }
          : undefined;
  return chosen && chosen.name !== 'default' ? chosen : undefined;
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UsageError(`cannot read ${path}: ${(error as Error).message}`);
  }
}

/** The current context named in config.json, if any. */
export function currentContextName(configDir: string): string | undefined {
  const config = readJson(join(configDir, 'config.json')) as { currentContext?: unknown } | undefined;
  return typeof config?.currentContext === 'string' && config.currentContext ? config.currentContext : undefined;
}

export function contextDirName(name: string): string {
  return createHash('sha256').update(name).digest('hex');
}

/** Load a context's engine address and TLS files. A context that does not exist is a usage error naming it. */
export function loadContext(choice: ContextChoice, configDir: string): DockerContext {
  const id = contextDirName(choice.name);
  const metaPath = join(configDir, 'contexts', 'meta', id, 'meta.json');
  const meta = readJson(metaPath) as { Endpoints?: { docker?: { Host?: unknown; SkipTLSVerify?: unknown } } } | undefined;
  if (!meta) {
    throw new UsageError(`${choice.source}: no Docker context named "${choice.name}" (looked for ${metaPath})`, {
      hint: 'List contexts with: docker context ls',
    });
  }
  const endpoint = meta.Endpoints?.docker;
  if (typeof endpoint?.Host !== 'string' || !endpoint.Host) {
    throw new UsageError(`${choice.source}: Docker context "${choice.name}" has no docker endpoint host (${metaPath})`);
  }
  const tlsDir = join(configDir, 'contexts', 'tls', id, 'docker');
  const file = (name: string) => (existsSync(join(tlsDir, name)) ? join(tlsDir, name) : undefined);
  const tls: TlsFiles = {
    ...(file('ca.pem') ? { ca: file('ca.pem')! } : {}),
    ...(file('cert.pem') ? { cert: file('cert.pem')! } : {}),
    ...(file('key.pem') ? { key: file('key.pem')! } : {}),
    ...(endpoint.SkipTLSVerify === true ? { skipVerify: true } : {}),
  };
  return { ...choice, host: endpoint.Host, tls: Object.keys(tls).length > 0 ? tls : undefined };
}

/** The Docker context that names the engine, or undefined when none does. */
export function resolveContext(options: {
  flag?: string | undefined;
  host?: string | undefined;
  engine: EngineChoice;
  env: NodeJS.ProcessEnv;
}): DockerContext | undefined {
  const configDir = dockerConfigDir(options.env);
  const needsCurrent = !options.flag && !options.host && !options.env.DOCKER_HOST && !options.env.DOCKER_CONTEXT && options.engine !== 'podman';
  const choice = chooseContext({ ...options, currentContext: needsCurrent ? currentContextName(configDir) : undefined });
  return choice ? loadContext(choice, configDir) : undefined;
}
