/**
 * The host side of `--branch`: host git, always with hooks, fsmonitor and the repository's own hooks path switched
 * off, so no step aca takes in the user's repository runs anything a session could have planted there.
 */
import { execFileSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { AcaError, UsageError } from '../errors.js';

/** Host git that runs no hook, no fsmonitor and never prompts. */
export const HOST_GIT = ['-c', 'core.hooksPath=/dev/null', '-c', 'core.fsmonitor=false'];

export function hostGit(repo: string, args: string[], options: { env?: NodeJS.ProcessEnv; input?: Buffer } = {}): string {
  try {
    return execFileSync('git', ['-C', repo, ...HOST_GIT, ...args], {
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...options.env, GIT_TERMINAL_PROMPT: '0' },
      ...(options.input ? { input: options.input } : {}),
      maxBuffer: 256 * 1024 * 1024,
    }).trim();
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? '').trim().split('\n').pop();
    if ((error as { code?: string }).code === 'ENOENT') throw new AcaError('git is not installed on this machine; --branch and aca merge need it');
    const command = args.find((a, i) => !a.startsWith('-') && args[i - 1] !== '-c') ?? 'git';
    throw new AcaError(`git ${command}: ${stderr || (error as Error).message}`);
  }
}

/** Whether git accepts NAME as a branch name. */
export function checkBranchName(name: string, flag = '--branch'): string {
  try {
    execFileSync('git', ['check-ref-format', '--branch', name], { stdio: 'ignore' });
  } catch {
    throw new UsageError(`${flag}: "${name}" is not a valid git branch name`);
  }
  if (name.startsWith('-')) throw new UsageError(`${flag}: "${name}" is not a valid git branch name`);
  return name;
}

/** The repository whose top level is `dir`; --branch works on a whole repository. */
export function repositoryAt(dir: string): string {
  let top: string;
  try {
    top = execFileSync('git', ['-C', dir, 'rev-parse', '--show-toplevel'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    throw new UsageError(`--branch: ${dir} is not in a git repository`);
  }
  if (realpathSync(top) !== realpathSync(dir)) {
    throw new UsageError(`--branch: run it from the top of the repository (${top}), not from ${dir}`, { hint: `Or give -w ${top}` });
  }
  return top;
}

/**
 * The commit a session starts from: HEAD, or with `uncommitted`, a commit on top of HEAD holding the working tree
 * (tracked and untracked, not ignored), made with a private index so the user's index and tree stay untouched.
 */
export function startingCommit(repo: string, uncommitted: boolean): string {
  let head: string;
  try {
    head = hostGit(repo, ['rev-parse', '--verify', '-q', 'HEAD^{commit}']);
  } catch {
    throw new UsageError(`--branch: the repository ${repo} has no commit yet; commit something first`);
  }
  if (!uncommitted) return head;
  const index = `${hostGit(repo, ['rev-parse', '--absolute-git-dir'])}/aca-index-${process.pid}`;
  const env = { GIT_INDEX_FILE: index };
  try {
    hostGit(repo, ['read-tree', head], { env });
    hostGit(repo, ['add', '-A'], { env });
    const tree = hostGit(repo, ['write-tree'], { env });
    if (tree === hostGit(repo, ['rev-parse', `${head}^{tree}`])) return head;
    return hostGit(repo, ['commit-tree', tree, '-p', head, '-m', 'aca: uncommitted changes from the host working tree'], {
      env: { GIT_AUTHOR_NAME: 'aca', GIT_AUTHOR_EMAIL: 'aca@aca.invalid', GIT_COMMITTER_NAME: 'aca', GIT_COMMITTER_EMAIL: 'aca@aca.invalid' },
    });
  } finally {
    try { execFileSync('rm', ['-f', index]); } catch { /* gone already */ }
  }
}

/** A bundle of one commit and its history, through a temporary ref (a bundle needs one), removed at once. */
export function bundleOf(repo: string, commit: string, file: string): string {
  const ref = `refs/aca/seed-${process.pid}-${Date.now()}`;
  hostGit(repo, ['update-ref', ref, commit]);
  try {
    hostGit(repo, ['bundle', 'create', '-q', file, ref]);
  } finally {
    hostGit(repo, ['update-ref', '-d', ref]);
  }
  return ref;
}

/** The branch checked out in any worktree of the repository (refs/heads/...). */
export function checkedOutBranches(repo: string): string[] {
  return hostGit(repo, ['worktree', 'list', '--porcelain'])
    .split('\n')
    .filter((line) => line.startsWith('branch '))
    .map((line) => line.slice('branch '.length));
}

export function refExists(repo: string, ref: string): boolean {
  try {
    hostGit(repo, ['rev-parse', '--verify', '-q', `${ref}^{commit}`]);
    return true;
  } catch {
    return false;
  }
}
