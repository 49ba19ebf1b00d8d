/** `aca attach`: reconnect the terminal to a session's main process. */
import type { Readable } from 'node:stream';
import type { Context } from '../context.js';
import { forwardInput, pumpOutput } from '../engine/index.js';
import { AcaError } from '../errors.js';
import { DetachMatcher, formatDetachKeys, runTerminal } from '../terminal.js';
import { resolveSession } from './resolve.js';

/** Lines of earlier output shown when attaching to a session without a terminal (it has no screen to redraw). */
export const ATTACH_TAIL_LINES = 20;
const CTRL_C = 0x03;

type TtyIn = Readable & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };

export async function attachSession(ctx: Context, query: string, detachKeys: Buffer): Promise<number> {
  const engine = await ctx.engine();
  const session = await resolveSession(engine, query);
  const info = await session.inspect();
  if (!info.State.Running) {
    throw new AcaError(`session ${session.name} is not running (${info.State.Status})`, { hint: `Start it with: aca start ${session.name}` });
  }
  const detached = () => {
    ctx.out.info(`\naca: detached from ${session.name}; it keeps running. Come back with: aca attach ${session.name}`);
    return 0;
  };
  // Keystrokes go in only where the session has a stdin and we have a terminal (or a pipe, without a TTY).
  const input = info.Config.OpenStdin && (info.Config.Tty ? Boolean(ctx.stdin.isTTY) : true);
  const { socket, head } = await engine.attachContainer(session.id, input, formatDetachKeys(detachKeys));
  if (info.Config.Tty) {
    let first = true;
    const { how } = await runTerminal({
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
    return how === 'detached' ? detached() : engine.waitContainer(session.id, 'not-running');
  }

  // No terminal in the session: nothing redraws, so show what it printed last (the attach stream holds what
  // comes meanwhile), and say plainly what this is and how to leave.
  const sinks = { stdout: ctx.out.stdout as never, stderr: ctx.out.stderr as never };
  const keys = Boolean(ctx.stdin.isTTY);
  ctx.out.info(
    `aca: attached to ${session.name}, which has no terminal: its output (last ${ATTACH_TAIL_LINES} lines first)` +
      (info.Config.OpenStdin ? ', and what you type, without echo' : ', no input') +
      (keys ? `. Detach with ${describeKeys(detachKeys)} or Ctrl-C; it keeps running.` : '. It keeps running when this ends.'),
  );
  await pumpOutput(await engine.logs(session.id, { follow: false, tail: String(ATTACH_TAIL_LINES) }), Buffer.alloc(0), sinks, true);
  const output = pumpOutput(socket, head, sinks, true);
  if (!keys) {
    const stopInput = input ? forwardInput(ctx.stdin, socket) : undefined;
    await output;
    stopInput?.();
    return engine.waitContainer(session.id, 'not-running');
  }
  const watch = watchKeys(ctx.stdin as TtyIn, detachKeys, input ? (bytes) => socket.write(bytes) : undefined);
  const how = await Promise.race([output.then(() => 'ended' as const), watch.detached.then(() => 'detached' as const)]);
  watch.stop();
  if (how === 'ended') return engine.waitContainer(session.id, 'not-running');
  socket.destroy();
  return detached();
}

/** "ctrl-p,ctrl-q" as a person reads it: Ctrl-P Ctrl-Q. */
function describeKeys(keys: Buffer): string {
  return formatDetachKeys(keys).split(',').map((k) => k.replace(/^ctrl-(.)$/, (_, c: string) => `Ctrl-${c.toUpperCase()}`)).join(' ');
}

/**
 * Read the local terminal key by key (raw mode: a cooked terminal would echo ^P and swallow Ctrl-Q as flow
 * control) until the detach keys or Ctrl-C; other bytes go to `forward`, when the session takes input.
 * libuv's raw mode keeps output processing, so the session's bare newlines still start a new line.
 */
function watchKeys(stdin: TtyIn, keys: Buffer, forward?: (bytes: Buffer) => void): { detached: Promise<void>; stop: () => void } {
  const matcher = new DetachMatcher(keys);
  const restore = () => { try { stdin.setRawMode?.(false); } catch { /* terminal gone */ } };
  let onDetach: () => void = () => {};
  const detached = new Promise<void>((resolve) => { onDetach = resolve; });
  const onData = (chunk: Buffer) => {
    const { forward: bytes, detach } = matcher.feed(chunk);
    if (detach || bytes.includes(CTRL_C)) return onDetach();
    if (bytes.length > 0) forward?.(bytes);
  };
  process.once('exit', restore);
  stdin.setRawMode?.(true);
  stdin.on('data', onData);
  stdin.resume();
  return {
    detached,
    stop: () => {
      stdin.off('data', onData);
      stdin.pause();
      restore();
      process.off('exit', restore);
    },
  };
}
