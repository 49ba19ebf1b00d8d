/**
 * The security floor every session gets. Pure: the caller supplies facts about
 * the host (workspace owner, invoking user), so the rules are unit-tested.
 */

/** Where the session user's writable home lives inside every session. */
export const SESSION_HOME = '/home/aca';

export interface Ids {
  uid: number;
  gid: number;
}

/**
 * Who the session runs as:
 *  - the owner of the workspace, so files written there stay the owner's on the
 *    host (a root-owned workspace gives uid 0, but with every capability dropped);
 *  - without a workspace, the invoking user, or 1000:1000 when aca runs as root.
 */
export function defaultSessionUser(workspaceOwner: Ids | undefined, invoking: Ids): string {
  if (workspaceOwner) return `${workspaceOwner.uid}:${workspaceOwner.gid}`;
  if (invoking.uid === 0) return '1000:1000';
  return `${invoking.uid}:${invoking.gid}`;
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
  /** At most 2 CPUs, and never more than the host has. */
  cpus: (hostCpus: number) => String(Math.min(2, Math.max(1, hostCpus))),
};
