/** `aca diff` of a --branch session: its commits, then every change (committed or not) against where it started. */
import type { Context } from '../context.js';
import { diffBranch } from './branch-review.js';
import { LABEL } from '../labels.js';
import { resolveSession } from './resolve.js';

/** Print the branch's review and return true, or return false for a session without a branch (copy mode's diff). */
export async function diffIfBranch(ctx: Context, query: string, flags: { stat?: boolean; json?: boolean }): Promise<boolean> {
  const ref = await resolveSession(await ctx.engine(), query);
  if (!ref.summary.Labels?.[LABEL.branch]) return false;
  const { changes, patch } = await diffBranch(ctx, ref.name, flags);
  if (flags.json) {
    ctx.out.data(JSON.stringify(changes, null, 2));
    return true;
  }
  const head = `${changes.commits.length} commit${changes.commits.length === 1 ? '' : 's'} on ${changes.branch} since ${changes.base.slice(0, 12)}`;
  if (flags.stat) {
    for (const c of changes.commits) ctx.out.data(`commit ${c.sha.slice(0, 12)} ${c.subject}`);
    for (const f of changes.files) ctx.out.data(`${f.status[0]} ${f.path}`);
  } else {
    for (const c of changes.commits) ctx.out.data(`commit ${c.sha} ${c.subject}`);
    if (patch) ctx.out.stdout.write(patch);
  }
  ctx.out.info(`aca diff: ${head}; ${changes.files.length} changed path${changes.files.length === 1 ? '' : 's'}, ${changes.uncommitted} uncommitted`);
  return true;
}
