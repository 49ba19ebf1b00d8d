/**
 * `aca monitor --supervise`: what to do about an unhealthy session that asked
 * for supervision (--on-unhealthy restart|stop). Pure bookkeeping, so the
 * limits are unit-tested: at most `maxRestarts` restarts per session, the
 * first at once, each further one after a doubling backoff.
 */
import type { UnhealthyPolicy } from '../config/sections.js';
import type { Health } from './sampler.js';

export interface SupervisorLimits {
  maxRestarts: number;
  backoffMs: number;
}

export const DEFAULT_SUPERVISOR_LIMITS: SupervisorLimits = { maxRestarts: 3, backoffMs: 5_000 };

export type Decision =
  | { action: 'restart'; restarts: number }
  | { action: 'stop' }
  | { action: 'give-up'; restarts: number };

/** One printed line of the supervisor (NDJSON with --json). */
export interface SupervisorAction {
  time: string;
  session: string;
  action: 'restart' | 'stop' | 'give-up';
  reason: 'unhealthy';
  restarts?: number;
  maxRestarts?: number;
  /** Set when the engine refused the action. */
  error?: string;
}

interface State {
  restarts: number;
  notBefore: number;
  done: boolean;
}

export class Supervisor {
  private readonly sessions = new Map<string, State>();

  constructor(readonly limits: SupervisorLimits) {}

  /** What to do now about this session; undefined when nothing is due. */
  decide(id: string, policy: UnhealthyPolicy, health: Health, now: number): Decision | undefined {
    if (policy === 'none' || health !== 'unhealthy') return undefined;
    let state = this.sessions.get(id);
    if (!state) this.sessions.set(id, (state = { restarts: 0, notBefore: 0, done: false }));
    if (state.done) return undefined;
    if (policy === 'stop') {
      state.done = true;
      return { action: 'stop' };
    }
    if (state.restarts >= this.limits.maxRestarts) {
      state.done = true;
      return { action: 'give-up', restarts: state.restarts };
    }
    if (now < state.notBefore) return undefined;
    state.restarts += 1;
    state.notBefore = now + this.limits.backoffMs * 2 ** (state.restarts - 1);
    return { action: 'restart', restarts: state.restarts };
  }

  forget(id: string): void {
    this.sessions.delete(id);
  }
}

export function describeAction(action: SupervisorAction): string {
  const detail = action.action === 'restart'
    ? `unhealthy; restart ${action.restarts} of ${action.maxRestarts}`
    : action.action === 'give-up'
      ? `still unhealthy after ${action.restarts} restarts; giving up (left running)`
      : 'unhealthy; stopped';
  return `${action.time}  ${action.action}  ${action.session}  ${detail}${action.error ? ` (failed: ${action.error})` : ''}`;
}
