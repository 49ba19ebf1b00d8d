/**
 * Reviewing and bringing home a `--branch` session: `aca diff` (the branch's commits and every change, committed or
 * not, against where it started) and `aca merge` (the branch's objects, as a bundle made inside a helper container,
 * fetched into the host repository). The bundle is hostile input: host git fetches it with hooks and fsmonitor off and
 * every object checked (fsck); nothing of the session's .git (config, hooks, attributes' drivers) is copied.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context } from '../context.js';
import { AcaError, UsageError } from '../errors.js';
import { REPO, SAFE_GIT, startGitHelper, type GitHelper } from './branch-git.js';
import { checkedOutBranches, checkBranchName, hostGit, refExists } from './branch-host.js';
import { BRANCH_LABEL } from './branch.js';
import { recordMerged } from './branch-state.js';
import { resolveSession } from './resolve.js';
import { workspaceVolumeName } from './storage.js';

interface BranchSession {
  name: string;
  branch: string;
  base: string;
  repo: string;
}

async function withHelper<T>(ctx: Context, query: string, work: (session: BranchSession, helper: GitHelper) => Promise<T>): Promise<T> {
  const engine = await ctx.engine();
  const ref = await resolveSession(engine, query);
  const labels = ref.summary.Labels ?? {};
  const branch = labels[BRANCH_LABEL.name];
  if (!branch) throw new AcaError(`session ${ref.name} has no branch of its own (start one with --branch NAME)`);
  const info = await ref.inspect();
  const session = { name: ref.name, branch, base: labels[BRANCH_LABEL.base] ?? '', repo: labels[BRANCH_LABEL.repo] ?? '' };
  const helper = await startGitHelper(engine, { session: ref.name, image: info.Config.Image, user: info.Config.User || '1000:1000', workspaceVolume: workspaceVolumeName(ref.name) });
  try {
    return await work(session, helper);
  } finally {
    await helper.remove();
  }
}

async function git(helper: GitHelper, args: string[], what: string): Promise<Buffer> {
  const result = await helper.run(['git', ...SAFE_GIT, '-C', REPO, ...args]);
  if (result.exitCode !== 0) throw new AcaError(`${what}: ${result.stderr.trim().split('\n').pop() || `git exit ${result.exitCode}`}`);
  return result.stdout;
}

/** Every change in the session's work tree (untracked too), staged in a private index: the repository is left as it is. */
const STAGE_ALL = `set -e; export GIT_INDEX_FILE=/tmp/aca-review-index; cd ${REPO}; git ${SAFE_GIT.join(' ')} read-tree HEAD; git ${SAFE_GIT.join(' ')} add -A; `;

export interface BranchChanges {
  session: string;
  branch: string;
  base: string;
  commits: Array<{ sha: string; subject: string }>;
  files: Array<{ status: string; path: string }>;
  uncommitted: number;
}

export async function diffBranch(ctx: Context, query: string, options: { stat?: boolean; json?: boolean }): Promise<{ changes: BranchChanges; patch: string }> {
  return withHelper(ctx, query, async (session, helper) => {
    const log = (await git(helper, ['log', '--format=%H %s', `${session.base}..HEAD`], 'cannot read the branch')).toString('utf8');
    const commits = log.split('\n').filter(Boolean).map((line) => ({ sha: line.slice(0, 40), subject: line.slice(41) }));
    const diffArgs = `git ${SAFE_GIT.join(' ')} diff --cached --no-ext-diff --no-textconv --no-color`;
    const names = await helper.run(['/bin/sh', '-c', `${STAGE_ALL}${diffArgs} --name-status ${session.base}; echo '--'; ${diffArgs} --name-only HEAD`]);
    if (names.exitCode !== 0) throw new AcaError(`cannot compare ${session.name}'s work tree: ${names.stderr.trim().split('\n').pop()}`);
    const [all = '', uncommitted = ''] = names.stdout.toString('utf8').split('--\n');
    const files = all.split('\n').filter(Boolean).map((line) => ({ status: line.split('\t')[0]!, path: line.split('\t').slice(1).join(' -> ') }));
    const changes: BranchChanges = { session: session.name, branch: session.branch, base: session.base, commits, files, uncommitted: uncommitted.split('\n').filter(Boolean).length };
    if (options.json || options.stat) return { changes, patch: '' };
    const patch = await helper.run(['/bin/sh', '-c', `${STAGE_ALL}${diffArgs} ${session.base}`]);
    return { changes, patch: patch.stdout.toString('utf8') };
  });
}

/** Make the bundle inside the helper and bring its bytes out. */
async function branchBundle(helper: GitHelper, branch: string): Promise<Buffer> {
  await git(helper, ['bundle', 'create', '-q', '/tmp/aca-out.bundle', `refs/heads/${branch}`], `cannot bundle the branch ${branch}`);
  const out = await helper.run(['cat', '/tmp/aca-out.bundle']);
  if (out.exitCode !== 0) throw new AcaError(`cannot read the bundle of ${branch}: ${out.stderr.trim()}`);
  return out.stdout;
}

export interface MergeResult {
  session: string;
  branch: string;
  commit: string;
  into?: string | undefined;
  how?: 'fast-forward' | 'merge' | 'up-to-date' | undefined;
  uncommitted: number;
}

export async function mergeBranch(ctx: Context, query: string, options: { into?: string | undefined }): Promise<MergeResult> {
  const into = options.into ? checkBranchName(options.into, '--into') : undefined;
  return withHelper(ctx, query, async (session, helper) => {
    if (!session.repo) throw new AcaError(`session ${session.name} does not say which repository it came from`);
    const checkedOut = checkedOutBranches(session.repo);
    const target = `refs/heads/${session.branch}`;
    if (checkedOut.includes(target)) {
      throw new AcaError(`the host has ${session.branch} checked out; aca merge never touches a working tree`, { hint: 'Switch the host to another branch first.' });
    }
    if (into && checkedOut.includes(`refs/heads/${into}`)) {
      throw new AcaError(`--into ${into}: it is checked out on the host; merging into it would touch the working tree`, { hint: `Switch the host to another branch, or merge ${session.branch} yourself.` });
    }
    const uncommitted = (await helper.run(['/bin/sh', '-c', `${STAGE_ALL}git ${SAFE_GIT.join(' ')} diff --cached --name-only HEAD`])).stdout.toString('utf8').split('\n').filter(Boolean).length;
    const bundle = await branchBundle(helper, session.branch);
    const dir = mkdtempSync(join(tmpdir(), 'aca-merge-'));
    try {
      const file = join(dir, 'branch.bundle');
      writeFileSync(file, bundle, { mode: 0o600 });
      // No '+': a host branch of that name that the session's does not extend is refused, never overwritten.
      hostGit(session.repo, ['-c', 'transfer.fsckObjects=true', '-c', 'fetch.fsckObjects=true', 'fetch', '-q', '--no-tags', '--no-write-fetch-head', '--no-recurse-submodules', file, `${target}:${target}`]);
    } catch (error) {
      throw new AcaError(`cannot bring ${session.branch} into ${session.repo}: ${(error as Error).message.replace(/^git fetch: /, '')}`, {
        hint: refExists(session.repo, target) ? `The host's branch ${session.branch} has commits the session's lacks; rename it, or merge by hand.` : undefined,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const commit = hostGit(session.repo, ['rev-parse', target]);
    recordMerged(ctx.env, { session: session.name, branch: session.branch, repo: session.repo, commit });
    const result: MergeResult = { session: session.name, branch: session.branch, commit, uncommitted };
    if (into) Object.assign(result, { into, how: mergeInto(session.repo, into, session.branch, session.name) });
    return result;
  });
}

/** Fast-forward INTO to the branch, or merge without a working tree; refuse on conflicts. */
function mergeInto(repo: string, into: string, branch: string, session: string): 'fast-forward' | 'merge' | 'up-to-date' {
  const intoRef = `refs/heads/${into}`;
  if (!refExists(repo, intoRef)) throw new UsageError(`--into ${into}: no such branch in ${repo}`);
  const old = hostGit(repo, ['rev-parse', intoRef]);
  const tip = hostGit(repo, ['rev-parse', `refs/heads/${branch}`]);
  const isAncestor = (a: string, b: string) => {
    try {
      hostGit(repo, ['merge-base', '--is-ancestor', a, b]);
      return true;
    } catch {
      return false;
    }
  };
  if (isAncestor(tip, old)) return 'up-to-date';
  if (isAncestor(old, tip)) {
    hostGit(repo, ['update-ref', '-m', `aca merge ${session}: fast-forward`, intoRef, tip, old]);
    return 'fast-forward';
  }
  let tree: string;
  try {
    tree = hostGit(repo, ['merge-tree', '--write-tree', '--no-messages', old, tip]).split('\n')[0]!;
  } catch {
    throw new AcaError(`--into ${into}: ${branch} conflicts with ${into}; nothing was changed (${branch} is on the host: merge it by hand)`);
  }
  const commit = hostGit(repo, ['commit-tree', tree, '-p', old, '-p', tip, '-m', `Merge branch '${branch}' (aca session ${session})`]);
  hostGit(repo, ['update-ref', '-m', `aca merge ${session}`, intoRef, commit, old]);
  return 'merge';
}
