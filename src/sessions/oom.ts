/**
 * Saying so when a command died for lack of memory. For `aca exec` the
 * container lives on, so its OOMKilled flag says nothing; the engine's "oom"
 * event in the command's time window does. Asked only after an exit of 137.
 */
import type { Context } from '../context.js';
import type { Engine } from '../engine/index.js';
import { formatMiB } from './foreground.js';

/** The engine may log the event a moment after the exit is seen. */
const EVENT_GRACE_S = 0.25;

export async function oomEventSince(engine: Engine, containerId: string, sinceSeconds: number): Promise<boolean> {
  const events = await engine.pastEvents(
    { type: ['container'], event: ['oom'], container: [containerId] },
    { since: sinceSeconds, until: Date.now() / 1000 + EVENT_GRACE_S },
  );
  return events.some((event) => event.Action === 'oom');
}

/** After an exec'd command exited 137: report an OOM kill at the session's limit, if that is what it was. */
export async function reportExecOom(ctx: Context, engine: Engine, session: { id: string; name: string }, sinceSeconds: number): Promise<void> {
  try {
    if (!(await oomEventSince(engine, session.id, sinceSeconds))) return;
    const limit = (await engine.inspectContainer(session.id)).HostConfig.Memory ?? 0;
    const at = limit > 0 ? `at the ${formatMiB(limit)} limit of session ${session.name}` : `in session ${session.name}`;
    ctx.out.error(`out of memory: killed ${at}; raise it with --memory when you create the session`);
  } catch (error) {
    ctx.out.debug(`cannot tell whether ${session.name} ran out of memory: ${(error as Error).message}`);
  }
}
