/**
 * A command that cannot be started is reported in many voices: the engine's
 * error for a start or an exec (Docker's "OCI runtime exec failed: ...",
 * runc's and crun's words under Podman), the init running as PID 1 (tini as
 * Docker's --init, catatonit as Podman's), or the shell of aca's entrypoint
 * and secret launcher (`exec "$@"`). This recognises all of them, so aca can
 * say it once, in its own words, with the shell's exit code.
 */

export type StartFailureKind = 'not-found' | 'not-executable' | 'no-workdir';

/** Lines that only a launcher that could not exec the command writes. */
const LAUNCHER_FAILURE = [
  /^\[FATAL tini \(\d+\)\] exec .* failed: /m,
  /^ERROR \(catatonit:\d+\): failed to exec pid1: /m,
  // dash ("aca-entrypoint: 81: exec: x: not found") and busybox ash ("aca-entrypoint: exec: line 81: x: not found").
  /^\S*(?:aca-entrypoint|aca-launch):.* exec: .*(?:not found|Permission denied)$/m,
  /^(?:Error: )?(?:OCI runtime exec failed|(?:runc|crun): exec failed|rpc error)/m,
  /unable to start container process: exec: /,
  /^(?:Error: )?crun: (?:executable file .* not found|open executable: )/m,
];

/** How those lines begin, to tell early whether a first line still may become one. */
const LAUNCHER_STARTS = ['[FATAL tini (', 'ERROR (catatonit:', 'OCI runtime', 'Error: ', 'runc: ', 'crun: ', 'rpc error', '/usr/local/bin/aca-entrypoint:', 'aca-launch:'];

/** Whether `text` (the first output of a command, or an engine error) is a launcher saying the command did not start. */
export function isStartFailureText(text: string): boolean {
  return LAUNCHER_FAILURE.some((pattern) => pattern.test(text));
}

/**
 * For the first output of a command, which may arrive in pieces: true when it
 * is a launcher's failure, false when it cannot become one, undefined while
 * its first line is incomplete and begins like one.
 */
export function startFailureVerdict(output: Buffer): boolean | undefined {
  const text = output.toString('utf8');
  if (isStartFailureText(text)) return true;
  if (text.includes('\n') || output.length >= 4096) return false;
  return LAUNCHER_STARTS.some((start) => start.startsWith(text) || text.startsWith(start)) ? undefined : false;
}

/** Which of the shell's two cases the text describes, if either. */
export function startFailureKind(text: string): StartFailureKind | undefined {
  // gVisor does not create a working directory the image lacks (runc does): runsc says so, with "no such file".
  if (/failed to find initial working directory/i.test(text)) return 'no-workdir';
  if (/executable file (?:`[^`]*` )?not found|no such file or directory|: not found$|command not found|invoke a command that was not found/im.test(text)) return 'not-found';
  if (/permission denied|exec format error|is a directory/i.test(text)) return 'not-executable';
  return undefined;
}
