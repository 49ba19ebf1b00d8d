/**
 * A session's disk limit (--disk, `disk`): a bound on what it can write to the
 * engine's disk: its home volume, its copy-mode workspace volume, and (with
 * --writable-root) its container layer. Tmpfs scratch is bounded by the memory
 * limit instead (security/profile.ts tmpfsSizes).
 *
 * Why a periodic check and not the engine: neither engine can enforce a size
 * on this kind of storage unless the engine's disk is XFS with project quotas
 * (measured on overlay2 over ext4: Docker refuses `--storage-opt size` and its
 * local volume driver has no size option at all; Podman refuses `o=size` on
 * volumes and `--storage-opt size`, both "only supported for backingFS XFS").
 * A tmpfs-backed home would be bounded, but it is charged to the memory limit
 * and lost on stop, which is what a home volume is for. So aca measures: a
 * small detached aca process (`aca __disk-guard`, started with the session by
 * run and start, one per session) asks the engine every DISK_CHECK_MS for the size of the
 * session's volumes (`du` inside the session, as the session user) and its
 * writable layer (the engine's SizeRw), and stops the session when the total
 * is above its limit, with a line in the audit trail and in `aca start`.
 * It is a check, not a quota: a session can write for up to one interval
 * past its limit, and files held open after they are deleted are not seen.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from '../context.js';
import type { Engine } from '../engine/index.js';
import { appendAudit } from '../audit.js';
import { UsageError } from '../errors.js';
import { humanBytes } from '../output.js';
import { parseBytes } from '../parse.js';
import { DEFAULT_LIMITS, SESSION_HOME, WORKSPACE_PATH } from '../security.js';
import { ensureStateDir, stateDir } from '../state-dir.js';
import { LABEL } from '../labels.js';

export const DEFAULT_DISK = DEFAULT_LIMITS.disk;
/** Below this a session could not even hold its shell history. */
const MIN_DISK = 1024 * 1024;
export const DISK_CHECK_MS = 10_000;

/** --disk / `disk`: a size of at least 1 MiB. */
export function parseDisk(value: string, flag = '--disk'): number {
  const bytes = parseBytes(value, flag);
  if (bytes < MIN_DISK) throw new UsageError(`${flag}: "${value}" is below the 1m minimum`);
  return bytes;
}

/**
 * The disk limit of a new session: --disk, else the configuration, else the
 * default. (A project file may only lower it: config/classify.ts refuses a
 * higher one, as for memory.)
 */
export function resolveDisk(flag: string | undefined, file: string | undefined): number {
  if (flag !== undefined) return parseDisk(flag);
  return parseDisk(file ?? DEFAULT_DISK, file !== undefined ? 'disk' : '--disk');
}

interface MountInfo {
  Type: string;
  Name?: string;
  Destination: string;
}

/** Where the session keeps what it writes to the engine's disk: its own volumes. */
export function measuredPaths(session: string, mounts: MountInfo[]): string[] {
  const own = new Set([`aca-${session}-home`, `aca-${session}-workspace`]);
  return mounts
    .filter((m) => m.Type === 'volume' && m.Name && own.has(m.Name) && (m.Destination === SESSION_HOME || m.Destination === WORKSPACE_PATH))
    .map((m) => m.Destination);
}

/** `du -sk` output: one "KIB<TAB>PATH" line per path; undefined when it is not that. */
export function parseDuKib(output: string, paths: number): number | undefined {
  const lines = output.split('\n').filter((l) => l.trim() !== '');
  if (lines.length !== paths) return undefined;
  let total = 0;
  for (const line of lines) {
    const match = /^(\d+)\s/.exec(line);
    if (!match) return undefined;
    total += Number(match[1]);
  }
  return total * 1024;
}

export type Measurement = { bytes: number } | { unmeasurable: string } | { cannotCheck: string };

interface GuardedSession {
  Id: string;
  Name: string;
  Config: { User: string; Labels: Record<string, string> | null };
  HostConfig: { ReadonlyRootfs?: boolean };
  Mounts: MountInfo[];
  State: { Running: boolean; StartedAt: string };
}

const sessionName = (info: GuardedSession) => info.Config.Labels?.[LABEL.session] ?? info.Name.replace(/^\/(aca-)?/, '');

/** Where images keep du: busybox and merged-/usr Debian at /bin, Alpine at /usr/bin. */
const DU_PATHS = ['/bin/du', '/usr/bin/du'];

const notFound = (result: { exitCode: number; output: string }) =>
  result.exitCode === 126 || result.exitCode === 127 || (result.exitCode > 1 && /no such file or directory|executable file not found/i.test(result.output));

/** What the session has written to the engine's disk now. */
export async function measure(engine: Engine, info: GuardedSession): Promise<Measurement> {
  const paths = measuredPaths(sessionName(info), info.Mounts);
  let bytes = info.HostConfig.ReadonlyRootfs ? 0 : await engine.writableLayerSize(info.Id);
  if (paths.length === 0) return { bytes };
  // As the session user, who owns these volumes; -x leaves out cache volumes mounted below them. By absolute
  // path from the image, never through PATH, which could lead to a du the session wrote itself.
  let du: { exitCode: number; output: string } | undefined;
  for (const binary of DU_PATHS) {
    du = await engine.execWithInput(info.Id, { cmd: [binary, '-skx', ...paths], user: info.Config.User });
    if (!notFound(du)) break;
  }
  if (!du || notFound(du)) return { cannotCheck: `the image has no ${DU_PATHS.join(' or ')}` };
  const kib = du.exitCode === 0 ? parseDuKib(du.output, paths.length) : undefined;
  // Files the check cannot read (or a du killed from inside) might hide anything: that is a stop too.
  if (kib === undefined) {
    // du's complaint, not the sizes it did manage to count.
    const complaint = du.output.split('\n').find((line) => line.trim() !== '' && !/^\d+\s/.test(line));
    return { unmeasurable: complaint?.trim() ?? `du exited ${du.exitCode}` };
  }
  bytes += kib;
  return { bytes };
}

/** The line the user sees when the check stops a session; undefined while it is within its limit. */
export function verdict(session: string, measurement: Measurement, limit: number): string | undefined {
  if ('cannotCheck' in measurement) return undefined;
  if ('unmeasurable' in measurement) {
    return `session ${session} was stopped: its disk use cannot be measured (${measurement.unmeasurable}), so its ${humanBytes(limit)} disk limit cannot be checked`;
  }
  if (measurement.bytes <= limit) return undefined;
  return `session ${session} was stopped: it wrote ${humanBytes(measurement.bytes)}, above its disk limit of ${humanBytes(limit)} (--disk)`;
}

const stopsDir = (env: NodeJS.ProcessEnv) => join(stateDir(env), 'disk-stops');

/** Why the check stopped this session, if it did (and forget it: said once). */
export function takeDiskStop(env: NodeJS.ProcessEnv, session: string): string | undefined {
  const file = join(stopsDir(env), `${session}.txt`);
  try {
    const reason = readFileSync(file, 'utf8').trim();
    rmSync(file, { force: true });
    return reason || undefined;
  } catch {
    return undefined;
  }
}

function recordDiskStop(env: NodeJS.ProcessEnv, session: string, reason: string): void {
  ensureStateDir(env);
  mkdirSync(stopsDir(env), { recursive: true, mode: 0o700 });
  writeFileSync(join(stopsDir(env), `${session}.txt`), `${reason}\n`, { mode: 0o600 });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const guardsDir = (env: NodeJS.ProcessEnv) => join(stateDir(env), 'disk-guards');
const guardPidFile = (env: NodeJS.ProcessEnv, id: string) => join(guardsDir(env), `${id}.pid`);

/** Whether a guard process for this session is alive (its pid file names a live process). */
function guardAlive(env: NodeJS.ProcessEnv, id: string): boolean {
  try {
    process.kill(Number(readFileSync(guardPidFile(env, id), 'utf8')), 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * The guard's loop: while the session runs (a restart by `aca monitor
 * --supervise` included), measure it every interval and stop it above its
 * limit. Returns when there is nothing left to guard.
 */
export async function guardDisk(ctx: Context, id: string, intervalMs = DISK_CHECK_MS): Promise<void> {
  const engine = await ctx.engine();
  mkdirSync(guardsDir(ctx.env), { recursive: true, mode: 0o700 });
  writeFileSync(guardPidFile(ctx.env, id), String(process.pid), { mode: 0o600 });
  try {
    for (;;) {
      await sleep(intervalMs);
      const reason = await checkOnce(ctx, engine, id);
      if (reason !== 'continue') return;
    }
  } finally {
    rmSync(guardPidFile(ctx.env, id), { force: true });
  }
}

/** One check: 'continue' while the session runs within its limit. */
async function checkOnce(ctx: Context, engine: Engine, id: string): Promise<'continue' | 'done'> {
  let info: GuardedSession;
  try {
    info = (await engine.inspectContainer(id)) as unknown as GuardedSession;
  } catch {
    return 'done'; // removed
  }
  const limit = Number(info.Config.Labels?.[LABEL.disk]);
  if (!info.State.Running || !(limit > 0)) return 'done';
  const session = sessionName(info);
  const measurement = await measure(engine, info).catch((error: Error) => ({ unmeasurable: error.message }) as Measurement);
  if ('cannotCheck' in measurement) {
    appendAudit(ctx.env, { session, action: 'stop', args: [], outcome: 'failed', error: `disk limit not checked: ${measurement.cannotCheck}` });
    return 'done';
  }
  const reason = verdict(session, measurement, limit);
  if (!reason) return 'continue';
  // Said before it is done, so whoever sees the session stop finds the reason already there.
  recordDiskStop(ctx.env, session, reason);
  appendAudit(ctx.env, { session, action: 'stop', args: ['disk-limit'], outcome: 'ok', error: reason });
  await engine.stopContainer(id, 2).catch(() => {});
  return 'done';
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

/** Whether a session has anything on the engine's disk to guard. */
export function needsDiskGuard(labels: Record<string, string>, volumes: boolean, writableRoot: boolean): boolean {
  return Number(labels[LABEL.disk]) > 0 && (volumes || writableRoot);
}

/** Start the guard of a running session: a detached aca process that outlives this one. */
export function spawnDiskGuard(ctx: Context, id: string): void {
  const entry = process.argv[1];
  // One guard per session: a stop and start within one interval finds the old one still there.
  if (!entry || guardAlive(ctx.env, id)) return;
  const child = spawn(process.execPath, [entry, ...engineArgs(ctx), '__disk-guard', id], {
    detached: true,
    stdio: 'ignore',
    env: ctx.env,
  });
  child.on('error', () => {});
  child.unref();
}

/**
 * `aca start`: the session's check starts again with it. If the check had
 * stopped it, say why, and that it will be stopped again unless the user frees
 * space within one interval (`aca exec S -- rm ...`).
 */
export async function restartDiskGuard(ctx: Context, engine: Engine, id: string, previousStop: string | undefined): Promise<void> {
  const info = (await engine.inspectContainer(id)) as unknown as GuardedSession;
  const labels = info.Config.Labels ?? {};
  const volumes = measuredPaths(sessionName(info), info.Mounts).length > 0;
  if (!needsDiskGuard(labels, volumes, !info.HostConfig.ReadonlyRootfs)) return;
  if (previousStop) {
    ctx.out.warn(`${previousStop}; started again, it is stopped again within ${DISK_CHECK_MS / 1000} s unless it frees space (aca exec ${sessionName(info)} -- rm ...)`);
  }
  spawnDiskGuard(ctx, id);
}

/**
 * For `aca doctor`: how the disk limit is enforced on this engine. Always
 * aca's periodic check; on overlay over XFS the engine might enforce sizes itself
 * (with the pquota mount option), which aca does not use yet.
 */
export function diskLimitMechanism(info: { Driver?: string | undefined; DriverStatus?: Array<[string, string]> | null | undefined }): { detail: string; backingFs: string | null } {
  const backingFs = (info.DriverStatus ?? []).find(([key]) => key === 'Backing Filesystem')?.[1] ?? null;
  const storage = `${info.Driver ?? 'unknown driver'}${backingFs ? ` on ${backingFs}` : ''}`;
  const quota = backingFs === 'xfs'
    ? 'the engine could enforce sizes only with XFS project quotas (pquota), which aca does not rely on'
    : 'the engine cannot enforce sizes on it (no --storage-opt size, no volume size)';
  return {
    detail: `periodic check by aca: every ${DISK_CHECK_MS / 1000} s it measures each session's home, copy-mode workspace and writable layer and stops a session above its --disk limit (default ${DEFAULT_DISK}); storage ${storage}: ${quota}`,
    backingFs,
  };
}
