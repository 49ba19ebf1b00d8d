/**
 * What a copy-mode session changed, and what exporting it would do: a
 * three-way comparison of the base (the manifest recorded when the
 * workspace was copied in), the session's tree and the host as it is now.
 * Pure functions, so every rule is unit-tested; reading and writing the
 * trees is src/archive.ts's and src/sessions/export-write.ts's.
 */
import { createRequire } from 'node:module';
import { existsSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, relative, resolve } from 'node:path';
import type { ManifestEntry, Tree } from '../archive.js';
import { AcaError } from '../errors.js';

// diff loads only when a patch is shown (aca diff), not with every command that compares a workspace.
const require = createRequire(import.meta.url);

export type ChangeKind = 'added' | 'modified' | 'deleted';

/** One path the session changed against the base. */
export interface Change {
  path: string;
  kind: ChangeKind;
  type: ManifestEntry['type'];
  before?: ManifestEntry | undefined;
  after?: ManifestEntry | undefined;
}

/** Whether two entries hold the same thing (files: content and executable bits; links: target). */
export function sameEntry(a: ManifestEntry | undefined, b: ManifestEntry | undefined): boolean {
  if (!a || !b) return a === b;
  if (a.type !== b.type) return false;
  if (a.type === 'file') return a.hash === b.hash && (a.mode & 0o111) === (b.mode & 0o111);
  if (a.type === 'symlink') return a.linkname === b.linkname;
  return true;
}

/** Files and links the session added, modified or deleted; directories only matter through their contents. */
export function sessionChanges(base: Tree, session: Tree): Change[] {
  const changes: Change[] = [];
  const isDir = (e: ManifestEntry | undefined) => !e || e.type === 'directory';
  for (const [path, after] of session) {
    if (after.type === 'directory') continue;
    const before = base.get(path);
    if (isDir(before)) changes.push({ path, kind: 'added', type: after.type, after });
    else if (!sameEntry(before, after)) changes.push({ path, kind: 'modified', type: after.type, before, after });
  }
  for (const [path, before] of base) {
    if (before.type === 'directory') continue;
    if (isDir(session.get(path))) changes.push({ path, kind: 'deleted', type: before.type, before });
  }
  return changes.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** What export does with one change. */
export type Outcome =
  | 'write' // the host still has the base version (or nothing, for an added path): apply
  | 'delete' // deleted in the session, --include-deleted, unchanged on the host
  | 'on-host' // the host already has the session's version
  | 'conflict' // the host changed it too since the copy
  | 'kept-host' // a conflict resolved for the host (--prefer-host)
  | 'not-deleted' // deleted in the session; deletions need --include-deleted
  | 'skipped'; // a protected path (see protectedReason), not named with --include

export interface Decision extends Change {
  outcome: Outcome;
  reason?: string;
  /** What the host holds now. */
  host?: ManifestEntry | undefined;
}

export interface ExportRules {
  /** Exporting into the directory the workspace was copied from: a path the host deleted since is a conflict. */
  origin: boolean;
  includeDeleted: boolean;
  prefer?: 'session' | 'host' | undefined;
  /** Paths (or directories) the user named to export although protected. */
  include: string[];
  /** Where the host repository's core.hooksPath points (relative to the workspace), if inside it. */
  hooksPath?: string | undefined;
  /** package.json files whose "aca" key the session changed. */
  acaKeyChanged?: Set<string> | undefined;
}

const ACA_CONFIG = /^(?:\.acarc(?:\..*)?|aca\.config\..*)$/i;

/**
 * Why a path is never exported unless named: git metadata (hooks, config,
 * fsmonitor run on the host), aca's own configuration (read by the next aca
 * run), where core.hooksPath points, a package.json whose "aca" key changed,
 * and files that would be setuid or setgid.
 */
export function protectedReason(path: string, after: ManifestEntry | undefined, rules: Pick<ExportRules, 'hooksPath' | 'acaKeyChanged'>): string | undefined {
  const parts = path.split('/');
  if (parts.some((p) => p.toLowerCase() === '.git')) return 'git metadata';
  const name = parts[parts.length - 1] ?? '';
  if (ACA_CONFIG.test(name)) return 'aca configuration';
  if (/(?:^|\/)\.config\/acarc/i.test(path)) return 'aca configuration';
  if (rules.hooksPath && (path === rules.hooksPath || path.startsWith(`${rules.hooksPath}/`))) return `git hooks (core.hooksPath ${rules.hooksPath})`;
  if (name === 'package.json' && rules.acaKeyChanged?.has(path)) return 'its "aca" configuration key changed';
  if (after?.type === 'file' && (after.mode & 0o6000) !== 0) return 'setuid/setgid file';
  return undefined;
}

const named = (path: string, include: string[]) => include.some((p) => path === p || path.startsWith(`${p.replace(/\/+$/, '')}/`));

/** Decide every change: the host entries (`host`) are what is at each changed path now. */
export function planExport(changes: Change[], host: Map<string, ManifestEntry | undefined>, rules: ExportRules): Decision[] {
  return changes.map((change): Decision => {
    const now = host.get(change.path);
    const decided = (outcome: Outcome, reason?: string): Decision => ({ ...change, host: now, outcome, ...(reason ? { reason } : {}) });
    const guarded = protectedReason(change.path, change.after, rules);
    if (guarded && !named(change.path, rules.include)) return decided('skipped', guarded);
    if (sameEntry(now, change.after)) return decided('on-host');
    // Into another directory, a path it lacks is simply written.
    const hostChanged = !sameEntry(now, change.before) && !(now === undefined && !rules.origin);
    if (hostChanged) {
      if (rules.prefer === 'host') return decided('kept-host', 'changed on the host too');
      if (rules.prefer !== 'session') return decided('conflict', describeConflict(change, now));
    }
    if (change.kind === 'deleted') return decided(rules.includeDeleted ? 'delete' : 'not-deleted');
    return decided('write');
  });
}

function describeConflict(change: Change, now: ManifestEntry | undefined): string {
  const host = now === undefined ? 'deleted on the host' : change.before === undefined ? 'created on the host too' : 'changed on the host too';
  return `${change.kind} in the session, ${host}`;
}

/** "a/b" inside root (".." as a name's prefix, like "..weird", is inside). */
function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${'/'}`) && !isAbsolute(rel));
}

/**
 * Check every path export would touch before it writes any: an absolute
 * path, a ".." component, a symlink the session made that points out of
 * DIR, a host directory on the way that leads out of DIR (or into a
 * protected place, such as a link to .git), or a host file where a
 * directory is needed, refuses the whole export.
 */
export function checkPaths(dir: string, decisions: Decision[], rules: Pick<ExportRules, 'include' | 'hooksPath' | 'acaKeyChanged'>): void {
  const root = realpathSync(dir);
  for (const d of decisions) {
    if (d.outcome !== 'write' && d.outcome !== 'delete') continue;
    const parts = d.path.split('/');
    if (isAbsolute(d.path) || parts.includes('..') || parts.includes('.') || parts.includes('')) {
      throw new AcaError(`refusing to export "${d.path}": the path escapes ${dir}`);
    }
    const target = resolve(root, d.path);
    if (!inside(root, target)) throw new AcaError(`refusing to export "${d.path}": the path escapes ${dir}`);
    if (d.after?.type === 'symlink') {
      const linkname = d.after.linkname ?? '';
      if (isAbsolute(linkname) || !inside(root, resolve(dirname(target), linkname))) {
        throw new AcaError(`refusing to export "${d.path}": it is a symlink to ${linkname}, outside ${dir}`);
      }
    }
    // The nearest existing host directory on the way decides where the file really lands.
    let parent = dirname(target);
    while (!existsSync(parent)) parent = dirname(parent);
    const real = realpathSync(parent);
    if (!inside(root, real)) throw new AcaError(`refusing to export "${d.path}": ${relative(root, parent) || '.'} on the host is a link out of ${dir}`);
    if (!statSync(real).isDirectory()) throw new AcaError(`refusing to export "${d.path}": ${relative(root, parent)} on the host is not a directory`);
    const landing = [relative(root, real), ...relative(parent, target).split('/')].filter(Boolean).join('/');
    const guarded = protectedReason(landing, d.after, rules);
    if (guarded && !named(d.path, rules.include)) {
      throw new AcaError(`refusing to export "${d.path}": on the host it leads to ${landing} (${guarded})`);
    }
  }
}

/** Text is what a diff can show: valid UTF-8 with no NUL byte in its first 8 KB. */
export function isBinary(content: Buffer | undefined): boolean {
  if (!content) return false;
  if (content.subarray(0, 8192).includes(0)) return true;
  return !Buffer.from(content.toString('utf8'), 'utf8').equals(content);
}

/** A unified diff of one change (git's a/ b/ prefixes); a line when it is binary or too large to show. */
export function renderPatch(change: Change, before: Buffer | string | undefined, after: Buffer | string | undefined): string {
  const a = change.kind === 'added' ? '/dev/null' : `a/${change.path}`;
  const b = change.kind === 'deleted' ? '/dev/null' : `b/${change.path}`;
  const text = (entry: ManifestEntry | undefined, content: Buffer | string | undefined) =>
    entry?.type === 'symlink' ? `-> ${entry.linkname}\n` : content === undefined ? undefined : content.toString();
  const old = change.before ? text(change.before, before) : '';
  const now = change.after ? text(change.after, after) : '';
  if (old === undefined || now === undefined) return `Files ${a} and ${b} differ (too large to show)\n`;
  if ((Buffer.isBuffer(before) && isBinary(before)) || (Buffer.isBuffer(after) && isBinary(after))) return `Binary files ${a} and ${b} differ\n`;
  const { createTwoFilesPatch } = require('diff') as typeof import('diff');
  const patch = createTwoFilesPatch(a, b, old, now, '', '', { context: 3 });
  // createTwoFilesPatch starts with an "Index"/"====" header; keep the ---/+++ form.
  return patch.replace(/^(?:Index:.*\n)?=+\n/, '').replace(/\t\n/g, '\n');
}

/** The host's core.hooksPath, when it names a directory inside the workspace (read from .git/config, never run). */
export function hooksPathIn(gitConfig: string | undefined): string | undefined {
  if (!gitConfig) return undefined;
  let section = '';
  for (const line of gitConfig.split('\n')) {
    const header = /^\s*\[([^\]\s"]+)/.exec(line);
    if (header) section = header[1]!.toLowerCase();
    const value = /^\s*hookspath\s*=\s*"?([^"\n]*?)"?\s*$/i.exec(line);
    if (section === 'core' && value) {
      const path = value[1]!.replace(/^\.\//, '').replace(/\/+$/, '');
      if (path && !isAbsolute(path) && !path.split('/').includes('..')) return path;
    }
  }
  return undefined;
}

/** Whether two package.json texts carry different "aca" keys (unreadable counts as changed). */
export function acaKeyDiffers(before: Buffer | undefined, after: Buffer | undefined): boolean {
  const key = (content: Buffer | undefined) => {
    if (!content) return 'null';
    try {
      return JSON.stringify((JSON.parse(content.toString('utf8')) as { aca?: unknown }).aca ?? null);
    } catch {
      return 'unreadable';
    }
  };
  if (!after) return false;
  const next = key(after);
  // A package.json aca cannot parse configures nothing.
  return next !== 'unreadable' && key(before) !== next;
}

export const isPackageJson = (path: string) => basename(path) === 'package.json';
