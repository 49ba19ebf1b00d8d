/**
 * A session's full description, and the one function that turns it into the
 * engine's create body. Pure, so every default and rule is unit-tested.
 */
import type { ContainerCreateBody } from '../engine/types.js';
import type { PortSpec, VolumeSpec } from '../parse.js';
import { HARDENING, SESSION_HOME, numericIds } from '../security.js';
import { LABEL } from './labels.js';

export const WORKSPACE_PATH = '/workspace';
export const CA_BUNDLE_PATH = '/etc/aca/ca-certificates.crt';

/** Variables that point TLS clients (Node, OpenSSL, curl, git, Python) at the bundle. */
const CA_VARIABLES = ['NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE', 'CURL_CA_BUNDLE', 'GIT_SSL_CAINFO', 'REQUESTS_CA_BUNDLE', 'PIP_CERT'];

/** Keeps a detached session without a command alive until it is stopped. */
export const KEEP_ALIVE = ['sh', '-c', 'trap "exit 0" TERM INT; while :; do sleep 86400 & wait $!; done'];

export interface SessionSpec {
  name: string;
  image: string;
  command: string[];
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
  caCerts?: string | undefined;
  /** The local terminal's size, for -t: [rows, columns]. */
  consoleSize?: [number, number] | undefined;
  /** Labels aca sets (managed, session, owner, ...), computed by the caller. */
  ownership: Record<string, string>;
}

export function createBody(spec: SessionSpec): ContainerCreateBody {
  const binds: string[] = [];
  if (spec.workspace) binds.push(`${spec.workspace.hostPath}:${WORKSPACE_PATH}${spec.workspace.readOnly ? ':ro' : ''}`);
  for (const volume of spec.volumes) binds.push(`${volume.source}:${volume.target}${volume.readOnly ? ':ro' : ''}`);
  const env = new Map<string, string>([['HOME', SESSION_HOME]]);
  if (spec.tty) env.set('TERM', 'xterm-256color');
  if (spec.caCerts) {
    binds.push(`${spec.caCerts}:${CA_BUNDLE_PATH}:ro`);
    for (const variable of CA_VARIABLES) env.set(variable, CA_BUNDLE_PATH);
  }
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
    ...(command.length > 0 ? { Cmd: command } : {}),
    Env: [...env].map(([k, v]) => `${k}=${v}`),
    Labels: { ...spec.labels, ...spec.ownership },
    User: spec.user,
    WorkingDir: spec.workdir ?? (spec.workspace ? WORKSPACE_PATH : ''),
    Tty: spec.tty,
    OpenStdin: spec.interactive,
    StdinOnce: spec.interactive,
    AttachStdin: spec.interactive,
    AttachStdout: !spec.detach,
    AttachStderr: !spec.detach,
    ...(spec.ports.length > 0 ? { ExposedPorts: exposed } : {}),
    HostConfig: {
      Binds: binds,
      // A writable home for whichever user the session runs as; charged to the memory limit.
      Tmpfs: { [SESSION_HOME]: `rw,nosuid,nodev,exec,size=${spec.memory},${homeOwner}` },
      PortBindings: bindings,
      NetworkMode: spec.network,
      Memory: spec.memory,
      // Swap equal to memory: no swap beyond the limit.
      MemorySwap: spec.memory,
      NanoCpus: spec.nanoCpus,
      PidsLimit: spec.pids,
      CapDrop: [...HARDENING.CapDrop],
      CapAdd: [...HARDENING.CapAdd],
      SecurityOpt: [...HARDENING.SecurityOpt],
      Privileged: HARDENING.Privileged,
      Init: HARDENING.Init,
      ReadonlyRootfs: false,
      AutoRemove: false,
      RestartPolicy: { ...HARDENING.RestartPolicy },
      ...(spec.tty && spec.consoleSize ? { ConsoleSize: spec.consoleSize } : {}),
    },
  };
}

/** Ownership labels; the owner pid and boot id mark a foreground run (see gc). */
export function ownershipLabels(options: {
  session: string;
  workspace?: string | undefined;
  user: string;
  host: string;
  version: string;
  now: Date;
  foreground?: { pid: number; bootId: string } | undefined;
}): Record<string, string> {
  return {
    [LABEL.managed]: 'true',
    [LABEL.session]: options.session,
    [LABEL.workspace]: options.workspace ?? '',
    [LABEL.created]: options.now.toISOString(),
    [LABEL.owner]: options.user,
    [LABEL.ownerHost]: options.host,
    [LABEL.version]: options.version,
    [LABEL.mode]: options.foreground ? 'foreground' : 'detached',
    ...(options.foreground
      ? { [LABEL.ownerPid]: String(options.foreground.pid), [LABEL.ownerBoot]: options.foreground.bootId }
      : {}),
  };
}
