/**
 * `--branch NAME`: the session works on its own copy of the repository, on a new branch, in its workspace volume. The
 * host's .git is never mounted; the copy goes in as a git bundle (made on the host from committed objects only) and
 * is cloned inside a helper container as the session user.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Engine } from '../engine/index.js';
import { AcaError } from '../errors.js';
import { LABEL } from '../labels.js';
import { REPO, SAFE_GIT, startGitHelper } from './branch-git.js';
import { bundleOf, checkBranchName, repositoryAt, startingCommit } from './branch-host.js';

export const BRANCH_LABEL = {
  /** The branch the session works on; work there counts as un-exported until `aca merge` (see branch-state.ts). */
  name: LABEL.branch,
  /** The commit it started from. */
  base: 'aca.branch.base',
  /** The host repository it came from. */
  repo: 'aca.branch.repo',
} as const;

export interface BranchPlan {
  name: string;
  repo: string;
  base: string;
}

/** Check everything on the host before anything is created. */
export function planBranch(workspace: string | undefined, name: string, includeUncommitted: boolean): BranchPlan {
  checkBranchName(name);
  if (!workspace) throw new AcaError('--branch needs a workspace: drop --no-workspace');
  const repo = repositoryAt(workspace);
  return { name, repo, base: startingCommit(repo, includeUncommitted) };
}

export function branchLabels(plan: BranchPlan): Record<string, string> {
  return { [BRANCH_LABEL.name]: plan.name, [BRANCH_LABEL.base]: plan.base, [BRANCH_LABEL.repo]: plan.repo };
}

/** Fill the (empty, session-owned) workspace volume with the repository, checked out on the new branch. */
export async function seedBranch(engine: Engine, options: { session: string; image: string; user: string; workspaceVolume: string; plan: BranchPlan }): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'aca-seed-'));
  let bundle: Buffer;
  let ref: string;
  try {
    ref = bundleOf(options.plan.repo, options.plan.base, join(dir, 'seed.bundle'));
    bundle = readFileSync(join(dir, 'seed.bundle'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const helper = await startGitHelper(engine, { ...options, mayChown: true });
  try {
    // The engine may have given the still-empty volume the image's root-owned /workspace (copy-up): the session
    // user gets it back before anything is in it.
    await helper.claimRepo();
    const git = `git ${SAFE_GIT.join(' ')}`;
    const script = [
      'set -e', 'cat > /tmp/seed.bundle', `cd ${REPO}`,
      `${git} init -q .`,
      `${git} fetch -q --no-tags /tmp/seed.bundle "$1"`,
      `${git} checkout -q -b "$2" FETCH_HEAD`,
    ].join('\n');
    const result = await helper.run(['/bin/sh', '-c', script, 'aca-seed', ref, options.plan.name], bundle);
    if (result.exitCode !== 0) {
      const reason = /git: (not found|No such file)/.test(result.stderr) ? `the image ${options.image} has no git` : (result.stderr.split('\n').find((l) => l.startsWith('fatal:')) ?? result.stderr.trim().split('\n').pop());
      throw new AcaError(`cannot put the repository into session ${options.session}: ${reason || `exit ${result.exitCode}`}`);
    }
  } finally {
    await helper.remove();
  }
}
