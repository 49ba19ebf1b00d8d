/** ps, stop, start, rm and logs: the session lifecycle outside run/exec. */
import { ISOLATION_LABEL } from '../security/profile.js';
import type { Context } from '../context.js';
import { type ContainerSummary, EngineApiError, pumpOutput } from '../engine/index.js';
import { AcaError } from '../errors.js';
import { LABEL } from '../labels.js';
import { listSessions, resolveSession, sessionName } from './resolve.js';
import { removeSessionVolumes } from './storage.js';
import { appendAudit } from '../audit.js';
import { releaseSessionNetwork } from './network.js';
import { needsRedelivery, redeliverSecrets } from './secure-run.js';
import { GIT_PLACEHOLDERS_LABEL, removeGitPlaceholders } from '../security/git.js';
import { takeDiskStop } from './disk-limit.js';
import { restartDiskGuard } from './disk-guard.js';

export interface SessionRow {
  name: string;
  id: string;
  image: string;
  state: string;
  status: string;
  created: string;
  workspace: string;
  health: string;
  /** A foreground session whose aca process is gone; aca gc removes it. */
  orphaned: boolean;
  /** The agent preset it runs (--agent), and the branch it works on (--branch), or null. */
  agent: string | null;
  branch: string | null;
  /** An environment `aca mcp` opened for an agent on the host. */
  mcp: boolean;
  /** container or gvisor. */
  isolation: string;
  /** A copy-mode session whose workspace changes are not exported yet; aca gc keeps it. */
  unexported: boolean;
}

/** Health as `docker ps` shows it in Status: "(healthy)", "(unhealthy)", "(health: starting)". */
export function healthFromStatus(status: string): string {
  const match = /\((healthy|unhealthy|health: starting)\)/.exec(status);
  if (!match) return 'none';
  return match[1] === 'health: starting' ? 'starting' : match[1]!;
}

export function toRow(summary: ContainerSummary, orphaned = false, unexported = false): SessionRow {
  return {
    name: sessionName(summary),
    id: summary.Id.slice(0, 12),
    image: summary.Image,
    state: summary.State,
    status: summary.Status,
    created: new Date(summary.Created * 1000).toISOString(),
    workspace: summary.Labels?.[LABEL.workspace] ?? '',
    health: healthFromStatus(summary.Status),
    orphaned,
    agent: summary.Labels?.[LABEL.agent] ?? null,
    branch: summary.Labels?.[LABEL.branch] ?? null,
    mcp: summary.Labels?.[LABEL.mcp] === 'true',
    isolation: summary.Labels?.[ISOLATION_LABEL] ?? 'container',
    unexported,
  };
}

export async function listSessionRows(ctx: Context, all: boolean): Promise<SessionRow[]> {
  const engine = await ctx.engine();
  const sessions = await listSessions(engine, all);
  const { hostFacts, isOrphan } = await import('../host.js');
  const facts = hostFacts();
  const marked = new Set((await engine.volumes.list([`${LABEL.managed}=true`, `${LABEL.volume}=unexported`])).map((v) => v.Labels?.[LABEL.session]));
  return sessions
    .map((s) => toRow(s, isOrphan(s.Labels ?? {}, facts), marked.has(sessionName(s))))
    .sort((a, b) => b.created.localeCompare(a.created));
}

export type LifecycleAction = 'stop' | 'start' | 'rm';

export interface ActionResult {
  session: string;
  ok: boolean;
  error?: string;
}

/**
 * Apply an action to each named session. Every name is tried; failures are
 * reported per session and make the command fail at the end, as docker does.
 */
export async function applyToSessions(
  ctx: Context,
  action: LifecycleAction,
  names: string[],
  options: { force?: boolean; timeoutSeconds?: number } = {},
): Promise<ActionResult[]> {
  const engine = await ctx.engine();
  const results: ActionResult[] = [];
  for (const query of names) {
    try {
      const session = await resolveSession(engine, query);
      if (action === 'stop') await engine.stopContainer(session.id, options.timeoutSeconds);
      else if (action === 'start') {
        const diskStop = takeDiskStop(ctx.env, session.name);
        await engine.startContainer(session.id);
        // A session with secrets or a CA bundle waits for them again: its tmpfs mounts were emptied when it stopped.
        if (needsRedelivery(session.summary.Labels)) await redeliverSecrets(ctx, engine, session.id);
        await restartDiskGuard(ctx, engine, session.id, diskStop);
      }
      else {
        if (session.summary.State === 'running' && !options.force) {
          throw new AcaError(`session ${session.name} is running; stop it first or use rm -f`);
        }
        await engine.removeContainer(session.id, { force: options.force ?? false });
        const labels = session.summary.Labels ?? {};
        removeGitPlaceholders((labels[GIT_PLACEHOLDERS_LABEL] ?? '').split('\n').filter(Boolean), labels[LABEL.workspace]);
        await removeSessionVolumes(engine, session.name);
        await releaseSessionNetwork(engine, session.name);
      }
      results.push({ session: session.name, ok: true });
      appendAudit(ctx.env, { session: session.name, action, args: process.argv.slice(2) }, (m) => ctx.out.warn(m));
    } catch (error) {
      const message = error instanceof EngineApiError ? `${query}: ${error.message}` : (error as Error).message;
      results.push({ session: query, ok: false, error: message });
      appendAudit(ctx.env, { session: query, action, args: process.argv.slice(2), outcome: 'failed', error: message }, (m) => ctx.out.warn(m));
    }
  }
  return results;
}

export async function streamLogs(ctx: Context, query: string, options: { follow: boolean; tail?: string; timestamps?: boolean }): Promise<void> {
  const engine = await ctx.engine();
  const session = await resolveSession(engine, query);
  const info = await session.inspect();
  const res = await engine.logs(session.id, options);
  await pumpOutput(res, Buffer.alloc(0), { stdout: ctx.out.stdout as never, stderr: ctx.out.stderr as never }, !info.Config.Tty);
}
