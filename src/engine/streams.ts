/**
 * Moving bytes between the host's stdio and an engine connection, byte for
 * byte, with backpressure both ways, and with stdin's EOF passed on as a
 * half-close so the command inside sees its input end.
 */
import { Writable, type Duplex, type Readable } from 'node:stream';

import { AcaError } from '../errors.js';
import { FrameDemuxer } from './demux.js';

export interface PumpOptions {
  /**
   * Docker writes its own "exec failed" text into the first stdout frame. When
   * this returns true for the first output, it and the rest are held back
   * (returned, not written) so the caller can decide what they are. It returns
   * undefined while the output so far (a frame may arrive in pieces) is too
   * short to tell; it is then asked again with more.
   */
  holdFirst?: (payload: Buffer) => boolean | undefined;
}

export interface PumpResult {
  held?: Buffer;
}

export interface Sinks {
  stdout: Writable;
  stderr: Writable;
}

/**
 * Copy the engine's output to the sinks. `multiplexed` is false for TTY
 * sessions, whose single stream is raw. Resolves once the engine closes the
 * stream and both sinks have accepted every byte.
 */
export function pumpOutput(
  socket: Readable,
  head: Buffer,
  sinks: Sinks,
  multiplexed: boolean,
  options: PumpOptions = {},
): Promise<PumpResult> {
  return new Promise((resolve, reject) => {
    let firstFrame = true;
    let held: Buffer | undefined;
    // One 'drain' listener per full sink: a chunk holds many frames, and every
    // write to a sink that is already full would otherwise add another.
    const draining = new Set<Writable>();
    const waitFor = (sink: Writable) => {
      socket.pause();
      if (draining.has(sink)) return;
      draining.add(sink);
      sink.once('drain', () => {
        draining.delete(sink);
        if (draining.size === 0) socket.resume();
      });
    };
    const write = (sink: Writable, payload: Buffer): boolean => {
      // Copy: the engine's chunk may be reused once we return.
      if (sink.write(Buffer.from(payload))) return true;
      waitFor(sink);
      return false;
    };
    // The first output, kept until holdFirst can decide about it.
    let undecided: Array<{ stream: number; payload: Buffer }> = [];
    const demux = new FrameDemuxer((stream, payload) => {
      if (firstFrame && options.holdFirst) {
        undecided.push({ stream, payload: Buffer.from(payload) });
        const verdict = options.holdFirst(Buffer.concat(undecided.map((u) => u.payload)));
        if (verdict === undefined) return true;
        firstFrame = false;
        const pending = undecided;
        undecided = [];
        if (verdict) {
          held = Buffer.concat(pending.map((u) => u.payload));
          return true;
        }
        return pending.map((u) => write(u.stream === 2 ? sinks.stderr : sinks.stdout, u.payload)).every(Boolean);
      }
      firstFrame = false;
      if (held) {
        held = Buffer.concat([held, payload]);
        return true;
      }
      return write(stream === 2 ? sinks.stderr : sinks.stdout, payload);
    });
    const onChunk = (chunk: Buffer) => (multiplexed ? demux.push(chunk) : write(sinks.stdout, chunk));
    let finished = false;
    // A sink that cannot take the output (stdout redirected to a full disk, a closed pipe) ends the pump with one
    // clear error, and the caller's clean-up runs: never an uncaught 'error' event.
    const sinkFailed = (name: keyof Sinks) => (error: NodeJS.ErrnoException) => {
      if (finished) return;
      finished = true;
      detach();
      socket.destroy();
      reject(new AcaError(`cannot write the command's output to ${name}: ${describeWriteError(error)}`, { cause: error }));
    };
    const onStdoutError = sinkFailed('stdout');
    const onStderrError = sinkFailed('stderr');
    sinks.stdout.on('error', onStdoutError);
    sinks.stderr.on('error', onStderrError);
    const detach = () => {
      sinks.stdout.off('error', onStdoutError);
      sinks.stderr.off('error', onStderrError);
    };
    const finish = () => {
      if (finished) return;
      finished = true;
      // Output too short to decide about is output.
      for (const u of undecided) write(u.stream === 2 ? sinks.stderr : sinks.stdout, u.payload);
      Promise.all([flush(sinks.stdout), flush(sinks.stderr)]).then(() => { detach(); resolve(held ? { held } : {}); }, reject);
    };
    if (head.length > 0) onChunk(head);
    socket.on('data', onChunk);
    socket.on('end', finish);
    socket.on('close', finish);
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // The engine closing a finished stream abruptly is not an error of the command.
      if (error.code === 'ECONNRESET' || error.code === 'EPIPE') finish();
      else reject(error);
    });
  });
}

function describeWriteError(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ENOSPC': return 'no space left on device (ENOSPC)';
    case 'EDQUOT': return 'disk quota exceeded (EDQUOT)';
    case 'EPIPE': return 'the reader closed the pipe (EPIPE)';
    case 'EFBIG': return 'file too large (EFBIG)';
    default: return error.code ? `${error.message}` : error.message;
  }
}

/** Resolve once everything written so far has left the stream's buffer. */
function flush(sink: Writable): Promise<void> {
  return new Promise((resolve) => {
    if (sink.writableLength === 0 || sink.destroyed) return resolve();
    sink.write('', () => resolve());
  });
}

/**
 * Forward stdin to the engine. On EOF, half-close the connection: the engine
 * then closes the command's stdin. Returns a function that stops forwarding.
 */
export function forwardInput(input: Readable, socket: Duplex): () => void {
  const onData = (chunk: Buffer) => {
    if (!socket.write(chunk)) {
      input.pause();
      socket.once('drain', () => input.resume());
    }
  };
  const onEnd = () => socket.end();
  input.on('data', onData);
  input.once('end', onEnd);
  input.resume();
  return () => {
    input.off('data', onData);
    input.off('end', onEnd);
    input.pause();
  };
}

/**
 * A sink that passes everything on to `sink` (with its backpressure) and keeps
 * the first `limit` bytes, for a look at what a command wrote first (an
 * engine's own "cannot start" line, see Engine.commandStartFailure).
 */
export function recordingHead(sink: Writable, limit = 2048): { sink: Writable; head: () => string } {
  const kept: Buffer[] = [];
  let size = 0;
  const recorder = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      if (size < limit) {
        kept.push(chunk.subarray(0, limit - size));
        size += Math.min(chunk.length, limit - size);
      }
      if (sink.write(chunk)) callback();
      else sink.once('drain', () => callback());
    },
  });
  return { sink: recorder, head: () => Buffer.concat(kept).toString('utf8') };
}
