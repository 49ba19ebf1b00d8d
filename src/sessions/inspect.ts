/** `aca inspect SESSION [--security]`: a session as aca sees it, and its effective security profile. */
import type { Context } from '../context.js';
import { CIS_BENCHMARK, scoreCis, summarise, type CisCheck } from '../security/cis.js';
import { ISOLATION_LABEL } from '../security/profile.js';
import { LABEL } from '../labels.js';
import { EGRESS_ALLOW_LABEL } from './network.js';
import { readRelaxations, type Relaxation } from '../security/relaxations.js';
import { resolveSession } from './resolve.js';
import { SECRETS_LABEL } from './secure-run.js';

export interface SessionInfo {
  name: string;
  id: string;
  image: string;
  state: string;
  user: string;
  command: string[];
  workspace: string;
  created: string;
  networks: string[];
  mounts: Array<{ type: string; source: string; destination: string; readOnly: boolean }>;
}

export interface SecurityReport {
  session: string;
  user: string;
  rootFilesystem: 'read-only' | 'writable';
  privileged: boolean;
  capabilities: { drop: string[]; add: string[] };
  noNewPrivileges: boolean;
  seccomp: string;
  apparmor: string;
  selinux: string;
  runtime: string;
  /** container or gvisor (older sessions: from the runtime). */
  isolation: string;
  limits: { memory: number; memorySwap: number; cpus: number; cpuShares: number; pids: number; ulimits: Array<{ Name: string; Soft: number; Hard: number }> };
  namespaces: Record<'pid' | 'ipc' | 'uts' | 'user' | 'cgroup' | 'network', string>;
  tmpfs: Record<string, string>;
  mounts: Array<{ source: string; destination: string; mode: 'ro' | 'rw'; propagation: string }>;
  network: { name: string; internal: boolean; interContainer: boolean | 'n/a'; allow: string[] };
  restartPolicy: string;
  secrets: string[];
  relaxed: string[];
  /** Each relaxation and where it came from: flag, user config FILE, trusted project file FILE. */
  relaxedFrom: Relaxation[];
  unsafe: boolean;
  cis: { benchmark: string; summary: { pass: number; warn: number; info: number }; checks: CisCheck[] };
}

interface FullInspect {
  Id: string;
  Name: string;
  Created: string;
  AppArmorProfile?: string;
  ProcessLabel?: string;
  State: { Status: string; Health?: unknown };
  Config: { Image: string; User: string; Cmd: string[] | null; Entrypoint: string[] | string | null; Labels: Record<string, string> | null; Healthcheck?: unknown };
  HostConfig: Record<string, unknown>;
  Mounts: Array<{ Type: string; Source: string; Destination: string; RW: boolean; Propagation?: string }>;
  NetworkSettings?: { Networks?: Record<string, unknown> };
}

async function load(ctx: Context, query: string) {
  const engine = await ctx.engine();
  const session = await resolveSession(engine, query);
  const info = (await session.inspect()) as unknown as FullInspect;
  return { engine, session, info };
}

export async function describeSession(ctx: Context, query: string): Promise<SessionInfo> {
  const { session, info } = await load(ctx, query);
  const entry = Array.isArray(info.Config.Entrypoint) ? info.Config.Entrypoint : info.Config.Entrypoint ? [info.Config.Entrypoint] : [];
  return {
    name: session.name,
    id: info.Id,
    image: info.Config.Image,
    state: info.State.Status,
    user: info.Config.User,
    command: [...entry, ...(info.Config.Cmd ?? [])],
    workspace: info.Config.Labels?.[LABEL.workspace] ?? '',
    created: info.Created,
    networks: Object.keys(info.NetworkSettings?.Networks ?? {}),
    mounts: info.Mounts.map((m) => ({ type: m.Type, source: m.Source, destination: m.Destination, readOnly: !m.RW })),
  };
}

export async function securityReport(ctx: Context, query: string): Promise<SecurityReport> {
  const { engine, session, info } = await load(ctx, query);
  const h = info.HostConfig as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const engineInfo = await engine.systemInfo();
  const options = (engineInfo.SecurityOptions ?? []).join(' ');
  const lsm = { apparmor: /name=apparmor/.test(options), selinux: /name=selinux/.test(options), seccomp: /name=seccomp/.test(options), swarm: engineInfo.Swarm?.LocalNodeState };
  const networkName = String(h.NetworkMode ?? '');
  const network = networkName && !['none', 'host', 'bridge', 'default'].includes(networkName) ? await engine.networks.inspect(networkName) : undefined;
  const secOpt: string[] = h.SecurityOpt ?? [];
  const labels = info.Config.Labels ?? {};
  const checks = scoreCis({ ...info, engine: lsm });
  const ns = (value: unknown, fallback: string) => (typeof value === 'string' && value !== '' ? value : fallback);
  return {
    session: session.name,
    user: info.Config.User || '(image default)',
    rootFilesystem: h.ReadonlyRootfs ? 'read-only' : 'writable',
    privileged: Boolean(h.Privileged),
    capabilities: { drop: h.CapDrop ?? [], add: h.CapAdd ?? [] },
    noNewPrivileges: secOpt.some((o) => /^no-new-privileges(?::true)?$/.test(o)),
    seccomp: secOpt.some((o) => /^seccomp[=:]unconfined$/.test(o)) ? 'unconfined' : lsm.seccomp ? "engine's default profile" : 'unavailable on this engine',
    apparmor: info.AppArmorProfile || (lsm.apparmor ? 'none' : 'unavailable on this host'),
    selinux: info.ProcessLabel || (lsm.selinux ? 'none' : 'unavailable on this host'),
    runtime: ns(h.Runtime, 'runc'),
    isolation: labels[ISOLATION_LABEL] ?? (/runsc/.test(String(h.Runtime ?? '')) ? 'gvisor' : 'container'),
    limits: {
      memory: h.Memory ?? 0, memorySwap: h.MemorySwap ?? 0, cpus: (h.NanoCpus ?? 0) / 1e9, cpuShares: h.CpuShares ?? 0,
      pids: h.PidsLimit ?? 0, ulimits: h.Ulimits ?? [],
    },
    namespaces: {
      pid: ns(h.PidMode, 'private'), ipc: ns(h.IpcMode, 'private'), uts: ns(h.UTSMode, 'private'),
      user: ns(h.UsernsMode, 'engine default'), cgroup: ns(h.CgroupnsMode, 'engine default'), network: networkName,
    },
    tmpfs: h.Tmpfs ?? {},
    mounts: info.Mounts.map((m) => ({ source: m.Source, destination: m.Destination, mode: m.RW ? 'rw' : 'ro', propagation: m.Propagation || '-' })),
    network: {
      name: networkName,
      internal: network?.Internal ?? false,
      // Off when the bridge drops it (icc=false), or when the network is the session's own (nobody else is on it).
      interContainer: network
        ? network.Options?.['com.docker.network.bridge.enable_icc'] !== 'false' && networkName !== `aca-${labels[LABEL.session]}`
        : 'n/a',
      allow: network?.Labels?.[EGRESS_ALLOW_LABEL]?.split(',').filter(Boolean) ?? [],
    },
    restartPolicy: h.RestartPolicy?.Name || 'no',
    secrets: (labels[SECRETS_LABEL] ?? '').split('\n').filter(Boolean).map((ref) => ref.split('=')[0]!),
    relaxed: readRelaxations(labels).map((r) => r.what),
    relaxedFrom: readRelaxations(labels),
    unsafe: labels['aca.security.unsafe'] === 'true',
    cis: { benchmark: CIS_BENCHMARK, summary: summarise(checks), checks },
  };
}
