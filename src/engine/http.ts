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
import { Duplex, Transform, pipeline, type Readable } from 'node:stream';
import { AcaError, EngineError } from '../errors.js';
import type { Endpoint } from './endpoint.js';
import { EngineDownError, RequestBodyError, apiErrorFor, describeConnectionFailure, requestBodyFailure, type EngineApiError } from './errors.js';
import { sshAgent } from './ssh.js';
import type { Query } from './types.js';

export type { Query } from './types.js';

// Callers from before the typed errors import these from here.
export { EngineApiError, isNotFound } from './errors.js';

export interface TlsFiles {
  ca?: string;
  cert?: string;
  key?: string;
  /** A Docker context's SkipTLSVerify: encrypt, but accept any server certificate. */
  skipVerify?: boolean;
}

/**
 * How long the engine may take to answer, by kind of request, in ms (0: no limit). The clock is aca's own, so it
 * holds over a unix socket, TCP, TLS and ssh alike. A ping's limit is connect.ts's.
 */
export const TIMEOUT = {
  /** A JSON call, answer and body. Calls that wait on purpose (stop's grace period) add their wait. */
  call: 120_000,
  /** A call whose work grows with the data: commit, disk usage. */
  slow: 30 * 60_000,
  /** Waiting for a container's exit, which may take hours. */
  none: 0,
} as const;

/** The one way aca writes a query string. */
export function queryString(query: Query): string {
  return Object.entries(query)
    .flatMap(([k, v]) => (v === undefined ? [] : Array.isArray(v) ? v : [v]).map((one) => `${encodeURIComponent(k)}=${encodeURIComponent(String(one))}`))
    .join('&');
}

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  /**
   * Raw body (a tar stream for builds and copies), sent through stream.pipeline with its backpressure. Its error
   * aborts the request and is what the caller sees (a RequestBodyError naming the file).
   */
  rawBody?: Readable;
  headers?: Record<string, string>;
  /**
   * The limit (ms; 0: none; default TIMEOUT.call): for json() and head() on the whole answer, for stream() and
   * hijack() until the answer starts (a stream then lasts as long as it lasts). While a raw body is being sent,
   * each chunk restarts the clock: an upload is as slow as the disk it comes from.
   */
  timeoutMs?: number;
}

const TRACE = process.env.ACA_DEBUG === '1';

// TLS is loaded only for the engines that need it: start-up is a budget.
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

/** A request's clock: `expire` runs unless it is cleared (or restarted) within `ms`. */
class Deadline {
  private timer: NodeJS.Timeout | undefined;
  expired = false;
  constructor(private readonly ms: number, private readonly expire: () => void) {
    this.restart();
  }

  restart(): void {
    if (!this.ms || this.expired) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.expired = true;
      this.expire();
    }, this.ms);
  }

  clear(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}

interface Sent {
  res: http.IncomingMessage;
  deadline: Deadline;
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
    const query = options.query ? queryString(options.query) : '';
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (options.body !== undefined) headers['Content-Type'] = 'application/json';
    const base: http.RequestOptions = { method, path: query ? `${path}?${query}` : path, headers, agent: this.agent };
    const ep = this.endpoint;
    if (ep.protocol === 'unix') return { ...base, socketPath: ep.socketPath!, ...NO_SERVER_NAME };
    if (ep.protocol === 'ssh') return { ...base, host: 'docker', ...NO_SERVER_NAME };
    if (ep.protocol === 'http') return { ...base, host: ep.hostname!, port: ep.port!, ...NO_SERVER_NAME };
    return { ...base, host: ep.hostname!, port: ep.port! };
  }

  /** A connection failure, in the engine's and the user's terms. */
  private unreachable(error: NodeJS.ErrnoException): EngineDownError {
    if (error instanceof EngineDownError) return error;
    return this.down(describeConnectionFailure(error), error);
  }

  /** The one wording of an engine that cannot be reached: the address, then why. */
  private down(reason: string, cause?: unknown, hint?: string, timedOut = false): EngineDownError {
    return new EngineDownError(`the engine at ${this.endpoint.url} cannot be reached: ${reason}`, { reason, cause, timedOut, ...(hint ? { hint } : {}) });
  }

  /** The answer stopped before its end: the engine went away, or the clock ran out. */
  lost(error: unknown, deadline?: { expired: boolean }, timeoutMs?: number): Error {
    if (deadline?.expired) return this.timedOut(timeoutMs ?? 0);
    if (error instanceof AcaError) return error;
    const code = (error as NodeJS.ErrnoException)?.code;
    return this.down(code ? describeConnectionFailure(error as NodeJS.ErrnoException) : 'the engine closed the connection', error);
  }

  private timedOut(ms: number): EngineDownError {
    return this.down(`timed out (no answer within ${ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`})`, undefined, 'The engine may be overloaded or unreachable; check it with: aca doctor', true);
  }

  /**
   * Send a request; resolves with the answer's head once it arrives. The deadline is still running: json() and
   * head() clear it once the body is read, stream() as soon as the answer starts.
   */
  private send(method: string, path: string, options: RequestOptions): Promise<Sent> {
    return new Promise((resolve, reject) => {
      const mod = this.endpoint.protocol === 'https' ? lazyHttps() : http;
      const started = TRACE ? performance.now() : 0;
      const timeoutMs = options.timeoutMs ?? TIMEOUT.call;
      let bodyError: RequestBodyError | undefined;
      let answered = false;
      const req = mod.request(this.baseOptions(method, path, options), (res) => {
        answered = true;
        // --debug: every API call with its status and time to first byte, to see where time goes.
        if (TRACE) trace(method, path, res.statusCode, started);
        resolve({ res, deadline });
      });
      const deadline = new Deadline(timeoutMs, () => req.destroy(this.timedOut(timeoutMs)));
      req.on('error', (error: NodeJS.ErrnoException) => {
        deadline.clear();
        reject(bodyError ?? (deadline.expired ? this.timedOut(timeoutMs) : this.unreachable(error)));
      });
      const raw = options.rawBody;
      if (!raw) {
        req.end(options.body === undefined ? undefined : JSON.stringify(options.body));
        return;
      }
      // Listening before pipeline() does makes the body's own error the one the caller sees.
      raw.once('error', (error: NodeJS.ErrnoException) => { if (!answered) bodyError ??= requestBodyFailure(error); });
      const tick = new Transform({ transform(chunk, _encoding, callback) { deadline.restart(); callback(null, chunk); } });
      pipeline(raw, tick, req, (error) => {
        if (!error || answered) return;
        // The engine failed while reading the body: req's own 'error' reports that.
        if (!bodyError) return;
        deadline.clear();
        reject(bodyError);
      });
    });
  }

  /** A raw response, for streams (logs, build, pull, events). Errors (>= 400) are thrown. */
  async stream(method: string, path: string, options: RequestOptions = {}): Promise<http.IncomingMessage> {
    const { res, deadline } = await this.send(method, path, options);
    deadline.clear();
    if ((res.statusCode ?? 500) >= 400) throw await this.apiError(res, method, path);
    return res;
  }

  /** A JSON request; resolves to undefined for 204 and 304 (already started/stopped). */
  async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const { res, deadline } = await this.send(method, path, options);
    let text: string;
    try {
      const status = res.statusCode ?? 500;
      if (status >= 400) throw await this.apiError(res, method, path);
      text = await readBody(res);
      if (status === 204 || status === 304 || text.length === 0) return undefined as T;
    } catch (error) {
      throw this.lost(error, deadline, options.timeoutMs ?? TIMEOUT.call);
    } finally {
      deadline.clear();
    }
    // Podman answers some calls Docker answers with no body (network connect and disconnect)
    // with a plain-text "OK": a non-JSON body of a non-JSON response carries no data.
    if (!/json/i.test(String(res.headers['content-type'] ?? '')) && !/^\s*[[{"]/.test(text)) return undefined as T;
    return JSON.parse(text) as T;
  }

  /** Status code and headers only (ping). */
  async head(method: string, path: string, options: RequestOptions = {}): Promise<http.IncomingMessage> {
    const { res, deadline } = await this.send(method, path, options);
    try {
      // Drain the (short) body before answering, so the next request can reuse this connection.
      await readBody(res);
    } catch (error) {
      throw this.lost(error, deadline, options.timeoutMs ?? TIMEOUT.call);
    } finally {
      deadline.clear();
    }
    return res;
  }

  /**
   * A hijacked connection (exec start, attach): the engine answers 101 and the socket then carries the container's
   * streams both ways. An engine that answers 200 instead streams the body, and takes the input on the same socket.
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
      const timeoutMs = options.timeoutMs ?? TIMEOUT.call;
      const req = mod.request({ ...base, agent, headers: { ...base.headers, Connection: 'Upgrade', Upgrade: 'tcp' } });
      const deadline = new Deadline(timeoutMs, () => req.destroy(this.timedOut(timeoutMs)));
      req.on('upgrade', (res, socket, head) => {
        deadline.clear();
        if (TRACE) trace('POST', path, res.statusCode, started);
        resolve({ socket, head });
      });
      req.on('response', (res) => {
        deadline.clear();
        if (TRACE) trace('POST', path, res.statusCode, started);
        if ((res.statusCode ?? 500) >= 400) {
          this.apiError(res, 'POST', path).then(reject, reject);
          return;
        }
        resolve({ socket: responseAsDuplex(res, req), head: Buffer.alloc(0) });
      });
      req.on('error', (error: NodeJS.ErrnoException) => {
        deadline.clear();
        reject(deadline.expired ? this.timedOut(timeoutMs) : this.unreachable(error));
      });
      req.end(options.body === undefined ? undefined : JSON.stringify(options.body));
    });
  }

  /** The engine's error answer as a typed error (see errors.ts); a body cut short still names the status. */
  private async apiError(res: http.IncomingMessage, method: string, path: string): Promise<EngineApiError> {
    const text = await readBody(res).catch(() => '');
    let message = text.trim();
    try {
      const parsed = JSON.parse(text) as { message?: string; cause?: string };
      if (parsed.message) message = parsed.message;
    } catch {
      /* plain-text error body */
    }
    return apiErrorFor(res.statusCode ?? 500, message || `${method} ${path.split('?')[0]}: HTTP ${res.statusCode}`);
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

/**
 * A 200 response body (read side) joined with the request's socket (write side). Ending the write side half-closes
 * the socket, which is how such an engine learns that stdin ended.
 */
function responseAsDuplex(res: http.IncomingMessage, req: http.ClientRequest): Duplex {
  const socket = req.socket;
  const duplex = new Duplex({
    read() { res.resume(); },
    write(chunk, encoding, callback) {
      if (!socket || socket.destroyed) return callback(Object.assign(new Error('the engine closed the connection'), { code: 'EPIPE' }));
      socket.write(chunk, encoding, callback);
    },
    final(callback) {
      if (socket && !socket.destroyed && socket.writable) socket.end();
      callback();
    },
    destroy(error, callback) {
      res.destroy();
      callback(error);
    },
  });
  res.on('data', (chunk) => { if (!duplex.push(chunk)) res.pause(); });
  res.on('end', () => duplex.push(null));
  res.on('error', (error) => duplex.destroy(error));
  return duplex;
}
