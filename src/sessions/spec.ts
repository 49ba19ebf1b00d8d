/**
 * A session's full description, and the one function that turns it into the
 * engine's create body. Pure, so every default and rule is unit-tested.
 */
import type { ContainerCreateBody } from '../engine/index.js';
import type { PortSpec, VolumeSpec } from '../parse.js';
import { SESSION_HOME, WORKSPACE_PATH, numericIds } from '../security.js';
import { DEFAULT_SECURITY, hardenedHostConfig, profileHostConfig, scratchTmpfs, securityLabels, tmpfsSizes, type SessionSecurity } from '../security/profile.js';
import type { ResolvedSecurity } from '../security/resolve.js';
import { GIT_PLACEHOLDERS_LABEL, placeholdersOf, type ProtectedMount } from '../security/git.js';
import { LABEL } from '../labels.js';
import type { StoragePlan } from './storage.js';
import type { BranchPlan } from './branch.js';

/**
 * The CA bundle lives on a small root-owned tmpfs of its own: aca writes a
 * copy of the host bundle's certificates there (secure-run.ts), never a bind
 * of the host file. The launcher holds the command back until it is written.
 */
export const CA_BUNDLE_DIR = '/etc/aca';
export const CA_BUNDLE_PATH = `${CA_BUNDLE_DIR}/ca-certificates.crt`;
const CA_TMPFS = `rw,nosuid,nodev,noexec,size=${8 * 1024 * 1024},mode=0755`;
const PLACEHOLDER_TMPFS = 'ro,nosuid,nodev,noexec,size=4096,mode=0755';

/** Variables that point TLS clients (Node, OpenSSL, curl, git, Python) at the bundle. */
const CA_VARIABLES = ['NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE', 'CURL_CA_BUNDLE', 'GIT_SSL_CAINFO', 'REQUESTS_CA_BUNDLE', 'PIP_CERT'];

/** Keeps a detached session without a command alive until it is stopped. */
export const KEEP_ALIVE = ['sh', '-c', 'trap "exit 0" TERM INT; while :; do sleep 86400 & wait $!; done'];

export interface SessionSpec {
  name: string;
  image: string;
  command: string[];
  /** Replaces the image's entrypoint (a devcontainer's lifecycle wrapper). */
  entrypoint?: string[] | undefined;
  workspace?: { hostPath: string; readOnly: boolean } | undefined;
  env: Array<[string, string]>;
  volumes: VolumeSpec[];
  labels: Record<string, string>;
  ports: PortSpec[];
  user: string;
  workdir?: string | undefined;
  network: string;
  memory: number;
  nanoCpus: number;
  pids: number;
  interactive: boolean;
  tty: boolean;
  detach: boolean;
  /** A host CA bundle (checked, see security/ca-certs.ts); its certificates are copied in after start. */
  caCerts?: string | undefined;
  /** The local terminal's size, for -t: [rows, columns]. */
  consoleSize?: [number, number] | undefined;
  /** Labels aca sets (managed, session, owner, ...), computed by the caller. */
  ownership: Record<string, string>;
  /** Home, cache and copy-mode workspace volumes (see storage.ts); none means a tmpfs home. */
  storage?: StoragePlan | undefined;
  /** The hardened profile and its explicit relaxations (default: DEFAULT_SECURITY). */
  security?: SessionSecurity | undefined;
  /** Read-only mounts of the workspace's git metadata over a writable workspace (security/git.ts). */
  protectedMounts?: ProtectedMount[] | undefined;
  /** What acts outside the create body: secrets, the session's network, audit facts (security/resolve.ts). */
  securityPlan?: ResolvedSecurity | undefined;
  /** A health check, run by the engine inside the session (--health-cmd). */
  healthcheck?: HealthcheckSpec | undefined;
  /** --branch: the workspace volume is filled with a copy of the repository on this new branch. */
  branch?: BranchPlan | undefined;
}

export interface HealthcheckSpec {
  /** A shell command: exit 0 is healthy. */
  command: string;
  intervalMs: number;
  timeoutMs: number;
  startPeriodMs: number;
  retries: number;
}

/** The engine wants nanoseconds. */
function healthcheckBody(check: HealthcheckSpec): NonNullable<ContainerCreateBody['Healthcheck']> {
  const ns = (ms: number) => ms * 1_000_000;
  return {
    Test: ['CMD-SHELL', check.command],
    Interval: ns(check.intervalMs),
    Timeout: ns(check.timeoutMs),
    StartPeriod: ns(check.startPeriodMs),
    Retries: check.retries,
  };
}

export function createBody(spec: SessionSpec): ContainerCreateBody {
  const binds: string[] = [];
  const storage = spec.storage ?? { caches: [] };
  if (storage.workspaceVolume) binds.push(`${storage.workspaceVolume}:${WORKSPACE_PATH}`);
  else if (spec.workspace) binds.push(`${spec.workspace.hostPath}:${WORKSPACE_PATH}${spec.workspace.readOnly ? ':ro' : ''}`);
  if (storage.homeVolume) binds.push(`${storage.homeVolume}:${SESSION_HOME}`);
  for (const cache of storage.caches) binds.push(`${cache.volume}:${cache.target}`);
  for (const volume of spec.volumes) binds.push(`${volume.source}:${volume.target}${volume.readOnly ? ':ro' : ''}`);
  for (const mount of spec.protectedMounts ?? []) if ('source' in mount) binds.push(`${mount.source}:${mount.target}:ro`);
  const placeholders = placeholdersOf(spec.protectedMounts);
  const security = spec.security ?? DEFAULT_SECURITY;
  const env = new Map<string, string>([['HOME', SESSION_HOME]]);
  if (spec.caCerts) for (const variable of CA_VARIABLES) env.set(variable, CA_BUNDLE_PATH);
  for (const [key, value] of spec.env) env.set(key, value);

  const ids = numericIds(spec.user);
  const homeOwner = ids ? `uid=${ids.uid},gid=${ids.gid},mode=0700` : 'mode=1777';
  const exposed: Record<string, Record<string, never>> = {};
  const bindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
  for (const port of spec.ports) {
    const key = `${port.containerPort}/${port.protocol}`;
    exposed[key] = {};
    (bindings[key] ??= []).push({ HostIp: port.hostIp, HostPort: port.hostPort });
  }
  const command = spec.command.length > 0 ? spec.command : spec.detach ? KEEP_ALIVE : [];

  return {
    Image: spec.image,
    ...(spec.entrypoint ? { Entrypoint: spec.entrypoint } : {}),
    // The prompt and `hostname` inside name the session, not a container id.
    Hostname: spec.name,
    ...(command.length > 0 ? { Cmd: command } : {}),
    Env: [...env].map(([k, v]) => `${k}=${v}`),
    Labels: {
      // Only aca records placeholders: `aca rm` removes those directories.
      ...Object.fromEntries(Object.entries(spec.labels).filter(([key]) => key !== GIT_PLACEHOLDERS_LABEL)),
      ...spec.ownership,
      ...securityLabels(security),
      ...(placeholders.length > 0 ? { [GIT_PLACEHOLDERS_LABEL]: placeholders.join('\n') } : {}),
    },
    User: spec.user,
    WorkingDir: spec.workdir ?? (spec.workspace ? WORKSPACE_PATH : ''),
    Tty: spec.tty,
    OpenStdin: spec.interactive,
    StdinOnce: spec.interactive,
    AttachStdin: spec.interactive,
    AttachStdout: !spec.detach,
    AttachStderr: !spec.detach,
    ...(spec.ports.length > 0 ? { ExposedPorts: exposed } : {}),
    ...(spec.healthcheck ? { Healthcheck: healthcheckBody(spec.healthcheck) } : {}),
    HostConfig: {
      ...hardenedHostConfig({
        binds,
        // A writable home for whichever user the session runs as; charged to the memory limit, so a fifth of it (tmpfsSizes).
        tmpfs: {
          ...(storage.homeVolume ? {} : { [SESSION_HOME]: `rw,nosuid,nodev,exec,size=${tmpfsSizes(spec.memory).home},${homeOwner}` }),
          // A read-only root needs scratch space; secrets get their own private tmpfs,
          // where the launcher's gate also waits for the CA bundle.
          ...scratchTmpfs(spec.caCerts ? { ...security, secrets: true } : security, spec.memory, ids),
          ...(spec.caCerts ? { [CA_BUNDLE_DIR]: CA_TMPFS } : {}),
          // Where git metadata does not exist yet: empty and read-only, so nothing can be created there.
          ...Object.fromEntries((spec.protectedMounts ?? []).flatMap((m) => ('placeholder' in m ? [[m.target, PLACEHOLDER_TMPFS]] : []))),
        },
        ports: bindings,
        network: spec.network,
        memory: spec.memory,
        nanoCpus: spec.nanoCpus,
        pids: spec.pids,
        capAdd: security.capAdd,
        privileged: security.privileged,
        writableRoot: security.writableRoot,
      }),
      ...(spec.tty && spec.consoleSize ? { ConsoleSize: spec.consoleSize } : {}),
      ...profileHostConfig(security),
    },
  };
}

/**
 * How a session lives, for gc:
 *  - foreground: a plain `aca run`; its owner (pid + boot id) removes it, so if
 *    the owner is gone the session is an orphan;
 *  - interactive: a terminal session, which may be detached on purpose;
 *  - kept: a foreground run with --keep;
 *  - detached: `aca run -d`, alive until stopped or its --ttl expires.
 */
export type SessionMode = 'foreground' | 'interactive' | 'kept' | 'detached';

/** Ownership labels; only a foreground run records its owner process. */
export function ownershipLabels(options: {
  session: string;
  workspace?: string | undefined;
  user: string;
  host: string;
  version: string;
  now: Date;
  mode: SessionMode;
  owner?: { pid: number; bootId: string } | undefined;
}): Record<string, string> {
  return {
    [LABEL.managed]: 'true',
    [LABEL.session]: options.session,
    [LABEL.workspace]: options.workspace ?? '',
    [LABEL.created]: options.now.toISOString(),
    [LABEL.owner]: options.user,
    [LABEL.ownerHost]: options.host,
    [LABEL.version]: options.version,
    [LABEL.mode]: options.mode,
    ...(options.mode === 'foreground' && options.owner
      ? { [LABEL.ownerPid]: String(options.owner.pid), [LABEL.ownerBoot]: options.owner.bootId }
      : {}),
  };
}
