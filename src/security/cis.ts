/**
 * A session's effective profile scored against the CIS Docker Benchmark's
 * container-runtime section, numbered and titled as docker-bench-security
 * v1.6.1 (CIS Docker Benchmark v1.6.0) numbers it: section 5 starts at 5.1,
 * swarm mode, an engine-wide check. Read from the same `docker inspect` and
 * `docker info` fields docker-bench reads. Pure.
 */

/** The benchmark the ids and titles follow, named wherever the checks are shown. */
export const CIS_BENCHMARK = 'CIS Docker Benchmark v1.6.0, section 5, as docker-bench-security v1.6.1 numbers it';

export type CisStatus = 'pass' | 'warn' | 'info';

export interface CisCheck {
  id: string;
  title: string;
  status: CisStatus;
  detail: string;
}

/** The slice of container and engine inspect data the checks read. */
export interface CisInput {
  AppArmorProfile?: string;
  ProcessLabel?: string;
  HostConfig: Record<string, unknown>;
  Mounts: Array<{ Type: string; Source: string; Destination: string; RW: boolean; Propagation?: string }>;
  Config: { User: string; Healthcheck?: unknown; Labels: Record<string, string> | null };
  NetworkSettings?: { Networks?: Record<string, unknown> } | undefined;
  State?: { Health?: unknown } | undefined;
  /** From the engine's /info SecurityOptions: which LSMs the host has. */
  engine: { apparmor: boolean; selinux: boolean; seccomp: boolean; swarm?: string | undefined };
}

const SENSITIVE = ['/', '/boot', '/dev', '/etc', '/lib', '/proc', '/sys', '/usr'];
const ENGINE_SOCKET = /(?:docker|podman|containerd)\.sock$/;

const check = (id: string, title: string, ok: boolean, detail: string, whenNot: CisStatus = 'warn'): CisCheck => ({
  id, title, status: ok ? 'pass' : whenNot, detail,
});

export function scoreCis(c: CisInput): CisCheck[] {
  const h = c.HostConfig as {
    CapAdd?: string[] | null; CapDrop?: string[] | null; Privileged?: boolean; SecurityOpt?: string[] | null;
    PortBindings?: Record<string, Array<{ HostIp: string; HostPort: string }>> | null; NetworkMode?: string;
    Memory?: number; CpuShares?: number; NanoCpus?: number; ReadonlyRootfs?: boolean; RestartPolicy?: { Name: string; MaximumRetryCount?: number };
    PidMode?: string; IpcMode?: string; UTSMode?: string; UsernsMode?: string; Devices?: unknown[] | null; Ulimits?: unknown[] | null;
    CgroupParent?: string; PidsLimit?: number | null;
  };
  const secOpt = h.SecurityOpt ?? [];
  const bindings = Object.entries(h.PortBindings ?? {}).flatMap(([port, list]) => (list ?? []).map((b) => ({ port, ...b })));
  const networks = Object.keys(c.NetworkSettings?.Networks ?? {});
  const restart = h.RestartPolicy ?? { Name: 'no' };
  const seccompOff = secOpt.some((o) => /^seccomp[=:]unconfined$/.test(o));
  const sockets = c.Mounts.filter((m) => ENGINE_SOCKET.test(m.Source));
  const sensitive = c.Mounts.filter((m) => m.Type === 'bind' && SENSITIVE.includes(m.Source));
  const apparmor = c.AppArmorProfile ?? '';
  const swarm = c.engine.swarm || 'inactive';
  return [
    check('5.1', 'Swarm mode not enabled, if not needed', swarm === 'inactive', `Swarm: ${swarm} (engine-wide)`),
    c.engine.apparmor
      ? check('5.2', 'AppArmor profile enabled', apparmor !== '' && apparmor !== 'unconfined', `profile: ${apparmor || 'none'}`)
      : { id: '5.2', title: 'AppArmor profile enabled', status: 'info', detail: 'the host has no AppArmor' },
    c.engine.selinux
      ? check('5.3', 'SELinux security options set', secOpt.some((o) => o.startsWith('label')) || Boolean(c.ProcessLabel), `ProcessLabel=${c.ProcessLabel || 'none'}`)
      : { id: '5.3', title: 'SELinux security options set', status: 'info', detail: 'the host has no SELinux' },
    check('5.4', 'Linux kernel capabilities restricted', (h.CapDrop ?? []).includes('ALL') && (h.CapAdd ?? []).length === 0,
      `CapDrop=${(h.CapDrop ?? []).join(',') || 'none'} CapAdd=${(h.CapAdd ?? []).join(',') || 'none'}`),
    check('5.5', 'Privileged containers not used', !h.Privileged, `Privileged=${Boolean(h.Privileged)}`),
    check('5.6', 'Sensitive host system directories not mounted', sensitive.length === 0,
      sensitive.length ? `mounted: ${sensitive.map((m) => m.Source).join(', ')}` : 'none mounted'),
    { id: '5.7', title: 'sshd not run within containers', status: 'info', detail: 'a process check; aca images run no sshd' },
    check('5.8', 'Privileged ports not mapped', bindings.every((b) => !b.HostPort || Number(b.HostPort) >= 1024),
      bindings.length ? bindings.map((b) => `${b.HostIp || '0.0.0.0'}:${b.HostPort || '*'}->${b.port}`).join(' ') : 'no published ports'),
    check('5.9', 'Only needed ports open', true, bindings.length ? `${bindings.length} published by request` : 'no published ports', 'info'),
    check('5.10', "Host's network namespace not shared", h.NetworkMode !== 'host', `NetworkMode=${h.NetworkMode}`),
    check('5.11', 'Memory usage limited', (h.Memory ?? 0) > 0, `Memory=${h.Memory ?? 0}`),
    check('5.12', 'CPU priority set appropriately', (h.CpuShares ?? 0) !== 0 && h.CpuShares !== 1024,
      `CpuShares=${h.CpuShares ?? 0} NanoCpus=${h.NanoCpus ?? 0}`),
    check('5.13', "Root filesystem mounted read-only", Boolean(h.ReadonlyRootfs), `ReadonlyRootfs=${Boolean(h.ReadonlyRootfs)}`),
    check('5.14', 'Incoming traffic bound to a specific host interface', bindings.every((b) => b.HostIp !== '' && b.HostIp !== '0.0.0.0' && b.HostIp !== '::'),
      bindings.length ? bindings.map((b) => b.HostIp || '0.0.0.0').join(', ') : 'no published ports'),
    check('5.15', "Restart policy 'on-failure' at most 5, or none", restart.Name === 'no' || restart.Name === '' || (restart.Name === 'on-failure' && (restart.MaximumRetryCount ?? 0) <= 5),
      `RestartPolicy=${restart.Name || 'no'}`),
    check('5.16', "Host's process namespace not shared", h.PidMode !== 'host', `PidMode=${h.PidMode || 'private'}`),
    check('5.17', "Host's IPC namespace not shared", h.IpcMode !== 'host', `IpcMode=${h.IpcMode || 'default'}`),
    check('5.18', 'Host devices not directly exposed', (h.Devices ?? []).length === 0, `${(h.Devices ?? []).length} devices`),
    check('5.19', 'Default ulimits overridden', (h.Ulimits ?? []).length > 0, `${(h.Ulimits ?? []).length} ulimits set`),
    check('5.20', 'Mount propagation not shared', c.Mounts.every((m) => !/^r?shared$/.test(m.Propagation ?? '')),
      c.Mounts.map((m) => `${m.Destination}:${m.Propagation || '-'}`).join(' ') || 'no mounts'),
    check('5.21', "Host's UTS namespace not shared", h.UTSMode !== 'host', `UTSMode=${h.UTSMode || 'private'}`),
    check('5.22', 'Default seccomp profile not disabled', !seccompOff && c.engine.seccomp, seccompOff ? 'seccomp=unconfined' : c.engine.seccomp ? "the engine's default profile" : 'the engine has no seccomp'),
    { id: '5.23', title: 'docker exec not used with --privileged', status: 'pass', detail: 'aca exec has no --privileged' },
    { id: '5.24', title: 'docker exec not used with --user=root', status: 'info', detail: 'aca exec -u is recorded in the audit trail' },
    check('5.25', 'cgroup usage confirmed', !h.CgroupParent, `CgroupParent=${h.CgroupParent || 'default'}`),
    check('5.26', 'Container restricted from acquiring additional privileges', secOpt.some((o) => /^no-new-privileges(?::true)?$/.test(o)), secOpt.join(' ') || 'none'),
    check('5.27', 'Container health checked at runtime', Boolean(c.Config.Healthcheck || c.State?.Health), c.Config.Healthcheck ? 'health check set' : 'no health check (a session is a command, not a service)', 'info'),
    { id: '5.28', title: 'Latest image version used', status: 'info', detail: 'images are built locally; rebuild with aca build' },
    check('5.29', 'PIDs cgroup limit used', (h.PidsLimit ?? 0) > 0, `PidsLimit=${h.PidsLimit ?? 0}`),
    check('5.30', "Docker's default bridge not used", !networks.includes('bridge') && h.NetworkMode !== 'bridge' && h.NetworkMode !== 'default', `networks: ${networks.join(', ') || h.NetworkMode}`),
    check('5.31', "Host's user namespace not shared", h.UsernsMode !== 'host', `UsernsMode=${h.UsernsMode || 'default'}`),
    check('5.32', 'Docker socket not mounted', sockets.length === 0, sockets.length ? sockets.map((m) => m.Source).join(', ') : 'no engine socket mounted'),
  ];
}

export function summarise(checks: CisCheck[]): { pass: number; warn: number; info: number } {
  return {
    pass: checks.filter((c) => c.status === 'pass').length,
    warn: checks.filter((c) => c.status === 'warn').length,
    info: checks.filter((c) => c.status === 'info').length,
  };
}
