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
 * small detached aca process (`aca __disk-guard`, disk-guard.ts: one per engine
 * and state directory, started by run and start when it is not running, gone
 * when no session is left to guard) asks the engine every DISK_CHECK_MS for the
 * size of each session's volumes (`du` inside the session, as the session user)
 * and its writable layer (the engine's SizeRw), and stops a session whose total
 * is above its limit, with a line in the audit trail and in `aca start`.
 * It is a check, not a quota: a session can write for up to one interval
 * past its limit, and files held open after they are deleted are not seen.
 */
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

export interface GuardedSession {
  Id: string;
  Name: string;
  Config: { User: string; Labels: Record<string, string> | null };
  HostConfig: { ReadonlyRootfs?: boolean };
  Mounts: MountInfo[];
  State: { Running: boolean; Paused?: boolean; StartedAt: string };
}

export const sessionName = (info: GuardedSession) => info.Config.Labels?.[LABEL.session] ?? info.Name.replace(/^\/(aca-)?/, '');

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

export function recordDiskStop(env: NodeJS.ProcessEnv, session: string, reason: string): void {
  ensureStateDir(env);
  mkdirSync(stopsDir(env), { recursive: true, mode: 0o700 });
  writeFileSync(join(stopsDir(env), `${session}.txt`), `${reason}\n`, { mode: 0o600 });
}

/** Whether a session has anything on the engine's disk to guard. */
export function needsDiskGuard(labels: Record<string, string>, volumes: boolean, writableRoot: boolean): boolean {
  return Number(labels[LABEL.disk]) > 0 && (volumes || writableRoot);
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
