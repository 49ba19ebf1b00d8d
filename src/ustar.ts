/**
 * Bare directory entries as a ustar archive, written by hand. Every detached session extracts one over each new
 * volume's mount point (that is how a fresh root-owned volume becomes the session user's); loading tar-stream, with
 * streamx under it, for those 1,536 bytes cost each `aca run -d` about 10 ms of CPU, and many are started at once
 * (issue 16). What ustar cannot hold plainly (a name over 100 bytes, an id over 7 octal digits) is left to
 * tar-stream: undefined.
 */
const BLOCK = 512;

export interface DirectoryEntry {
  name: string;
  uid: number;
  gid: number;
  mode: number;
}

const MAX_OCTAL_7 = 0o7777777;

function header(entry: DirectoryEntry, mtimeSeconds: number): Buffer | undefined {
  const name = Buffer.from(`${entry.name.replace(/\/+$/, '')}/`, 'utf8');
  if (name.length > 100 || entry.uid > MAX_OCTAL_7 || entry.gid > MAX_OCTAL_7 || entry.uid < 0 || entry.gid < 0) return undefined;
  const block = Buffer.alloc(BLOCK);
  const octal = (offset: number, width: number, value: number) => block.write(`${value.toString(8).padStart(width - 1, '0')}\0`, offset, width, 'latin1');
  name.copy(block, 0);
  octal(100, 8, entry.mode & 0o7777);
  octal(108, 8, entry.uid);
  octal(116, 8, entry.gid);
  octal(124, 12, 0); // size: a directory has no content
  octal(136, 12, mtimeSeconds);
  block.write('        ', 148, 8, 'latin1'); // the checksum counts its own field as spaces
  block.write('5', 156, 1, 'latin1'); // directory
  block.write('ustar\0', 257, 6, 'latin1');
  block.write('00', 263, 2, 'latin1');
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return block;
}

/** The archive: one header per entry, then the two zero blocks that end it; undefined when one does not fit ustar. */
export function directoriesUstar(entries: DirectoryEntry[], mtime = new Date()): Buffer | undefined {
  const seconds = Math.floor(mtime.getTime() / 1000);
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const block = header(entry, seconds);
    if (!block) return undefined;
    blocks.push(block);
  }
  return Buffer.concat([...blocks, Buffer.alloc(2 * BLOCK)]);
}
