/**
 * The storage and lifetime flags of a new session: --cache, --workspace-mode,
 * --ttl and --from-checkpoint (with their config keys), resolved into a
 * storage plan and labels.
 */
import { UsageError } from '../errors.js';
import { parseDuration } from '../parse.js';
import { LABEL } from '../labels.js';
import { parseCache, parseWorkspaceMode, type CacheMount, type WorkspaceMode } from '../parse.js';
import { storagePlan, type StoragePlan } from './storage.js';

export interface LifecycleFlags {
  cache?: string[];
  workspaceMode?: string;
  ttl?: string;
  fromCheckpoint?: string;
}

export interface LifecycleConfig {
  caches?: string[];
  workspaceMode?: string;
  ttl?: string;
}

export interface ResolvedLifecycle {
  mode: WorkspaceMode;
  storage: StoragePlan;
  labels: Record<string, string>;
}

export function resolveLifecycle(
  session: string,
  flags: LifecycleFlags & { workspaceRo?: boolean; detach?: boolean; keep?: boolean; tty?: boolean },
  file: LifecycleConfig,
  hasWorkspace: boolean,
  now: Date,
): ResolvedLifecycle {
  if (flags.workspaceRo && flags.workspaceMode && flags.workspaceMode !== 'ro') {
    throw new UsageError(`--workspace-ro contradicts --workspace-mode ${flags.workspaceMode}`);
  }
  const mode = parseWorkspaceMode(flags.workspaceMode ?? (flags.workspaceRo ? 'ro' : (file.workspaceMode ?? 'bind')), flags.workspaceMode ? '--workspace-mode' : 'workspaceMode');
  if (mode === 'copy' && !hasWorkspace) throw new UsageError('--workspace-mode copy needs a workspace; drop --no-workspace');

  const caches = new Map<string, CacheMount>();
  for (const entry of file.caches ?? []) {
    const cache = parseCache(entry, 'caches');
    caches.set(cache.target, cache);
  }
  for (const entry of flags.cache ?? []) {
    const cache = parseCache(entry);
    caches.set(cache.target, cache);
  }

  const labels: Record<string, string> = { [LABEL.workspaceMode]: hasWorkspace ? mode : 'none' };
  if (flags.ttl && !flags.detach) throw new UsageError('--ttl applies to detached sessions (-d); a foreground session ends with its command');
  const ttl = flags.ttl ?? (flags.detach ? file.ttl : undefined);
  if (ttl) labels[LABEL.expires] = new Date(now.getTime() + parseDuration(ttl, flags.ttl ? '--ttl' : 'ttl')).toISOString();

  // A session that can outlive its command (detached, kept, or a terminal one may detach)
  // gets a home volume; a plain foreground run keeps its home in memory.
  const persistentHome = Boolean(flags.detach || flags.keep || flags.tty || mode === 'copy' || flags.fromCheckpoint);
  return {
    mode,
    storage: storagePlan(session, { persistentHome, caches: [...caches.values()], copyWorkspace: mode === 'copy' }),
    labels,
  };
}
