/**
 * Facts about this host that tell whether a foreground session's aca process still lives (gc and ps): the
 * session records its owner's pid and boot id (sessions/spec.ts), and isOrphan compares them with these.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { LABEL } from './labels.js';

/** The host's boot id: with the pid it identifies a foreground owner. */
export function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

/** Is `pid` a live aca process? A reused pid running something else does not count. */
export function acaProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('aca');
  } catch {
    return true;
  }
}

export interface HostFacts {
  now: Date;
  hostname: string;
  bootId: string;
  /** Is this pid a live aca process on this host? */
  ownerAlive: (pid: number) => boolean;
  /** Has this --branch session's branch been brought home with `aca merge`? (Unmerged branch work is kept like un-exported work.) */
  merged?: (session: string) => boolean;
}

export function hostFacts(): HostFacts {
  return { now: new Date(), hostname: hostname(), bootId: bootId(), ownerAlive: acaProcessAlive };
}

/**
 * Who is creating an engine object (this aca process): gc leaves a young
 * volume or helper alone while its creator lives, and cleans up at once after
 * one that was killed.
 */
export function creatorLabels(): Record<string, string> {
  return { [LABEL.ownerHost]: hostname(), [LABEL.ownerPid]: String(process.pid), [LABEL.ownerBoot]: bootId() };
}

/** A foreground session whose owning aca process is gone (killed, terminal closed, rebooted). */
export function isOrphan(labels: Record<string, string>, facts: HostFacts): boolean {
  if (labels[LABEL.mode] !== 'foreground') return false;
  const pid = Number(labels[LABEL.ownerPid]);
  if (!pid || labels[LABEL.ownerHost] !== facts.hostname) return false;
  if (labels[LABEL.ownerBoot] !== facts.bootId) return true;
  return !facts.ownerAlive(pid);
}
