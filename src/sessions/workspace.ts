/**
 * `aca diff` and `aca export`: what a copy-mode session changed against the
 * manifest recorded when its workspace was copied in, and a three-way merge
 * of those changes into the host tree. Also the review at the end of a
 * foreground copy-mode run.
 */
import { existsSync, lstatSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Context } from '../context.js';
import type { Engine } from '../engine/index.js';
import { hostEntry, readArchiveTree, scanArchive, type Exclude, type ManifestEntry, type Tree } from '../archive.js';
import { AcaError, UsageError } from '../errors.js';
import {
  acaKeyDiffers, checkPaths, hooksPathIn, isBinary, isPackageJson, planExport, renderPatch, sameEntry, sessionChanges, type Change, type Decision, type ExportRules,
} from './changes.js';
import { writeChanges } from './export-write.js';
import { LABEL } from '../labels.js';
import { clearUnexported, excluder, openWorkspace, toTree, type WorkspaceReader } from './manifest.js';
import { resolveSession } from './resolve.js';
import { workspaceVolumeName } from './storage.js';

/** Files up to this size are kept in memory to show their diff. */
const PATCH_FILE_LIMIT = 1024 * 1024;
/** All the text diff keeps at once; past it, files are named, not shown. */
const PATCH_TOTAL_LIMIT = 64 * 1024 * 1024;

interface Opened {
  name: string;
  running: boolean;
  hostDir: string;
  reader: WorkspaceReader;
  base: Tree;
  exclude: Exclude;
}

/** Without a manifest (a session made by an older aca), the host tree as it is now is the base. */
async function hostTree(root: string, exclude: Exclude): Promise<Tree> {
  const tree: Tree = new Map();
  const walk = async (relative: string): Promise<void> => {
    for (const child of readdirSync(join(root, relative)).sort()) {
      const path = relative ? `${relative}/${child}` : child;
      if (exclude(path)) continue;
      const entry = await hostEntry(join(root, path));
      if (!entry) continue;
      tree.set(path, entry);
      if (entry.type === 'directory') await walk(path);
    }
  };
  await walk('');
  return tree;
}

async function open(ctx: Context, query: string): Promise<Opened> {
  const engine = await ctx.engine();
  const session = await resolveSession(engine, query);
  const labels = session.summary.Labels ?? {};
  if (labels[LABEL.workspaceMode] !== 'copy') {
    throw new AcaError(`session ${session.name} works on the host tree directly (workspace mode ${labels[LABEL.workspaceMode] ?? 'bind'}); there is no copy to compare`, {
      hint: 'Start sessions with --workspace-mode copy to review changes before they reach the host.',
    });
  }
  const hostDir = labels[LABEL.workspace] ?? '';
  if (!hostDir || !existsSync(hostDir)) throw new AcaError(`the workspace of ${session.name} (${hostDir || 'unknown'}) is not on this host`);
  const volume = workspaceVolumeName(session.name);
  if (!(await engine.volumes.inspect(volume))) throw new AcaError(`session ${session.name} has no workspace copy (volume ${volume} is gone)`);
  const info = await session.inspect();
  const reader = await openWorkspace(engine, session.name, info.Image, volume);
  const exclude = excluder(reader.manifest?.exclude ?? []);
  const base = reader.manifest ? toTree(reader.manifest) : await hostTree(hostDir, exclude);
  return { name: session.name, running: Boolean(info.State.Running), hostDir, reader, base, exclude };
}

async function withOpened<T>(ctx: Context, query: string, use: (opened: Opened) => Promise<T>): Promise<T> {
  const opened = await open(ctx, query);
  try {
    return await use(opened);
  } finally {
    await opened.reader.close().catch(() => {});
  }
}

export interface DiffEntry {
  path: string;
  kind: Change['kind'];
  type: ManifestEntry['type'];
  binary: boolean;
  /** The host changed this path too since the copy: an export would stop on it. */
  hostChanged: boolean;
}

function readSmall(path: string): Buffer | undefined {
  try {
    const stat = lstatSync(path);
    return stat.isFile() && stat.size <= PATCH_FILE_LIMIT ? readFileSync(path) : undefined;
  } catch {
    return undefined;
  }
}

export async function diffSession(ctx: Context, query: string): Promise<{ changes: DiffEntry[]; patch: string }> {
  return withOpened(ctx, query, async (opened) => {
    const tree: Tree = new Map();
    const contents = new Map<string, Buffer>();
    let kept = 0;
    await scanArchive(await opened.reader.archive(), {
      keepUpTo: (entry) => (entry.type === 'file' && !opened.exclude(entry.path) && kept < PATCH_TOTAL_LIMIT ? PATCH_FILE_LIMIT : 0),
      onDone: (entry, content) => {
        if (!entry.path || entry.type === 'other' || opened.exclude(entry.path)) return;
        const item: ManifestEntry = { type: entry.type, mode: entry.mode, size: entry.size, ...(entry.hash ? { hash: entry.hash } : {}), ...(entry.linkname !== undefined ? { linkname: entry.linkname } : {}) };
        tree.set(entry.path, item);
        if (content && !sameEntry(opened.base.get(entry.path), item) && kept + content.length <= PATCH_TOTAL_LIMIT) {
          contents.set(entry.path, content);
          kept += content.length;
        }
      },
    });
    const changes = sessionChanges(opened.base, tree);
    const entries: DiffEntry[] = [];
    let patch = '';
    for (const change of changes) {
      const hostPath = join(opened.hostDir, ...change.path.split('/'));
      const now = await hostEntry(hostPath);
      const hostChanged = !sameEntry(now, change.before) && !sameEntry(now, change.after);
      const before = change.before?.type === 'file' && !hostChanged ? readSmall(hostPath) : undefined;
      const after = contents.get(change.path);
      entries.push({ path: change.path, kind: change.kind, type: change.type, binary: isBinary(after) || isBinary(before), hostChanged });
      if (hostChanged) patch += `# ${change.path}: the host changed it too since the copy\n`;
      patch += renderPatch(change, change.before?.type === 'file' ? before : '', change.after?.type === 'file' ? after : '');
    }
    if (changes.length === 0 && !opened.running) await clearUnexported(await ctx.engine(), opened.name);
    return { changes: entries, patch };
  });
}

export interface ExportOptions {
  dir?: string | undefined;
  dryRun: boolean;
  includeDeleted: boolean;
  prefer?: 'session' | 'host' | undefined;
  include: string[];
}

export interface ExportResult {
  session: string;
  dir: string;
  dryRun: boolean;
  written: string[];
  deleted: string[];
  conflicts: Array<{ path: string; reason: string }>;
  skipped: Array<{ path: string; reason: string }>;
  notDeleted: string[];
  keptHost: string[];
  alreadyOnHost: string[];
}

/** Host facts the rules need: where core.hooksPath points (read from .git/config, nothing run). */
function gitHooksPath(dir: string): string | undefined {
  const config = join(dir, '.git', 'config');
  try {
    if (!lstatSync(join(dir, '.git')).isDirectory() || !lstatSync(config).isFile()) return undefined;
    return hooksPathIn(readFileSync(config, 'utf8'));
  } catch {
    return undefined;
  }
}

const plausible = (path: string) => !path.startsWith('/') && !path.split('/').some((p) => p === '..' || p === '.' || p === '');

export async function exportSession(ctx: Context, query: string, options: ExportOptions): Promise<ExportResult> {
  return withOpened(ctx, query, async (opened) => {
    const dir = options.dir ? resolve(ctx.cwd, options.dir) : opened.hostDir;
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`export: not a directory: ${dir}`);
    const packageJsons = new Map<string, Buffer>();
    const tree = await (async () => {
      const result: Tree = new Map();
      await scanArchive(await opened.reader.archive(), {
        keepUpTo: (entry) => (isPackageJson(entry.path) ? PATCH_FILE_LIMIT : 0),
        onDone: (entry, content) => {
          if (!entry.path || entry.type === 'other' || opened.exclude(entry.path)) return;
          result.set(entry.path, { type: entry.type, mode: entry.mode, size: entry.size, ...(entry.hash ? { hash: entry.hash } : {}), ...(entry.linkname !== undefined ? { linkname: entry.linkname } : {}) });
          if (content && isPackageJson(entry.path)) packageJsons.set(entry.path, content);
        },
      });
      return result;
    })();
    const changes = sessionChanges(opened.base, tree);
    const host = new Map<string, ManifestEntry | undefined>();
    for (const change of changes) if (plausible(change.path)) host.set(change.path, await hostEntry(join(dir, ...change.path.split('/'))));
    const acaKeyChanged = new Set(
      changes
        .filter((c) => isPackageJson(c.path) && c.after?.type === 'file' && plausible(c.path))
        // A package.json too large to hold counts as changed: it is skipped unless named.
        .filter((c) => !packageJsons.has(c.path) || acaKeyDiffers(readSmall(join(dir, ...c.path.split('/'))), packageJsons.get(c.path)))
        .map((c) => c.path),
    );
    const rules: ExportRules = {
      origin: dir === opened.hostDir,
      includeDeleted: options.includeDeleted,
      prefer: options.prefer,
      include: options.include,
      hooksPath: gitHooksPath(dir),
      acaKeyChanged,
    };
    const decisions = planExport(changes, host, rules);
    const pick = (outcome: Decision['outcome']) => decisions.filter((d) => d.outcome === outcome);
    const result: ExportResult = {
      session: opened.name,
      dir,
      dryRun: options.dryRun,
      written: [],
      deleted: [],
      conflicts: pick('conflict').map((d) => ({ path: d.path, reason: d.reason ?? '' })),
      skipped: pick('skipped').map((d) => ({ path: d.path, reason: d.reason ?? '' })),
      notDeleted: pick('not-deleted').map((d) => d.path),
      keptHost: pick('kept-host').map((d) => d.path),
      alreadyOnHost: pick('on-host').map((d) => d.path),
    };
    if (result.conflicts.length > 0) return result; // nothing is written
    checkPaths(dir, decisions, rules);
    if (options.dryRun) {
      return { ...result, written: pick('write').map((d) => d.path), deleted: pick('delete').map((d) => d.path) };
    }
    const done = await writeChanges(dir, () => opened.reader.archive(), decisions);
    // Reviewed: a stopped session has nothing left to export (a running one may still change).
    if (!opened.running && rules.origin) await clearUnexported(await ctx.engine(), opened.name);
    return { ...result, ...done };
  });
}

/** --stat lines: A/M/D and the path. */
export function statLines(changes: Array<{ path: string; kind: Change['kind'] }>): string[] {
  const mark = { added: 'A', modified: 'M', deleted: 'D' } as const;
  return changes.map((c) => `${mark[c.kind]} ${c.path}`);
}

/**
 * At the end of a foreground copy-mode run: what the session changed against
 * its base: empty when nothing changed, undefined when it cannot tell (no record of the copy).
 */
export async function changesAtExit(engine: Engine, session: string, image: string): Promise<Change[] | undefined> {
  const volume = workspaceVolumeName(session);
  if (!(await engine.volumes.inspect(volume))) return [];
  const reader = await openWorkspace(engine, session, image, volume);
  try {
    if (!reader.manifest) return undefined;
    const exclude = excluder(reader.manifest.exclude);
    return sessionChanges(toTree(reader.manifest), await readArchiveTree(await reader.archive(), exclude));
  } finally {
    await reader.close().catch(() => {});
  }
}
