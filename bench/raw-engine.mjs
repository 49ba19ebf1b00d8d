// The least a Node program needs to talk to the engine: one HTTP/1.1 request per unix-socket connection, written
// and parsed by hand (no HTTP library, no error handling). Used by the floor-*.mjs scripts.
import { createConnection } from 'node:net';

const socketPath = process.env.DOCKER_HOST?.startsWith('unix://') ? process.env.DOCKER_HOST.slice(7) : '/var/run/docker.sock';

/** One request on its own connection; resolves to the body (de-chunked when it is chunked) once the engine closes. */
export function call(method, path, body, headers = '') {
  return new Promise((resolve, reject) => {
    const socket = createConnection(socketPath);
    // A Buffer is sent as it is (a tar); anything else as JSON.
    const payload = Buffer.isBuffer(body) ? body : Buffer.from(body ? JSON.stringify(body) : '');
    const type = Buffer.isBuffer(body) ? 'application/x-tar' : 'application/json';
    // Never half-closed: the engine takes a client's end as a cancel (a wait would answer "context canceled").
    socket.write(Buffer.concat([Buffer.from(`${method} ${path} HTTP/1.1\r\nHost: docker\r\nContent-Type: ${type}\r\nContent-Length: ${payload.length}\r\n${headers || 'Connection: close\r\n'}\r\n`), payload]));
    const chunks = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      const bodyText = text.slice(end + 4);
      resolve(/chunked/i.test(text.slice(0, end)) ? bodyText.replace(/^[0-9a-f]+\r\n/, '').replace(/\r\n0\r\n\r\n$/, '') : bodyText);
    });
  });
}
