/** `aca shell`: a login shell in a session, bash when the image has it, else sh. */
import { createInterface } from 'node:readline';
import type { Context } from '../context.js';

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

/** Shells that, started with no terminal and no stdin, read nothing and exit 0 at once. */
const SHELLS = new Set(['sh', 'bash', 'ash', 'dash', 'zsh', 'fish', 'ksh', 'mksh']);

/** The image's default command when it is a shell (`bash`, `/bin/sh -l`, ...), else undefined. */
export function defaultShell(config: { Cmd?: string[] | null; Entrypoint?: string[] | null } | null | undefined): string | undefined {
  const entrypoint = (config?.Entrypoint ?? []).filter((word) => !/(^|\/)(aca-entrypoint|tini|catatonit|dumb-init)$/.test(word) && word !== '--');
  const command = [...entrypoint, ...(config?.Cmd ?? [])];
  const program = command[0]?.split('/').pop();
  // `sh -c SCRIPT` runs a script, not a shell waiting for input.
  return program && SHELLS.has(program) && !command.includes('-c') ? program : undefined;
}

/**
 * After `aca run IMAGE` with no command, no -d, -i or -t: when the image's default is a shell, it found no
 * terminal and no input and exited at once; say so, and how to get one, instead of a silent exit 0.
 */
export async function explainShellWithoutTerminal(ctx: Context, image: string): Promise<void> {
  const engine = await ctx.engine();
  const shell = defaultShell((await engine.images.inspect(image).catch(() => undefined))?.Config);
  if (!shell) return;
  ctx.out.warn(`${image} starts ${shell}, and no terminal was attached, so it read nothing and exited.`);
  ctx.out.info(`For a shell: aca run -it --image ${image}, or aca shell --image ${image}; to run something: aca run --image ${image} -- COMMAND`);
}

/** The running sessions on a workspace (the directory `aca shell` would mount), newest first. */
export async function projectSessions(ctx: Context, workspace: string): Promise<Array<{ name: string; created: string }>> {
  const { listSessionRows } = await import('./manage.js');
  return (await listSessionRows(ctx, false)).filter((row) => row.workspace === workspace && row.state === 'running');
}

/**
 * `aca shell` where a session of the same workspace runs already: on a terminal, ask whether to open the
 * shell there (the default) or start another; without one, say which runs and how to use it, and go on with a
 * new session. Returns the session to use, or undefined for a new one.
 */
export async function offerRunningSession(ctx: Context, workspace: string, terminal: boolean): Promise<string | undefined> {
  const [newest, ...others] = await projectSessions(ctx, workspace);
  if (!newest) return undefined;
  const more = others.length > 0 ? ` (and ${others.length} more: aca ps)` : '';
  if (!terminal) {
    ctx.out.info(`aca: session ${newest.name} runs on this workspace${more}; starting a new one. To use it: aca shell ${newest.name}`);
    return undefined;
  }
  const prompt = createInterface({ input: ctx.stdin, output: ctx.out.stderr, terminal: false });
  try {
    ctx.out.stderr.write(`Session ${newest.name} runs on this workspace${more}. Open the shell in it? [Y/n] (n: a new session; --new skips this) `);
    const answer = await new Promise<string>((resolve) => {
      prompt.once('line', resolve);
      prompt.once('close', () => resolve('n'));
    });
    return /^\s*(y|yes)?\s*$/i.test(answer) ? newest.name : undefined;
  } finally {
    prompt.close();
  }
}
