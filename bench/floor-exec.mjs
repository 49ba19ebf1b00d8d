#!/usr/bin/env node
// The least any Node program can do for `exec CONTAINER true`: the four Engine API calls aca makes (inspect the
// container, create the exec, start it and read until it ends, inspect it for the exit code), each over a raw unix
// socket, with no HTTP library, no argument parsing and no error handling. bench/run.mjs times it beside aca and
// docker to show which part of `aca exec` is Node's own start-up and which is aca's.
// Usage: node bench/floor-exec.mjs CONTAINER   (a Docker engine at /var/run/docker.sock, or DOCKER_HOST=unix://...)
import { createConnection } from 'node:net';

const socketPath = process.env.DOCKER_HOST?.startsWith('unix://') ? process.env.DOCKER_HOST.slice(7) : '/var/run/docker.sock';

/** One request on its own connection; resolves to the body (de-chunked when it is JSON). */
function call(method, path, body) {
  return new Promise((resolve, reject) => {
    const socket = createConnection(socketPath);
    const payload = body ? JSON.stringify(body) : '';
    socket.end(`${method} ${path} HTTP/1.1\r\nHost: docker\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(payload)}\r\nConnection: close\r\n\r\n${payload}`);
    const chunks = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const bodyText = text.slice(text.indexOf('\r\n\r\n') + 4);
      resolve(/chunked/i.test(text.slice(0, text.indexOf('\r\n\r\n'))) ? bodyText.replace(/^[0-9a-f]+\r\n/, '').replace(/\r\n0\r\n\r\n$/, '') : bodyText);
    });
  });
}

const container = JSON.parse(await call('GET', `/containers/${process.argv[2]}/json`)).Id;
const exec = JSON.parse(await call('POST', `/containers/${container}/exec`, { Cmd: ['true'], AttachStdout: true, AttachStderr: true })).Id;
await call('POST', `/exec/${exec}/start`, { Detach: false, Tty: false });
process.exitCode = JSON.parse(await call('GET', `/exec/${exec}/json`)).ExitCode;
