/**
 * Deciding what `aca gc` removes. Pure: the caller gathers the engine's
 * objects (all labelled aca.managed=true) and facts about this host, so every
 * rule is unit-tested.
 */
import { LABEL } from '../sessions/labels.js';

export interface GcOptions {
  /** Stopped sessions must have stopped at least this long ago (ms). */
  olderThanMs: number;
  includeRunning: boolean;
  keepVolumes: boolean;
  caches: boolean;
  keepCheckpoints: number;
}

export interface HostFacts {
  now: Date;
  hostname: string;
  bootId: string;
  /** Is this pid a live aca process on this host? */
  ownerAlive: (pid: number) => boolean;
}

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

export type GcKind = 'session' | 'helper' | 'volume' | 'network' | 'image' | 'checkpoint';

export interface GcAction {
  kind: GcKind;
  id: string;
  name: string;
  reason: string;
}

/** A session younger than this is never removed unless orphaned: it may still be being created. */
export const CREATION_GRACE_MS = 60_000;

/** A foreground session whose owning aca process is gone (killed, terminal closed, rebooted). */
export function isOrphan(labels: Record<string, string>, facts: HostFacts): boolean {
  if (labels[LABEL.mode] !== 'foreground') return false;
  const pid = Number(labels[LABEL.ownerPid]);
  if (!pid || labels[LABEL.ownerHost] !== facts.hostname) return false;
  if (labels[LABEL.ownerBoot] !== facts.bootId) return true;
  return !facts.ownerAlive(pid);
}

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
  sessions: SessionObject[];
  helpers: LabelledObject[];
  volumes: LabelledObject[];
  networks: LabelledObject[];
  danglingImages: LabelledObject[];
  checkpoints: LabelledObject[];
}

export function planGc(inventory: GcInventory, options: GcOptions, facts: HostFacts): GcAction[] {
  const actions: GcAction[] = [];
  const remaining = new Set<string>();
  for (const session of inventory.sessions) {
    const reason = sessionVerdict(session, options, facts);
    if (reason) actions.push({ kind: 'session', id: session.id, name: session.name, reason });
    else remaining.add(session.name);
  }
  // A scoped gc (--label) touches only the labelled sessions and their own volumes and networks.
  const shared = !inventory.scoped;
  for (const helper of shared ? inventory.helpers : []) {
    const age = facts.now.getTime() - (helper.created ?? 0) * 1000;
    if (age >= CREATION_GRACE_MS) actions.push({ kind: 'helper', id: helper.id, name: helper.name, reason: 'left over from an interrupted set-up' });
  }
  const inScope = new Set(inventory.sessions.map((s) => s.name));
  const sessionGone = (labels: Record<string, string>) => {
    const owner = labels[LABEL.session];
    if (owner === undefined || remaining.has(owner)) return false;
    return !inventory.scoped || inScope.has(owner);
  };
  const young = (o: LabelledObject) => o.created !== undefined && facts.now.getTime() - o.created * 1000 < CREATION_GRACE_MS;
  const known = new Set(inventory.sessions.map((s) => s.name));
  const goneReason = (labels: Record<string, string>) => `session ${labels[LABEL.session]} ${known.has(labels[LABEL.session]!) ? 'is removed too' : 'is gone'}`;
  for (const volume of inventory.volumes) {
    // A session's volumes exist a moment before its container does: a young volume
    // of a session gc has not seen may belong to one being created.
    const owner = volume.labels[LABEL.session];
    if (volume.labels[LABEL.checkpoint] || (young(volume) && !(owner && known.has(owner)))) continue;
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
  return actions;
}
