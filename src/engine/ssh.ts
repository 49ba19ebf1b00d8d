/**
 * ssh://user@host: each connection is `docker system dial-stdio` run on the remote host through the system's ssh
 * client, as the docker CLI does. No ssh2 module is loaded at all: the user's ssh configuration, keys, agent and
 * known hosts apply unchanged. Timeouts are not the socket's business here (a pipe to a process has no such knob):
 * http.ts keeps its own clock for every transport.
 */
import http from 'node:http';
import { createRequire } from 'node:module';
import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import type { Endpoint } from './endpoint.js';

// Child processes are loaded only for the engines that need them: start-up is a budget.
const require = createRequire(import.meta.url);

/** An agent whose connections are ssh processes; with keep-alive, one ssh connection serves successive requests. */
export function sshAgent(endpoint: Endpoint, keepAlive: boolean): http.Agent {
  const agent = new http.Agent({ keepAlive, maxSockets: keepAlive ? 4 : Infinity });
  (agent as unknown as { createConnection: () => Socket }).createConnection = () => sshDialStdio(endpoint) as unknown as Socket;
  return agent;
}

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
  // What http.Agent and ClientRequest call on a net.Socket; a pipe to a process has none of these knobs.
  const socketLike = duplex as Duplex & Record<string, unknown>;
  socketLike.setKeepAlive = () => duplex;
  socketLike.setNoDelay = () => duplex;
  socketLike.setTimeout = () => duplex;
  // An idle pooled connection must not keep aca alive.
  socketLike.ref = () => { child.ref(); (child.stdout as unknown as { ref?: () => void }).ref?.(); return duplex; };
  socketLike.unref = () => {
    child.unref();
    for (const stream of [child.stdin, child.stdout, child.stderr]) (stream as unknown as { unref?: () => void }).unref?.();
    return duplex;
  };
  return duplex;
}
