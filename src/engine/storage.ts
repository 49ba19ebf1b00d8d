/**
 * Volumes, archives, commits, images and disk usage: the Engine API calls
 * behind session storage, checkpoints and gc.
 */
import { DETACHED_STDIO } from './types.js';
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { Engine } from './client.js';
import { matchesAllLabels, podmanCommitQuery } from './podman.js';
import { PODMAN_LIBPOD_API } from './client.js';
import { EngineApiError, isNotFound } from './errors.js';
import { TIMEOUT } from './http.js';

export interface VolumeInfo {
  Name: string;
  Labels: Record<string, string> | null;
  Mountpoint: string;
  CreatedAt?: string;
  UsageData?: { Size: number; RefCount: number } | null;
}

export interface ImageSummary {
  Id: string;
  RepoTags: string[] | null;
  Created: number;
  Size: number;
  Labels: Record<string, string> | null;
}

export interface NetworkSummary {
  Id: string;
  Name: string;
  Labels: Record<string, string> | null;
  Containers?: Record<string, unknown>;
}

export interface DiskUsage {
  LayersSize?: number;
  Images: Array<{ Id: string; Size: number; SharedSize: number; Labels: Record<string, string> | null }> | null;
  Containers: Array<{ Id: string; SizeRw?: number; Labels: Record<string, string> | null }> | null;
  Volumes: Array<{ Name: string; Labels: Record<string, string> | null; UsageData?: { Size: number } | null }> | null;
}

const labelFilter = (labels: string[], extra: Record<string, string[]> = {}) => JSON.stringify({ label: labels, ...extra });

const ignoreMissing = (error: unknown) => {
  if (isNotFound(error)) return;
  throw error;
};

export async function createVolume(engine: Engine, name: string, labels: Record<string, string>): Promise<void> {
  await engine.http.json('POST', '/volumes/create', { body: { Name: name, Labels: labels } });
}

export async function inspectVolume(engine: Engine, name: string): Promise<VolumeInfo | undefined> {
  try {
    return await engine.http.json<VolumeInfo>('GET', `/volumes/${encodeURIComponent(name)}`);
  } catch (error) {
    ignoreMissing(error);
    return undefined;
  }
}

export async function listVolumes(engine: Engine, labels: string[]): Promise<VolumeInfo[]> {
  const result = await engine.http.json<{ Volumes: VolumeInfo[] | null }>('GET', '/volumes', { query: { filters: labelFilter(labels) } });
  // Podman < 4.6 ORs label filters on volumes (see matchesAllLabels): never act on another session's volume.
  return (result.Volumes ?? []).filter((v) => engine.kind !== 'podman' || matchesAllLabels(v.Labels, labels));
}

/** Remove a volume; false when it is still in use (409). Gone already counts as removed. */
export async function removeVolume(engine: Engine, name: string): Promise<boolean> {
  try {
    await engine.http.json('DELETE', `/volumes/${encodeURIComponent(name)}`);
    return true;
  } catch (error) {
    if (error instanceof EngineApiError && error.statusCode === 409) return false;
    ignoreMissing(error);
    return true;
  }
}

/** Extract a tar stream into a container's filesystem at `path` (volumes included). */
export async function putArchive(engine: Engine, containerId: string, path: string, tar: Readable): Promise<void> {
  await engine.http.json('PUT', `/containers/${containerId}/archive`, {
    query: { path, noOverwriteDirNonDir: true },
    rawBody: tar,
    headers: { 'Content-Type': 'application/x-tar' },
  });
}

/** A tar stream of `path` in a container (running or not). */
export function getArchive(engine: Engine, containerId: string, path: string): Promise<IncomingMessage> {
  return engine.http.stream('GET', `/containers/${containerId}/archive`, { query: { path } });
}

/** Commit a container's filesystem as an image; returns the image id. */
export async function commitContainer(
  engine: Engine,
  containerId: string,
  options: { repo: string; tag: string; labels: Record<string, string> },
): Promise<string> {
  if (engine.kind === 'podman') {
    // Podman's compat commit drops the body's Labels; libpod's commit takes them as LABEL changes.
    const query = podmanCommitQuery({ container: containerId, ...options });
    const result = await engine.http.json<{ Id: string }>('POST', `/v${PODMAN_LIBPOD_API}/libpod/commit?${query}`, { timeoutMs: TIMEOUT.slow });
    return result.Id;
  }
  const result = await engine.http.json<{ Id: string }>('POST', '/commit', {
    query: { container: containerId, repo: options.repo, tag: options.tag, pause: true },
    body: { Labels: options.labels },
    timeoutMs: TIMEOUT.slow,
  });
  return result.Id;
}

/** Freeze every process of a container (checkpoints copy a still filesystem). */
export async function pauseContainer(engine: Engine, id: string): Promise<void> {
  await engine.http.json('POST', `/containers/${encodeURIComponent(id)}/pause`);
}

export async function unpauseContainer(engine: Engine, id: string): Promise<void> {
  await engine.http.json('POST', `/containers/${encodeURIComponent(id)}/unpause`);
}

export async function listImages(engine: Engine, labels: string[], options: { dangling?: boolean } = {}): Promise<ImageSummary[]> {
  const extra: Record<string, string[]> = options.dangling === undefined ? {} : { dangling: [String(options.dangling)] };
  if (engine.kind !== 'podman') return engine.http.json('GET', '/images/json', { query: { filters: labelFilter(labels, extra) } });
  // Podman 4.3 answers several label filters on images with nothing (see matchesAllLabels):
  // ask with one, check them all here.
  const images = await engine.http.json<ImageSummary[]>('GET', '/images/json', { query: { filters: labelFilter(labels.slice(-1), extra) } });
  return images.filter((image) => matchesAllLabels(image.Labels, labels));
}

/** Remove an image; false when a container still uses it (409). */
export async function removeImage(engine: Engine, ref: string): Promise<boolean> {
  try {
    await engine.http.json('DELETE', `/images/${encodeURIComponent(ref)}`, { query: { noprune: false } });
    return true;
  } catch (error) {
    if (error instanceof EngineApiError && error.statusCode === 409) return false;
    ignoreMissing(error);
    return true;
  }
}

export async function listNetworks(engine: Engine, labels: string[]): Promise<NetworkSummary[]> {
  return engine.http.json('GET', '/networks', { query: { filters: labelFilter(labels) } });
}

export async function removeNetwork(engine: Engine, id: string): Promise<boolean> {
  try {
    await engine.http.json('DELETE', `/networks/${encodeURIComponent(id)}`);
    return true;
  } catch (error) {
    if (error instanceof EngineApiError && (error.statusCode === 409 || error.statusCode === 403)) return false;
    ignoreMissing(error);
    return true;
  }
}

export function diskUsage(engine: Engine): Promise<DiskUsage> {
  return engine.http.json('GET', '/system/df', { timeoutMs: TIMEOUT.slow });
}

/**
 * A container that is created and never started (on Podman: started, see
 * below): the archive API needs a
 * container to reach volumes through. Removed by the caller (and by gc, by
 * its aca.helper label, if the caller dies first).
 */
export async function createHelperContainer(
  engine: Engine,
  options: { name: string; image: string; binds: string[]; labels: Record<string, string> },
): Promise<string> {
  const podman = engine.kind === 'podman';
  const id = await engine.createContainer(options.name, {
    Image: options.image,
    // Podman mounts volumes only into a running container, and its archive API writes
    // into the container's own layer otherwise: its helper runs, as catatonit's pause
    // process (Podman mounts its init at /run/podman-init), so no binary is needed in the image. Its entrypoint is
    // set too: a checkpoint's image has aca's launcher as its own, which would wait for secrets or exit at once.
    ...(podman ? { Entrypoint: ['/run/podman-init'], Cmd: ['-P'] } : { Cmd: ['true'] }),
    Env: [],
    Labels: { 'aca.managed': 'true', 'aca.helper': 'storage', ...options.labels },
    User: '0:0',
    WorkingDir: '',
    ...DETACHED_STDIO,
    HostConfig: { Binds: options.binds, NetworkMode: 'none', ...(podman ? { Init: true } : {}) } as never,
  });
  if (podman) {
    try {
      await engine.startContainer(id);
    } catch (error) {
      await engine.removeContainer(id, { force: true }).catch(() => {});
      throw error;
    }
  }
  return id;
}

/** Bytes in a container's writable layer (SizeRw, computed by the engine on request). */
export async function writableLayerSize(engine: Engine, containerId: string): Promise<number> {
  const info = await engine.http.json<{ SizeRw?: number | null }>('GET', `/containers/${containerId}/json`, { query: { size: true } });
  return info.SizeRw ?? 0;
}
