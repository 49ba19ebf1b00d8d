/**
 * Configuration through cosmiconfig (module name "aca"): the nearest project
 * file found from the workspace upward, over the user's file in
 * $XDG_CONFIG_HOME/aca/. Each resolved value remembers where it came from.
 */
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { mayHoldConfig } from './candidates.js';
import { validateConfig, type AcaConfig, type ConfigKey } from './schema.js';

export interface LoadedConfig {
  values: AcaConfig;
  /** For each key set by a file: that file's path. */
  sources: Partial<Record<ConfigKey, string>>;
  files: { user?: string; project?: string };
}

const USER_FILES = ['config', 'config.json', 'config.yaml', 'config.yml', 'config.js', 'config.mjs'];

export function userConfigDir(env: NodeJS.ProcessEnv): string | undefined {
  const base = env.XDG_CONFIG_HOME || (env.HOME ? join(env.HOME, '.config') : undefined);
  return base ? join(base, 'aca') : undefined;
}

async function explorer() {
  const { cosmiconfig } = await import('cosmiconfig');
  // 'none': search() checks one directory; we walk upward ourselves so the
  // user-level file is always a separate, lower layer.
  return cosmiconfig('aca', { searchStrategy: 'none', cache: false });
}

type Explorer = Awaited<ReturnType<typeof explorer>>;

async function loadFile(ex: Explorer, file: string): Promise<AcaConfig> {
  let result;
  try {
    result = await ex.load(file);
  } catch (error) {
    throw new ConfigError(`${file}: cannot be read: ${(error as Error).message.split('\n')[0]}`, { cause: error });
  }
  return validateConfig(result?.config, file);
}

async function searchUpward(ex: () => Promise<Explorer>, from: string): Promise<string | undefined> {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    if (!mayHoldConfig(dir)) {
      if (dirname(dir) === dir) return undefined;
      continue;
    }
    let found;
    try {
      found = await (await ex()).search(dir);
    } catch (error) {
      const file = (error as { filepath?: string }).filepath ?? dir;
      throw new ConfigError(`${file}: cannot be parsed: ${(error as Error).message.split('\n')[0]}`, { cause: error });
    }
    if (found && !found.isEmpty) return found.filepath;
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

export async function loadConfig(options: { workspace: string; env: NodeJS.ProcessEnv; explicitFile?: string }): Promise<LoadedConfig> {
  // cosmiconfig is loaded only when some file may be a configuration (see candidates.ts).
  let loaded: Promise<Explorer> | undefined;
  const ex = () => (loaded ??= explorer());
  const layers: Array<[string, AcaConfig]> = [];
  const files: LoadedConfig['files'] = {};

  const userDir = userConfigDir(options.env);
  const userFile = userDir ? USER_FILES.map((f) => join(userDir, f)).find((f) => existsSync(f)) : undefined;
  if (userFile) {
    files.user = userFile;
    layers.push([userFile, resolvePaths(await loadFile(await ex(), userFile), userFile)]);
  }
  const projectFile = options.explicitFile ? resolve(options.explicitFile) : await searchUpward(ex, options.workspace);
  if (projectFile && projectFile !== userFile) {
    files.project = projectFile;
    const project = resolvePaths(await loadFile(await ex(), projectFile), projectFile);
    // A preset carries its own image, command, secrets and hosts: only the user's own file may define one.
    if (project.agents) throw new ConfigError(`${projectFile}: key "agents": agent presets may be defined only in your own configuration (${userDir ?? '$XDG_CONFIG_HOME/aca'}); a project may select one with "agent"`);
    layers.push([projectFile, project]);
  }

  const values: Record<string, unknown> = {};
  const sources: LoadedConfig['sources'] = {};
  for (const [file, layer] of layers) {
    for (const [key, value] of Object.entries(layer)) {
      values[key] = value;
      sources[key as ConfigKey] = file;
    }
  }
  return { values: values as AcaConfig, sources, files };
}
