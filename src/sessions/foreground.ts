/**
 * Shared machinery for a command running in the foreground (run and exec):
 * signal forwarding, the timeout, and turning engine failures to start a
 * command into the shell's 126/127 convention.
 */
import { readlinkSync } from 'node:fs';
import { constants } from 'node:os';
import { startFailureKind, startFailureVerdict } from '../engine/index.js';
import { CommandExit, EXIT } from '../errors.js';

export type ForwardedSignal = 'SIGINT' | 'SIGTERM' | 'SIGHUP';
const FORWARDED: ForwardedSignal[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 0);
}

/**
 * Install handlers for SIGINT/SIGTERM/SIGHUP while a foreground command runs.
 * The first signal calls `onSignal`; a second one calls `onSecond` (force).
 * Returns a function that removes the handlers.
 */
export function trapSignals(onSignal: (signal: ForwardedSignal) => void, onSecond: () => void): () => void {
  let count = 0;
  const handler = (signal: ForwardedSignal) => {
    count += 1;
    if (count === 1) onSignal(signal);
    else onSecond();
  };
  for (const signal of FORWARDED) process.on(signal, handler);
  return () => {
    for (const signal of FORWARDED) process.off(signal, handler);
  };
}

/**
 * The one message for a command that could not start, whoever reported it
 * (engine, init or entrypoint; see engine/start-failure.ts), with the shell's
 * exit code. Undefined when `text` is not about a command that did not start.
 */
export function commandDidNotStart(command: string, session: string, text: string): CommandExit | undefined {
  const kind = startFailureKind(text);
  if (kind === 'not-found') return new CommandExit(EXIT.notFound, `${command}: command not found in session ${session}`);
  if (kind === 'no-workdir') {
    const dir = /working directory "([^"]*)"/.exec(text)?.[1];
    // 127, as docker run says for it; the line says what is really missing.
    return new CommandExit(EXIT.notFound, `working directory ${dir ?? '(-w)'} does not exist in session ${session}; gVisor does not create it (runc does): use one the image has`);
  }
  if (kind === 'not-executable') return new CommandExit(EXIT.cannotExecute, `${command}: not executable (permission denied) in session ${session}`);
  return undefined;
}

/** startFailureVerdict for a terminal's output, where every line ends in \r\n. */
export function terminalStartFailureVerdict(output: Buffer): boolean | undefined {
  return startFailureVerdict(Buffer.from(output.toString('utf8').replace(/\r\n/g, '\n')));
}

export function formatMiB(bytes: number): string {
  const mib = bytes / 1024 / 1024;
  return mib >= 1024 && mib % 1024 === 0 ? `${mib / 1024} GiB` : `${Math.round(mib)} MiB`;
}

function pidNamespace(pid: number | 'self'): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return undefined;
  }
}

/**
 * Whether host pid `pid` is a process of the container whose main process is `containerPid`, on this machine. The
 * exec API cannot signal an exec'd process, so aca signals it by the pid the engine reports; a remote engine, or
 * one in a VM (Docker Desktop, podman machine), reports pids of another kernel, which here may be anyone's.
 * An exec'd process shares the container's pid namespace, which is never this process's own.
 */
export function isLocalContainerProcess(pid: number, containerPid: number): boolean {
  if (pid <= 0 || containerPid <= 0) return false;
  const container = pidNamespace(containerPid);
  return container !== undefined && container !== pidNamespace('self') && pidNamespace(pid) === container;
}
