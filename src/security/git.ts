/**
 * Keep an agent from planting code that later runs on the host through the
 * workspace's git metadata. The host's `git status`/`git commit` runs hooks
 * and commands named in the config (core.fsmonitor, filters, aliases), reads
 * `commondir`, and finds the repository by looking for `.git`. So in a
 * writable bind-mounted workspace the repository's metadata is read-only as
 * a whole:
 *  - the `.git` directory is one read-only mount; a mount point cannot be
 *    renamed or removed, so `.git` cannot be replaced from inside either;
 *  - a worktree's `.git` file is mounted read-only, and so are the git
 *    directory it names and that directory's `commondir` (at the same paths,
 *    so git inside the session still finds them) once the git directory names
 *    this workspace back; any other `.git` file is mounted alone;
 *  - whatever core.hooksPath (or a config file included from the workspace)
 *    names inside the workspace is read-only too, as its top-level directory
 *    under the workspace, so a parent cannot be renamed away either;
 *  - where there is no `.git`, an empty read-only placeholder is mounted
 *    there, so a `git init` inside the session cannot leave a repository
 *    (with its hooks and config) for the host's git to find. We mount rather
 *    than refuse: most workspaces without git are fine to work in. The empty
 *    directory the mount leaves on the host is removed after the session.
 * Nothing here follows a symlink inside the workspace or `.git`: a link where
 * aca needs a real directory is refused, and a link inside a mounted `.git`
 * is seen in the session as a link, resolved in the session's own filesystem.
 * Committing from inside a bind-mounted session therefore fails on the
 * read-only metadata: agents commit on their own branch (--branch) or work on
 * a copy (--workspace-mode copy).
 */
import { closeSync, fstatSync, lstatSync, openSync, readdirSync, readSync, realpathSync, rmdirSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { UsageError } from '../errors.js';
import { WORKSPACE_PATH } from '../security.js';

/** A read-only mount over the workspace: a host path, or an empty placeholder where nothing exists yet. */
export type ProtectedMount =
  | { source: string; target: string }
  /** `placeholder`: the host path the engine's mount point appears at, removed after the session if still empty. */
  | { placeholder: string; target: string };

export interface GitProtection {
  mounts: ProtectedMount[];
  /** Said once on stderr (what became read-only, what could not be followed). */
  notes: string[];
}

const MAX_METADATA_BYTES = 1024 * 1024;

type Kind = 'missing' | 'file' | 'dir' | 'link' | 'other';

function kindOf(path: string): Kind {
  try {
    const stat = lstatSync(path);
    return stat.isSymbolicLink() ? 'link' : stat.isFile() ? 'file' : stat.isDirectory() ? 'dir' : 'other';
  } catch {
    return 'missing';
  }
}

/** A small regular file's text; undefined for a link, a missing file or anything else (never followed, never blocks). */
function readSmallFile(path: string): string | undefined {
  if (kindOf(path) !== 'file') return undefined;
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile() || stat.size > MAX_METADATA_BYTES) return undefined;
    const buffer = Buffer.alloc(stat.size);
    let length = 0;
    for (let n = 1; n > 0 && length < buffer.length; length += n) n = readSync(fd, buffer, length, buffer.length - length, null);
    return buffer.subarray(0, length).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

const inside = (path: string, dir: string) => path === dir || path.startsWith(dir.endsWith(sep) ? dir : dir + sep);

export interface GitConfigFacts {
  hooksPath?: string | undefined;
  includes: string[];
}

/**
 * The two things aca needs from a git config file, read as text: the last
 * core.hooksPath, and every include.path / includeIf.*.path. Includes are not
 * followed here (the caller decides which to read).
 */
export function parseGitConfig(text: string): GitConfigFacts {
  const facts: GitConfigFacts = { includes: [] };
  let section = '';
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/^\s+/, '');
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[\s*([A-Za-z0-9.-]+)(?:\s+"(?:[^"\\]|\\.)*")?\s*\](.*)$/.exec(line);
    let rest = line;
    if (header) {
      section = header[1]!.toLowerCase();
      rest = header[2]!.trim();
      if (rest === '') continue;
    }
    const entry = /^([A-Za-z][A-Za-z0-9-]*)\s*(?:=\s*(.*))?$/.exec(rest);
    if (!entry) continue;
    const key = entry[1]!.toLowerCase();
    const value = unquote(entry[2] ?? '');
    if (section === 'core' && key === 'hookspath') facts.hooksPath = value;
    if ((section === 'include' || section === 'includeif') && key === 'path') facts.includes.push(value);
  }
  return facts;
}

/** A git config value: quotes removed, escapes applied, an unquoted comment dropped. */
function unquote(value: string): string {
  let out = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === '\\' && i + 1 < value.length) {
      const next = value[++i]!;
      out += next === 'n' ? '\n' : next === 't' ? '\t' : next;
    } else if (c === '"') quoted = !quoted;
    else if (!quoted && (c === '#' || c === ';')) break;
    else out += c;
  }
  return out.trim();
}

function expandHome(path: string): string {
  return path === '~' ? homedir() : path.startsWith('~/') ? join(homedir(), path.slice(2)) : path;
}

/**
 * Collects the mounts for one workspace. `workspace` is its real path on
 * the host; targets are paths inside the session.
 */
class Planner {
  readonly mounts: ProtectedMount[] = [];
  readonly notes: string[] = [];
  private readonly covered: string[] = [];

  constructor(readonly workspace: string) {}

  /** Where a host path appears in the session: under /workspace, or at the same path. */
  target(hostPath: string): string {
    if (inside(hostPath, this.workspace)) {
      const rel = relative(this.workspace, hostPath);
      return rel === '' ? WORKSPACE_PATH : `${WORKSPACE_PATH}/${rel.split(sep).join('/')}`;
    }
    return hostPath;
  }

  isCovered(hostPath: string): boolean {
    return this.covered.some((dir) => inside(hostPath, dir));
  }

  mount(hostPath: string): void {
    if (this.isCovered(hostPath)) return;
    this.covered.push(hostPath);
    this.mounts.push({ source: hostPath, target: this.target(hostPath) });
  }

  placeholder(hostPath: string): void {
    this.covered.push(hostPath);
    this.mounts.push({ placeholder: hostPath, target: this.target(hostPath) });
  }

  /**
   * Make a path inside the workspace read-only, as its top-level entry under
   * the workspace: a mount point cannot be renamed, so neither that entry nor
   * anything under it can be swapped from inside.
   */
  protectInWorkspace(hostPath: string, why: string): void {
    const first = relative(this.workspace, hostPath).split(sep)[0]!;
    if (first === '' || first === '..') throw new UsageError(`workspace: refused: ${why} names the workspace itself (${this.workspace}); aca cannot keep it read-only`, {
      hint: 'Point it at a directory inside the workspace, or use --workspace-mode copy.',
    });
    const top = join(this.workspace, first);
    if (this.isCovered(top)) return;
    const kind = kindOf(top);
    if (kind === 'link' || kind === 'other') {
      throw new UsageError(`workspace ${top}: refused: ${why} is there, and it is ${kind === 'link' ? 'a symbolic link' : 'not a file or directory'}; aca does not follow links in git metadata`, {
        hint: 'Replace it with a real directory, or use --workspace-mode copy.',
      });
    }
    if (kind === 'missing') this.placeholder(top);
    else this.mount(top);
    this.notes.push(`${first} is read-only in this session: ${why}`);
  }
}

/**
 * Read a repository config (and the configs it includes from inside the
 * workspace, which an agent could have written) for the paths git would run
 * hooks from. `base` is where a relative core.hooksPath resolves (the worktree).
 */
function protectConfig(plan: Planner, configPath: string, base: string, depth = 0): void {
  if (depth > 5) return;
  const text = readSmallFile(configPath);
  if (text === undefined) return;
  const facts = parseGitConfig(text);
  if (facts.hooksPath) {
    const hooks = resolve(base, expandHome(facts.hooksPath));
    if (inside(hooks, plan.workspace)) plan.protectInWorkspace(hooks, `core.hooksPath (${facts.hooksPath}) in ${configPath}`);
  }
  for (const include of facts.includes) {
    const path = resolve(dirname(configPath), expandHome(include));
    if (!inside(path, plan.workspace)) continue; // a host file the agent cannot write
    plan.protectInWorkspace(path, `${configPath} includes ${include}`);
    protectConfig(plan, path, base, depth + 1);
  }
}

/** The user's and the system's git configs: they may name a hooks directory relative to the worktree. */
function hostConfigs(env: NodeJS.ProcessEnv): string[] {
  const home = env.HOME || homedir();
  return ['/etc/gitconfig', join(env.XDG_CONFIG_HOME || join(home, '.config'), 'git', 'config'), join(home, '.gitconfig')];
}

/** A worktree's `.git` file: mount it, and the git directory it names when that directory names this workspace back. */
function protectGitFile(plan: Planner, dotGit: string): string | undefined {
  plan.mount(dotGit);
  const text = readSmallFile(dotGit) ?? '';
  const match = /^gitdir:\s*(.+?)\s*$/m.exec(text);
  if (!match) return undefined;
  let gitDir: string;
  try {
    gitDir = realpathSync(resolve(plan.workspace, match[1]!));
  } catch {
    return undefined;
  }
  // `git worktree add` writes the path of this .git file into <gitdir>/gitdir; anything else
  // (a --separate-git-dir, or a .git file an agent wrote) is not followed: it could name any host directory.
  const back = readSmallFile(join(gitDir, 'gitdir'))?.trim();
  let names: string | undefined;
  try {
    names = back ? realpathSync(resolve(gitDir, back)) : undefined;
  } catch {
    names = undefined;
  }
  if (names !== dotGit || inside(gitDir, plan.workspace)) {
    plan.notes.push(`.git names ${gitDir}, which does not name this workspace back: only the .git file is mounted (read-only); git inside the session will not find the repository`);
    return undefined;
  }
  const common = readSmallFile(join(gitDir, 'commondir'))?.trim();
  let commonDir = gitDir;
  if (common) {
    try {
      commonDir = realpathSync(resolve(gitDir, common));
    } catch {
      commonDir = gitDir;
    }
  }
  // The common directory holds the worktree's own one (worktrees/<name>), so one mount is usually both.
  plan.mount(commonDir);
  plan.mount(gitDir);
  return join(commonDir, 'config');
}

/**
 * The read-only mounts that protect a workspace's git metadata. Throws a
 * UsageError (naming the path) where aca would have to follow a link.
 */
export function gitProtection(workspacePath: string, env: NodeJS.ProcessEnv = process.env): GitProtection {
  const workspace = realpathSync(workspacePath);
  const plan = new Planner(workspace);
  const dotGit = join(workspace, '.git');
  let repoConfig: string | undefined;
  switch (kindOf(dotGit)) {
    case 'missing':
      plan.placeholder(dotGit);
      break;
    case 'dir':
      // An empty root-owned .git is a mount point an earlier session left (e.g. removed by gc): a placeholder again.
      if (isLeftoverPlaceholder(dotGit)) plan.placeholder(dotGit);
      else plan.mount(dotGit);
      repoConfig = join(dotGit, 'config');
      break;
    case 'file':
      repoConfig = protectGitFile(plan, dotGit);
      break;
    case 'link':
      throw new UsageError(`workspace ${dotGit}: refused: .git is a symbolic link; aca does not follow links in git metadata`, {
        hint: 'Replace the link with the repository it names (or a .git file), or use --workspace-mode copy.',
      });
    default:
      throw new UsageError(`workspace ${dotGit}: refused: .git is neither a directory nor a file`);
  }
  for (const config of hostConfigs(env)) protectConfig(plan, config, workspace);
  if (repoConfig) protectConfig(plan, repoConfig, workspace);
  return { mounts: plan.mounts, notes: plan.notes };
}

function isLeftoverPlaceholder(path: string): boolean {
  try {
    return lstatSync(path).uid === 0 && readdirSync(path).length === 0;
  } catch {
    return false;
  }
}

/** The label that records placeholder mount points, so whoever removes the session removes them too. */
export const GIT_PLACEHOLDERS_LABEL = 'aca.git.placeholders';

/**
 * After the session is gone: remove the empty directories the engine created
 * as placeholder mount points. rmdir removes only an empty directory, never
 * follows a link and never touches anything written there.
 */
export function removeGitPlaceholders(paths: string[], workspace: string | undefined): void {
  if (!workspace) return;
  let real = workspace;
  try {
    real = realpathSync(workspace);
  } catch {
    return;
  }
  for (const path of paths) {
    if (!inside(path, real) || path === real) continue;
    try {
      rmdirSync(path);
    } catch {
      /* gone already, or not empty: someone put something there, and it stays */
    }
  }
}

export function placeholdersOf(mounts: ProtectedMount[] | undefined): string[] {
  return (mounts ?? []).flatMap((m) => ('placeholder' in m ? [m.placeholder] : []));
}
