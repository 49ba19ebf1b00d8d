/**
 * Forwarding a signal to an exec'd command. The Engine API cannot signal an exec, so aca signals the host pid the
 * engine reports, when that pid is a process of the container on this machine (runc, crun). Under gVisor the
 * reported pid is runsc's exec proxy, which does not forward signals (killing it orphans the command inside), so
 * there the command records its pid inside the sandbox when it starts, and aca delivers the signal with a second
 * exec that runs `kill` in the sandbox, as the same user.
 */
import { randomBytes } from 'node:crypto';
import type { Engine } from '../engine/index.js';
import { isLocalContainerProcess, type ForwardedSignal } from './foreground.js';

export interface ExecSignaller {
  /** The command to exec, wrapped where the pid must be recorded. */
  command: string[];
  /** Deliver `signal` to the exec'd command; false when aca cannot reach it. */
  signal(signal: ForwardedSignal | 'SIGKILL'): Promise<boolean>;
}

export function execSignaller(engine: Engine, container: { id: string; gvisor: boolean }, execId: () => string, command: string[], user?: string): ExecSignaller {
  if (!container.gvisor) {
    let hostPid = 0;
    return {
      command,
      async signal(signal) {
        if (hostPid === 0) {
          const [exec, info] = await Promise.all([engine.inspectExec(execId()), engine.inspectContainer(container.id)]);
          if (!isLocalContainerProcess(exec.Pid, info.State.Pid)) return false;
          hostPid = exec.Pid;
        }
        try {
          process.kill(hostPid, signal);
          return true;
        } catch {
          return false;
        }
      },
    };
  }
  // /tmp is the session's own tmpfs; a session that rewrites the file can only make aca signal its own processes.
  const pidFile = `/tmp/.aca-exec-${randomBytes(6).toString('hex')}.pid`;
  return {
    // $0 names the shell in its own errors: as the secret launcher's, so a command that cannot start is told the same way.
    command: ['/bin/sh', '-c', 'echo $$ > "$1" && shift && exec "$@"', 'aca-launch', pidFile, ...command],
    async signal(signal) {
      const name = signal.replace(/^SIG/, '');
      const result = await engine.execWithInput(container.id, { cmd: ['/bin/sh', '-c', 'kill -s "$0" "$(cat "$1")"', name, pidFile], user });
      return result.exitCode === 0;
    },
  };
}
