/**
 * Networks, engine facts and exec-with-input: the Engine API calls behind
 * per-session networks, the egress proxy and secret delivery.
 */
import type { Engine } from './client.js';
import { EngineApiError, isNotFound } from './errors.js';
import { awaitExecEnd } from './exec-end.js';

export interface NetworkInspect {
  Id: string;
  Name: string;
  Internal: boolean;
  Options: Record<string, string> | null;
  Labels: Record<string, string> | null;
  Containers?: Record<string, { Name: string; IPv4Address: string }> | null;
}

export interface CreateNetworkOptions {
  name: string;
  labels: Record<string, string>;
  internal: boolean;
  options: Record<string, string>;
}

export async function createNetwork(engine: Engine, request: CreateNetworkOptions): Promise<string> {
  const created = await engine.http.json<{ Id: string }>('POST', '/networks/create', {
    body: { Name: request.name, CheckDuplicate: true, Driver: 'bridge', Internal: request.internal, Options: request.options, Labels: request.labels },
  });
  return created.Id;
}

export async function inspectNetwork(engine: Engine, name: string): Promise<NetworkInspect | undefined> {
  try {
    return await engine.http.json<NetworkInspect>('GET', `/networks/${encodeURIComponent(name)}`);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** Remove a network; gone already counts as removed. */
export async function deleteNetwork(engine: Engine, name: string): Promise<void> {
  try {
    await engine.http.json('DELETE', `/networks/${encodeURIComponent(name)}`);
  } catch (error) {
    if (isNotFound(error)) return;
    throw error;
  }
}

export async function connectNetwork(engine: Engine, network: string, container: string, aliases: string[] = []): Promise<void> {
  await engine.http.json('POST', `/networks/${encodeURIComponent(network)}/connect`, {
    body: { Container: container, EndpointConfig: aliases.length > 0 ? { Aliases: aliases } : {} },
  });
}

export async function disconnectNetwork(engine: Engine, network: string, container: string): Promise<void> {
  try {
    await engine.http.json('POST', `/networks/${encodeURIComponent(network)}/disconnect`, { body: { Container: container, Force: true } });
  } catch (error) {
    if (isNotFound(error) || (error instanceof EngineApiError && /is not connected/.test(error.message))) return;
    throw error;
  }
}

/**
 * Run a command in a running container with `input` on its stdin and wait
 * for it; returns the exit code and whatever it printed. The input travels
 * only over the API socket: it is not in the exec's configuration.
 */
export async function execWithInput(
  engine: Engine,
  containerId: string,
  options: { cmd: string[]; user?: string | undefined; input?: Buffer | undefined },
): Promise<{ exitCode: number; output: string; stdout: Buffer; stderr: Buffer; sessionStopped?: boolean }> {
  const execId = await engine.createExec(containerId, { cmd: options.cmd, user: options.user, tty: false, stdin: options.input !== undefined, env: [] });
  const { socket, head } = await engine.startExec(execId, false);
  const chunks: Buffer[] = [head];
  const done = new Promise<void>((resolve, reject) => {
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', resolve);
    socket.on('close', resolve);
    socket.on('error', reject);
  });
  if (options.input !== undefined) {
    socket.write(options.input);
    // Half-close: the command sees EOF on stdin, the output keeps flowing back.
    (socket as unknown as { end(): void }).end();
  } else socket.end();
  // Under gVisor the engine may never close the stream of an exec whose session stopped (exec-end.ts).
  const end = await awaitExecEnd(engine, execId, done);
  if (end !== 'stream') socket.destroy();
  // The engine forgets an exec once its container has stopped: the exit code is then unknown.
  const exec = end === 'gone' ? undefined : await engine.inspectExec(execId).catch((error: unknown) => {
    if (isNotFound(error)) return undefined;
    throw error;
  });
  return { exitCode: exec?.ExitCode ?? -1, ...(exec ? {} : { sessionStopped: true }), ...demux(Buffer.concat(chunks)) };
}

/** A multiplexed (non-TTY) exec stream: stdout and stderr apart, and their text together, in order. */
function demux(raw: Buffer): { output: string; stdout: Buffer; stderr: Buffer } {
  const all: Buffer[] = [];
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let at = 0;
  while (at + 8 <= raw.length) {
    const size = raw.readUInt32BE(at + 4);
    const payload = raw.subarray(at + 8, at + 8 + size);
    all.push(payload);
    (raw[at] === 2 ? err : out).push(payload);
    at += 8 + size;
  }
  return { output: Buffer.concat(all).toString('utf8'), stdout: Buffer.concat(out), stderr: Buffer.concat(err) };
}
