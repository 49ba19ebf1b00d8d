/**
 * A fake engine for the transport's unit tests: a server on a unix socket in a temp dir, speaking raw HTTP/1.1 so
 * each test says byte by byte what the engine sends (chunked or fixed-length bodies, a 101 upgrade or a 200 with a
 * raw stream, a connection closed early, an answer that never comes). No container engine is involved.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface FakeRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  /** The connection, paused after the request head: the handler reads the body (readRequestBody) and answers. */
  socket: Socket;
  /** Bytes after the request head, already read. */
  rest: Buffer;
}

export type Handler = (request: FakeRequest) => void;

export interface FakeEngine {
  dir: string;
  socket: string;
  /** The same engine on 127.0.0.1 (plain HTTP), when asked for. */
  port: number | undefined;
  /** Every connection the server accepted and still holds. */
  connections: Set<Socket>;
  handle(handler: Handler): void;
  close(): Promise<void>;
}

export async function startFakeEngine(options: { tcp?: boolean } = {}): Promise<FakeEngine> {
  const dir = mkdtempSync(join(tmpdir(), 'aca-fake-engine-'));
  const socket = join(dir, 'engine.sock');
  let handler: Handler = ({ socket: s }) => s.end('HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n');
  const connections = new Set<Socket>();
  const onConnection = (conn: Socket) => {
    connections.add(conn);
    conn.on('close', () => connections.delete(conn));
    conn.on('error', () => { /* the client went away; tests check what they need */ });
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end === -1) return;
      conn.off('data', onData);
      conn.pause();
      const [line, ...headerLines] = buffered.subarray(0, end).toString('latin1').split('\r\n');
      const [method, path] = line!.split(' ');
      const headers: Record<string, string> = {};
      for (const h of headerLines) {
        const colon = h.indexOf(':');
        headers[h.slice(0, colon).trim().toLowerCase()] = h.slice(colon + 1).trim();
      }
      handler({ method: method!, path: path!, headers, socket: conn, rest: buffered.subarray(end + 4) });
    };
    conn.on('data', onData);
  };
  const server: Server = createServer(onConnection);
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  const tcp = options.tcp ? createServer(onConnection) : undefined;
  if (tcp) await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
  return {
    dir,
    socket,
    port: tcp ? (tcp.address() as { port: number }).port : undefined,
    connections,
    handle(next) { handler = next; },
    async close() {
      for (const conn of connections) conn.destroy();
      await Promise.all([server, tcp].map((s) => s && new Promise<void>((resolve) => s.close(() => resolve()))));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A complete answer with a fixed-length body. */
export function answer(status: string, body = '', headers: Record<string, string> = {}): string {
  // Connection: close: the fake reads one request per connection.
  const head = Object.entries({ 'Content-Type': 'application/json', Connection: 'close', ...headers, 'Content-Length': String(Buffer.byteLength(body)) })
    .map(([k, v]) => `${k}: ${v}`).join('\r\n');
  return `HTTP/1.1 ${status}\r\n${head}\r\n\r\n${body}`;
}

/** One chunk of a chunked body (an empty one ends it). */
export function chunk(data: string | Buffer): Buffer {
  const bytes = Buffer.from(data);
  return Buffer.concat([Buffer.from(`${bytes.length.toString(16)}\r\n`), bytes, Buffer.from('\r\n')]);
}

/** One frame of a multiplexed stream (attach, exec, logs without a tty): stream 1 is stdout, 2 stderr. */
export function frame(stream: number, payload: string | Buffer): Buffer {
  const body = Buffer.from(payload);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

/**
 * Read a request's body, fixed-length or chunked (chunk framing is dropped), and return it with any bytes that came
 * after it (a hijacked stream's first input). The socket is left paused with its data listener removed.
 */
export function readRequestBody(request: FakeRequest): Promise<{ body: Buffer; extra: Buffer }> {
  const { socket } = request;
  const chunked = /chunked/i.test(request.headers['transfer-encoding'] ?? '');
  const length = Number(request.headers['content-length'] ?? 0);
  return new Promise((resolve) => {
    let raw = request.rest;
    const done = (): boolean => {
      if (!chunked) {
        if (raw.length < length) return false;
        finish(raw.subarray(0, length), raw.subarray(length));
        return true;
      }
      const parts: Buffer[] = [];
      let at = 0;
      for (;;) {
        const eol = raw.indexOf('\r\n', at);
        if (eol === -1) return false;
        const size = parseInt(raw.subarray(at, eol).toString('latin1'), 16);
        if (raw.length < eol + 2 + size + 2) return false;
        if (size === 0) {
          finish(Buffer.concat(parts), raw.subarray(eol + 4));
          return true;
        }
        parts.push(raw.subarray(eol + 2, eol + 2 + size));
        at = eol + 2 + size + 2;
      }
    };
    const onData = (data: Buffer) => {
      raw = Buffer.concat([raw, data]);
      done();
    };
    const finish = (body: Buffer, extra: Buffer) => {
      socket.off('data', onData);
      socket.pause();
      resolve({ body, extra });
    };
    if (done()) return;
    socket.on('data', onData);
    socket.resume();
  });
}

/**
 * An `ssh` for PATH that connects its stdio to the fake engine's socket, as `ssh host docker system dial-stdio`
 * connects it to the remote engine's. Returns the directory to put first on PATH.
 */
export function fakeSsh(engine: FakeEngine): string {
  const bin = join(engine.dir, 'bin');
  const script = join(bin, 'ssh');
  mkdirSync(bin, { recursive: true });
  writeFileSync(script, `#!${process.execPath}
const conn = require('node:net').connect(${JSON.stringify(engine.socket)});
process.stdin.pipe(conn);
conn.pipe(process.stdout);
conn.on('error', () => process.exit(255));
conn.on('close', () => process.exit(0));
`);
  chmodSync(script, 0o755);
  return bin;
}

