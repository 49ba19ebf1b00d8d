/**
 * Writing an export to the host: every file is streamed from the session
 * into a staging directory inside the target (same filesystem), checked
 * against the hash the plan was made with, and only when all are staged
 * renamed into place, one atomic rename per file. Killed at any point, the
 * host holds the old or the new version of each file, never half of one;
 * the next export removes a staging directory whose aca process is gone.
 */
import { chmodSync, copyFileSync, createWriteStream, lstatSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, renameSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { scanArchive } from '../archive.js';
import { AcaError } from '../errors.js';
import { sameEntry, type Decision } from './changes.js';

export const STAGING_PREFIX = '.aca-export-';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Remove staging directories left by an export that was killed. */
export function removeStaleStaging(root: string): void {
  for (const name of readdirSync(root)) {
    const pid = Number(new RegExp(`^${STAGING_PREFIX.replace(/\./g, '\\.')}(\\d+)-`).exec(name)?.[1]);
    if (pid && pid !== process.pid && !alive(pid)) rmSync(join(root, name), { recursive: true, force: true });
  }
}

function moveIntoPlace(staged: string, target: string): void {
  try {
    renameSync(staged, target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    // The target's directory is another mount: stage again beside it.
    const beside = `${target}${STAGING_PREFIX}${process.pid}`;
    copyFileSync(staged, beside);
    renameSync(beside, target);
  }
}

export async function writeChanges(dir: string, archive: () => Promise<Readable>, decisions: Decision[]): Promise<{ written: string[]; deleted: string[] }> {
  const root = realpathSync(dir);
  removeStaleStaging(root);
  const writes = new Map(decisions.filter((d) => d.outcome === 'write').map((d) => [d.path, d]));
  const deletes = decisions.filter((d) => d.outcome === 'delete');
  const stage = mkdtempSync(join(root, `${STAGING_PREFIX}${process.pid}-`));
  const staged = new Map<string, string>();
  try {
    chmodSync(stage, 0o700);
    if ([...writes.values()].some((d) => d.after?.type === 'file')) {
      await scanArchive(await archive(), {
        onEntry: (entry) => {
          const wanted = writes.get(entry.path);
          if (wanted?.after?.type !== 'file' || entry.type !== 'file') return undefined;
          const path = join(stage, String(staged.size));
          staged.set(entry.path, path);
          return createWriteStream(path, { mode: 0o600, flags: 'wx' }) as never;
        },
        onDone: (entry) => {
          const wanted = writes.get(entry.path);
          if (wanted?.after?.type !== 'file') return;
          if (entry.type !== 'file' || !sameEntry({ type: 'file', mode: entry.mode, size: entry.size, hash: entry.hash! }, wanted.after)) {
            throw new AcaError(`${entry.path} changed in the session during the export; nothing was written (stop the session, or export again)`);
          }
        },
      });
    }
    for (const d of writes.values()) {
      if (d.after?.type === 'symlink') {
        const path = join(stage, String(staged.size));
        symlinkSync(d.after.linkname ?? '', path);
        staged.set(d.path, path);
      } else if (!staged.has(d.path)) {
        throw new AcaError(`${d.path} disappeared from the session during the export; nothing was written (export again)`);
      }
    }
    // Everything is staged: now the host changes, one rename per file.
    const written: string[] = [];
    for (const [path, from] of staged) {
      const d = writes.get(path)!;
      const target = join(root, ...path.split('/'));
      mkdirSync(dirname(target), { recursive: true });
      // Never setuid, setgid or sticky on the host, whatever the session set.
      if (d.after?.type === 'file') chmodSync(from, d.after.mode & 0o777);
      moveIntoPlace(from, target);
      written.push(path);
    }
    const deleted: string[] = [];
    for (const d of deletes) {
      const target = join(root, ...d.path.split('/'));
      try {
        if (!lstatSync(target).isDirectory()) unlinkSync(target);
        deleted.push(d.path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
    return { written, deleted };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}
