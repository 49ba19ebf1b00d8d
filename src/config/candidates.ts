/**
 * Where a project configuration may be, and which names aca refuses to load there.
 *
 * A project file is written by whoever writes the workspace (the agent), so it is data: JSON, YAML or
 * package.json's "aca" key. The executable formats cosmiconfig would also find (.acarc.js/.cjs/.mjs/.ts,
 * aca.config.*, .config/acarc.js...) would run on this machine as the user; aca never loads them from a project,
 * only from the user's own config directory. The search is aca's own (cosmiconfig is never asked to search a
 * project), so nothing in a project directory is ever imported.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/** The data formats, in cosmiconfig's order: the first one present in a directory is that directory's file. */
export const PROJECT_FILES = [
  'package.json', '.acarc', '.acarc.json', '.acarc.yaml', '.acarc.yml',
  '.config/acarc', '.config/acarc.json', '.config/acarc.yaml', '.config/acarc.yml',
];

/** The user's own file in their configuration directory: the first of these that exists. Code formats are run. */
export const USER_FILES = ['config', 'config.json', 'config.yaml', 'config.yml', 'config.js', 'config.cjs', 'config.mjs', 'config.ts'];

const CODE_EXTENSIONS = ['js', 'ts', 'cjs', 'mjs', 'cts', 'mts'];

/** The executable forms cosmiconfig (or a user expecting it) would look for; never loaded from a project. */
export const EXECUTABLE_PROJECT_FILES = [
  ...CODE_EXTENSIONS.map((e) => `.acarc.${e}`),
  ...CODE_EXTENSIONS.map((e) => `.config/acarc.${e}`),
  ...CODE_EXTENSIONS.map((e) => `aca.config.${e}`),
];

export function isExecutableConfigName(file: string): boolean {
  return /\.(?:[cm]?js|[cm]?ts)$/.test(file);
}

function names(dir: string): Set<string> | undefined {
  try {
    return new Set(readdirSync(dir));
  } catch {
    return undefined;
  }
}

export interface DirectoryFiles {
  /** The data configurations present here, in order; the first with settings is this directory's file. */
  data: string[];
  /** Executable configurations present here: ignored, and said so. */
  ignored: string[];
}

/** What one directory holds, from its listing (one readdir, and one of .config/ when it exists). */
export function configFilesIn(dir: string): DirectoryFiles {
  const listing = names(dir);
  if (!listing) return { data: [], ignored: [] };
  const dotConfig = listing.has('.config') ? names(join(dir, '.config')) : undefined;
  const present = (name: string) => (name.startsWith('.config/') ? Boolean(dotConfig?.has(name.slice('.config/'.length))) : listing.has(name));
  return {
    data: PROJECT_FILES.filter(present).map((name) => join(dir, name)),
    ignored: EXECUTABLE_PROJECT_FILES.filter(present).map((name) => join(dir, name)),
  };
}
