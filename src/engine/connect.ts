/**
 * Find the engine: try each candidate in order, prove it with a ping, and keep
 * the first that answers. One connection per process, cached.
 */
import { existsSync } from 'node:fs';
import { EngineDownError } from './errors.js';
import type { ApiEngine as Engine } from './client.js';
import { engineFor } from './engine-for.js';
import { resolveContext } from './contexts.js';
import { engineCandidates, isRemoteEndpoint, kindFromPingHeaders, type Candidate, type ConfiguredHost, type EngineChoice, type EngineKind } from './endpoint.js';
import { EngineHttp, type TlsFiles } from './http.js';

export interface ConnectOptions {
  host?: string | undefined;
  /** --context NAME */
  context?: string | undefined;
  /** The configuration's `host` key (see engineCandidates for its place). */
  configHost?: ConfiguredHost | undefined;
  /** Already chosen: --engine, else the configuration's `engine`, else ACA_ENGINE, else auto. */
  engine: EngineChoice;
  env: NodeJS.ProcessEnv;
  tls?: TlsFiles;
}

/**
 * Where aca will look for the engine, without connecting: the address named by --host, --context, the
 * configuration's host, DOCKER_HOST or DOCKER_CONTEXT, else the well-known sockets. Also the TLS files that go with it.
 */
export function plannedCandidates(options: ConnectOptions): { candidates: Candidate[]; tls: TlsFiles | undefined } {
  // The flags outrank the configuration's host, and it outranks the environment (DOCKER_HOST, DOCKER_CONTEXT).
  const configHost = options.host || options.context ? undefined : options.configHost;
  const context = resolveContext({ flag: options.context, host: options.host ?? configHost?.url, engine: options.engine, env: options.env });
  const candidates = engineCandidates({ ...options, configHost, context, tlsFiles: Boolean(options.tls?.ca || options.tls?.cert) });
  const tls = context && !options.host ? context.tls : EngineHttp.tlsFromEnv(options.env, options.tls ?? {});
  return { candidates, tls };
}

/** The engine is named explicitly and is not a socket on this machine (see isRemoteEndpoint). */
export function engineIsRemote(options: ConnectOptions): { remote: boolean; url: string } {
  const [first] = plannedCandidates(options).candidates;
  return { remote: first !== undefined && isRemoteEndpoint(first.endpoint), url: first?.endpoint.url ?? '' };
}

const PING_TIMEOUT_MS = { local: 5_000, remote: 15_000 };

/** Prove one candidate with a ping (aca doctor probes every candidate this way). */
export async function ping(candidate: Candidate, tls: TlsFiles | undefined): Promise<Engine> {
  const { endpoint } = candidate;
  if (endpoint.protocol === 'unix' && !existsSync(endpoint.socketPath!)) {
    throw new EngineDownError('socket not found');
  }
  const http = new EngineHttp(endpoint, tls);
  const timeoutMs = endpoint.protocol === 'unix' ? PING_TIMEOUT_MS.local : PING_TIMEOUT_MS.remote;
  let res;
  try {
    res = await http.head('GET', '/_ping', { timeoutMs });
  } catch (error) {
    http.close();
    // Strip the address prefix: the caller names the candidate.
    // The reason alone: the caller names the candidate.
    throw new EngineDownError(error instanceof EngineDownError ? error.reason : (error as Error).message, { cause: error });
  }
  if (res.statusCode === 400 && endpoint.protocol === 'http') {
    http.close();
    // Docker answers plain HTTP on a TLS port with 400 "Client sent an HTTP request to an HTTPS server".
    throw new EngineDownError('the engine speaks TLS on this port; set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH, or give --tlscacert/--tlscert/--tlskey');
  }
  if (res.statusCode !== 200) {
    http.close();
    throw new EngineDownError(`ping answered HTTP ${res.statusCode}; is this an engine API?`);
  }
  const kind = kindFromPingHeaders(res.headers);
  const apiVersion = String(res.headers['api-version'] ?? '');
  return engineFor(http, { kind, url: endpoint.url, source: candidate.source, apiVersion });
}

/** Whether an engine that answered is the one asked for (--engine, the configuration's engine, ACA_ENGINE). */
export function isChosen(engine: { kind: EngineKind }, choice: EngineChoice): boolean {
  return choice === 'auto' || engine.kind === choice;
}

export async function connect(options: ConnectOptions): Promise<Engine> {
  const { candidates, tls } = plannedCandidates(options);
  const failures: string[] = [];
  for (const candidate of candidates) {
    try {
      const engine = await ping(candidate, tls);
      if (!isChosen(engine, options.engine)) {
        engine.http.close();
        failures.push(`${candidate.endpoint.url} (${candidate.source}): answers as ${engine.kind}, not ${options.engine}`);
        continue;
      }
      return engine;
    } catch (error) {
      failures.push(`${candidate.endpoint.url} (${candidate.source}): ${(error as Error).message}`);
    }
  }
  const wanted = options.engine === 'auto' ? 'container engine' : `${options.engine} engine`;
  throw new EngineDownError(`no ${wanted} answered; tried ${failures.join('; ')}`, {
    hint:
      candidates.length === 1 && !candidates[0]!.expected
        ? `Check that an engine runs at ${candidates[0]!.endpoint.url} and is reachable from here (named by ${candidates[0]!.source}).`
        : options.engine === 'podman'
        ? 'Start Podman\'s API: podman system service --time=0 unix:///run/podman/podman.sock &'
        : 'Start Docker (sudo systemctl start docker, or dockerd &), or Podman (podman system service --time=0 &), or point --host / DOCKER_HOST at one.',
  });
}

let cached: { key: string; engine: Promise<Engine> } | undefined;

/** The process's one engine connection. */
export function getEngine(options: ConnectOptions): Promise<Engine> {
  const key = JSON.stringify([options.host, options.context, options.configHost?.url, options.engine, options.env.DOCKER_HOST, options.env.DOCKER_CONTEXT, options.env.XDG_RUNTIME_DIR, options.tls]);
  if (!cached || cached.key !== key) {
    const engine = connect(options);
    cached = { key, engine };
    // A failed connection is not cached: the next call tries again.
    engine.catch(() => { if (cached?.engine === engine) cached = undefined; });
  }
  return cached.engine;
}
