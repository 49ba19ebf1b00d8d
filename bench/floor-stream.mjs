#!/usr/bin/env node
// The least any Node program can do for `aca run [-i] --image IMAGE -- CMD` when a stream is the work: create the
// container with aca's hardened profile, attach to it over a raw upgraded connection, start it, copy this process's
// stdin into it (with -i) and its multiplexed output out to stdout and stderr, wait for it, remove it. No HTTP
// library, no checks: what it costs over `docker run` is Node's own stream handling and the engine's attach copy.
// Usage: node bench/floor-stream.mjs in|out IMAGE WORKSPACE LABEL=VALUE BYTES   (Docker, aca-isolated network present)
//   in:  stdin goes to `wc -c` inside;  out: `head -c BYTES /dev/zero` inside comes out on stdout.
import { createConnection } from 'node:net';
import { call } from './raw-engine.mjs';
import { profileHostConfig } from './floor-profile.mjs';

const [direction, image, workspace, label, bytes] = process.argv.slice(2);
const [labelKey, labelValue] = label.split('=');
const input = direction === 'in';
const socketPath = process.env.DOCKER_HOST?.startsWith('unix://') ? process.env.DOCKER_HOST.slice(7) : '/var/run/docker.sock';

const created = JSON.parse(await call('POST', '/containers/create', {
  Image: image,
  Cmd: input ? ['wc', '-c'] : ['head', '-c', bytes, '/dev/zero'],
  WorkingDir: '/workspace',
  User: '1000:1000',
  Labels: { [labelKey]: labelValue },
  AttachStdin: input, OpenStdin: input, StdinOnce: input, AttachStdout: true, AttachStderr: true,
  HostConfig: profileHostConfig(workspace),
}));

/** The attach connection, once the engine has switched it to the raw stream (101); the bytes after the head. */
function attach(id) {
  return new Promise((resolve, reject) => {
    const socket = createConnection(socketPath);
    socket.write(`POST /containers/${id}/attach?stream=1&stdin=${input ? 1 : 0}&stdout=1&stderr=1 HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`);
    let head = Buffer.alloc(0);
    const onData = (chunk) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      socket.pause();
      resolve({ socket, rest: head.subarray(end + 4) });
    };
    socket.on('data', onData);
    socket.on('error', reject);
  });
}

/** Frames of [stream, 0, 0, 0, size (big-endian)] then size bytes: payloads to stdout (1) and stderr (2). */
function demux(socket, rest) {
  return new Promise((resolve) => {
    let pending = rest;
    const drain = () => {
      while (pending.length >= 8) {
        const size = pending.readUInt32BE(4);
        if (pending.length < 8 + size) break;
        (pending[0] === 2 ? process.stderr : process.stdout).write(pending.subarray(8, 8 + size));
        pending = pending.subarray(8 + size);
      }
    };
    drain();
    socket.on('data', (chunk) => { pending = pending.length ? Buffer.concat([pending, chunk]) : chunk; drain(); });
    socket.on('end', resolve);
    socket.resume();
  });
}

const { socket, rest } = await attach(created.Id);
const output = demux(socket, rest);
const exited = call('POST', `/containers/${created.Id}/wait?condition=next-exit`);
await call('POST', `/containers/${created.Id}/start`);
// EOF on stdin is a half-close of the attach connection, as the docker CLI does it.
if (input) process.stdin.pipe(socket, { end: true });
const { StatusCode } = JSON.parse(await exited);
await output;
await call('DELETE', `/containers/${created.Id}?force=1`);
process.exitCode = StatusCode;
