/**
 * Find the engine: try each candidate in order, prove it with a ping, and keep
 * the first that answers. One connection per process, cached.
 */
import { existsSync } from 'node:fs';
import { EngineError } from '../errors.js';
import { Engine } from './client.js';
import { engineCandidates, kindFromPingHeaders, type Candidate, type EngineChoice } from './endpoint.js';
import { EngineHttp, type TlsFiles } from './http.js';

export interface ConnectOptions {
  host?: string | undefined;
  engine: EngineChoice;
  env: NodeJS.ProcessEnv;
  tls?: TlsFiles;
}

const PING_TIMEOUT_MS = { local: 5_000, remote: 15_000 };

async function ping(candidate: Candidate, tls: TlsFiles | undefined): Promise<Engine> {
  const { endpoint } = candidate;
  if (endpoint.protocol === 'unix' && !existsSync(endpoint.socketPath!)) {
    throw new EngineError('socket not found');
  }
  const http = new EngineHttp(endpoint, tls);
  const timeoutMs = endpoint.protocol === 'unix' ? PING_TIMEOUT_MS.local : PING_TIMEOUT_MS.remote;
  let res;
  try {
    res = await http.head('GET', '/_ping', { timeoutMs });
  } catch (error) {
    http.close();
    // Strip the address prefix: the caller names the candidate.
    throw new EngineError((error as Error).message.replace(`${endpoint.url}: `, ''), { cause: error });
  }
  if (res.statusCode !== 200) {
    http.close();
    throw new EngineError(`ping answered HTTP ${res.statusCode}; is this an engine API?`);
  }
  const kind = kindFromPingHeaders(res.headers);
  const apiVersion = String(res.headers['api-version'] ?? '');
  return new Engine(http, { kind, url: endpoint.url, source: candidate.source, apiVersion });
}

export async function connect(options: ConnectOptions): Promise<Engine> {
  const candidates = engineCandidates(options);
  const tls = options.tls ?? EngineHttp.tlsFromEnv(options.env);
  const failures: string[] = [];
  for (const candidate of candidates) {
    try {
      const engine = await ping(candidate, tls);
      if (options.engine !== 'auto' && engine.kind !== options.engine) {
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
  throw new EngineError(`no ${wanted} answered; tried ${failures.join('; ')}`, {
    hint:
      options.engine === 'podman'
        ? 'Start Podman\'s API: podman system service --time=0 unix:///run/podman/podman.sock &'
        : 'Start Docker (sudo systemctl start docker, or dockerd &), or Podman (podman system service --time=0 &), or point --host / DOCKER_HOST at one.',
  });
}

let cached: { key: string; engine: Promise<Engine> } | undefined;

/** The process's one engine connection. */
export function getEngine(options: ConnectOptions): Promise<Engine> {
  const key = JSON.stringify([options.host, options.engine, options.env.DOCKER_HOST, options.env.XDG_RUNTIME_DIR]);
  if (!cached || cached.key !== key) {
    const engine = connect(options);
    cached = { key, engine };
    // A failed connection is not cached: the next call tries again.
    engine.catch(() => { if (cached?.engine === engine) cached = undefined; });
  }
  return cached.engine;
}
