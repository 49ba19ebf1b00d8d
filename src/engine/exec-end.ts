/**
 * When an exec has ended, even if the engine never closes its stream.
 *
 * Docker closes an exec's stream when its process exits. Under gVisor (runsc), an exec that is still ending when
 * its container exits (the gate exec that lets a session's command start, when that command is `true`) is dropped
 * with the container, and its stream stays open for ever: waiting on the stream alone hangs aca. So, after a second,
 * aca asks the engine about the exec now and then. An exec the engine no longer knows is over (its container
 * stopped); one reported finished whose stream stays open is given up after Docker's own drain time and more,
 * so no output still in flight is cut off.
 */
import type { Engine } from './engine.js';
import { isNotFound } from './errors.js';

/** How the wait ended: the stream closed, the exec finished but its stream did not, or the engine dropped the exec. */
export type ExecEnd = 'stream' | 'exited' | 'gone';

const FIRST_ASK_MS = 1_000;
const ASK_EVERY_MS = 1_000;
/** Docker waits 2 s for an exited exec's output to drain before it closes the stream. */
const DRAIN_MS = 5_000;

function pause(ms: number, until: Promise<unknown>): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([until, new Promise((done) => { timer = setTimeout(done, ms); })]).finally(() => clearTimeout(timer));
}

export async function awaitExecEnd(engine: Engine, execId: string, streamEnded: Promise<void>): Promise<ExecEnd> {
  let closed = false;
  const stream = streamEnded.then(() => { closed = true; return 'stream' as const; });
  const asked = (async (): Promise<ExecEnd> => {
    await pause(FIRST_ASK_MS, stream);
    let finishedSince: number | undefined;
    while (!closed) {
      try {
        const exec = await engine.inspectExec(execId);
        if (exec.Running) finishedSince = undefined;
        else {
          finishedSince ??= Date.now();
          if (Date.now() - finishedSince >= DRAIN_MS) return 'exited';
        }
      } catch (error) {
        if (isNotFound(error)) return closed ? 'stream' : 'gone';
        // The engine is down or busy: the stream itself will tell.
      }
      await pause(ASK_EVERY_MS, stream);
    }
    return 'stream';
  })();
  // A failed stream rejects `stream`; the asking loop ends with it.
  asked.catch(() => {});
  return Promise.race([stream, asked]);
}
