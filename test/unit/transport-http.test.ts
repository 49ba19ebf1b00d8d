/**
 * src/engine/http.ts as a library, against a fake engine on a unix socket (and on TCP, TLS and through an `ssh` on
 * PATH): bodies fixed-length and chunked, the 101 upgrade and the 200 fallback of hijacked connections with
 * half-close, servers that close early or answer slowly against each timeout, a request body that fails, a body
 * with backpressure, UTF-8 split across chunks, and the typed errors. No container engine is needed.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, type Duplex } from 'node:stream';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ApiEngine } from '../../src/engine/client.js';
import { parseEngineUrl } from '../../src/engine/endpoint.js';
import { ConflictError, EngineApiError, EngineDownError, NotFoundError, RequestBodyError, isConflict, isNotFound } from '../../src/engine/errors.js';
import { EngineHttp, TIMEOUT } from '../../src/engine/http.js';
import { forwardInput } from '../../src/engine/streams.js';
import { answer, chunk, fakeSsh, readRequestBody, startFakeEngine, type FakeEngine } from '../helpers/fake-engine.js';
import { makeCertificates } from '../helpers/remote-engines.js';

const require = createRequire(import.meta.url);
const tarFs = require('tar-fs') as { pack(dir: string, options: { entries: string[] }): Readable };

let fake: FakeEngine;
const clients: EngineHttp[] = [];
const scratch = mkdtempSync(join(tmpdir(), 'aca-transport-'));

beforeAll(async () => { fake = await startFakeEngine({ tcp: true }); });
afterEach(() => { for (const c of clients.splice(0)) c.close(); });
afterAll(async () => {
  await fake.close();
  rmSync(scratch, { recursive: true, force: true });
});

function client(url = `unix://${fake.socket}`, tls?: ConstructorParameters<typeof EngineHttp>[1]): EngineHttp {
  const http = new EngineHttp(parseEngineUrl(url, Boolean(tls)), tls);
  clients.push(http);
  return http;
}

const CHUNKED_HEAD = 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolve with everything a stream carries until it ends. */
function collect(stream: Readable | Duplex, head = Buffer.alloc(0)): Promise<string> {
  const parts: Buffer[] = [head];
  return new Promise((resolve, reject) => {
    stream.on('data', (data: Buffer) => parts.push(Buffer.from(data)));
    stream.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    stream.on('error', reject);
  });
}

/** How long a promise takes to settle, and with what. */
async function timed<T>(promise: Promise<T>): Promise<{ ms: number; value?: T; error?: unknown }> {
  const started = performance.now();
  try {
    const value = await promise;
    return { ms: performance.now() - started, value };
  } catch (error) {
    return { ms: performance.now() - started, error };
  }
}

describe('bodies', () => {
  it('reads a fixed-length and a chunked JSON answer, and 204 as nothing', async () => {
    fake.handle(async (request) => {
      await readRequestBody(request);
      if (request.path === '/fixed') request.socket.end(answer('200 OK', '{"a":1}'));
      else if (request.path === '/none') request.socket.end('HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n');
      else {
        request.socket.write(CHUNKED_HEAD + chunk('{"b":'));
        await sleep(20);
        request.socket.end(Buffer.concat([chunk('[1,2]}'), chunk('')]));
      }
    });
    const http = client();
    expect(await http.json('GET', '/fixed')).toEqual({ a: 1 });
    expect(await http.json('GET', '/chunked')).toEqual({ b: [1, 2] });
    expect(await http.json('POST', '/none', { body: { x: 1 } })).toBeUndefined();
  });

  it('sends a JSON body and the query', async () => {
    let seen: { path: string; body: string } | undefined;
    fake.handle(async (request) => {
      const { body } = await readRequestBody(request);
      seen = { path: request.path, body: body.toString() };
      request.socket.end(answer('201 Created', '{"Id":"c1"}'));
    });
    expect(await client().json('POST', '/containers/create', { query: { name: 'a b', skip: undefined }, body: { Image: 'x' } })).toEqual({ Id: 'c1' });
    expect(seen).toEqual({ path: '/containers/create?name=a%20b', body: '{"Image":"x"}' });
  });
});

describe('typed errors', () => {
  const answers: Record<string, string> = {
    '/docker-404': answer('404 Not Found', '{"message":"No such container: abc"}'),
    '/podman-gone': answer('500 Internal Server Error', '{"cause":"no such container","message":"no container with name or ID \\"abc\\" found: no such container","response":500}'),
    '/podman-taken': answer('500 Internal Server Error', '{"message":"creating container storage: the container name \\"aca-x\\" is already in use by 12ab"}'),
    '/docker-409': answer('409 Conflict', '{"message":"Conflict. The container name \\"/aca-x\\" is already in use"}'),
    '/other-500': answer('500 Internal Server Error', '{"message":"no space left on device"}'),
    '/plain-text': answer('400 Bad Request', 'bad parameter\n', { 'Content-Type': 'text/plain' }),
  };
  beforeAll(() => fake.handle(async (request) => {
    await readRequestBody(request);
    request.socket.end(answers[request.path]);
  }));
  const failure = async (path: string) => (await timed(client().json('GET', path))).error;

  it('maps each engine\'s "not there" to NotFoundError', async () => {
    for (const path of ['/docker-404', '/podman-gone']) {
      const error = await failure(path);
      expect(error, path).toBeInstanceOf(NotFoundError);
      expect(isNotFound(error)).toBe(true);
    }
    expect((await failure('/docker-404') as Error).message).toBe('No such container: abc');
  });
  it('maps each engine\'s "taken" to ConflictError', async () => {
    for (const path of ['/docker-409', '/podman-taken']) expect(isConflict(await failure(path)), path).toBe(true);
    expect(await failure('/docker-409')).toBeInstanceOf(ConflictError);
  });
  it('keeps any other error as the engine said it', async () => {
    const error = await failure('/other-500');
    expect(error).toBeInstanceOf(EngineApiError);
    expect(isNotFound(error) || isConflict(error)).toBe(false);
    expect((error as Error).message).toBe('no space left on device');
    expect((await failure('/plain-text') as Error).message).toBe('bad parameter');
  });
});

describe('hijacked connections', () => {
  /** An engine that echoes input upper-cased, and says "bye" and closes once the input ends (a half-close). */
  const echoUntilEof = (socket: Duplex, extra: Buffer) => {
    if (extra.length) socket.write(extra.toString().toUpperCase());
    socket.on('data', (data: Buffer) => socket.write(data.toString().toUpperCase()));
    socket.on('end', () => socket.end('bye'));
    socket.resume();
  };

  it('upgrades with 101, streams both ways and passes stdin\'s EOF on as a half-close', async () => {
    fake.handle(async (request) => {
      const { body, extra } = await readRequestBody(request);
      expect(JSON.parse(body.toString())).toEqual({ Detach: false, Tty: false });
      expect(request.headers.upgrade).toBe('tcp');
      request.socket.write('HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\nhello ');
      echoUntilEof(request.socket, extra);
    });
    const { socket, head } = await client().hijack('/exec/e1/start', { body: { Detach: false, Tty: false } });
    const output = collect(socket, head);
    forwardInput(Readable.from([Buffer.from('abc '), Buffer.from('def ')]), socket);
    expect(await output).toBe('hello ABC DEF bye');
  });

  it('falls back to a 200 answer whose body is the stream, taking input and the half-close on the same socket', async () => {
    fake.handle(async (request) => {
      const { extra } = await readRequestBody(request);
      request.socket.write('HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\nhello ');
      echoUntilEof(request.socket, extra);
    });
    const { socket, head } = await client().hijack('/containers/c1/attach', { query: { stream: true } });
    const output = collect(socket, head);
    forwardInput(Readable.from([Buffer.from('xyz ')]), socket);
    expect(await output).toBe('hello XYZ bye');
  });

  it('rejects a hijack the engine refuses, with the typed error', async () => {
    fake.handle(async (request) => {
      await readRequestBody(request);
      request.socket.end(answer('404 Not Found', '{"message":"No such exec instance: e9"}'));
    });
    expect((await timed(client().hijack('/exec/e9/start', { body: {} }))).error).toBeInstanceOf(NotFoundError);
  });
});

describe('an engine that goes away', () => {
  it('is EngineDownError when it closes without answering, or in the middle of a body', async () => {
    fake.handle((request) => {
      if (request.path === '/silent') request.socket.destroy();
      else request.socket.end('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"par');
    });
    for (const path of ['/silent', '/cut']) {
      const { error } = await timed(client().json('GET', path));
      expect(error, path).toBeInstanceOf(EngineDownError);
      expect((error as Error).message, path).toMatch(new RegExp(`^the engine at unix://${fake.socket} cannot be reached: `));
      expect((error as EngineDownError).timedOut, path).toBe(false);
    }
  });

  it('is EngineDownError when a progress stream is cut (pull)', async () => {
    fake.handle(async (request) => {
      await readRequestBody(request);
      request.socket.write(CHUNKED_HEAD + chunk('{"status":"Pulling"}\n'));
      await sleep(20);
      request.socket.destroy();
    });
    const engine = new ApiEngine(client(), { kind: 'docker', url: 'fake', source: 'test', apiVersion: '1.41' });
    const progress: string[] = [];
    const { error } = await timed(engine.images.pull('busybox', (line) => progress.push(line)));
    expect(progress).toEqual(['Pulling']);
    expect(error).toBeInstanceOf(EngineDownError);
  });

  it('names a socket that is not there', async () => {
    const { error } = await timed(client(`unix://${join(scratch, 'nothing.sock')}`).json('GET', '/version'));
    expect(error).toBeInstanceOf(EngineDownError);
    expect((error as Error).message).toBe(`the engine at unix://${join(scratch, 'nothing.sock')} cannot be reached: socket not found`);
  });
});

describe('timeouts', () => {
  beforeEach(() => fake.handle(async (request) => {
    await readRequestBody(request);
    const { socket } = request;
    switch (request.path) {
      case '/never': return; // holds the connection, answers nothing
      case '/stalled-body': return socket.write('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{"a');
      case '/late-stream':
        socket.write(CHUNKED_HEAD);
        await sleep(500);
        return socket.end(Buffer.concat([chunk('late'), chunk('')]));
      case '/late-answer':
        await sleep(400);
        return socket.end(answer('200 OK', '{"StatusCode":0}'));
      default: return socket.end(answer('200 OK', '"OK"'));
    }
  }));

  const expectTimeout = async (promise: Promise<unknown>, ms: number) => {
    const { ms: took, error } = await timed(promise);
    expect(error).toBeInstanceOf(EngineDownError);
    expect((error as Error).message).toMatch(new RegExp(`timed out \\(no answer within ${ms} ms\\)`));
    expect((error as EngineDownError).timedOut).toBe(true);
    expect(took).toBeGreaterThanOrEqual(ms - 20);
    expect(took).toBeLessThan(ms + 1500);
  };

  it('limits a ping, a JSON call and its body', async () => {
    const http = client();
    await expectTimeout(http.head('GET', '/never', { timeoutMs: 200 }), 200);
    await expectTimeout(http.json('GET', '/never', { timeoutMs: 200 }), 200);
    await expectTimeout(http.json('GET', '/stalled-body', { timeoutMs: 300 }), 300);
    // The connection pool is not poisoned by a timed-out request.
    expect(await http.json('GET', '/ok', { timeoutMs: 1000 })).toBe('OK');
  });

  it('limits a stream only until it starts, and a hijack until it is upgraded', async () => {
    const http = client();
    const res = await http.stream('GET', '/late-stream', { timeoutMs: 200 });
    expect(await collect(res)).toBe('late');
    await expectTimeout(http.stream('GET', '/never', { timeoutMs: 200 }), 200);
    await expectTimeout(http.hijack('/never', { body: {}, timeoutMs: 200 }), 200);
  });

  it('waits without a limit where the call asks for none (a container\'s exit)', async () => {
    expect(await client().json('POST', '/late-answer', { timeoutMs: TIMEOUT.none })).toEqual({ StatusCode: 0 });
  });

  it('lets a slow request body run as long as it keeps moving', async () => {
    fake.handle(async (request) => {
      const { body } = await readRequestBody(request);
      request.socket.end(answer('200 OK', JSON.stringify({ received: body.length })));
    });
    const slowBody = Readable.from((async function* () {
      for (let i = 0; i < 6; i++) {
        await sleep(100);
        yield Buffer.alloc(1000, 1);
      }
    })());
    expect(await client().json('PUT', '/archive', { rawBody: slowBody, timeoutMs: 300 })).toEqual({ received: 6000 });
  });

  it('holds over TCP and over ssh alike', async () => {
    await expectTimeout(client(`tcp://127.0.0.1:${fake.port}`).json('GET', '/never', { timeoutMs: 200 }), 200);
    const path = process.env.PATH;
    process.env.PATH = `${fakeSsh(fake)}:${path}`;
    try {
      const ssh = client('ssh://someone@engine-host');
      expect(await ssh.json('GET', '/ok')).toBe('OK');
      // Over ssh the socket's own timeout does nothing: this is aca's clock.
      await expectTimeout(ssh.head('GET', '/never', { timeoutMs: 300 }), 300);
      await expectTimeout(ssh.json('GET', '/stalled-body', { timeoutMs: 300 }), 300);
    } finally {
      process.env.PATH = path;
    }
  });
});

describe('request bodies', () => {
  it('aborts the request on a body error and reports it naming the file, with no uncaught error', async () => {
    const context = join(scratch, 'context');
    mkdirSync(context, { recursive: true });
    writeFileSync(join(context, 'present'), 'x'.repeat(100_000));
    let received = 0;
    let closed!: () => void;
    const serverSawClose = new Promise<void>((resolve) => { closed = resolve; });
    fake.handle((request) => {
      request.socket.on('data', (data: Buffer) => { received += data.length; });
      request.socket.on('close', () => closed());
      request.socket.resume();
    });
    // tar-fs reports an entry it cannot stat with the file's path, as it would an unreadable file.
    const tar = tarFs.pack(context, { entries: ['present', 'vanished'] });
    const { error } = await timed(client().json('PUT', '/containers/c1/archive', { rawBody: tar, headers: { 'Content-Type': 'application/x-tar' } }));
    expect(error).toBeInstanceOf(RequestBodyError);
    expect((error as Error).message).toBe(`cannot read ${join(context, 'vanished')}: no such file`);
    await serverSawClose;
    expect(received).toBeGreaterThan(0);
  });

  it('reports a body stream that fails for another reason', async () => {
    fake.handle((request) => request.socket.resume());
    const body = new Readable({ read() { this.destroy(new Error('generator broke')); } });
    const { error } = await timed(client().stream('POST', '/build', { rawBody: body }));
    expect(error).toBeInstanceOf(RequestBodyError);
    expect((error as Error).message).toBe('cannot send the request body: generator broke');
  });

  it('streams a large body with backpressure: the producer never runs far ahead of the engine', async () => {
    const total = 32 * 1024 * 1024;
    let consumed = 0;
    let produced = 0;
    fake.handle(async (request) => {
      // The engine reads nothing for a while, then everything (counted, not kept: chunk framing included).
      await sleep(300);
      let tail = request.rest;
      consumed = request.rest.length;
      request.socket.on('data', (data: Buffer) => {
        consumed += data.length;
        tail = Buffer.concat([tail, data]).subarray(-5);
        if (tail.toString('latin1') === '0\r\n\r\n') request.socket.end(answer('200 OK', '{}'));
      });
      request.socket.resume();
    });
    const body = new Readable({
      read() {
        if (produced >= total) return void this.push(null);
        produced += 256 * 1024;
        this.push(Buffer.alloc(256 * 1024, 7));
      },
    });
    const sample = sleep(250).then(() => produced);
    await client().json('PUT', '/archive', { rawBody: body });
    expect(consumed).toBeGreaterThan(total);
    // While the engine did not read, at most a few MiB (socket and stream buffers) were made.
    expect(await sample).toBeLessThan(8 * 1024 * 1024);
  });
});

describe('progress decoding', () => {
  /** Answer a stream of JSON lines, cutting each given piece into its own chunk, with pauses so they arrive apart. */
  const progressAnswer = (pieces: Buffer[]) => fake.handle(async (request) => {
    await readRequestBody(request);
    request.socket.write(CHUNKED_HEAD);
    for (const piece of pieces) {
      request.socket.write(chunk(piece));
      await sleep(30);
    }
    request.socket.end(chunk(''));
  });

  it('keeps a UTF-8 character split across chunks whole (pull)', async () => {
    const line = Buffer.from('{"status":"café ☕ done"}\n');
    const cut = line.indexOf(Buffer.from('é')) + 1; // inside the two bytes of é
    const cut2 = line.indexOf(Buffer.from('☕')) + 2; // inside the three bytes of ☕
    progressAnswer([line.subarray(0, cut), line.subarray(cut, cut2), line.subarray(cut2)]);
    const engine = new ApiEngine(client(), { kind: 'docker', url: 'fake', source: 'test', apiVersion: '1.41' });
    const progress: string[] = [];
    await engine.images.pull('busybox', (l) => progress.push(l));
    expect(progress).toEqual(['café ☕ done']);
  });

  it('keeps a UTF-8 character split across chunks whole (build)', async () => {
    const context = join(scratch, 'build');
    mkdirSync(context, { recursive: true });
    writeFileSync(join(context, 'Dockerfile'), 'FROM scratch\n');
    const text = Buffer.from('{"stream":"Step 1/1 : RUN echo 日本語\\n"}\n{"stream":"日本語\\n"}\n{"aux":{"ID":"sha256:abc"}}\n');
    const pieces: Buffer[] = [];
    for (let at = 0; at < text.length; at += 7) pieces.push(text.subarray(at, at + 7)); // cuts through the 3-byte characters
    progressAnswer(pieces);
    const engine = new ApiEngine(client(), { kind: 'docker', url: 'fake', source: 'test', apiVersion: '1.41' });
    const output: string[] = [];
    const result = await engine.images.build({ context, dockerfile: 'Dockerfile', tags: [], buildArgs: {}, labels: {}, noCache: false, onStep: (s) => output.push(s), onOutput: (l) => output.push(l) });
    expect(result.id).toBe('sha256:abc');
    expect(output).toEqual(['Step 1/1 : RUN echo 日本語', '日本語']);
  });
});

// TLS needs certificates; node:crypto cannot make them, openssl can. Outside CI a machine without it skips, loudly.
const hasOpenssl = spawnSync('openssl', ['version']).status === 0;
if (!hasOpenssl) {
  if (process.env.CI === 'true') throw new Error('openssl is needed for the TLS transport tests (CI=true)');
  process.stderr.write('\n*** transport-http.test.ts: openssl not found: the TLS tests are SKIPPED.\n\n');
}

describe.skipIf(!hasOpenssl)('TLS with a test CA made here', () => {
  let port: number;
  let server: ReturnType<typeof createHttpsServer>;
  const certs = join(scratch, 'certs');
  const otherCa = join(scratch, 'other-ca');

  beforeAll(async () => {
    makeCertificates(certs, { ca: 'aca-transport-test-ca', san: 'IP:127.0.0.1' });
    makeCertificates(otherCa, { ca: 'someone-else' });
    const file = (name: string) => readFileSync(join(certs, name));
    server = createHttpsServer({ key: file('server-key.pem'), cert: file('server-cert.pem'), ca: file('ca.pem'), requestCert: true, rejectUnauthorized: true }, (req, res) => {
      if (req.url === '/never') return;
      res.setHeader('Content-Type', 'application/json');
      res.end('{"ApiVersion":"1.41"}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  }, 60_000);
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  });

  const files = (dir: string) => ({ ca: join(dir, 'ca.pem'), cert: join(certs, 'cert.pem'), key: join(certs, 'key.pem') });

  it('talks to an engine whose certificate the CA signed, with a client certificate', async () => {
    expect(await client(`tcp://127.0.0.1:${port}`, files(certs)).json('GET', '/version')).toEqual({ ApiVersion: '1.41' });
  });
  it('refuses a server certificate another CA signed, saying so', async () => {
    const { error } = await timed(client(`tcp://127.0.0.1:${port}`, files(otherCa)).json('GET', '/version'));
    expect(error).toBeInstanceOf(EngineDownError);
    expect((error as Error).message).toMatch(/not signed by the trusted CA/);
  });
  it('times out over TLS as anywhere else', async () => {
    const { error, ms } = await timed(client(`tcp://127.0.0.1:${port}`, files(certs)).json('GET', '/never', { timeoutMs: 300 }));
    expect((error as Error).message).toMatch(/no answer within 300 ms/);
    expect(ms).toBeLessThan(2000);
  });
});
