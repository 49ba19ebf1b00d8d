/** `--agent` and `--branch` for `aca run` and `aca shell`, resolved before the rest of the session's flags. */
import type { Context } from '../context.js';
import type { AcaConfig } from '../config/schema.js';
import { UsageError } from '../errors.js';
import type { AgentFlags, AppliedAgent } from '../agents/apply.js';
import type { BranchPlan } from './branch.js';

/** The flags read here (generic, so this module needs nothing from options.ts, which calls it). */
export interface AgentBranchFlags extends AgentFlags {
  branch?: string;
  includeUncommitted?: boolean;
  workspaceMode?: string;
  workspaceRo?: boolean;
}

/** --agent and --branch, resolved first: a preset fills in flags; a branch checks the repository before anything is made. */
export async function agentAndBranch<F extends AgentBranchFlags>(
  ctx: Context,
  flags: F,
  command: string[],
  workspace: string | undefined,
  file: AcaConfig,
  agentName: string | undefined,
  shell: boolean | undefined,
): Promise<{ flags: F; command: string[]; agent?: AppliedAgent<F> | undefined; branch?: BranchPlan | undefined }> {
  let agent: AppliedAgent<F> | undefined;
  if (agentName) {
    const { applyAgent } = await import('../agents/apply.js');
    agent = applyAgent(agentName, file.agents, flags, command, ctx.env, { keepCommand: shell });
  } else if (flags.agentLogin) throw new UsageError('--agent-login needs --agent NAME');
  let branch: BranchPlan | undefined;
  if (flags.branch) {
    if (flags.workspaceMode || flags.workspaceRo) throw new UsageError('--branch gives the session its own copy of the repository; drop --workspace-mode / --workspace-ro');
    const { planBranch } = await import('./branch.js');
    branch = planBranch(workspace, flags.branch, Boolean(flags.includeUncommitted));
  } else if (flags.includeUncommitted) throw new UsageError('--include-uncommitted needs --branch NAME');
  return { flags: agent?.flags ?? flags, command: agent?.command ?? command, agent, branch };
}

