/**
 * Session storage: the home volume, shared cache volumes, and the workspace
 * copy for copy mode. Volumes are labelled so rm and gc find them by label.
 */
import { dirname, basename, posix } from 'node:path';
import type { Engine } from '../engine/index.js';
import { UsageError } from '../errors.js';
import { SESSION_HOME, WORKSPACE_PATH, numericIds } from '../security.js';
import type { CacheMount } from '../parse.js';
import { LABEL, MANAGED_FILTER, containerName, storageHelperLabels } from '../labels.js';
import { creatorLabels } from '../host.js';
import { BASE_MOUNT, baseVolumeName, createBaseVolumes, excluder, writeManifest } from './manifest.js';


export const homeVolumeName = (session: string) => `aca-${session}-home`;
export const workspaceVolumeName = (session: string) => `aca-${session}-workspace`;
export const cacheVolumeName = (cache: string) => `aca-cache-${cache}`;

/** What a session mounts besides the workspace bind. */
export interface StoragePlan {
  /** A home volume for sessions that outlive their command; a tmpfs otherwise. */
  homeVolume?: string | undefined;
  caches: Array<CacheMount & { volume: string }>;
  /** Copy mode: the workspace lives in this volume, filled from the host tree. */
  workspaceVolume?: string | undefined;
}

/** Whether the plan makes volumes of the session's own (caches are shared, and stay). */
export function hasSessionVolumes(plan: StoragePlan | undefined): boolean {
  return Boolean(plan?.homeVolume || plan?.workspaceVolume);
}

export function storagePlan(session: string, options: { persistentHome: boolean; caches: CacheMount[]; copyWorkspace: boolean }): StoragePlan {
  return {
    ...(options.persistentHome ? { homeVolume: homeVolumeName(session) } : {}),
    caches: options.caches.map((c) => ({ ...c, volume: cacheVolumeName(c.name) })),
    ...(options.copyWorkspace ? { workspaceVolume: workspaceVolumeName(session) } : {}),
  };
}

/**
 * Create the plan's volumes and give each root the session user as owner. A
 * fresh volume's root belongs to root, and a session with every capability
 * dropped cannot chown it; the engine can, by extracting a directory entry
 * over the mount point. That needs a writable root filesystem, so it happens
 * in a short-lived helper container that is created, never started, and
 * removed. Copy mode's workspace is extracted the same way. The helper's removal is returned, not awaited: the
 * session's container can be created meanwhile (many sessions started at once each wait a round trip less); the
 * caller awaits it before starting the session or removing its volumes.
 */
export async function prepareStorage(
  engine: Engine,
  session: string,
  image: string,
  plan: StoragePlan,
  user: string,
  workspace?: { hostPath: string; target: string; exclude: string[] },
  userLabels: Record<string, string> = {},
): Promise<{ helperRemoved: Promise<void> }> {
  const mounts: Array<{ volume: string; target: string; mode: number }> = [];
  // The user's --label values too, so a gc scoped by label finds what an interrupted set-up left.
  const sessionLabels = { ...userLabels, ...creatorLabels(), [LABEL.managed]: 'true', [LABEL.session]: session };
  if (plan.homeVolume) {
    await engine.volumes.create(plan.homeVolume, { ...sessionLabels, [LABEL.volume]: 'home' });
    mounts.push({ volume: plan.homeVolume, target: SESSION_HOME, mode: 0o700 });
  }
  for (const cache of plan.caches) {
    if (!(await engine.volumes.inspect(cache.volume))) {
      await engine.volumes.create(cache.volume, { [LABEL.managed]: 'true', [LABEL.cache]: cache.name, [LABEL.volume]: 'cache' });
    }
    mounts.push({ volume: cache.volume, target: cache.target, mode: 0o755 });
  }
  if (plan.workspaceVolume) {
    await engine.volumes.create(plan.workspaceVolume, { ...sessionLabels, [LABEL.volume]: 'workspace' });
    mounts.push({ volume: plan.workspaceVolume, target: workspace?.target ?? WORKSPACE_PATH, mode: 0o755 });
    // The record of what was copied in (filled below, or by a checkpoint's restore), out of the session's reach.
    await createBaseVolumes(engine, session, sessionLabels);
  }
  if (mounts.length === 0) return { helperRemoved: Promise.resolve() };

  const ids = numericIds(user) ?? { uid: 0, gid: 0 };
  // tar-stream and its dependencies load only for sessions that have volumes to prepare.
  const { directoriesTar, packWorkspace } = await import('../archive.js');
  const helper = await engine.createStorageHelper({
    name: `${containerName(session)}-init`,
    image,
    binds: [...mounts.map((m) => `${m.volume}:${m.target}`), ...(plan.workspaceVolume ? [`${baseVolumeName(session)}:${BASE_MOUNT}`] : [])],
    labels: storageHelperLabels(sessionLabels),
  });
  try {
    // Parents first, so a cache inside the home is owned after the home is.
    const byParent = new Map<string, typeof mounts>();
    for (const mount of [...mounts].sort((a, b) => a.target.length - b.target.length)) {
      const parent = dirname(mount.target);
      byParent.set(parent, [...(byParent.get(parent) ?? []), mount]);
    }
    for (const [parent, group] of byParent) {
      const tar = directoriesTar(group.map((m) => ({ name: basename(m.target), uid: ids.uid, gid: ids.gid, mode: m.mode })));
      await engine.putArchive(helper, parent, tar);
    }
    if (plan.workspaceVolume && workspace) {
      // Streamed from disk, hashed on the way: the manifest is exactly what was sent.
      const packed = packWorkspace(workspace.hostPath, basename(workspace.target), ids, excluder(workspace.exclude));
      const created = new Date().toISOString();
      await engine.putArchive(helper, dirname(workspace.target), packed.tar);
      const entries = Object.fromEntries(await packed.tree);
      await writeManifest(engine, helper, { version: 1, created, root: workspace.hostPath, exclude: workspace.exclude, entries });
    }
  } catch (error) {
    await engine.removeContainer(helper, { force: true }).catch(() => {});
    throw error;
  }
  return { helperRemoved: engine.removeContainer(helper, { force: true }) };
}

/** Remove a session's own volumes (home, workspace copy); caches are shared and stay. */
export async function removeSessionVolumes(engine: Engine, session: string): Promise<string[]> {
  const volumes = await engine.volumes.list([MANAGED_FILTER, `${LABEL.session}=${session}`]);
  const removed: string[] = [];
  for (const volume of volumes) {
    if (await engine.volumes.remove(volume.Name)) removed.push(volume.Name);
  }
  return removed;
}
