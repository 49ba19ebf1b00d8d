/** What `aca gc` did to sessions, in the audit trail (action gc): each session it removed, or failed to, and why. */
import { appendAudit } from '../audit.js';
import type { Context } from '../context.js';
import type { GcReport } from './collect.js';

export function auditCollected(ctx: Context, report: GcReport, args: string[]): void {
  if (report.dryRun) return;
  for (const action of report.actions) {
    if (action.kind !== 'session') continue;
    appendAudit(
      ctx.env,
      { session: action.name, action: 'gc', args, outcome: action.removed ? 'ok' : 'failed', error: action.error ? `${action.reason}: ${action.error}` : action.reason },
      (m) => ctx.out.warn(m),
    );
  }
}
