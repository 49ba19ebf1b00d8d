/**
 * The security floor every session gets. Pure: the caller supplies facts about
 * the host (workspace owner, invoking user), so the rules are unit-tested.
 */
import { UsageError } from './errors.js';

/** Where the session user's writable home lives inside every session. */
export const SESSION_HOME = '/home/aca';

/** Where every session's workspace is mounted (a bind, or its copy-mode volume), and its default working directory. */
export const WORKSPACE_PATH = '/workspace';

export interface Ids {
  uid: number;
  gid: number;
}

/**
 * Who the session runs as:
 *  - the owner of the workspace, so files written there stay the owner's on the
 *    host and carry no more privilege than the owner has;
 *  - never root on a host workspace: a root-owned workspace (copied in by
 *    default, see workspaceModeFor), or no workspace at all, gives the invoking
 *    user, or 1000:1000 when aca runs as root.
 */
export function defaultSessionUser(workspaceOwner: Ids | undefined, invoking: Ids): string {
  if (workspaceOwner && workspaceOwner.uid !== 0) return `${workspaceOwner.uid}:${workspaceOwner.gid}`;
  if (invoking.uid === 0) return '1000:1000';
  return `${invoking.uid}:${invoking.gid}`;
}

/**
 * The workspace mode when none was chosen: a root-owned workspace is copied
 * in (copy mode), so no session writes into it as root, and nothing it
 * writes (a setuid binary included) reaches the host until `aca export`.
 */
export function workspaceModeFor(workspaceOwner: Ids | undefined, chosen: boolean): { mode: 'copy'; note: string } | undefined {
  if (chosen || !workspaceOwner || workspaceOwner.uid !== 0) return undefined;
  return { mode: 'copy', note: 'the workspace is owned by root, so it is copied in (a session never writes a host workspace as root); bring changes back with aca export, or chown it to your user to work on it directly' };
}

/** Whether a user spec names uid 0 ("0", "0:0", "root", "root:wheel"). */
export function isRootUser(user: string): boolean {
  const name = user.split(':')[0]!;
  return name === 'root' || /^0+$/.test(name);
}

/**
 * Setuid/setgid bits never reach the host with more privilege than the
 * session's host user: a session that writes a bind-mounted host workspace
 * never runs as uid 0, and with every capability dropped (no CAP_CHOWN,
 * CAP_FOWNER, CAP_FSETID) it can set those bits only on files it owns, with
 * its own uid and one of its own gids, which the kernel enforces. So an
 * explicit root user on a writable bind mount is refused.
 */
export function checkSessionUser(user: string, from: string, workspaceMode: 'bind' | 'ro' | 'copy' | undefined): void {
  if (workspaceMode !== 'bind' || !isRootUser(user)) return;
  throw new UsageError(`${from} ${user}: refused: a session never runs as root on a writable host workspace (what it writes there, setuid binaries included, would be root's on the host)`, {
    hint: 'Use --workspace-mode copy (review and bring changes back with aca export), or --workspace-ro.',
  });
}

/** Numeric uid/gid of a "uid[:gid]" user spec, when it is numeric. */
export function numericIds(user: string): Ids | undefined {
  const match = /^(\d+)(?::(\d+))?$/.exec(user);
  if (!match) return undefined;
  const uid = Number(match[1]);
  return { uid, gid: match[2] === undefined ? uid : Number(match[2]) };
}

/** The hardening applied to every container aca creates. */
export const HARDENING = {
  CapDrop: ['ALL'],
  CapAdd: [] as string[],
  SecurityOpt: ['no-new-privileges:true'],
  Privileged: false as const,
  /** An init as PID 1 reaps zombies and forwards signals. */
  Init: true,
  /** Sessions never restart on their own. */
  RestartPolicy: { Name: 'no' },
};

/** Defaults for the limits every session has: never unlimited. */
export const DEFAULT_LIMITS = {
  memory: '4g',
  pids: 1024,
  /** What a session may write to the engine's disk (sessions/disk-limit.ts). */
  disk: '10g',
  /** At most 2 CPUs, and never more than the host has. */
  cpus: (hostCpus: number) => String(Math.min(2, Math.max(1, hostCpus))),
};
