/**
 * How strongly a session is cut off from the host kernel, as a named choice rather than a runtime name:
 *  - container: the engine's default OCI runtime (runc, crun) with aca's hardened profile;
 *  - gvisor: the same profile, and gVisor's user-space kernel (runsc) between the session and the host kernel;
 *  - auto (the default): gvisor where the engine offers it, else container.
 * Why auto: whoever registered gVisor with their engine did it to use it, and where it is absent auto costs
 * nothing. Its price where present is measured in the README (start-up and syscall-heavy work under ptrace).
 * Pure: the engine's runtimes come in as an argument.
 */
import type { IsolationFacts } from '../engine/index.js';
import { UsageError } from '../errors.js';

export type IsolationChoice = 'container' | 'gvisor' | 'auto';
export type Isolation = 'container' | 'gvisor';

export const ISOLATION_CHOICES: readonly IsolationChoice[] = ['container', 'gvisor', 'auto'];
export const DEFAULT_ISOLATION: IsolationChoice = 'auto';

export function parseIsolation(value: string, flag = '--isolation'): IsolationChoice {
  if ((ISOLATION_CHOICES as readonly string[]).includes(value)) return value as IsolationChoice;
  throw new UsageError(`${flag}: expected container, gvisor or auto, got "${value}"`);
}

export interface ChosenIsolation {
  isolation: Isolation;
  /** The OCI runtime to ask for; undefined is the engine's default. */
  runtime: string | undefined;
}

export const GVISOR_SETUP_HINT = 'aca doctor shows the steps for this machine; as root on Debian, aca doctor --fix performs them.';

/** The isolation a session gets, from the choice, an explicit --runtime, and what the engine offers. */
export function chooseIsolation(choice: IsolationChoice, runtimeFlag: string | undefined, facts: IsolationFacts): ChosenIsolation {
  const isGvisor = (runtime: string | undefined) => runtime !== undefined && (runtime === facts.gvisorRuntime || /(?:^|\/)runsc$/.test(runtime));
  if (choice === 'gvisor') {
    if (runtimeFlag && !isGvisor(runtimeFlag)) {
      throw new UsageError(`--isolation gvisor contradicts --runtime ${runtimeFlag}: drop one of them`);
    }
    const runtime = runtimeFlag ?? facts.gvisorRuntime;
    if (!runtime) {
      throw new UsageError(`--isolation gvisor: gVisor (runsc) is not registered with this engine (it lists ${facts.runtimes.join(', ') || 'no runtimes'})`, { hint: GVISOR_SETUP_HINT });
    }
    return { isolation: 'gvisor', runtime };
  }
  if (runtimeFlag) {
    if (choice === 'container' && isGvisor(runtimeFlag)) throw new UsageError(`--isolation container contradicts --runtime ${runtimeFlag} (gVisor)`);
    return { isolation: isGvisor(runtimeFlag) ? 'gvisor' : 'container', runtime: runtimeFlag };
  }
  if (choice === 'auto' && facts.autoMayPickGvisor && facts.gvisorRuntime) return { isolation: 'gvisor', runtime: facts.gvisorRuntime };
  return { isolation: 'container', runtime: undefined };
}

/**
 * The least pids limit a gVisor session can start with. The limit is the host's cgroup's, and under gVisor it counts
 * gVisor's own host threads too: an idle sandbox is about 40 of them on a 2-CPU machine with the ptrace platform, and
 * every process inside adds about 9. Below this, the sandbox dies while aca delivers the session's CA bundle or
 * secrets, with a message from deep inside runsc.
 */
export const GVISOR_MIN_PIDS = 128;

/** Refuse a pids limit gVisor cannot start a session under. Pure. */
export function checkGvisorPids(pids: number): void {
  if (pids >= GVISOR_MIN_PIDS) return;
  throw new UsageError(`--pids ${pids}: too low under gVisor, whose own threads count against the limit (about 40, and 9 per process): use at least ${GVISOR_MIN_PIDS}, or --isolation container`);
}
