/**
 * Which process is the disk guard of an engine (disk-guard.ts): one per engine endpoint and state directory, named
 * by a pid file in the state directory (`disk-guards/<key>.pid`, 0600 in a 0700 directory). Whoever starts a guard
 * claims the file first with O_EXCL, so of fifty `aca run -d` at once exactly one spawns; the pid is written once the
 * child exists. A file whose pid is dead, or a claim left without a pid for CLAIM_FRESH_MS, is stale and may be
 * replaced. The guard itself checks the file every interval and leaves when it names another live guard, so the
 * rare double spawn (two runs replacing the same stale file) ends within one interval.
 */
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ensureStateDir, stateDir } from '../state-dir.js';

/** How long a claim may stay without a pid: its spawner writes the pid right after spawn() returns. */
export const CLAIM_FRESH_MS = 10_000;

/**
 * The guard's identity: the engine flags it is started with (--engine, --host, --context, TLS), and the endpoint
 * they reached, which the environment and the configuration's host also decide (DOCKER_HOST, ACA_ENGINE, a project's
 * `host`): two engines reached with the same flags get two guards.
 */
export function guardKey(engineArgs: string[], engine: { kind: string; url: string }): string {
  return createHash('sha256').update(JSON.stringify([engineArgs, engine.kind, engine.url])).digest('hex').slice(0, 16);
}

export const guardPidFile = (env: NodeJS.ProcessEnv, key: string) => join(stateDir(env), 'disk-guards', `${key}.pid`);

/** What a pid file says: the guard's pid (none yet for a fresh claim), and how old the file is. */
export interface ClaimEntry {
  pid: number | undefined;
  ageMs: number;
}

/** 'held': a guard runs, or is being started; 'stale': its guard is gone, the file may be replaced. */
export function claimVerdict(entry: ClaimEntry, alive: (pid: number) => boolean): 'held' | 'stale' {
  if (entry.pid !== undefined) return alive(entry.pid) ? 'held' : 'stale';
  return entry.ageMs < CLAIM_FRESH_MS ? 'held' : 'stale';
}

/** The pid file as it is now; undefined when there is none. */
export function readClaim(file: string, now = Date.now()): ClaimEntry | undefined {
  try {
    const ageMs = now - statSync(file).mtimeMs;
    const text = readFileSync(file, 'utf8').trim();
    const pid = /^[1-9]\d*$/.test(text) ? Number(text) : undefined;
    return { pid, ageMs };
  } catch {
    return undefined;
  }
}

/**
 * A live disk guard of this user: a pid signalled without error (another user's, EPERM, is not ours) whose command
 * line is a guard's, so a reused pid or a zombie does not count. Without /proc the signal alone decides.
 */
export function guardProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('__disk-guard');
  } catch {
    return process.platform !== 'linux';
  }
}

/**
 * Create the pid file, only if there is none (O_EXCL), and write the pid `start` returns into it (start runs only
 * when the claim is won; undefined means it failed, and the claim goes). A stale file is replaced, once.
 * 'held': another guard has it.
 */
export function claim(file: string, start: () => number | undefined, alive = guardProcessAlive): 'claimed' | 'held' | 'failed' {
  for (let attempt = 0; attempt < 2; attempt++) {
    let fd: number;
    try {
      fd = openSync(file, 'wx', 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return 'failed';
      const entry = readClaim(file);
      // Gone between the open and the read: its guard just left; try again.
      if (entry && claimVerdict(entry, alive) === 'held') return 'held';
      rmSync(file, { force: true });
      continue;
    }
    let pid: number | undefined;
    try {
      pid = start();
      if (pid !== undefined) writeSync(fd, String(pid));
    } catch {
      pid = undefined;
    } finally {
      closeSync(fd);
    }
    if (pid === undefined) rmSync(file, { force: true });
    return pid === undefined ? 'failed' : 'claimed';
  }
  return 'failed';
}

/** The directory of the pid files, private to the user. */
export function ensureGuardsDir(env: NodeJS.ProcessEnv): void {
  ensureStateDir(env);
  mkdirSync(join(stateDir(env), 'disk-guards'), { recursive: true, mode: 0o700 });
}

/** Remove the pid file if it still names `pid` (a guard leaving never removes its successor's). */
export function releaseClaim(file: string, pid: number): void {
  if (readClaim(file)?.pid === pid) rmSync(file, { force: true });
}
