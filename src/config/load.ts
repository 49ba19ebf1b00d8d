/**
 * Configuration: the user's file in $XDG_CONFIG_HOME/aca/ (trusted: any format, code included) and the nearest
 * project file from the workspace upward (data only, and able to widen the sandbox only once the user has trusted its
 * exact contents, see classify.ts and trust.ts). The user's values win over the project's, except a project value that
 * narrows a limit. Each resolved value remembers where it came from.
 */
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { ConfigError, UsageError } from '../errors.js';
import { configFilesIn, USER_FILES } from './candidates.js';
import { mergeKey, narrowingDefaults, wideningKeys, type Widening } from './classify.js';
import { parseConfigBytes, readBytes, sha256 } from './read-file.js';
import { validateConfig, type AcaConfig, type ConfigKey } from './schema.js';
import { trustState, type TrustState } from './trust.js';
import { userConfigDir } from '../state-dir.js';

export { userConfigDir };

export interface ProjectFile {
  file: string;
  sha256: string;
  trust: TrustState;
  /** The keys that widen the sandbox (allowed only because the file is trusted). */
  widening: Widening[];
}

export interface LoadedConfig {
  values: AcaConfig;
  /** For each key set by a file: that file's path. */
  sources: Partial<Record<ConfigKey, string>>;
  /** For each key set by a file: the user's file or the project's. */
  origins: Partial<Record<ConfigKey, 'user' | 'project'>>;
  files: { user?: string; project?: string };
  project?: ProjectFile;
}

/** Where a configuration key's value came from, in words. */
export function configOrigin(config: Pick<LoadedConfig, 'sources' | 'origins'>, key: ConfigKey): string {
  const file = config.sources[key] ?? '?';
  return config.origins[key] === 'project' ? `trusted project file ${file}` : `user config ${file}`;
}

export interface LoadOptions {
  workspace: string;
  env: NodeJS.ProcessEnv;
  /** Where the one line about an ignored executable project file goes. */
  warn: (message: string) => void;
  /**
   * Read only these keys (the engine selection reads engine and host on every command): the others are left out,
   * and a project file is refused only when one of these widens the sandbox untrusted.
   */
  keys?: readonly ConfigKey[];
}

/** A project file asks for more than it may: a usage error (exit 2) that says how to allow it. */
export class UntrustedConfigError extends UsageError {}



/** The user's own file: data formats parsed like a project's, code formats run through cosmiconfig (the user wrote them). */
async function loadUserFile(file: string): Promise<unknown> {
  if (!/\.(?:[cm]?js|ts)$/.test(file)) return parseConfigBytes(readBytes(file), file);
  const { cosmiconfig } = await import('cosmiconfig');
  try {
    return (await cosmiconfig('aca', { searchStrategy: 'none', cache: false }).load(file))?.config;
  } catch (error) {
    throw new ConfigError(`${file}: cannot be loaded: ${(error as Error).message.split('\n')[0]}`, { cause: error });
  }
}

export interface FoundProjectFile {
  file: string;
  raw: unknown;
  sha256: string;
}

function ignoredLine(file: string, env: NodeJS.ProcessEnv): string {
  const userDir = userConfigDir(env) ?? '$XDG_CONFIG_HOME/aca';
  return `ignored ${file}: a project file is never run (executable configuration is read only from ${userDir}); use .acarc.json or .acarc.yaml`;
}

/**
 * The nearest project file from `from` up to /, read once (its bytes hashed and parsed together). Executable
 * configurations met on the way are never loaded; each is named in one line.
 */
export async function findProjectFile(from: string, env: NodeJS.ProcessEnv, warn: (message: string) => void, skip?: string): Promise<FoundProjectFile | undefined> {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    const here = configFilesIn(dir);
    for (const file of here.ignored) warn(ignoredLine(file, env));
    for (const file of here.data) {
      if (file === skip) continue;
      const bytes = readBytes(file);
      // A package.json without an "aca" key is not a configuration; most are not, so most are not parsed.
      if (file.endsWith('package.json') && !bytes.includes('"aca"')) continue;
      const raw = await parseConfigBytes(bytes, file);
      if (raw !== undefined && raw !== null) return { file, raw, sha256: sha256(bytes) };
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/** Paths in a file (caCerts, volume sources) are relative to that file. */
function resolvePaths(config: AcaConfig, file: string): AcaConfig {
  const base = dirname(file);
  const out = { ...config };
  if (out.caCerts && !isAbsolute(out.caCerts)) out.caCerts = resolve(base, out.caCerts);
  if (out.volumes) {
    out.volumes = out.volumes.map((v) => (v.startsWith('./') || v.startsWith('../') ? resolve(base, v) : v));
  }
  return out;
}

function describe(widening: Widening[]): string {
  const list = widening.map((w) => `"${w.key}" (${w.why})`).join(', ');
  return widening.length === 1 ? `key ${list} widens the sandbox` : `keys ${list} widen the sandbox`;
}

/** Refuse a project file that widens the sandbox without the user's trust in these exact bytes. */
export function checkProjectTrust(project: ProjectFile): void {
  if (project.widening.length === 0 || project.trust === 'trusted') return;
  const state = project.trust === 'changed' ? 'it changed since you trusted it' : 'it is not trusted';
  throw new UntrustedConfigError(
    `${project.file}: refused: ${describe(project.widening)} and ${state}; if you wrote it, review it and run: aca trust ${project.file}`,
  );
}

export async function loadConfig(options: LoadOptions): Promise<LoadedConfig> {
  const files: LoadedConfig['files'] = {};
  const userDir = userConfigDir(options.env);
  const userFile = userDir ? USER_FILES.map((f) => join(userDir, f)).find((f) => existsSync(f)) : undefined;
  const only = (config: AcaConfig): AcaConfig =>
    options.keys ? Object.fromEntries(Object.entries(config).filter(([key]) => options.keys!.includes(key as ConfigKey))) : config;
  let user: AcaConfig = {};
  if (userFile) {
    files.user = userFile;
    user = only(resolvePaths(validateConfig(await loadUserFile(userFile), userFile), userFile));
  }

  const found = await findProjectFile(options.workspace, options.env, options.warn, userFile);
  let project: AcaConfig = {};
  let projectInfo: ProjectFile | undefined;
  if (found) {
    files.project = found.file;
    project = only(resolvePaths(validateConfig(found.raw, found.file), found.file));
    projectInfo = {
      file: found.file,
      sha256: found.sha256,
      trust: trustState(options.env, found.file, found.sha256),
      widening: wideningKeys(project, { ...narrowingDefaults(), ...user }),
    };
    checkProjectTrust(projectInfo);
  }

  const values: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  const sources: LoadedConfig['sources'] = {};
  const origins: LoadedConfig['origins'] = {};
  const take = (key: ConfigKey, from: 'user' | 'project') => {
    values[key] = (from === 'user' ? user : project)[key];
    sources[key] = from === 'user' ? userFile : found!.file;
    origins[key] = from;
  };
  for (const key of Object.keys(project) as ConfigKey[]) take(key, Object.hasOwn(user, key) ? mergeKey(key, user[key], project[key]) : 'project');
  for (const key of Object.keys(user) as ConfigKey[]) if (!Object.hasOwn(project, key)) take(key, 'user');
  return { values: { ...values } as AcaConfig, sources, origins, files, ...(projectInfo ? { project: projectInfo } : {}) };
}
