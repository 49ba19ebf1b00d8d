/**
 * Deciding what `aca gc` removes. Pure: the caller gathers the engine's
 * objects (all labelled aca.managed=true) and facts about this host, so every
 * rule is unit-tested.
 */
import { isOrphan, type HostFacts } from '../host.js';
import { LABEL } from '../labels.js';

/** planGc's facts about this host (defined with isOrphan in host.ts). */
export type { HostFacts };

export interface GcOptions {
  /** Stopped sessions must have stopped at least this long ago (ms). */
  olderThanMs: number;
  includeRunning: boolean;
  keepVolumes: boolean;
  caches: boolean;
  keepCheckpoints: number;
  /** Remove sessions with un-exported copy-mode changes too. */
  includeUnexported?: boolean;
  /** Un-exported work older than this (since the session was created) is removed anyway; default 7 days. */
  unexportedMaxAgeMs?: number;
}

export const UNEXPORTED_MAX_AGE_MS = 7 * 24 * 3_600_000;

export interface SessionObject {
  id: string;
  name: string;
  state: string;
  labels: Record<string, string>;
  /** When a stopped session stopped (ISO), if known. */
  finishedAt?: string | undefined;
}

export interface LabelledObject {
  id: string;
  name: string;
  labels: Record<string, string>;
  created?: number | undefined;
}

export type GcKind = 'session' | 'helper' | 'volume' | 'network' | 'image' | 'checkpoint' | 'resume';

export interface GcAction {
  kind: GcKind;
  id: string;
  name: string;
  reason: string;
}

/** A session younger than this is never removed unless orphaned: it may still be being created. */
export const CREATION_GRACE_MS = 60_000;

export function isExpired(labels: Record<string, string>, now: Date): boolean {
  const expires = Date.parse(labels[LABEL.expires] ?? '');
  return Number.isFinite(expires) && expires <= now.getTime();
}

function sessionVerdict(session: SessionObject, options: GcOptions, facts: HostFacts): string | undefined {
  const now = facts.now.getTime();
  if (isOrphan(session.labels, facts)) return 'orphaned: its aca process is gone';
  if (isExpired(session.labels, facts.now)) return `expired at ${session.labels[LABEL.expires]}`;
  const created = Date.parse(session.labels[LABEL.created] ?? '');
  const young = Number.isFinite(created) && now - created < CREATION_GRACE_MS;
  if (session.state === 'running' || session.state === 'paused' || session.state === 'restarting') {
    return options.includeRunning ? 'running (--include-running)' : undefined;
  }
  if (session.state === 'created' && young) return undefined;
  const finished = Date.parse(session.finishedAt ?? '');
  const stoppedFor = Number.isFinite(finished) && finished > 0 ? now - finished : Number.POSITIVE_INFINITY;
  if (stoppedFor < options.olderThanMs) return undefined;
  return `stopped (${session.state})`;
}

export interface GcInventory {
  /**
   * Set when gc is scoped to labelled sessions (--label): only these sessions'
   * own volumes and networks are considered, and nothing shared.
   */
  scoped?: boolean;
  /** The scope's labels ("K=V"): a volume or helper carrying them all belongs to it even when its session never came to be. */
  scopeLabels?: string[];
  sessions: SessionObject[];
  helpers: LabelledObject[];
  volumes: LabelledObject[];
  networks: LabelledObject[];
  danglingImages: LabelledObject[];
  checkpoints: LabelledObject[];
}

export function planGc(inventory: GcInventory, options: GcOptions, facts: HostFacts): GcAction[] {
  return planGcSparing(inventory, options, facts).actions;
}

/** The aca process that created an object (its owner labels) was this host's and is gone. */
function creatorGone(labels: Record<string, string>, facts: HostFacts): boolean {
  const pid = Number(labels[LABEL.ownerPid]);
  if (!pid || labels[LABEL.ownerHost] !== facts.hostname) return false;
  return labels[LABEL.ownerBoot] !== facts.bootId || !facts.ownerAlive(pid);
}

/** A checkpoint volume's maker, by the owner labels it carries: gone when it was this host's and its process died. */
function makerGone(labels: Record<string, string>, facts: HostFacts, created: number | undefined): boolean {
  if (Number(labels[LABEL.ownerPid]) && labels[LABEL.ownerHost] === facts.hostname) return creatorGone(labels, facts);
  // Made elsewhere: only once it is far older than any checkpoint takes.
  return created !== undefined && facts.now.getTime() - created * 1000 > 24 * 3_600_000;
}

function unexportedVerdict(session: SessionObject, reason: string, options: GcOptions, facts: HostFacts, branch = false): { remove?: string; spare?: string } {
  if (options.includeUnexported) return { remove: `${reason}; its un-exported changes too (--include-unexported)` };
  const maxAge = options.unexportedMaxAgeMs ?? UNEXPORTED_MAX_AGE_MS;
  const created = Date.parse(session.labels[LABEL.created] ?? '');
  if (Number.isFinite(created) && facts.now.getTime() - created > maxAge) {
    return { remove: `${reason}; un-exported changes older than ${Math.round(maxAge / 3_600_000)}h` };
  }
  if (branch) return { spare: `${reason}, but its branch ${session.labels[LABEL.branch]} is not merged (aca diff ${session.name}; aca merge ${session.name}; --include-unexported removes it)` };
  return { spare: `${reason}, but its workspace copy has un-exported changes (aca diff ${session.name}; aca export ${session.name}; --include-unexported removes it)` };
}

/** The plan, and the sessions it spared for their un-exported work (with why). */
export function planGcSparing(inventory: GcInventory, options: GcOptions, facts: HostFacts): { actions: GcAction[]; spared: GcAction[] } {
  const actions: GcAction[] = [];
  const spared: GcAction[] = [];
  const remaining = new Set<string>();
  const unexported = new Set(inventory.volumes.filter((v) => v.labels[LABEL.volume] === 'unexported').map((v) => v.labels[LABEL.session]));
  // A --branch session's work is its branch: un-exported until `aca merge` brought it home.
  const unmergedBranch = (session: SessionObject) => Boolean(session.labels[LABEL.branch]) && !(facts.merged?.(session.name) ?? false);
  for (const session of inventory.sessions) {
    let reason = sessionVerdict(session, options, facts);
    if (reason && (unexported.has(session.name) || unmergedBranch(session))) {
      const verdict = unexportedVerdict(session, reason, options, facts, unmergedBranch(session));
      if (verdict.spare) spared.push({ kind: 'session', id: session.id, name: session.name, reason: verdict.spare });
      reason = verdict.remove;
    }
    if (reason) actions.push({ kind: 'session', id: session.id, name: session.name, reason });
    else remaining.add(session.name);
  }
  // A scoped gc (--label) touches only the labelled sessions and their own volumes and networks.
  const shared = !inventory.scoped;
  const carriesScope = (labels: Record<string, string>) =>
    (inventory.scopeLabels ?? []).length > 0 && inventory.scopeLabels!.every((kv) => labels[kv.slice(0, kv.indexOf('='))] === kv.slice(kv.indexOf('=') + 1));
  const checkpointInScope = (labels: Record<string, string>) => Boolean(labels[LABEL.checkpoint]) && inventory.sessions.some((s) => s.name === labels[LABEL.checkpointOf]);
  const sessionInScope = (labels: Record<string, string>) => inventory.sessions.some((s) => s.name === labels[LABEL.session]);
  for (const helper of inventory.helpers.filter((h) => shared || carriesScope(h.labels) || checkpointInScope(h.labels) || sessionInScope(h.labels))) {
    const age = facts.now.getTime() - (helper.created ?? 0) * 1000;
    // A helper whose creator is known goes when that aca process does (an export may take longer than the grace).
    const hasCreator = Boolean(helper.labels[LABEL.ownerPid]);
    if (hasCreator ? creatorGone(helper.labels, facts) : age >= CREATION_GRACE_MS) actions.push({ kind: 'helper', id: helper.id, name: helper.name, reason: 'left over from an interrupted set-up' });
  }
  const inScope = new Set(inventory.sessions.map((s) => s.name));
  const sessionGone = (labels: Record<string, string>) => {
    const owner = labels[LABEL.session];
    if (owner === undefined || remaining.has(owner)) return false;
    return !inventory.scoped || inScope.has(owner) || (carriesScope(labels) && !known.has(owner));
  };
  const young = (o: LabelledObject) => o.created !== undefined && facts.now.getTime() - o.created * 1000 < CREATION_GRACE_MS;
  const known = new Set(inventory.sessions.map((s) => s.name));
  const goneReason = (labels: Record<string, string>) => `session ${labels[LABEL.session]} ${known.has(labels[LABEL.session]!) ? 'is removed too' : 'is gone'}`;
  const checkpointImages = new Set(inventory.checkpoints.map((c) => c.labels[LABEL.checkpoint] ?? c.name));
  for (const volume of inventory.volumes) {
    // A session's volumes exist a moment before its container does: a young volume
    // of a session gc has not seen may belong to one being created.
    const owner = volume.labels[LABEL.session];
    const checkpoint = volume.labels[LABEL.checkpoint];
    if (checkpoint) {
      // Volumes of a checkpoint whose image was never made (interrupted) or is gone; never while its maker lives.
      const inScope = !inventory.scoped || inventory.sessions.some((s) => s.name === volume.labels[LABEL.checkpointOf]);
      if (!checkpointImages.has(checkpoint) && inScope && makerGone(volume.labels, facts, volume.created)) {
        actions.push({ kind: 'volume', id: volume.name, name: volume.name, reason: `checkpoint ${checkpoint} was never completed` });
        const session = inventory.sessions.find((s) => s.name === volume.labels[LABEL.checkpointOf]);
        if (volume.labels[LABEL.checkpointPaused] === 'true' && session?.state === 'paused' && !actions.some((a) => a.kind === 'resume' && a.id === session.id)) {
          actions.push({ kind: 'resume', id: session.id, name: session.name, reason: `paused by checkpoint ${checkpoint}, which was interrupted` });
        }
      }
      continue;
    }
    if (young(volume) && !(owner && known.has(owner)) && !creatorGone(volume.labels, facts)) continue;
    if (volume.labels[LABEL.cache]) {
      if (options.caches && shared) actions.push({ kind: 'volume', id: volume.name, name: volume.name, reason: `cache "${volume.labels[LABEL.cache]}" (--caches)` });
      continue;
    }
    if (!options.keepVolumes && sessionGone(volume.labels)) {
      actions.push({ kind: 'volume', id: volume.name, name: volume.name, reason: goneReason(volume.labels) });
    }
  }
  for (const network of inventory.networks) {
    if (sessionGone(network.labels)) actions.push({ kind: 'network', id: network.id, name: network.name, reason: goneReason(network.labels) });
  }
  for (const image of shared ? inventory.danglingImages : []) {
    actions.push({ kind: 'image', id: image.id, name: image.name, reason: 'dangling aca image' });
  }
  const bySession = new Map<string, LabelledObject[]>();
  for (const checkpoint of shared ? inventory.checkpoints : []) {
    const session = checkpoint.labels[LABEL.checkpointOf] ?? '';
    bySession.set(session, [...(bySession.get(session) ?? []), checkpoint]);
  }
  for (const [session, list] of bySession) {
    const newestFirst = [...list].sort((a, b) => (b.created ?? 0) - (a.created ?? 0));
    for (const old of newestFirst.slice(options.keepCheckpoints)) {
      actions.push({ kind: 'checkpoint', id: old.id, name: old.name, reason: `beyond the newest ${options.keepCheckpoints} of ${session}` });
    }
  }
  return { actions, spared };
}
