/** `aca gc`: gather aca's objects, plan with the pure rules, remove (or just report). */
import { statfsSync } from 'node:fs';
import type { Context } from '../context.js';
import { type DiskUsage, type Engine, isNotFound } from '../engine/index.js';
import { AcaError } from '../errors.js';
import { LABEL, MANAGED_FILTER } from '../labels.js';
import { listSessions, sessionName } from '../sessions/resolve.js';
import { hostFacts } from '../host.js';
import { inBatches } from '../batches.js';
import { planGcSparing, type GcAction, type GcInventory, type GcOptions, type HostFacts } from './plan.js';

export interface GcRequest extends GcOptions {
  dryRun: boolean;
  /** Only sessions carrying all these labels ("K=V"), and their own volumes and networks. */
  labels?: string[];
  ifDiskAbovePct?: number | undefined;
}

export interface GcResult extends GcAction {
  bytes: number;
  removed: boolean;
  error?: string;
}

export interface GcReport {
  dryRun: boolean;
  /** Set when --if-disk-above found the disk below the threshold. */
  skipped?: string;
  diskUsedPct?: number;
  actions: GcResult[];
  /** Sessions kept for their un-exported work, and why. */
  spared: GcAction[];
  reclaimedBytes: number;
}

async function engineDiskUsedPct(engine: Engine): Promise<number> {
  if (!engine.capabilities.hostPathsVisible) {
    throw new AcaError('--if-disk-above needs a local engine: the engine\'s disk is not visible from here');
  }
  const root = (await engine.systemInfo()).DockerRootDir;
  if (!root) throw new AcaError('--if-disk-above: the engine does not report its data directory');
  const fs = statfsSync(root);
  return Math.round(((fs.blocks - fs.bfree) / fs.blocks) * 1000) / 10;
}

async function inventory(engine: Engine, options: GcRequest): Promise<GcInventory> {
  const labels = (l: Record<string, string> | null) => l ?? {};
  const scope = options.labels ?? [];
  const [sessions, helpers, volumes, networks, dangling, checkpoints] = await Promise.all([
    scope.length > 0
      ? engine.listContainers([MANAGED_FILTER, LABEL.session, ...scope], true).then((all) => all.filter((c) => !c.Labels?.[LABEL.helper]))
      : listSessions(engine, true),
    engine.listContainers([MANAGED_FILTER, `${LABEL.helper}=storage`], true),
    engine.volumes.list([MANAGED_FILTER]),
    engine.networks.list([MANAGED_FILTER]),
    engine.images.listLabelled([MANAGED_FILTER], { dangling: true }),
    engine.images.listLabelled([MANAGED_FILTER, LABEL.checkpoint]),
  ]);
  const stoppedAt = async (id: string, state: string) =>
    state === 'running' || options.olderThanMs === 0 ? undefined : (await engine.inspectContainer(id)).State.FinishedAt;
  return {
    scoped: scope.length > 0,
    scopeLabels: scope,
    sessions: (await Promise.all(sessions.map(async (c) => {
      try {
        return { id: c.Id, name: sessionName(c), state: c.State, labels: labels(c.Labels), finishedAt: await stoppedAt(c.Id, c.State) };
      } catch (error) {
        if (isNotFound(error)) return undefined; // removed since the list, e.g. by a concurrent gc
        throw error;
      }
    }))).filter((session) => session !== undefined),
    helpers: helpers.map((c) => ({ id: c.Id, name: c.Names[0]?.replace(/^\//, '') ?? c.Id, labels: labels(c.Labels), created: c.Created })),
    volumes: volumes.map((v) => ({ id: v.Name, name: v.Name, labels: labels(v.Labels), created: v.CreatedAt ? Date.parse(v.CreatedAt) / 1000 : undefined })),
    networks: networks.map((n) => ({ id: n.Id, name: n.Name, labels: labels(n.Labels) })),
    danglingImages: dangling.map((i) => ({ id: i.Id, name: i.Id.replace(/^sha256:/, '').slice(0, 12), labels: labels(i.Labels), created: i.Created })),
    checkpoints: checkpoints.map((i) => ({ id: i.Id, name: i.Labels?.[LABEL.checkpoint] ?? i.Id, labels: labels(i.Labels), created: i.Created })),
  };
}

/**
 * What each object occupies, for the summary. Docker runs one disk-usage scan
 * at a time and refuses a second; concurrent gc runs wait their turn, and if
 * the answer never comes the sizes are unknown (0), which changes no decision.
 */
async function sizes(engine: Engine): Promise<Map<string, number>> {
  let df: DiskUsage | undefined;
  for (let attempt = 0; attempt < 20 && !df; attempt++) {
    try {
      df = await engine.diskUsage();
    } catch (error) {
      // Docker scans one at a time; Podman's scan fails when a container is removed under it. Both pass: ask again.
      if (!/already running/i.test((error as Error).message) && !isNotFound(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  if (!df) return new Map();
  const map = new Map<string, number>();
  for (const c of df.Containers ?? []) map.set(c.Id, c.SizeRw ?? 0);
  for (const v of df.Volumes ?? []) map.set(v.Name, Math.max(0, v.UsageData?.Size ?? 0));
  for (const i of df.Images ?? []) map.set(i.Id, Math.max(0, i.Size - (i.SharedSize > 0 ? i.SharedSize : 0)));
  return map;
}

async function remove(engine: Engine, action: GcAction): Promise<boolean> {
  switch (action.kind) {
    case 'session':
    case 'helper':
      await engine.removeContainer(action.id, { force: true });
      return true;
    case 'volume':
      return engine.volumes.remove(action.id);
    case 'network':
      return engine.networks.remove(action.id);
    case 'image':
      return engine.images.remove(action.id);
    case 'checkpoint': {
      // Its volumes only once its image is gone: a session may still use the image.
      if (!(await engine.images.remove(action.id))) return false;
      for (const volume of await engine.volumes.list([MANAGED_FILTER, `${LABEL.checkpoint}=${action.name}`])) await engine.volumes.remove(volume.Name);
      return true;
    }
    case 'resume':
      await engine.unpauseContainer(action.id);
      return true;
  }
}

/** Order of removal: sessions free their volumes and networks, which go next; images last. */
const ORDER: GcAction['kind'][] = ['resume', 'session', 'helper', 'volume', 'network', 'checkpoint', 'image'];

/** Removals in flight at once. */
const REMOVALS_AT_ONCE = 8;

export async function collectGarbage(ctx: Context, request: GcRequest): Promise<GcReport> {
  const engine = await ctx.engine();
  let diskUsedPct: number | undefined;
  if (request.ifDiskAbovePct !== undefined) {
    diskUsedPct = await engineDiskUsedPct(engine);
    if (diskUsedPct <= request.ifDiskAbovePct) {
      return { dryRun: request.dryRun, skipped: `the engine's disk is ${diskUsedPct}% full, not above ${request.ifDiskAbovePct}%`, diskUsedPct, actions: [], spared: [], reclaimedBytes: 0 };
    }
  }
  const { lastMerged } = await import('../sessions/branch-state.js');
  const facts: HostFacts = { ...hostFacts(), merged: (session) => lastMerged(ctx.env, session) !== undefined };
  const { actions: planned, spared } = planGcSparing(await inventory(engine, request), request, facts);
  const actions = planned.sort((a, b) => ORDER.indexOf(a.kind) - ORDER.indexOf(b.kind));
  const sizeOf = actions.length > 0 ? await sizes(engine) : new Map<string, number>();
  const results: GcResult[] = [];
  const carryOut = async (action: GcAction): Promise<GcResult> => {
    const bytes = sizeOf.get(action.id) ?? 0;
    if (request.dryRun) return { ...action, bytes, removed: false };
    try {
      const removed = await remove(engine, action);
      return { ...action, bytes: removed ? bytes : 0, removed, ...(removed ? {} : { error: 'still in use' }) };
    } catch (error) {
      return { ...action, bytes: 0, removed: false, error: (error as Error).message };
    }
  };
  // One kind after the other (ORDER), a few at a time within a kind: a thousand removals one by one wait out a
  // thousand round trips, while the engine can work on several.
  for (const kind of ORDER) results.push(...(await inBatches(actions.filter((a) => a.kind === kind), REMOVALS_AT_ONCE, carryOut)));
  return {
    dryRun: request.dryRun,
    ...(diskUsedPct !== undefined ? { diskUsedPct } : {}),
    actions: results,
    spared,
    reclaimedBytes: results.reduce((sum, r) => sum + (request.dryRun || r.removed ? r.bytes : 0), 0),
  };
}
