/**
 * The base of a copy-mode session: a manifest (path, size, mode, content
 * hash) of the workspace as it was copied in, kept in a small volume of the
 * session's own that the session never mounts (the agent cannot rewrite
 * it), so diff and export can tell what the session changed from what the
 * host changed since. Also the exclusion rules the copy honoured, and the
 * "unexported" marker volume.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Exclude, ManifestEntry, Tree } from '../archive.js';
import type { Engine } from '../engine/index.js';
import { LABEL, containerName, storageHelperLabels } from '../labels.js';
import { creatorLabels } from '../host.js';

export const baseVolumeName = (session: string) => `aca-${session}-base`;
export const unexportedVolumeName = (session: string) => `aca-${session}-unexported`;

/** Where helpers mount the base volume and the workspace volume. */
export const BASE_MOUNT = '/aca-base';
const WORKSPACE_MOUNT = '/aca-ws/workspace';
const MANIFEST_FILE = 'manifest.json';
/** The copy-mode exclusion file at the workspace root (.dockerignore syntax). */
export const IGNORE_FILE = '.acaignore';

export interface Manifest {
  version: 1;
  created: string;
  /** The host directory that was copied. */
  root: string;
  /** The exclusion rules the copy honoured (.dockerignore syntax); diff and export honour them too. */
  exclude: string[];
  entries: Record<string, ManifestEntry>;
}

/**
 * A root .gitignore as .dockerignore rules: a pattern with no inner slash
 * matches at any depth, a leading slash anchors it, a trailing one (only
 * directories) is dropped. Nested .gitignore files are not read.
 */
export function gitignoreRules(text: string): string[] {
  const rules: string[] = [];
  for (const raw of text.split('\n')) {
    let line = raw.replace(/\r$/, '').replace(/(?<!\\)\s+$/, '');
    if (!line || line.startsWith('#')) continue;
    const negate = line.startsWith('!');
    if (negate) line = line.slice(1);
    line = line.replace(/^\\([#!])/, '$1').replace(/\/+$/, '');
    if (!line) continue;
    const anchored = line.includes('/');
    line = line.replace(/^\/+/, '');
    rules.push(`${negate ? '!' : ''}${anchored || line.startsWith('**/') ? line : `**/${line}`}`);
  }
  return rules;
}

/** The rules a copy of `root` honours: .acaignore, and the root .gitignore when asked. */
export function exclusionRules(root: string, respectGitignore: boolean): string[] {
  const read = (name: string) => {
    const path = join(root, name);
    return existsSync(path) ? readFileSync(path, 'utf8') : '';
  };
  const rules = read(IGNORE_FILE).split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  return respectGitignore ? [...rules, ...gitignoreRules(read('.gitignore'))] : rules;
}

export function excluder(rules: string[]): Exclude {
  if (rules.length === 0) return () => false;
  // @balena/dockerignore (already used for build contexts) is CommonJS without types.
  const dockerIgnore = createRequire(import.meta.url)('@balena/dockerignore') as (o: { ignorecase: boolean }) => { add(rules: string[]): { createFilter(): (path: string) => boolean } };
  const keep = dockerIgnore({ ignorecase: false }).add(rules).createFilter();
  return (path) => !keep(path);
}

export function toTree(manifest: Manifest): Tree {
  return new Map(Object.entries(manifest.entries));
}

export function sessionVolumeLabels(session: string, what: string, labels: Record<string, string> = {}): Record<string, string> {
  return { ...labels, [LABEL.managed]: 'true', [LABEL.session]: session, [LABEL.volume]: what };
}

/** The base volume and the unexported marker of a new copy-mode session (with the session's volume labels). */
export async function createBaseVolumes(engine: Engine, session: string, labels: Record<string, string>): Promise<void> {
  await engine.volumes.create(baseVolumeName(session), sessionVolumeLabels(session, 'base', labels));
  await engine.volumes.create(unexportedVolumeName(session), sessionVolumeLabels(session, 'unexported', labels));
}

/**
 * A copy-mode session counts as unexported from its start until an export
 * (or a diff) of the stopped session finds nothing left to apply: the
 * marker is a volume, since labels cannot change after creation.
 */
export async function markUnexported(engine: Engine, session: string): Promise<void> {
  if (!(await engine.volumes.inspect(unexportedVolumeName(session)))) {
    await engine.volumes.create(unexportedVolumeName(session), sessionVolumeLabels(session, 'unexported'));
  }
}

export async function clearUnexported(engine: Engine, session: string): Promise<void> {
  await engine.volumes.remove(unexportedVolumeName(session));
}

/** Write the manifest into the base volume, mounted at BASE_MOUNT in `helper`. */
export async function writeManifest(engine: Engine, helper: string, manifest: Manifest): Promise<void> {
  const { singleFileTar } = await import('../archive.js');
  await engine.putArchive(helper, BASE_MOUNT, singleFileTar(MANIFEST_FILE, Buffer.from(JSON.stringify(manifest))));
}

/** A session's copy-mode volumes, reachable through a helper container (running or stopped session, on every engine). */
export interface WorkspaceReader {
  manifest: Manifest | undefined;
  /** The workspace as a tar (entries under "workspace/"). */
  archive(): Promise<Readable>;
  close(): Promise<void>;
}

export async function openWorkspace(engine: Engine, session: string, image: string, workspaceVolume: string): Promise<WorkspaceReader> {
  const hasBase = Boolean(await engine.volumes.inspect(baseVolumeName(session)));
  const helper = await engine.createStorageHelper({
    name: `${containerName(session)}-read-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`,
    image,
    binds: [`${workspaceVolume}:${WORKSPACE_MOUNT}:ro`, ...(hasBase ? [`${baseVolumeName(session)}:${BASE_MOUNT}:ro`] : [])],
    labels: storageHelperLabels({ ...creatorLabels(), [LABEL.session]: session }),
  });
  try {
    const manifest = hasBase ? await readManifest(engine, helper) : undefined;
    return {
      manifest,
      archive: () => engine.getArchive(helper, WORKSPACE_MOUNT),
      close: () => engine.removeContainer(helper, { force: true }),
    };
  } catch (error) {
    await engine.removeContainer(helper, { force: true }).catch(() => {});
    throw error;
  }
}

async function readManifest(engine: Engine, helper: string): Promise<Manifest | undefined> {
  const { scanArchive } = await import('../archive.js');
  let text: Buffer | undefined;
  try {
    await scanArchive(await engine.getArchive(helper, `${BASE_MOUNT}/${MANIFEST_FILE}`), {
      keepUpTo: () => 1 << 30,
      onDone: (_entry, content) => { text = content; },
    });
  } catch {
    return undefined; // an empty base: the copy never finished
  }
  return text ? (JSON.parse(text.toString('utf8')) as Manifest) : undefined;
}
