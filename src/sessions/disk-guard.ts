/**
 * The disk guard (see disk-limit.ts for why a periodic check): one detached `aca __disk-guard` process per engine
 * endpoint and state directory, not one per session, so fifty sessions started at once cost one Node process, not
 * fifty. run and start spawn it when it is not there (disk-guard-claim.ts: one spawn per burst); every DISK_CHECK_MS
 * it lists the running sessions it keeps, measures them a few at a time and stops any above its limit; it leaves
 * when none is left, and after the engine has been unreachable for ENGINE_GONE_MS.
 */
import { spawn } from 'node:child_process';
import { hostname, userInfo } from 'node:os';
import type { Context } from '../context.js';
import { EngineDownError, type Engine } from '../engine/index.js';
import { appendAudit } from '../audit.js';
import { inBatches } from '../batches.js';
import { LABEL, MANAGED_FILTER } from '../labels.js';
import { stateId } from '../state-dir.js';
import { claim, ensureGuardsDir, guardKey, guardPidFile, readClaim, releaseClaim } from './disk-guard-claim.js';
import {
  DISK_CHECK_MS, measure, measuredPaths, needsDiskGuard, recordDiskStop, sessionName, verdict, type GuardedSession, type Measurement,
} from './disk-limit.js';

/** Sessions measured at once: fifty sessions are not fifty execs in parallel. */
const CHECKS_AT_ONCE = 4;
/**
 * How long the guard waits out an unreachable engine: an engine restart (`aca monitor --supervise` restarts
 * sessions after one) keeps its sessions guarded; an engine gone for good does not keep a process forever.
 */
export const ENGINE_GONE_MS = 10 * 60_000;

/** Whose sessions a guard keeps: those made from its state directory; before sessions said so, its user's on this host. */
export interface GuardScope {
  stateId: string | undefined;
  user: string;
  host: string;
}

/** Whether a running container is a session this guard keeps (aca's, not a helper, with a disk limit, ours). */
export function guardedHere(labels: Record<string, string> | null, scope: GuardScope): boolean {
  if (!labels || labels[LABEL.managed] !== 'true' || !labels[LABEL.session] || labels[LABEL.helper]) return false;
  if (!(Number(labels[LABEL.disk]) > 0)) return false;
  const owningState = labels[LABEL.ownerState];
  if (owningState !== undefined) return owningState === scope.stateId;
  return labels[LABEL.owner] === scope.user && labels[LABEL.ownerHost] === scope.host;
}

/** The global flags that reach the same engine, for the guard process. */
function engineArgs(ctx: Context): string[] {
  const g = ctx.global;
  return [
    ...(g.engine !== 'auto' ? ['--engine', g.engine] : []),
    ...(g.host ? ['--host', g.host] : []),
    ...(g.context ? ['--context', g.context] : []),
    ...(g.tls?.ca ? ['--tlscacert', g.tls.ca] : []),
    ...(g.tls?.cert ? ['--tlscert', g.tls.cert] : []),
    ...(g.tls?.key ? ['--tlskey', g.tls.key] : []),
  ];
}

const pidFileFor = (ctx: Context, engine: Engine) => guardPidFile(ctx.env, guardKey(engineArgs(ctx), engine));

/**
 * After a session with a disk limit started: make sure this engine's guard runs. Never fails the run: a guard that
 * cannot be started leaves the session as it would an image without du.
 */
export function spawnDiskGuard(ctx: Context, engine: Engine): void {
  const entry = process.argv[1];
  if (!entry) return;
  try {
    ensureGuardsDir(ctx.env);
    claim(pidFileFor(ctx, engine), () => {
      // Same flags, environment and working directory, so the guard reaches the same engine (and its key).
      const child = spawn(process.execPath, [entry, ...engineArgs(ctx), '__disk-guard'], { detached: true, stdio: 'ignore', env: ctx.env });
      child.on('error', () => {});
      child.unref();
      return child.pid;
    });
  } catch {
    // The state directory cannot be written: nothing to claim with.
  }
}

/**
 * `aca start`: the session's check starts again with it. If the check had
 * stopped it, say why, and that it will be stopped again unless the user frees
 * space within one interval (`aca exec S -- rm ...`).
 */
export async function restartDiskGuard(ctx: Context, engine: Engine, id: string, previousStop: string | undefined): Promise<void> {
  const info = (await engine.inspectContainer(id)) as unknown as GuardedSession;
  if (!needsGuard(info)) return;
  if (previousStop) {
    ctx.out.warn(`${previousStop}; started again, it is stopped again within ${DISK_CHECK_MS / 1000} s unless it frees space (aca exec ${sessionName(info)} -- rm ...)`);
  }
  spawnDiskGuard(ctx, engine);
}

const needsGuard = (info: GuardedSession) =>
  needsDiskGuard(info.Config.Labels ?? {}, measuredPaths(sessionName(info), info.Mounts).length > 0, !info.HostConfig.ReadonlyRootfs);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The guard's loop (`aca __disk-guard`): every interval, the running sessions it keeps, each measured and stopped
 * above its limit. Returns when there is nothing left to guard, when another guard has the pid file, or when the
 * engine has been unreachable for ENGINE_GONE_MS.
 */
export async function guardDisk(ctx: Context, intervalMs = DISK_CHECK_MS): Promise<void> {
  const scope: GuardScope = { stateId: stateId(ctx.env), user: userInfo().username, host: hostname() };
  /** Sessions this guard has nothing to do for: no volume nor writable layer, or an image without du (said once). */
  const ignored = new Set<string>();
  let file: string | undefined;
  let reachedAt = Date.now();
  const mine = () => file !== undefined && (readClaim(file)?.pid === process.pid || claim(file, () => process.pid) === 'claimed');
  try {
    for (;;) {
      await sleep(intervalMs);
      let engine: Engine;
      let ids: string[];
      try {
        engine = await ctx.engine();
        file ??= pidFileFor(ctx, engine);
        ids = await guardedSessions(engine, scope, ignored);
        reachedAt = Date.now();
      } catch {
        if (Date.now() - reachedAt >= ENGINE_GONE_MS) return;
        continue;
      }
      // Another guard has the file (two runs replaced one stale file at once): it keeps the sessions.
      if (!mine()) return;
      if (ids.length === 0) {
        // Gone from the file first, then a last look: a run that saw this guard alive started its session before
        // the file went, so that look finds it; a run after it finds no file and starts a guard itself.
        releaseClaim(file!, process.pid);
        ids = await guardedSessions(engine, scope, ignored).catch(() => []);
        if (ids.length === 0 || claim(file!, () => process.pid) !== 'claimed') return;
      }
      await inBatches(ids, CHECKS_AT_ONCE, (id) => checkOnce(ctx, engine, id, ignored));
    }
  } finally {
    if (file) releaseClaim(file, process.pid);
  }
}

/** The running sessions this guard keeps, less those it has nothing to do for. */
async function guardedSessions(engine: Engine, scope: GuardScope, ignored: Set<string>): Promise<string[]> {
  const running = await engine.listContainers([MANAGED_FILTER, LABEL.session, LABEL.disk], false);
  return running.filter((c) => guardedHere(c.Labels, scope) && !ignored.has(c.Id)).map((c) => c.Id);
}

const running = (info: GuardedSession) => info.State.Running && !info.State.Paused;

/** One session's check: stopped when above its limit. Exported for its unit test. */
export async function checkOnce(ctx: Context, engine: Engine, id: string, ignored: Set<string>): Promise<void> {
  let info: GuardedSession;
  try {
    info = (await engine.inspectContainer(id)) as unknown as GuardedSession;
  } catch {
    return; // removed since the list
  }
  const limit = Number(info.Config.Labels?.[LABEL.disk]);
  // A paused session (a checkpoint being taken) cannot run du: it is measured at the next tick.
  if (!running(info) || !(limit > 0)) return;
  if (!needsGuard(info)) {
    ignored.add(id);
    return;
  }
  const session = sessionName(info);
  let measurement: Measurement;
  try {
    measurement = await measure(engine, info);
  } catch (error) {
    // The guard lost its own way to the engine (an ssh endpoint whose sshd went away while a kept-alive connection
    // still lists): nothing the session did. Measured at the next tick; a guard whose engine stays gone leaves.
    // Not a timeout: a session can make the engine slow to measure it (SizeRw over millions of files), so that
    // still counts as unmeasurable.
    if (error instanceof EngineDownError && !error.timedOut) return;
    measurement = { unmeasurable: (error as Error).message };
  }
  if ('cannotCheck' in measurement) {
    ignored.add(id);
    appendAudit(ctx.env, { session, action: 'stop', args: [], outcome: 'failed', error: `disk limit not checked: ${measurement.cannotCheck}` });
    return;
  }
  const reason = verdict(session, measurement, limit);
  if (!reason) return;
  // A session stopped or removed while du ran is not one whose files hide from the check.
  if ('unmeasurable' in measurement && !(await engine.inspectContainer(id).then(running, () => false))) return;
  // Said before it is done, so whoever sees the session stop finds the reason already there.
  recordDiskStop(ctx.env, session, reason);
  appendAudit(ctx.env, { session, action: 'stop', args: ['disk-limit'], outcome: 'ok', error: reason });
  await engine.stopContainer(id, 2).catch(() => {});
}
