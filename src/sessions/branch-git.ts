/**
 * Git inside a session's workspace volume, run in a short-lived hardened helper container (the session's image, the
 * session's user, no network, read-only root, every capability dropped), so it works whether the session runs or has
 * stopped, and nothing of the session's repository (hooks, config, filters) ever runs on the host. Its output is
 * hostile input: callers treat it as data.
 */
import { randomBytes } from 'node:crypto';
import { type ContainerCreateBody, DETACHED_STDIO, type Engine } from '../engine/index.js';
import { AcaError } from '../errors.js';
import { serviceHostConfig } from '../security/profile.js';
import { LABEL, containerName } from '../labels.js';

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
    HostConfig: serviceHostConfig({
      binds: [`${workspaceVolume}:${REPO}`],
      tmpfs: { '/tmp': 'rw,nosuid,nodev,size=1g,mode=1777' },
      network: 'none',
      memory: 1024 * 1024 * 1024,
      capAdd: mayChown ? ['CHOWN'] : [],
    }),
  };
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
    const result = await engine.execWithInput(id, { cmd, user, input });
    return { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr.toString('utf8') };
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
