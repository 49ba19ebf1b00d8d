/**
 * src/engine/streams.ts and demux.ts as a library: the multiplexed stream demuxed whatever the chunking (a frame
 * header split byte by byte, many frames in one chunk), stdout and stderr kept apart, backpressure from a slow sink,
 * the held first frame, an engine that resets the connection, and input forwarded with its EOF as a half-close.
 */
import { PassThrough, Readable, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { FrameDemuxer } from '../../src/engine/demux.js';
import { forwardInput, pumpOutput, recordingHead } from '../../src/engine/streams.js';
import { frame } from '../helpers/fake-engine.js';

/** A sink that keeps what it is given; `delayMs` makes each write slow (backpressure). */
function sink(delayMs = 0, highWaterMark = 16): Writable & { text: () => string; bytes: () => Buffer } {
  const parts: Buffer[] = [];
  const w = new Writable({
    highWaterMark,
    write(chunk: Buffer, _encoding, callback) {
      parts.push(Buffer.from(chunk));
      if (delayMs) setTimeout(callback, delayMs);
      else callback();
    },
  });
  return Object.assign(w, { text: () => Buffer.concat(parts).toString('utf8'), bytes: () => Buffer.concat(parts) });
}

/** Every way of cutting `data` in two and three pieces, plus byte by byte. */
function cuttings(data: Buffer): Buffer[][] {
  const ways: Buffer[][] = [];
  for (let i = 1; i < data.length; i++) ways.push([data.subarray(0, i), data.subarray(i)]);
  for (let i = 1; i < data.length; i += 3) {
    for (let j = i + 1; j < data.length; j += 5) ways.push([data.subarray(0, i), data.subarray(i, j), data.subarray(j)]);
  }
  ways.push([...data].map((byte) => Buffer.from([byte])));
  return ways;
}

describe('multiplexed stream demux', () => {
  const wire = Buffer.concat([frame(1, 'out 1\n'), frame(2, 'err ☕\n'), frame(1, ''), frame(1, 'out 2\n')]);

  it('gives the same frames however the stream is cut into chunks', () => {
    for (const pieces of cuttings(wire)) {
      const out: string[] = [];
      const demux = new FrameDemuxer((stream, payload) => { out.push(`${stream}:${payload.toString('latin1')}`); return true; });
      for (const piece of pieces) demux.push(piece);
      // Payloads may arrive in parts; joined per stream they are whole.
      const joined = (id: number) => out.filter((o) => o.startsWith(`${id}:`)).map((o) => o.slice(2)).join('');
      expect(Buffer.from(joined(1), 'latin1').toString('utf8')).toBe('out 1\nout 2\n');
      expect(Buffer.from(joined(2), 'latin1').toString('utf8')).toBe('err ☕\n');
    }
  });

  it('pumps stdout and stderr apart, byte for byte, with frames split across chunks', async () => {
    const binary = Buffer.from([0, 1, 2, 255, 254, 10, 13]);
    const data = Buffer.concat([frame(1, binary), frame(2, 'warning\n'), frame(1, 'é'.repeat(3000))]);
    for (const pieces of [[data], [data.subarray(0, 3), data.subarray(3, 13), data.subarray(13)]]) {
      const stdout = sink();
      const stderr = sink();
      const socket = Readable.from(pieces, { objectMode: false });
      await pumpOutput(socket, Buffer.alloc(0), { stdout, stderr }, true);
      expect(stdout.bytes()).toEqual(Buffer.concat([binary, Buffer.from('é'.repeat(3000))]));
      expect(stderr.text()).toBe('warning\n');
    }
  });

  it('passes a TTY\'s raw stream through untouched, starting with the bytes read with the upgrade', async () => {
    const stdout = sink();
    await pumpOutput(Readable.from([Buffer.from('world')]), Buffer.from('hello '), { stdout, stderr: sink() }, false);
    expect(stdout.text()).toBe('hello world');
  });

  it('waits for a slow sink (backpressure) and loses nothing', async () => {
    const socket = new PassThrough();
    const stdout = sink(2, 1);
    const pumped = pumpOutput(socket, Buffer.alloc(0), { stdout, stderr: sink() }, true);
    const frames = Array.from({ length: 200 }, (_, i) => frame(1, `line ${i}\n`));
    for (const f of frames) socket.write(f);
    socket.end();
    await pumped;
    expect(stdout.text()).toBe(Array.from({ length: 200 }, (_, i) => `line ${i}\n`).join(''));
  });

  it('holds back the first frame (and the rest) when asked, for the engine\'s own "exec failed" text', async () => {
    const stdout = sink();
    const result = await pumpOutput(Readable.from([Buffer.concat([frame(1, 'OCI runtime exec failed: '), frame(1, 'no such file\n')])]), Buffer.alloc(0),
      { stdout, stderr: sink() }, true, { holdFirst: (payload) => payload.toString().startsWith('OCI runtime') });
    expect(stdout.text()).toBe('');
    expect(result.held?.toString()).toBe('OCI runtime exec failed: no such file\n');
  });

  it('ends cleanly when the engine resets a finished stream, and fails on other errors', async () => {
    const reset = new PassThrough();
    const stdout = sink();
    const pumped = pumpOutput(reset, Buffer.alloc(0), { stdout, stderr: sink() }, true);
    reset.write(frame(1, 'last words\n'));
    setTimeout(() => reset.destroy(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })), 20);
    await pumped;
    expect(stdout.text()).toBe('last words\n');

    const broken = new PassThrough();
    const failed = pumpOutput(broken, Buffer.alloc(0), { stdout: sink(), stderr: sink() }, true);
    setTimeout(() => broken.destroy(Object.assign(new Error('bad'), { code: 'EPROTO' })), 10);
    await expect(failed).rejects.toThrow('bad');
  });
});

describe('input', () => {
  it('forwards stdin with backpressure and half-closes on EOF', async () => {
    const socket = new PassThrough({ highWaterMark: 4 });
    const received: Buffer[] = [];
    const ended = new Promise<void>((resolve) => socket.on('end', resolve));
    socket.on('data', (data: Buffer) => received.push(data));
    forwardInput(Readable.from(['a'.repeat(100), 'b'.repeat(100)].map((s) => Buffer.from(s))), socket);
    await ended;
    expect(Buffer.concat(received).toString()).toBe('a'.repeat(100) + 'b'.repeat(100));
    expect(socket.writableEnded).toBe(true);
  });

  it('stops forwarding when told to, without ending the connection', async () => {
    const input = new PassThrough();
    const socket = new PassThrough();
    const stop = forwardInput(input, socket);
    stop();
    input.end('late');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(socket.writableEnded).toBe(false);
    expect(socket.read()).toBeNull();
  });
});

describe('recordingHead', () => {
  it('passes everything on and keeps only the first bytes', async () => {
    const target = sink();
    const { sink: recorder, head } = recordingHead(target, 5);
    recorder.write('abc');
    recorder.write('defgh');
    await new Promise<void>((resolve) => recorder.end(resolve));
    expect(target.text()).toBe('abcdefgh');
    expect(head()).toBe('abcde');
  });
});
