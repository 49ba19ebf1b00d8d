/** `--agent` and `--branch` for `aca run` and `aca shell`, resolved before the rest of the session's flags. */
import type { Context } from '../context.js';
import type { AcaConfig } from '../config/schema.js';
import { UsageError } from '../errors.js';
import type { BranchPlan } from '../sessions/branch.js';
import type { RunFlags } from '../sessions/options.js';
import type { AppliedAgent } from './apply.js';

/** --agent and --branch, resolved first: a preset fills in flags; a branch checks the repository before anything is made. */
export async function agentAndBranch(
  ctx: Context,
  flags: RunFlags,
  command: string[],
  workspace: string | undefined,
  file: AcaConfig,
  agentName: string | undefined,
  shell: boolean | undefined,
): Promise<{ flags: RunFlags; command: string[]; agent?: AppliedAgent<RunFlags> | undefined; branch?: BranchPlan | undefined }> {
  let agent: AppliedAgent<RunFlags> | undefined;
  if (agentName) {
    const { applyAgent } = await import('../agents/apply.js');
    agent = applyAgent(agentName, file.agents, flags, command, ctx.env, { keepCommand: shell });
  } else if (flags.agentLogin) throw new UsageError('--agent-login needs --agent NAME');
  let branch: BranchPlan | undefined;
  if (flags.branch) {
    if (flags.workspaceMode || flags.workspaceRo) throw new UsageError('--branch gives the session its own copy of the repository; drop --workspace-mode / --workspace-ro');
    const { planBranch } = await import('../sessions/branch.js');
    branch = planBranch(workspace, flags.branch, Boolean(flags.includeUncommitted));
  } else if (flags.includeUncommitted) throw new UsageError('--include-uncommitted needs --branch NAME');
  return { flags: agent?.flags ?? flags, command: agent?.command ?? command, agent, branch };
}

