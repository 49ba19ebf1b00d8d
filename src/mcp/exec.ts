/**
 * Commands in an environment: an exec as the session's own user (never root), its streams captured apart and capped,
 * and a way to kill it from inside the session (the exec API cannot signal its process).
 */
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { type Engine, FrameDemuxer } from '../engine/index.js';
import { CappedOutput } from './output.js';

export interface Execution {
  readonly stdout: CappedOutput;
  readonly stderr: CappedOutput;
  /** Resolves with the exit code (undefined when it was killed before it said) once the output has ended. */
  readonly finished: Promise<number | undefined>;
  readonly startedAt: number;
  kill(): Promise<void>;
}

/** Start `/bin/sh -c COMMAND` in the session; its shell's pid goes to a file so it can be killed from inside. */
export async function startCommand(engine: Engine, containerId: string, command: string, options: { workdir: string; cap: number; env?: string[] }): Promise<Execution> {
  const pidFile = `/tmp/.aca-mcp-${randomBytes(6).toString('hex')}.pid`;
  const execId = await engine.createExec(containerId, {
    cmd: ['/bin/sh', '-c', 'echo $$ > "$0"; exec /bin/sh -c "$1"', pidFile, command],
    env: options.env ?? [],
    workdir: options.workdir,
    tty: false,
    stdin: false,
  });
  const stdout = new CappedOutput(options.cap);
  const stderr = new CappedOutput(options.cap);
  const startedAt = Date.now();
  const { socket, head } = await engine.startExec(execId, false);
  const demux = new FrameDemuxer((stream, payload) => {
    (stream === 2 ? stderr : stdout).push(payload);
    return true;
  });
  const ended = new Promise<void>((resolve) => {
    socket.on('data', (chunk: Buffer) => demux.push(chunk));
    socket.on('end', resolve);
    socket.on('close', resolve);
    socket.on('error', () => resolve());
  });
  if (head.length > 0) demux.push(head);
  socket.end();
  let killed = false;
  const finished = ended.then(async () => {
    if (killed) return undefined;
    const { ExitCode } = await engine.inspectExec(execId);
    return ExitCode ?? undefined;
  });
  return {
    stdout,
    stderr,
    finished,
    startedAt,
    async kill() {
      killed = true;
      await killInSession(engine, containerId, pidFile);
      // Whatever still holds the stream open (a grandchild that escaped) is no longer ours to wait for.
      setTimeout(() => (socket as Duplex).destroy(), 2_000).unref();
    },
  };
}

/**
 * As the session user, inside the session: stop the shell first (so it starts nothing more), kill its children, its
 * process group (Docker's exec makes one; Podman's may not), then the shell itself.
 */
async function killInSession(engine: Engine, containerId: string, pidFile: string): Promise<void> {
  // A stop may come before the shell has written its pid (right after a background start, on a loaded machine): wait
  // for it a little, rather than find no pid and leave the command running.
  const script = 'i=0; while [ ! -s "$0" ] && [ "$i" -lt 50 ]; do sleep 0.1 2>/dev/null || sleep 1; i=$((i+1)); done; p=$(cat "$0" 2>/dev/null); case "$p" in ""|*[!0-9]*) exit 0;; esac; kill -STOP "$p" 2>/dev/null; pkill -KILL -P "$p" 2>/dev/null; kill -KILL -"$p" 2>/dev/null; kill -KILL "$p" 2>/dev/null; rm -f "$0"; exit 0';
  await engine.execWithInput(containerId, { cmd: ['/bin/sh', '-c', script, pidFile] }).catch(() => {});
}
