/**
 * What changed in a copy-mode workspace: comparing the host tree with the
 * session's copy, rendering it as a unified diff, and writing it back safely.
 * Pure functions over trees read by src/archive.ts.
 */
import { createTwoFilesPatch } from 'diff';
import { chmodSync, existsSync, lstatSync, mkdirSync, realpathSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { TreeEntry } from '../archive.js';
import { AcaError } from '../errors.js';

export type ChangeKind = 'added' | 'modified' | 'deleted';

export interface Change {
  path: string;
  kind: ChangeKind;
  type: TreeEntry['type'];
  binary: boolean;
}

/** Text is what a diff can show: valid UTF-8 with no NUL byte in its first 8 KB. */
export function isBinary(content: Buffer | undefined): boolean {
  if (!content) return false;
  if (content.subarray(0, 8192).includes(0)) return true;
  return !Buffer.from(content.toString('utf8'), 'utf8').equals(content);
}

function sameEntry(a: TreeEntry, b: TreeEntry): boolean {
  if (a.type !== b.type) return false;
  if (a.type === 'file') return a.content!.equals(b.content!) && (a.mode & 0o111) === (b.mode & 0o111);
  if (a.type === 'symlink') return a.linkname === b.linkname;
  return true;
}

/** Files and links that differ; directories only matter through their contents. */
export function compareTrees(host: Map<string, TreeEntry>, session: Map<string, TreeEntry>): Change[] {
  const changes: Change[] = [];
  for (const [path, entry] of session) {
    if (entry.type === 'directory') continue;
    const before = host.get(path);
    if (!before || before.type === 'directory') changes.push({ path, kind: 'added', type: entry.type, binary: isBinary(entry.content) });
    else if (!sameEntry(before, entry)) changes.push({ path, kind: 'modified', type: entry.type, binary: isBinary(entry.content) || isBinary(before.content) });
  }
  for (const [path, entry] of host) {
    if (entry.type === 'directory') continue;
    const after = session.get(path);
    if (!after || after.type === 'directory') changes.push({ path, kind: 'deleted', type: entry.type, binary: isBinary(entry.content) });
  }
  return changes.sort((a, b) => a.path.localeCompare(b.path));
}

const text = (entry: TreeEntry | undefined) => (entry?.type === 'symlink' ? `-> ${entry.linkname}\n` : (entry?.content?.toString('utf8') ?? ''));

/** A unified diff (git's a/ b/ prefixes) for text; a line per binary file. */
export function renderPatch(changes: Change[], host: Map<string, TreeEntry>, session: Map<string, TreeEntry>): string {
  return changes
    .map((change) => {
      const a = change.kind === 'added' ? '/dev/null' : `a/${change.path}`;
      const b = change.kind === 'deleted' ? '/dev/null' : `b/${change.path}`;
      if (change.binary) return `Binary files ${a} and ${b} differ\n`;
      const patch = createTwoFilesPatch(a, b, text(host.get(change.path)), text(session.get(change.path)), '', '', { context: 3 });
      // createTwoFilesPatch starts with an "Index"/"====" header; keep the ---/+++ form.
      return patch.replace(/^(?:Index:.*\n)?=+\n/, '').replace(/\t\n/g, '\n');
    })
    .join('');
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/**
 * Check every change before writing any: a path with "..", an absolute path,
 * a symlink pointing out of DIR, or a host directory on the way that is a
 * symlink out of DIR, refuses the whole export.
 */
export function checkExport(dir: string, changes: Change[], session: Map<string, TreeEntry>): void {
  const root = realpathSync(dir);
  for (const change of changes) {
    if (change.kind === 'deleted') continue;
    const parts = change.path.split('/');
    if (isAbsolute(change.path) || parts.includes('..') || parts.includes('')) {
      throw new AcaError(`refusing to export "${change.path}": the path escapes ${dir}`);
    }
    const target = resolve(root, change.path);
    if (!inside(root, target)) throw new AcaError(`refusing to export "${change.path}": the path escapes ${dir}`);
    const entry = session.get(change.path)!;
    if (entry.type === 'symlink') {
      const pointsTo = resolve(dirname(target), entry.linkname ?? '');
      if (isAbsolute(entry.linkname ?? '') || !inside(root, pointsTo)) {
        throw new AcaError(`refusing to export "${change.path}": it is a symlink to ${entry.linkname}, outside ${dir}`);
      }
    }
    // Existing directories on the host side must not lead elsewhere.
    for (let parent = dirname(target); parent !== root && inside(root, parent); parent = dirname(parent)) {
      if (existsSync(parent) && !inside(root, realpathSync(parent))) {
        throw new AcaError(`refusing to export "${change.path}": ${relative(root, parent)} on the host is a link out of ${dir}`);
      }
    }
    if (existsSync(target) && lstatSync(target).isSymbolicLink() && entry.type === 'file') {
      throw new AcaError(`refusing to export "${change.path}": on the host it is a symlink, and writing through it could leave ${dir}`);
    }
  }
}

function removeIfPresent(path: string): void {
  try {
    lstatSync(path);
  } catch {
    return;
  }
  unlinkSync(path);
}

/** Write added and modified entries; deleted ones are reported, never removed from the host. */
export function applyExport(dir: string, changes: Change[], session: Map<string, TreeEntry>): { written: string[]; notDeleted: string[] } {
  checkExport(dir, changes, session);
  const written: string[] = [];
  const notDeleted: string[] = [];
  for (const change of changes) {
    if (change.kind === 'deleted') {
      notDeleted.push(change.path);
      continue;
    }
    const entry = session.get(change.path)!;
    const target = join(dir, ...change.path.split('/'));
    mkdirSync(dirname(target), { recursive: true });
    if (entry.type === 'symlink') {
      removeIfPresent(target);
      symlinkSync(entry.linkname!, target);
    } else if (entry.type === 'file') {
      writeFileSync(target, entry.content!);
      chmodSync(target, entry.mode & 0o777);
    } else {
      continue;
    }
    written.push(change.path.split('/').join(sep));
  }
  return { written, notDeleted };
}
