/** `aca shell`: a login shell in a session, bash when the image has it, else sh. */

/** Prefer bash, fall back to sh; both as login shells so profiles run. */
export const LOGIN_SHELL = ['/bin/sh', '-c', 'if command -v bash >/dev/null 2>&1; then exec bash -l; fi; exec sh -l'];

/**
 * With a terminal on both ends: a TTY, interactive. Without one (a pipe,
 * /dev/null, a CI step): the shell reads commands from stdin, with no TTY, so
 * nothing hangs and nothing is garbled by terminal control codes.
 */
export function shellMode(stdin: { isTTY?: boolean }, stdout: { isTTY?: boolean }): { tty: boolean; interactive: true } {
  return { tty: Boolean(stdin.isTTY && stdout.isTTY), interactive: true };
}
