import type { Isolation, IsolationChoice } from './isolation.js';

/**
 * The hardened profile every session gets on top of the foundation's floor
 * (src/security.ts), and the explicit ways to relax it. Pure: createBody()
 * merges these pieces into the container's HostConfig.
 */
import type { ContainerCreateBody } from '../engine/index.js';
import { HARDENING } from '../security.js';

import { relaxationLabels, type Relaxation } from './relaxations.js';

/** What a session asked for beyond the default profile. Every field defaults to the safe side. */
export interface SessionSecurity {
  /** --writable-root: the image's root filesystem stays writable. */
  writableRoot: boolean;
  /** --cap-add, normalised and already checked (capabilities.ts). */
  capAdd: string[];
  /** --privileged, only ever with --unsafe. */
  privileged: boolean;
  /** --unsafe was given (recorded in the audit trail and a label). */
  unsafe: boolean;
  /** --runtime, e.g. runsc (gVisor), checked against what the engine lists. */
  runtime?: string | undefined;
  /** --isolation as asked (flag, config, ACA_ISOLATION, default auto); the engine decides what auto means. */
  isolationChoice?: IsolationChoice | undefined;
  /** The isolation the session got (set once the engine's runtimes are known). */
  isolation?: Isolation | undefined;
  /** Rootless Podman: map the session user to the invoking user. */
  keepId?: boolean | undefined;
  /** --no-protect-git on a writable workspace: .git/hooks and .git/config are not mounted read-only. */
  gitUnprotected?: boolean | undefined;
  /** Secrets are delivered: a private tmpfs at /run/secrets. */
  secrets: boolean;
  /** Every relaxation with its source (resolve.ts); without it the labels list the profile's own fields. */
  relaxations?: Relaxation[] | undefined;
}

export const DEFAULT_SECURITY: SessionSecurity = { writableRoot: false, capAdd: [], privileged: false, unsafe: false, secrets: false };

export const SECRETS_DIR = '/run/secrets';

/**
 * Per-process limits. nofile stays under the engine's own hard limit (runc
 * cannot raise it); nproc counts every process of the uid, host ones
 * included when there is no user namespace, so it is a backstop: the cgroup
 * pids limit is the real bound.
 */
export const ULIMITS = [
  { Name: 'nofile', Soft: 8192, Hard: 16384 },
  { Name: 'nproc', Soft: 8192, Hard: 8192 },
];

/** Below the default 1024 shares: under contention the host's own work comes first. */
export const CPU_SHARES = 512;

const RUN_SIZE_MAX = 64 * 1024 * 1024;
const SECRETS_SIZE = 1024 * 1024;

/**
 * How big each tmpfs may grow. Whatever a session writes to a tmpfs is charged
 * to its memory limit and cannot be reclaimed (there is no swap beyond the
 * limit), so a full /tmp as big as the limit left no memory for any process:
 * every later exec, even `rm`, was OOM-killed. The rule: the scratch tmpfs
 * mounts together take less than half the memory limit. /tmp and the
 * in-memory $HOME get a fifth each, /run a sixteenth (at most 64 MiB), and
 * secrets 1 MiB beside them. Over half the limit always stays for processes.
 */
export function tmpfsSizes(memory: number): { tmp: number; home: number; run: number; secrets: number } {
  const fifth = Math.floor(memory / 5);
  return { tmp: fifth, home: fifth, run: Math.min(RUN_SIZE_MAX, Math.floor(memory / 16)), secrets: SECRETS_SIZE };
}

/** The writable scratch space a read-only root needs, sized by tmpfsSizes. */
export function scratchTmpfs(security: SessionSecurity, memory: number, owner: { uid: number; gid: number } | undefined): Record<string, string> {
  const tmpfs: Record<string, string> = {};
  const sizes = tmpfsSizes(memory);
  if (!security.writableRoot) {
    tmpfs['/tmp'] = `rw,nosuid,nodev,exec,size=${sizes.tmp},mode=1777`;
    tmpfs['/run'] = `rw,nosuid,nodev,noexec,size=${sizes.run},mode=0755`;
  }
  if (security.secrets) {
    const mode = owner ? `uid=${owner.uid},gid=${owner.gid},mode=0700` : 'mode=1777';
    tmpfs[SECRETS_DIR] = `rw,nosuid,nodev,noexec,size=${sizes.secrets},${mode}`;
  }
  return tmpfs;
}

/**
 * The HostConfig fields the profile adds (createBody sets ReadonlyRootfs,
 * CapAdd and Privileged from the same SessionSecurity; the floor's CapDrop and
 * no-new-privileges come from HARDENING).
 */
export function profileHostConfig(security: SessionSecurity) {
  return {
    Ulimits: ULIMITS.map((u) => ({ ...u })),
    CpuShares: CPU_SHARES,
    // Never the host's (or a shareable) IPC namespace; a private cgroup namespace.
    IpcMode: 'private',
    CgroupnsMode: 'private' as const,
    ...(security.runtime ? { Runtime: security.runtime } : {}),
    ...(security.keepId ? { UsernsMode: 'keep-id' } : {}),
  };
}

/** The isolation a session got: container or gvisor. */
export const ISOLATION_LABEL = 'aca.security.isolation';

/** Labels that make a relaxed profile visible in `docker inspect` and `aca inspect`. */
export function securityLabels(security: SessionSecurity): Record<string, string> {
  const relaxed: Relaxation[] = [];
  const unknown = (what: string) => relaxed.push({ what, from: 'unknown' });
  if (security.relaxations) relaxed.push(...security.relaxations);
  else {
    if (security.writableRoot) unknown('writable-root');
    for (const cap of security.capAdd) unknown(`cap-add=${cap}`);
    if (security.privileged) unknown('privileged');
    if (security.gitUnprotected) unknown('no-protect-git');
  }
  return {
    ...relaxationLabels(relaxed),
    ...(security.unsafe ? { 'aca.security.unsafe': 'true' } : {}),
    ...(security.runtime ? { 'aca.security.runtime': security.runtime } : {}),
    ...(security.isolation ? { [ISOLATION_LABEL]: security.isolation } : {}),
  };
}

/** What a hardened container is given: its mounts, network and limits; the rest is the floor's. */
export interface HardenedHost {
  binds: string[];
  tmpfs: Record<string, string>;
  ports?: Record<string, Array<{ HostIp: string; HostPort: string }>>;
  network: string;
  /** Bytes; swap is never more than this. */
  memory: number;
  nanoCpus: number;
  pids: number;
  capAdd?: string[];
  /** Only ever true with --privileged --unsafe. */
  privileged?: boolean;
  writableRoot?: boolean;
}

/**
 * The one hardened host config, for every container aca runs a command in (a session, the egress proxy, a git
 * helper, doctor's probes): the floor's hardening (every capability dropped, no-new-privileges, an init, never a
 * restart), a read-only root unless asked, no swap beyond the memory limit. Callers add only what is theirs.
 */
export function hardenedHostConfig(host: HardenedHost): ContainerCreateBody['HostConfig'] {
  return {
    Binds: host.binds,
    Tmpfs: host.tmpfs,
    PortBindings: host.ports ?? {},
    NetworkMode: host.network,
    Memory: host.memory,
    MemorySwap: host.memory,
    NanoCpus: host.nanoCpus,
    PidsLimit: host.pids,
    CapDrop: [...HARDENING.CapDrop],
    CapAdd: [...HARDENING.CapAdd, ...(host.capAdd ?? [])],
    SecurityOpt: [...HARDENING.SecurityOpt],
    Privileged: host.privileged ?? false,
    Init: HARDENING.Init,
    ReadonlyRootfs: !host.writableRoot,
    AutoRemove: false,
    RestartPolicy: { ...HARDENING.RestartPolicy },
  };
}

/**
 * The host config of a container aca runs for itself (the egress proxy, a git helper): the hardened one with small
 * limits and the session's ulimits. The caller gives its mounts, network, memory and any capability.
 */
export function serviceHostConfig(options: { binds: string[]; tmpfs: Record<string, string>; network: string; memory: number; capAdd?: string[] }) {
  return {
    ...hardenedHostConfig({ ...options, nanoCpus: 1e9, pids: 256 }),
    Ulimits: ULIMITS.map((u) => ({ ...u })),
  };
}
