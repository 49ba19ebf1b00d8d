/**
 * The Engine API's multiplexed stream (non-TTY attach, exec and logs): frames
 * of an 8-byte header [stream, 0, 0, 0, size32be] and a payload. Frames may be
 * split across chunks and chunks may hold many frames.
 */
export type StreamId = 0 | 1 | 2 | 3;

export class FrameDemuxer {
  private header = Buffer.alloc(8);
  private headerFill = 0;
  private remaining = 0;
  private stream: StreamId = 1;

  /** `onFrame` returns false when its sink wants the source paused (backpressure). */
  constructor(private readonly onFrame: (stream: StreamId, payload: Buffer) => boolean) {}

  /** Feed a chunk; returns false if any sink asked for a pause. */
  push(chunk: Buffer): boolean {
    let ok = true;
    let offset = 0;
    while (offset < chunk.length) {
      if (this.remaining === 0) {
        const take = Math.min(8 - this.headerFill, chunk.length - offset);
        chunk.copy(this.header, this.headerFill, offset, offset + take);
        this.headerFill += take;
        offset += take;
        if (this.headerFill < 8) break;
        this.headerFill = 0;
        this.stream = (this.header[0]! & 3) as StreamId;
        this.remaining = this.header.readUInt32BE(4);
        continue;
      }
      const take = Math.min(this.remaining, chunk.length - offset);
      this.remaining -= take;
      if (!this.onFrame(this.stream, chunk.subarray(offset, offset + take))) ok = false;
      offset += take;
    }
    return ok;
  }
}

/** A whole multiplexed stream, collected: stdout and stderr apart, and all of it as text, in order. */
export class FrameCollector {
  private readonly all: Buffer[] = [];
  private readonly out: Buffer[] = [];
  private readonly err: Buffer[] = [];
  private readonly demux = new FrameDemuxer((stream, payload) => {
    const copy = Buffer.from(payload);
    this.all.push(copy);
    (stream === 2 ? this.err : this.out).push(copy);
    return true;
  });

  push(chunk: Buffer): void {
    this.demux.push(chunk);
  }

  /** Read `stream` to its end. */
  async readAll(stream: AsyncIterable<unknown>): Promise<this> {
    for await (const chunk of stream) this.push(chunk as Buffer);
    return this;
  }

  result(): { output: string; stdout: Buffer; stderr: Buffer } {
    return { output: Buffer.concat(this.all).toString('utf8'), stdout: Buffer.concat(this.out), stderr: Buffer.concat(this.err) };
  }
}
