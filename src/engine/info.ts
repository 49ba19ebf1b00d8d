/**
 * What an engine says about itself (GET /info and /version), read the same way
 * for Docker and Podman, and the engine's free disk space. Used by aca doctor.
 */
import { existsSync, statfsSync } from 'node:fs';
import type { Engine } from './engine.js';
import { FrameCollector } from './demux.js';
import type { ContainerCreateBody, EngineSystemInfo, IsolationFacts, VersionInfo } from './types.js';

export type { EngineSystemInfo, IsolationFacts } from './types.js';

export interface SecurityFeatures {
  seccomp: boolean;
  apparmor: boolean;
  selinux: boolean;
  /** Containers run in a user namespace: a rootless engine, or Docker's userns-remap. */
  userns: boolean;
  rootless: boolean;
  /** gVisor's runsc is a configured runtime (and, on this machine, installed). */
  gvisor: boolean;
}

/**
 * SecurityOptions entries look like "name=seccomp,profile=default". Podman
 * lists every runtime its containers.conf knows, installed or not, so on a
 * local engine runsc counts only when its binary exists.
 */
export function securityFeatures(info: EngineSystemInfo, local: boolean): SecurityFeatures {
  const names = new Set((info.SecurityOptions ?? []).map((o) => /(?:^|,)name=([^,]+)/.exec(o)?.[1] ?? o));
  const gvisor = usableGvisorRuntime(info, local) !== undefined;
  return {
    seccomp: names.has('seccomp'),
    apparmor: names.has('apparmor'),
    selinux: names.has('selinux'),
    userns: names.has('userns') || names.has('rootless'),
    rootless: names.has('rootless'),
    gvisor,
  };
}

/** The runtime name under which the engine offers gVisor (runsc), when its binary is there (on a local engine). */
export function usableGvisorRuntime(info: EngineSystemInfo, local: boolean): string | undefined {
  const runsc = Object.entries(info.Runtimes ?? {}).find(([name, runtime]) => name === 'runsc' || /(?:^|\/)runsc$/.test(runtime.path ?? ''));
  if (!runsc) return undefined;
  return !local || !runsc[1].path?.startsWith('/') || existsSync(runsc[1].path) ? runsc[0] : undefined;
}

export function isolationFacts(kind: string, info: EngineSystemInfo, local: boolean): IsolationFacts {
  return {
    gvisorRuntime: usableGvisorRuntime(info, local),
    runtimes: Object.keys(info.Runtimes ?? {}),
    autoMayPickGvisor: kind !== 'podman',
    mapSessionUser: kind === 'podman' && (info.SecurityOptions ?? []).some((o) => o.includes('rootless')),
  };
}

/** "Docker 20.10.24" / "Podman 4.3.1", and the API version it speaks. */
export function describeVersion(kind: string, version: VersionInfo): { engine: string; api: string; minApi?: string | undefined } {
  const name = kind === 'podman' ? 'Podman' : 'Docker';
  return { engine: `${name} ${version.Version}`, api: version.ApiVersion, minApi: version.MinAPIVersion };
}

/**
 * Free bytes where the engine keeps images and containers. On this machine:
 * statfs of its root dir. On a remote engine: `df -Pk /` run by `probe`, a throwaway container (removed at once)
 * whose body the caller gives; undefined without one.
 */
export async function engineFreeBytes(
  engine: Engine, info: EngineSystemInfo, local: boolean, probe: ContainerCreateBody | undefined,
): Promise<number | undefined> {
  if (local && info.DockerRootDir && existsSync(info.DockerRootDir)) {
    const stats = statfsSync(info.DockerRootDir);
    return stats.bavail * stats.bsize;
  }
  if (!probe) return undefined;
  const id = await engine.createContainer(`aca-doctor-df-${process.pid}`, { ...probe, Cmd: ['df', '-Pk', '/'] });
  try {
    await engine.startContainer(id);
    await engine.waitContainer(id, 'not-running');
    const output = await new FrameCollector().readAll(await engine.logs(id, { follow: false }));
    return parseDfAvailable(output.result().output);
  } finally {
    await engine.removeContainer(id, { force: true });
  }
}

/** The "Available" column (KiB) of `df -Pk`'s one data line, in bytes. */
export function parseDfAvailable(output: string): number | undefined {
  const line = output.trim().split('\n').find((l) => !/^Filesystem/.test(l));
  const fields = line?.trim().split(/\s+/);
  const available = fields && fields.length >= 4 ? Number(fields[3]) : NaN;
  return Number.isFinite(available) ? available * 1024 : undefined;
}
