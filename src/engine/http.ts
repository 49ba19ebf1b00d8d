/**
 * A small HTTP client for the Engine API over a unix socket, TCP (+TLS) or ssh.
 *
 * Why not dockerode: loading it costs ~0.2 s (docker-modem loads ssh2
 * eagerly), which alone would break the start-up budget of `aca run` and
 * `aca exec`, and its ssh transport ignores the user's ssh configuration.
 * Every request, builds included (see build.ts), speaks HTTP directly.
 *
 * Paths are unversioned ("/containers/json"), so the engine answers with its own
 * current API version: aca never pins a version the engine may reject.
 */
import http from 'node:http';
import type https from 'node:https';
import type tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { EngineError } from '../errors.js';
import type { Endpoint } from './endpoint.js';

export interface TlsFiles {
  ca?: string;
  cert?: string;
  key?: string;
  /** A Docker context's SkipTLSVerify: encrypt, but accept any server certificate. */
  skipVerify?: boolean;
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** Raw body (a tar stream for builds); sent as-is. */
  rawBody?: NodeJS.ReadableStream;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

const TRACE = process.env.ACA_DEBUG === '1';

// TLS and child processes are loaded only for the engines that need them: start-up is a budget.
const require = createRequire(import.meta.url);
const lazyHttps = (): typeof https => require('node:https') as typeof https;
const lazyTls = (): typeof tls => require('node:tls') as typeof tls;

/**
 * Plain-HTTP requests need no TLS server name; an empty one skips the agent's guess, whose first IPv6 check
 * costs ~6 ms of regex compilation on every start-up (the option is untyped in @types/node).
 */
const NO_SERVER_NAME = { servername: '' } as object;

/** --debug: each API call, when it was sent (ms since aca started) and how long the engine took to answer. */
function trace(method: string, path: string, status: number | undefined, started: number): void {
  process.stderr.write(`debug: @${started.toFixed(0)}ms ${method} ${path.split('?')[0]} ${status} ${(performance.now() - started).toFixed(1)}ms\n`);
}

/** The engine answered with an HTTP error; `message` is the engine's own text. */
export class EngineApiError extends EngineError {}

/**
 * The engine says the object is not there: a 404, or Podman's 500 for a container removed under the request
 * (by a concurrent rm or gc).
 */
export function isNotFound(error: unknown): boolean {
  return error instanceof EngineApiError
    && (error.statusCode === 404 || /no such container|does not exist in database/i.test(error.message));
}

export class EngineHttp {
  private readonly agent: http.Agent;
  private readonly tlsOptions: https.AgentOptions = {};

  constructor(readonly endpoint: Endpoint, tls?: TlsFiles) {
    if (endpoint.protocol === 'ssh') {
      this.agent = sshAgent(endpoint, true);
    } else if (endpoint.protocol === 'https') {
      const extraCa = readExtraCa(process.env.NODE_EXTRA_CA_CERTS);
      this.tlsOptions = {
        ...(tls?.ca ? { ca: readTlsFile(tls.ca, 'CA certificate') } : {}),
        // Without a CA of its own, trust what Node would: bin/aca keeps Node 20 from loading NODE_EXTRA_CA_CERTS
        // at start-up, so it is added here, where TLS is actually used.
        ...(!tls?.ca && extraCa ? { ca: [...lazyTls().rootCertificates, extraCa] } : {}),
        ...(tls?.cert ? { cert: readTlsFile(tls.cert, 'client certificate') } : {}),
        ...(tls?.key ? { key: readTlsFile(tls.key, 'client key') } : {}),
        ...(tls?.skipVerify ? { rejectUnauthorized: false } : {}),
      };
      this.agent = new (lazyHttps().Agent)({ keepAlive: true, ...this.tlsOptions });
    } else {
      this.agent = new http.Agent({ keepAlive: true });
    }
  }

  /**
   * Files from DOCKER_CERT_PATH (ca.pem, cert.pem, key.pem), as the docker CLI
   * reads them; with DOCKER_TLS_VERIFY alone, from ~/.docker as it does.
   */
  static tlsFromEnv(env: NodeJS.ProcessEnv, flags: TlsFiles = {}): TlsFiles | undefined {
    const dir = env.DOCKER_CERT_PATH || (env.DOCKER_TLS_VERIFY && env.HOME ? join(env.HOME, '.docker') : undefined);
    const files: TlsFiles = {
      ...(dir ? { ca: join(dir, 'ca.pem'), cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') } : {}),
      ...flags,
    };
    return files.ca || files.cert ? files : undefined;
  }

  private baseOptions(method: string, path: string, options: RequestOptions): http.RequestOptions {
    const query = options.query
      ? Object.entries(options.query)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
          .join('&')
      : '';
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (options.body !== undefined) headers['Content-Type'] = 'application/json';
    const base: http.RequestOptions = { method, path: query ? `${path}?${query}` : path, headers, agent: this.agent };
    const ep = this.endpoint;
    if (ep.protocol === 'unix') return { ...base, socketPath: ep.socketPath!, ...NO_SERVER_NAME };
    if (ep.protocol === 'ssh') return { ...base, host: 'docker', ...NO_SERVER_NAME };
    if (ep.protocol === 'http') return { ...base, host: ep.hostname!, port: ep.port!, ...NO_SERVER_NAME };
    return { ...base, host: ep.hostname!, port: ep.port! };
  }

  private describeFailure(error: NodeJS.ErrnoException): string {
    switch (error.code) {
      case 'ENOENT': return 'socket not found';
      case 'ECONNREFUSED': return 'connection refused';
      case 'EACCES': return 'permission denied';
      case 'ETIMEDOUT': return 'timed out';
      case 'ENOTFOUND': return 'host not found';
      case 'EHOSTUNREACH': return 'host unreachable';
      case 'ECONNRESET': return 'connection reset';
      case 'ENETUNREACH': return 'network unreachable';
      case 'EAI_AGAIN': return 'host name lookup failed';
      case 'DEPTH_ZERO_SELF_SIGNED_CERT':
      case 'SELF_SIGNED_CERT_IN_CHAIN':
      case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
      case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      case 'CERT_SIGNATURE_FAILURE':
        return `the engine's TLS certificate is not signed by the trusted CA (${error.code}); check --tlscacert or DOCKER_CERT_PATH`;
      case 'ERR_TLS_CERT_ALTNAME_INVALID':
        return `the engine's TLS certificate is for another host name (${error.message.replace(/^Hostname\/IP does not match certificate's altnames: /, '')})`;
      case 'CERT_HAS_EXPIRED':
      case 'CERT_NOT_YET_VALID':
        return `the engine's TLS certificate is not valid now (${error.code})`;
      case 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED':
      case 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE':
      case 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA':
        return `the engine refused aca's TLS client certificate (${error.code}); check --tlscert/--tlskey or DOCKER_CERT_PATH`;
      case 'EPROTO':
      case 'ERR_SSL_WRONG_VERSION_NUMBER':
        return `TLS handshake failed (${error.code}); is this a TLS port? (tcp:// without DOCKER_TLS_VERIFY speaks plain HTTP)`;
      default: return error.message;
    }
  }

  private send(method: string, path: string, options: RequestOptions): Promise<http.IncomingMessage> {
    return new Promise((resolve, reject) => {
      const mod = this.endpoint.protocol === 'https' ? lazyHttps() : http;
      const started = TRACE ? performance.now() : 0;
      const req = mod.request(this.baseOptions(method, path, options), (res) => {
        // --debug: every API call with its status and time to first byte, to see where time goes.
        if (TRACE) trace(method, path, res.statusCode, started);
        resolve(res);
      });
      req.on('error', (error: NodeJS.ErrnoException) => {
        reject(new EngineError(`${this.endpoint.url}: ${this.describeFailure(error)}`, { cause: error }));
      });
      if (options.timeoutMs) {
        req.setTimeout(options.timeoutMs, () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
      }
      if (options.rawBody) {
        options.rawBody.pipe(req);
      } else {
        req.end(options.body === undefined ? undefined : JSON.stringify(options.body));
      }
    });
  }

  /** A raw response, for streams (logs, build, pull). Errors (>= 400) are thrown. */
  async stream(method: string, path: string, options: RequestOptions = {}): Promise<http.IncomingMessage> {
    const res = await this.send(method, path, options);
    if ((res.statusCode ?? 500) >= 400) throw await apiError(res, method, path);
    return res;
  }

  /** A JSON request; resolves to undefined for 204 and 304 (already started/stopped). */
  async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const res = await this.send(method, path, options);
    const status = res.statusCode ?? 500;
    if (status >= 400) throw await apiError(res, method, path);
    const text = await readBody(res);
    if (status === 204 || status === 304 || text.length === 0) return undefined as T;
    // Podman answers some calls Docker answers with no body (network connect and disconnect)
    // with a plain-text "OK": a non-JSON body of a non-JSON response carries no data.
    if (!/json/i.test(String(res.headers['content-type'] ?? '')) && !/^\s*[[{"]/.test(text)) return undefined as T;
    return JSON.parse(text) as T;
  }

  /** Status code and headers only (ping). */
  async head(method: string, path: string, options: RequestOptions = {}): Promise<http.IncomingMessage> {
    const res = await this.send(method, path, options);
    // Drain the (short) body before answering, so the next request can reuse this connection.
    await new Promise((resolve) => {
      res.once('end', resolve);
      res.once('close', resolve);
      res.resume();
    });
    return res;
  }

  /**
   * A hijacked connection (exec start, attach): the engine answers 101 and the
   * socket then carries the container's streams both ways.
   */
  hijack(path: string, options: RequestOptions = {}): Promise<{ socket: Duplex; head: Buffer }> {
    return new Promise((resolve, reject) => {
      const mod = this.endpoint.protocol === 'https' ? lazyHttps() : http;
      const base = this.baseOptions('POST', path, options);
      // A hijacked socket cannot go back to a keep-alive pool.
      const agent = this.endpoint.protocol === 'ssh'
        ? sshAgent(this.endpoint, false)
        : this.endpoint.protocol === 'https' ? new (lazyHttps().Agent)(this.tlsOptions) : new http.Agent();
      const started = TRACE ? performance.now() : 0;
      const req = mod.request({ ...base, agent, headers: { ...base.headers, Connection: 'Upgrade', Upgrade: 'tcp' } });
      req.on('upgrade', (res, socket, head) => {
        if (TRACE) trace('POST', path, res.statusCode, started);
        resolve({ socket, head });
      });
      req.on('response', (res) => {
        if (TRACE) trace('POST', path, res.statusCode, started);
        // Engines that answer 200 instead of 101 still stream the body; a >= 400 is an error.
        if ((res.statusCode ?? 500) >= 400) {
          apiError(res, 'POST', path).then(reject, reject);
          return;
        }
        resolve({ socket: responseAsDuplex(res, req), head: Buffer.alloc(0) });
      });
      req.on('error', (error: NodeJS.ErrnoException) => {
        reject(new EngineError(`${this.endpoint.url}: ${this.describeFailure(error)}`, { cause: error }));
      });
      req.end(options.body === undefined ? undefined : JSON.stringify(options.body));
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** As Node treats NODE_EXTRA_CA_CERTS: a file that cannot be read adds nothing. */
function readExtraCa(path: string | undefined): Buffer | undefined {
  if (!path) return undefined;
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

function readTlsFile(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new EngineError(`cannot read the TLS ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, {
      hint: 'Check --tlscacert/--tlscert/--tlskey, DOCKER_CERT_PATH (ca.pem, cert.pem, key.pem) or the Docker context.',
    });
  }
}

export async function readBody(res: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function apiError(res: http.IncomingMessage, method: string, path: string): Promise<EngineApiError> {
  const text = await readBody(res).catch(() => '');
  let message = text.trim();
  try {
    const parsed = JSON.parse(text) as { message?: string; cause?: string };
    if (parsed.message) message = parsed.message;
  } catch {
    /* plain-text error body */
  }
  return new EngineApiError(message || `${method} ${path}: HTTP ${res.statusCode}`, { statusCode: res.statusCode ?? 500 });
}

/** A 200 response body (read side) joined with the request (write side). */
function responseAsDuplex(res: http.IncomingMessage, req: http.ClientRequest): Duplex {
  const duplex = new Duplex({
    read() { res.resume(); },
    write(chunk, encoding, callback) { req.socket?.write(chunk, encoding, callback); },
    final(callback) { callback(); },
  });
  res.on('data', (chunk) => { if (!duplex.push(chunk)) res.pause(); });
  res.on('end', () => duplex.push(null));
  res.on('error', (error) => duplex.destroy(error));
  return duplex;
}

/**
 * An agent whose connections are ssh processes (see sshDialStdio); with
 * keep-alive, one ssh connection serves a command's successive requests.
 */
function sshAgent(endpoint: Endpoint, keepAlive: boolean): http.Agent {
  const agent = new http.Agent({ keepAlive, maxSockets: keepAlive ? 4 : Infinity });
  (agent as unknown as { createConnection: () => Socket }).createConnection = () => sshDialStdio(endpoint) as unknown as Socket;
  return agent;
}

/**
 * ssh://user@host: run `docker system dial-stdio` on the remote host through the
 * system's ssh client, as the docker CLI does. No ssh2 module is loaded at all:
 * the user's ssh configuration, keys, agent and known hosts apply unchanged.
 */
function sshDialStdio(endpoint: Endpoint): Duplex {
  const target = endpoint.user ? `${endpoint.user}@${endpoint.hostname}` : endpoint.hostname!;
  const args = ['-o', 'BatchMode=yes', ...(endpoint.port ? ['-p', String(endpoint.port)] : []), '--', target, 'docker', 'system', 'dial-stdio'];
  const { spawn } = require('node:child_process') as typeof import('node:child_process');
  const child = spawn('ssh', args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  const duplex = new Duplex({
    read() { child.stdout.resume(); },
    // A write racing ssh's exit fails with EPIPE; 'close' below reports the real cause, in ssh's words.
    write(chunk, encoding, callback) {
      child.stdin.write(chunk, encoding, (error) => callback((error as NodeJS.ErrnoException | null)?.code === 'EPIPE' ? null : error));
    },
    final(callback) { child.stdin.end(); callback(); },
    destroy(error, callback) { child.kill(); callback(error); },
  });
  child.stdout.on('data', (chunk) => { if (!duplex.push(chunk)) child.stdout.pause(); });
  child.on('error', (error) => duplex.destroy(error));
  // End the stream only once ssh's exit status is known: a failed ssh is reported with its own words.
  child.on('close', (code) => {
    if (code) duplex.destroy(Object.assign(new Error(`ssh ${target}: ${stderr.trim().split('\n').pop() || `exit ${code}`}`), { code: 'ESSH' }));
    else duplex.push(null);
  });
  child.stdin.on('error', () => { /* ssh exited; 'close' reports why */ });
  // What http.Agent and ClientRequest call on a net.Socket; a pipe to a process has no such knobs.
  const socketLike = duplex as Duplex & Record<string, unknown>;
  socketLike.setKeepAlive = () => duplex;
  socketLike.setNoDelay = () => duplex;
  socketLike.setTimeout = (ms: number, callback?: () => void) => {
    if (callback) duplex.once('timeout', callback);
    return duplex;
  };
  // An idle pooled connection must not keep aca alive.
  socketLike.ref = () => { child.ref(); (child.stdout as unknown as { ref?: () => void }).ref?.(); return duplex; };
  socketLike.unref = () => {
    child.unref();
    for (const stream of [child.stdin, child.stdout, child.stderr]) (stream as unknown as { unref?: () => void }).unref?.();
    return duplex;
  };
  return duplex;
}
