/**
 * What `aca trust` does with a path: find the project file (by default the one that applies to the current
 * directory), read it once, validate it, and record the hash of exactly those bytes; list and revoke records.
 */
import { basename, dirname, resolve, sep } from 'node:path';
import { UsageError } from '../errors.js';
import { isExecutableConfigName, PROJECT_FILES } from './candidates.js';
import { narrowingDefaults, wideningKeys, type Widening } from './classify.js';
import { findProjectFile, userConfigDir } from './load.js';
import { parseConfigBytes, readBytes, sha256 } from './read-file.js';
import { validateConfig } from './schema.js';
import { canonicalPath, readTrustStore, recordTrust, revokeTrust, type TrustRecord } from './trust.js';

export interface TrustedFile extends TrustRecord {
  file: string;
  /** What the trusted contents may widen (against aca's defaults). */
  widening: Widening[];
}

/** One PATH named by the user, or the project file that applies to `cwd`. */
async function locate(cwd: string, env: NodeJS.ProcessEnv, path: string | undefined, warn: (m: string) => void): Promise<string> {
  if (path === undefined) {
    const found = await findProjectFile(cwd, env, warn);
    if (!found) throw new UsageError(`no project configuration applies to ${cwd} (looked for ${PROJECT_FILES.join(', ')} here and above); name one: aca trust PATH`);
    return found.file;
  }
  const file = resolve(cwd, path);
  if (isExecutableConfigName(file)) {
    throw new UsageError(`${file}: executable configuration is never loaded from a project, trusted or not; write it as .acarc.json or .acarc.yaml`);
  }
  const userDir = userConfigDir(env);
  if (userDir && (canonicalPath(file) + sep).startsWith(canonicalPath(userDir) + sep)) throw new UsageError(`${file}: your own configuration directory is always trusted`);
  const name = basename(dirname(file)) === '.config' ? `.config/${basename(file)}` : basename(file);
  if (!PROJECT_FILES.includes(name)) throw new UsageError(`${file}: not a project configuration file aca reads (${PROJECT_FILES.join(', ')})`);
  return file;
}

/** A devcontainer.json is a project file too (src/devcontainer/): trusted by the same store, parsed as JSON with comments. */
const isDevcontainer = (path: string) => /(?:^|[\\/])\.?devcontainer\.json$/.test(path);

async function trustDevcontainer(env: NodeJS.ProcessEnv, file: string): Promise<TrustedFile> {
  const [{ readDevcontainer }, { mapDevcontainer }] = await Promise.all([import('../devcontainer/read.js'), import('../devcontainer/map.js')]);
  const read = readDevcontainer(file);
  // The workspace is the folder that holds .devcontainer/ (or .devcontainer.json).
  let workspace = dirname(file);
  for (let dir = workspace; dir !== dirname(dir); dir = dirname(dir)) if (basename(dir) === '.devcontainer') workspace = dirname(dir);
  const plan = mapDevcontainer({ path: file, config: read.config, workspace, env });
  const record = recordTrust(env, file, read.sha256);
  return { file: canonicalPath(file), ...record, widening: plan.widenings.map((why) => ({ key: why.replace(/^[^"]*"([^"]+)".*$/, '$1'), why: why.replace(/^[^"]*"[^"]+"\S*:? ?/, '') })) as Widening[] };
}

export async function trustPath(cwd: string, env: NodeJS.ProcessEnv, path: string | undefined, warn: (m: string) => void): Promise<TrustedFile> {
  if (path !== undefined && isDevcontainer(path)) return trustDevcontainer(env, resolve(cwd, path));
  const file = await locate(cwd, env, path, warn);
  // The bytes hashed are the bytes validated: no window in which the file can change in between.
  const bytes = readBytes(file);
  const raw = await parseConfigBytes(bytes, file);
  if (raw === undefined) throw new UsageError(`${file}: has no "aca" key; there is nothing to trust`);
  const config = validateConfig(raw, file);
  const record = recordTrust(env, file, sha256(bytes));
  return { file: canonicalPath(file), ...record, widening: wideningKeys(config, narrowingDefaults()) };
}

export async function revokePath(cwd: string, env: NodeJS.ProcessEnv, path: string | undefined, warn: (m: string) => void): Promise<string> {
  const file = path === undefined ? await locate(cwd, env, undefined, warn) : resolve(cwd, path);
  if (!revokeTrust(env, file)) throw new UsageError(`${file}: was not trusted (aca trust --list shows what is)`);
  return file;
}

export interface TrustListing extends TrustRecord {
  file: string;
  /** current: the file's bytes are the ones trusted; changed: they are not (it is untrusted); missing: no such file. */
  state: 'current' | 'changed' | 'missing';
}

export function listTrusted(env: NodeJS.ProcessEnv): TrustListing[] {
  return Object.entries(readTrustStore(env)).map(([file, record]) => {
    let state: TrustListing['state'];
    try {
      state = sha256(readBytes(file)) === record.sha256 ? 'current' : 'changed';
    } catch {
      state = 'missing';
    }
    return { file, ...record, state };
  });
}
