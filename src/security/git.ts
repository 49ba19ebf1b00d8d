/**
 * Keep an agent from planting code that later runs on the host through the
 * workspace's git metadata: hooks run on the next host `git commit`, and
 * .git/config can name commands (core.fsmonitor, core.hooksPath, filters,
 * aliases). Both are mounted read-only over the writable workspace; commits
 * still work, since committing writes objects and refs, not these.
 */
import { lstatSync, mkdirSync, realpathSync } from 'node:fs';
import { join } from 'node:path';

export interface ProtectedPath {
  source: string;
  /** Path inside the workspace. */
  relative: string;
}

/**
 * The paths to mount read-only for a workspace. A worktree's `.git` file
 * (which names the real git directory) is protected as a whole; a missing
 * hooks directory is created (empty, as `git init` would) so there is
 * something to protect: otherwise the agent could create it.
 */
export function gitProtection(workspace: string): ProtectedPath[] {
  const dotGit = join(workspace, '.git');
  let stat;
  try {
    stat = lstatSync(dotGit);
  } catch {
    return [];
  }
  if (stat.isFile()) return [{ source: realpathSync(dotGit), relative: '.git' }];
  if (!stat.isDirectory()) return [];
  const hooks = join(dotGit, 'hooks');
  try {
    lstatSync(hooks);
  } catch {
    mkdirSync(hooks, { mode: 0o755 });
  }
  const paths: ProtectedPath[] = [{ source: realpathSync(hooks), relative: '.git/hooks' }];
  try {
    paths.push({ source: realpathSync(join(dotGit, 'config')), relative: '.git/config' });
  } catch {
    /* no config: not a usable repository, nothing to protect */
  }
  return paths;
}
