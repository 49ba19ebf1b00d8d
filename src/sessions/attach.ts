/** `aca attach`: reconnect the terminal to a session's main process. */
import type { Context } from '../context.js';
import { forwardInput, pumpOutput } from '../engine/streams.js';
import { AcaError } from '../errors.js';
import { formatDetachKeys, runTerminal } from '../terminal.js';
import { resolveSession } from './resolve.js';

export async function attachSession(ctx: Context, query: string, detachKeys: Buffer): Promise<number> {
  const engine = await ctx.engine();
  const session = await resolveSession(engine, query);
  const info = await session.inspect();
  if (!info.State.Running) {
    throw new AcaError(`session ${session.name} is not running (${info.State.Status})`, { hint: `Start it with: aca start ${session.name}` });
  }
  // Keystrokes go in only where the session has a stdin and we have a terminal (or a pipe, without a TTY).
  const input = info.Config.OpenStdin && (info.Config.Tty ? Boolean(ctx.stdin.isTTY) : true);
  const { socket, head } = await engine.attachContainer(session.id, input, formatDetachKeys(detachKeys));
  if (info.Config.Tty) {
    let first = true;
    const how = await runTerminal({
      stdin: ctx.stdin,
      stdout: ctx.out.stdout as never,
      socket,
      head,
      resize: async (columns, rows) => {
        // Same size twice sends no SIGWINCH; a one-row nudge makes the program redraw.
        if (first) {
          first = false;
          await engine.resizeContainer(session.id, columns, rows + 1).catch(() => {});
        }
        await engine.resizeContainer(session.id, columns, rows);
      },
      detachKeys,
      input,
    });
    if (how === 'detached') {
      ctx.out.info(`\naca: detached from ${session.name}; it keeps running. Come back with: aca attach ${session.name}`);
      return 0;
    }
  } else {
    const output = pumpOutput(socket, head, { stdout: ctx.out.stdout as never, stderr: ctx.out.stderr as never }, true);
    const stopInput = input ? forwardInput(ctx.stdin, socket) : undefined;
    await output;
    stopInput?.();
  }
  return engine.waitContainer(session.id, 'not-running');
}
