/**
 * Git inside a session's workspace volume, run in a short-lived hardened helper container (the session's image, the
 * session's user, no network, read-only root, every capability dropped), so it works whether the session runs or has
 * stopped, and nothing of the session's repository (hooks, config, filters) ever runs on the host. Its output is
 * hostile input: callers treat it as data.
 */
import { randomBytes } from 'node:crypto';
import type { Engine } from '../engine/client.js';
import type { ContainerCreateBody } from '../engine/types.js';
import { DETACHED_STDIO } from '../engine/types.js';
import { AcaError } from '../errors.js';
import { HARDENING } from '../security.js';
import { ULIMITS } from '../security/profile.js';
import { LABEL, containerName } from './labels.js';

export interface GitHelper {
  /** Run a command in the helper; stdout comes back as bytes, stderr as text. */
  run(cmd: string[], input?: Buffer): Promise<{ exitCode: number; stdout: Buffer; stderr: string }>;
  /** Give the (empty) repository directory to the session user: only a helper started with mayChown can. */
  claimRepo(): Promise<void>;
  remove(): Promise<void>;
}

/** Git options that keep a repository's own config from running anything, inside too. */
/**
 * Where the helper mounts the workspace volume: a path the image does not have, so the engine never copies the
 * image's /workspace (and its owner) into a still-empty volume.
 */
export const REPO = '/aca-repo';

export const SAFE_GIT = ['-c', 'core.hooksPath=/dev/null', '-c', 'core.fsmonitor=false'];

function helperBody(image: string, user: string, workspaceVolume: string, session: string, mayChown: boolean): ContainerCreateBody {
  return {
    Image: image,
    Entrypoint: ['/bin/sh', '-c', 'trap "exit 0" TERM INT; while :; do sleep 3600 & wait $!; done'],
    Env: ['HOME=/tmp', 'GIT_CONFIG_NOSYSTEM=1', 'LC_ALL=C'],
    Labels: { [LABEL.managed]: 'true', [LABEL.helper]: 'branch', [LABEL.session]: session },
    // A helper that may chown runs as root (an exec as root in a container of another user gets no capabilities);
    // every git command still runs as the session user (exec's user).
    User: mayChown ? '0:0' : user,
    WorkingDir: REPO,
    ...DETACHED_STDIO,
    HostConfig: {
      Binds: [`${workspaceVolume}:${REPO}`],
      Tmpfs: { '/tmp': 'rw,nosuid,nodev,size=1g,mode=1777' },
      PortBindings: {},
      NetworkMode: 'none',
      Memory: 1024 * 1024 * 1024,
      MemorySwap: 1024 * 1024 * 1024,
      NanoCpus: 1e9,
      PidsLimit: 256,
      CapDrop: [...HARDENING.CapDrop],
      CapAdd: mayChown ? ['CHOWN'] : [],
      SecurityOpt: [...HARDENING.SecurityOpt],
      Privileged: false,
      Init: true,
      ReadonlyRootfs: true,
      AutoRemove: false,
      RestartPolicy: { Name: 'no' },
      Ulimits: ULIMITS.map((u) => ({ ...u })),
    },
  };
}

/** Split a multiplexed exec stream into stdout and stderr. */
function demux(raw: Buffer): { stdout: Buffer; stderr: Buffer } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let at = 0;
  while (at + 8 <= raw.length) {
    const size = raw.readUInt32BE(at + 4);
    (raw[at] === 2 ? err : out).push(raw.subarray(at + 8, at + 8 + size));
    at += 8 + size;
  }
  return { stdout: Buffer.concat(out), stderr: Buffer.concat(err) };
}

export async function startGitHelper(
  engine: Engine,
  options: { session: string; image: string; user: string; workspaceVolume: string; mayChown?: boolean },
): Promise<GitHelper> {
  const name = `${containerName(options.session)}-git-${randomBytes(3).toString('hex')}`;
  const id = await engine.createContainer(name, helperBody(options.image, options.user, options.workspaceVolume, options.session, Boolean(options.mayChown)));
  const remove = () => engine.removeContainer(id, { force: true }).catch(() => {});
  try {
    await engine.startContainer(id);
  } catch (error) {
    await remove();
    throw new AcaError(`cannot start a git helper for ${options.session}: ${(error as Error).message}`, { cause: error });
  }
  const exec = async (cmd: string[], user: string, input?: Buffer) => {
      const execId = await engine.createExec(id, { cmd, user, tty: false, stdin: input !== undefined, env: [] });
      const { socket, head } = await engine.startExec(execId, false);
      const chunks: Buffer[] = [head];
      const done = new Promise<void>((resolve, reject) => {
        socket.on('data', (chunk: Buffer) => chunks.push(chunk));
        socket.on('end', resolve);
        socket.on('close', resolve);
        socket.on('error', reject);
      });
      if (input !== undefined) socket.write(input);
      (socket as unknown as { end(): void }).end();
      await done;
      const { ExitCode } = await engine.inspectExec(execId);
      const { stdout, stderr } = demux(Buffer.concat(chunks));
      return { exitCode: ExitCode ?? -1, stdout, stderr: stderr.toString('utf8') };
  };
  return {
    remove,
    run: (cmd, input) => exec(cmd, options.user, input),
    async claimRepo() {
      const owner = options.user.includes(':') ? options.user : `${options.user}:${options.user}`;
      const result = await exec(['chown', owner, REPO], '0:0');
      if (result.exitCode !== 0) throw new AcaError(`cannot give the workspace of ${options.session} to ${options.user}: ${result.stderr.trim()}`);
    },
  };
}
