/**
 * What may be mounted into a session. A bind mount is the widest door out of a
 * sandbox, so every host path (the workspace too) is checked after resolving
 * symlinks, before anything is created. The rules are pure (facts about the
 * host come in as arguments); only `probeSockets` touches a socket.
 */
import { lstatSync, readdirSync, realpathSync } from 'node:fs';
import { basename, join, posix, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { answersEngineApi } from '../engine/choice.js';

/** Mounting any of these exactly hands the session the host's system. */
const SYSTEM_DIRECTORIES = ['/', '/etc', '/usr', '/lib', '/lib32', '/lib64', '/bin', '/sbin', '/var', '/home', '/root'];

/** Nothing at or under these: kernel interfaces, devices, runtime sockets, engine state, host secrets. */
const SYSTEM_TREES = [
  '/proc', '/sys', '/dev', '/boot', '/run', '/var/run',
  '/var/lib/docker', '/var/lib/containerd', '/var/lib/containers',
  '/etc/shadow', '/etc/gshadow', '/etc/sudoers', '/etc/sudoers.d', '/etc/ssh',
];

/** Credential stores under a home directory: never mounted, not even read-only. */
export const CREDENTIAL_STORES = [
  '.ssh', '.aws', '.gnupg', '.kube', '.docker', '.config/gcloud', '.azure', '.config/gh', '.config/hub',
  '.netrc', '.git-credentials', '.npmrc', '.pypirc', '.cargo/credentials', '.cargo/credentials.toml',
  '.config/containers', '.local/share/containers', '.password-store', '.vault-token', '.terraform.d',
  '.oci', '.config/doctl', '.config/op', '.config/rclone',
];

/** Socket names container engines use. Any other socket is probed with GET /_ping. */
const ENGINE_SOCKET = /^(?:docker|podman|containerd|dockershim|cri-dockerd|crio|buildkitd)\.sock$/;

export interface MountFacts {
  /** Home directories whose credential stores are protected (the invoking user's, $HOME). */
  homes: string[];
  /** Where engine sockets are known to live (the one aca uses, DOCKER_HOST, Podman's). */
  engineSockets: string[];
  /** aca's own state (trust store, audit trail) and the user's configuration directory: a session that wrote them would trust itself. */
  acaDirs?: string[] | undefined;
}

export interface Refusal {
  path: string;
  rule: string;
}

const within = (path: string, tree: string) => path === tree || path.startsWith(tree === '/' ? '/' : `${tree}/`);

/** The protected trees for these facts: [tree, rule]. */
function protectedTrees(facts: MountFacts): Array<[string, string]> {
  // Most specific first, so the error names the rule that matters (docker.sock, not /run).
  const trees: Array<[string, string]> = facts.engineSockets.map((s) => [s, 'no container-engine sockets']);
  for (const home of facts.homes) {
    for (const store of CREDENTIAL_STORES) trees.push([posix.join(home, store), 'no credential stores, not even read-only']);
  }
  for (const dir of facts.acaDirs ?? []) trees.push([dir, "no aca state or configuration (the trust store, the audit trail, the compile cache, the user's config)"]);
  for (const tree of SYSTEM_TREES) trees.push([tree, 'no host system or runtime paths']);
  return trees;
}

/** Pure: why mounting `path` (absolute, normalised) is refused, if it is. */
export function refusalFor(path: string, facts: MountFacts): Refusal | undefined {
  if (ENGINE_SOCKET.test(basename(path))) return { path, rule: 'no container-engine sockets' };
  if (SYSTEM_DIRECTORIES.includes(path)) return { path, rule: 'no host system directories' };
  for (const [tree, rule] of protectedTrees(facts)) {
    if (within(path, tree)) return { path: tree, rule };
    // A directory that contains a protected path exposes it too ($HOME holds ~/.ssh).
    if (within(tree, path)) return { path: tree, rule: `${rule}; ${path} contains it` };
  }
  return undefined;
}

export interface CheckedMount {
  /** The source with every symlink resolved: what is actually mounted. */
  real: string;
  /** Socket files the mount would expose (the source itself, or directly inside it), to probe. */
  sockets: string[];
}

/**
 * Check one host path about to be mounted. `what` names it in the error
 * ("-v /srv/x", "workspace"). Throws UsageError naming the path and the rule.
 */
export function checkMountSource(source: string, what: string, facts: MountFacts): CheckedMount {
  const literal = resolve(source);
  let real: string;
  try {
    real = realpathSync(literal);
  } catch {
    throw new UsageError(`${what}: no such file or directory: ${literal}`);
  }
  for (const path of real === literal ? [literal] : [literal, real]) {
    const refusal = refusalFor(path, facts);
    if (refusal) {
      const via = path !== literal ? ` (${literal} resolves to ${real})` : real !== literal ? ` (resolves to ${real})` : '';
      throw new UsageError(`${what}: refused: ${refusal.path}${via} (rule: ${refusal.rule})`);
    }
  }
  return { real, sockets: socketsIn(real) };
}

/** The source if it is a socket, or the sockets directly inside a directory. */
function socketsIn(path: string): string[] {
  const stat = lstatSync(path);
  if (stat.isSocket()) return [path];
  if (!stat.isDirectory()) return [];
  try {
    return readdirSync(path, { withFileTypes: true }).filter((e) => e.isSocket()).map((e) => join(path, e.name));
  } catch {
    return [];
  }
}

/** Probe the few socket files a session would get; refuse any that speaks the Engine API. */
export async function probeSockets(checked: Array<{ what: string; sockets: string[] }>): Promise<void> {
  for (const { what, sockets } of checked) {
    for (const socket of sockets) {
      if (await answersEngineApi(socket)) {
        throw new UsageError(`${what}: refused: ${socket} answers the Docker Engine API (rule: no container-engine sockets)`);
      }
    }
  }
}

/** Engine socket locations worth protecting even when they are not where aca looks. */
export function knownEngineSockets(env: NodeJS.ProcessEnv): string[] {
  const paths = ['/var/run/docker.sock', '/run/docker.sock', '/run/podman/podman.sock', '/run/containerd/containerd.sock'];
  if (env.XDG_RUNTIME_DIR) paths.push(join(env.XDG_RUNTIME_DIR, 'docker.sock'), join(env.XDG_RUNTIME_DIR, 'podman/podman.sock'));
  const host = env.DOCKER_HOST ?? env.CONTAINER_HOST;
  if (host?.startsWith('unix://')) paths.push(host.slice('unix://'.length));
  const resolved = paths.map((p) => {
    try {
      return realpathSync(p);
    } catch {
      return p;
    }
  });
  return [...new Set([...paths, ...resolved])];
}
