/**
 * A tar stream on its way from one volume to another, made harmless: no entry stays setuid or setgid, and device
 * entries are left out, so a copy of what a session wrote never makes a file that runs as someone else, nor a way
 * to a device. Everything else (owners, modes, links, contents) passes unchanged.
 */
import { Transform, type TransformCallback } from 'node:stream';

const BLOCK = 512;
const SET_ID_BITS = 0o6000;
const DEVICE_TYPES = new Set(['3', '4']);
/** Headers that describe the entry after them (pax's, GNU's long name and link): held until that entry is kept. */
const PREFIX_TYPES = new Set(['x', 'L', 'K']);

/** A numeric header field: octal text, or base-256 when its first byte has the high bit set. */
function numberField(header: Buffer, offset: number, length: number): number {
  const field = header.subarray(offset, offset + length);
  if (field[0]! & 0x80) {
    let value = field[0]! & 0x7f;
    for (const byte of field.subarray(1)) value = value * 256 + byte;
    return value;
  }
  const text = field.toString('latin1').replace(/\0.*$/s, '').trim();
  return text ? parseInt(text, 8) : 0;
}

function writeChecksum(header: Buffer): void {
  header.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
}

/** One record of a pax extended header's data ("LENGTH key=value\n" each). */
function paxRecord(records: Buffer, key: 'size' | 'path'): string | undefined {
  return new RegExp(`(?:^|\\n)\\d+ ${key}=([^\\n]*)\\n`).exec(records.toString('utf8'))?.[1];
}

/** An entry's path: a pax header's `path`, else the ustar prefix and name. */
function entryPath(header: Buffer, paxPath: string | undefined): string {
  if (paxPath !== undefined) return paxPath;
  const field = (offset: number, length: number) => header.subarray(offset, offset + length).toString('utf8').replace(/\0.*$/s, '');
  const prefix = header.subarray(257, 262).toString('latin1') === 'ustar' ? field(345, 155) : '';
  return (prefix ? `${prefix}/` : '') + field(0, 100);
}

export class TarSanitizer extends Transform {
  /** `leaveOut`: entry paths (as the archive names them) left out with everything below them. */
  constructor(private readonly leaveOut: string[] = []) {
    super();
  }

  private pending: Buffer = Buffer.alloc(0);
  /** Bytes of the current entry's data (padded to whole blocks) still to pass or drop. */
  private dataLeft = 0;
  private dropping = false;
  /** Prefix headers and their data, held until the entry they describe is kept (or dropped with it). */
  private held: Buffer[] = [];
  private holding = false;
  /** The size a pax header gave the next entry. */
  private nextSize: number | undefined;
  /** The path a pax header gave the next entry (a name too long for the ustar fields). */
  private nextPath: string | undefined;
  private paxStart = -1;
  private ended = false;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    try {
      this.consume();
      done();
    } catch (error) {
      done(error as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    if (this.pending.length) this.push(this.pending);
    done();
  }

  private consume(): void {
    while (this.pending.length) {
      if (this.ended) {
        this.push(this.pending);
        this.pending = Buffer.alloc(0);
        return;
      }
      if (this.dataLeft > 0) {
        const take = Math.min(this.dataLeft, this.pending.length);
        const data = this.pending.subarray(0, take);
        if (this.holding) this.held.push(Buffer.from(data));
        else if (!this.dropping) this.push(data);
        this.pending = this.pending.subarray(take);
        this.dataLeft -= take;
        if (this.dataLeft === 0 && this.paxStart >= 0) {
          const records = Buffer.concat(this.held.slice(this.paxStart));
          const size = paxRecord(records, 'size');
          this.nextSize = size === undefined ? undefined : Number(size);
          this.nextPath = paxRecord(records, 'path');
          this.paxStart = -1;
        }
        continue;
      }
      if (this.pending.length < BLOCK) return;
      const header = Buffer.from(this.pending.subarray(0, BLOCK));
      this.pending = this.pending.subarray(BLOCK);
      if (header.every((byte) => byte === 0)) {
        // The end of the archive: what follows is padding.
        this.ended = true;
        this.push(header);
        continue;
      }
      this.entry(header);
    }
  }

  private entry(header: Buffer): void {
    const type = String.fromCharCode(header[156]!);
    const size = type === 'x' || type === 'g' ? numberField(header, 124, 12) : (this.nextSize ?? numberField(header, 124, 12));
    this.dataLeft = Math.ceil(size / BLOCK) * BLOCK;
    this.dropping = false;
    this.holding = PREFIX_TYPES.has(type);
    if (this.holding) {
      this.held.push(header);
      // The pax data starts after this header.
      if (type === 'x') this.paxStart = size > 0 ? this.held.length : -1;
      return;
    }
    const paxPath = this.nextPath;
    if (type !== 'g') {
      this.nextSize = undefined;
      this.nextPath = undefined;
    }
    const held = this.held;
    this.held = [];
    if (DEVICE_TYPES.has(type) || this.leftOut(header, paxPath)) {
      this.dropping = true;
      return;
    }
    const mode = numberField(header, 100, 8);
    if (mode & SET_ID_BITS) {
      header.write(`${(mode & ~SET_ID_BITS).toString(8).padStart(7, '0')}\0`, 100, 'latin1');
      writeChecksum(header);
    }
    for (const part of held) this.push(part);
    this.push(header);
  }

  private leftOut(header: Buffer, paxPath: string | undefined): boolean {
    if (this.leaveOut.length === 0) return false;
    const path = entryPath(header, paxPath).replace(/\/+$/, '');
    return this.leaveOut.some((out) => path === out || path.startsWith(`${out}/`));
  }
}
