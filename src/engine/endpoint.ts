/**
 * Where an engine may be listening, in the order aca tries them. Pure: the
 * caller passes flags and environment, so tests need no engine.
 */
import { UsageError } from '../errors.js';

export type EngineKind = 'docker' | 'podman';
export type EngineChoice = 'auto' | EngineKind;

export interface Endpoint {
  /** As the user would write it: unix:///var/run/docker.sock, tcp://host:2376, ssh://user@host */
  url: string;
  protocol: 'unix' | 'http' | 'https' | 'ssh';
  socketPath?: string;
  hostname?: string;
  port?: number;
  /** ssh only */
  user?: string;
}

/** An engine that answered: which it is, where, how aca found it, and the API version it speaks. */
export interface EngineInfo {
  kind: EngineKind;
  url: string;
  source: string;
  apiVersion: string;
}

export interface Candidate {
  endpoint: Endpoint;
  /** Why aca tried it: "--host", "DOCKER_HOST", "Docker's default socket", ... */
  source: string;
  /** The engine a well-known socket belongs to; the ping has the last word. */
  expected?: EngineKind;
}

export function parseEngineUrl(url: string, tls = false): Endpoint {
  if (url.startsWith('/')) return { url: `unix://${url}`, protocol: 'unix', socketPath: url };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--host: invalid engine address "${url}" (use unix:///path, tcp://host:port or ssh://user@host)`);
  }
  switch (parsed.protocol) {
    case 'unix:':
      if (!parsed.pathname) throw new UsageError(`--host: "${url}" names no socket path`);
      return { url, protocol: 'unix', socketPath: decodeURIComponent(parsed.pathname) };
    case 'tcp:':
    case 'http:':
    case 'https:': {
      const secure = parsed.protocol === 'https:' || (parsed.protocol === 'tcp:' && tls);
      const port = parsed.port ? Number(parsed.port) : secure ? 2376 : 2375;
      return { url, protocol: secure ? 'https' : 'http', hostname: parsed.hostname.replace(/^\[|\]$/g, ''), port };
    }
    case 'ssh:':
      return {
        url,
        protocol: 'ssh',
        hostname: parsed.hostname,
        ...(parsed.port ? { port: Number(parsed.port) } : {}),
        ...(parsed.username ? { user: decodeURIComponent(parsed.username) } : {}),
      };
    default:
      throw new UsageError(`--host: unsupported engine address "${url}" (use unix://, tcp:// or ssh://)`);
  }
}

export function parseEngineChoice(value: string | undefined, flag = '--engine'): EngineChoice {
  const choice = (value ?? 'auto').toLowerCase();
  if (choice === 'auto' || choice === 'docker' || choice === 'podman') return choice;
  throw new UsageError(`${flag}: unknown engine "${value}" (use auto, docker or podman)`);
}

export interface CandidateOptions {
  host?: string | undefined;
  engine: EngineChoice;
  env: NodeJS.ProcessEnv;
  /** The Docker context that names the engine (see contexts.ts), already resolved. */
  context?: { name: string; host: string; source: string; tls?: unknown } | undefined;
  /** TLS files were given (--tlscacert/--tlscert): tcp:// then means TLS. */
  tlsFiles?: boolean;
  /** The configuration's `host` key: below --host and --context, above DOCKER_HOST and DOCKER_CONTEXT. */
  configHost?: ConfiguredHost | undefined;
}

/** An engine address from a configuration file, and which file. */
export interface ConfiguredHost {
  url: string;
  /** e.g. "config /home/me/.config/aca/config.json" */
  source: string;
}

/**
 * An explicit address (--host, --context, the config's host, DOCKER_HOST) is the only candidate, as with the
 * docker CLI: falling back from a named engine to another would surprise.
 * Otherwise: Docker's socket, then rootless Podman, then rootful Podman.
 */
export function engineCandidates({ host, engine, env, context, tlsFiles, configHost }: CandidateOptions): Candidate[] {
  const tls = Boolean(env.DOCKER_TLS_VERIFY || env.DOCKER_TLS || tlsFiles);
  if (host) return [{ endpoint: parseEngineUrl(host, tls), source: '--host' }];
  // The caller resolves a Docker context only from --context when the configuration names a host.
  if (context) {
    return [{ endpoint: parseEngineUrl(context.host, Boolean(context.tls)), source: `Docker context "${context.name}" (${context.source})` }];
  }
  if (configHost) return [{ endpoint: parseEngineUrl(configHost.url, tls), source: configHost.source }];
  if (env.DOCKER_HOST) return [{ endpoint: parseEngineUrl(env.DOCKER_HOST, tls), source: 'DOCKER_HOST' }];
  const candidates: Candidate[] = [];
  if (engine !== 'podman') {
    candidates.push({ endpoint: parseEngineUrl('unix:///var/run/docker.sock'), source: "Docker's socket", expected: 'docker' });
  }
  if (engine !== 'docker') {
    if (env.XDG_RUNTIME_DIR) {
      candidates.push({
        endpoint: parseEngineUrl(`unix://${env.XDG_RUNTIME_DIR}/podman/podman.sock`),
        source: 'rootless Podman socket',
        expected: 'podman',
      });
    }
    candidates.push({ endpoint: parseEngineUrl('unix:///run/podman/podman.sock'), source: 'rootful Podman socket', expected: 'podman' });
  }
  return candidates;
}

/** Read the engine kind from /_ping's headers: Podman adds Libpod-Api-Version. */
export function kindFromPingHeaders(headers: Record<string, string | string[] | undefined>): EngineKind {
  const server = String(headers.server ?? '');
  return headers['libpod-api-version'] !== undefined || /libpod/i.test(server) ? 'podman' : 'docker';
}

/**
 * Whether the engine may not share this machine's filesystem. Only a unix
 * socket proves the engine runs here: a tcp:// port (even on 127.0.0.1, often a
 * VM's forwarded port: Docker Desktop, colima, podman machine) or an ssh://
 * host may see other files, so host paths cannot be bind-mounted into it.
 */
export function isRemoteEndpoint(endpoint: Endpoint): boolean {
  return endpoint.protocol !== 'unix';
}
