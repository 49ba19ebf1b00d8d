import { describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import tarStream from 'tar-stream';
import { directoriesUstar } from '../../src/ustar.js';

/** What a real tar reader makes of an archive: every header, in order. */
async function headers(archive: Buffer): Promise<tarStream.Headers[]> {
  const extract = tarStream.extract();
  const seen: tarStream.Headers[] = [];
  extract.on('entry', (header, stream, next) => {
    seen.push(header);
    stream.on('end', next);
    stream.resume();
  });
  const done = new Promise((resolve, reject) => { extract.on('finish', resolve); extract.on('error', reject); });
  Readable.from([archive]).pipe(extract);
  await done;
  return seen;
}

describe('directoriesUstar (hand-written directory entries)', () => {
  it('is read by tar-stream as the directories asked for, with their owner, mode and time', async () => {
    const mtime = new Date('2026-12-07T12:00:00Z');
    const archive = directoriesUstar([
      { name: 'aca', uid: 1000, gid: 1000, mode: 0o700 },
      { name: 'workspace/', uid: 2097151, gid: 0, mode: 0o2755 },
    ], mtime)!;
    expect(archive.length).toBe(4 * 512);
    const read = await headers(archive);
    expect(read.map((h) => [h.name, h.type, h.uid, h.gid, h.mode, h.size, h.mtime?.toISOString()])).toEqual([
      ['aca/', 'directory', 1000, 1000, 0o700, 0, mtime.toISOString()],
      ['workspace/', 'directory', 2097151, 0, 0o2755, 0, mtime.toISOString()],
    ]);
  });

  it('has the checksum a tar reader verifies (a wrong one fails to read)', async () => {
    const archive = directoriesUstar([{ name: 'aca', uid: 1000, gid: 1000, mode: 0o700 }])!;
    archive[0] = 'b'.charCodeAt(0); // the name changes, the recorded checksum does not
    await expect(headers(archive)).rejects.toThrow(/invalid tar header/i);
  });

  it('leaves what ustar cannot hold plainly to tar-stream', () => {
    expect(directoriesUstar([{ name: 'x'.repeat(100), uid: 1, gid: 1, mode: 0o755 }])).toBeUndefined();
    expect(directoriesUstar([{ name: 'aca', uid: 0o10000000, gid: 1, mode: 0o755 }])).toBeUndefined();
    expect(directoriesUstar([{ name: 'x'.repeat(99), uid: 1, gid: 1, mode: 0o755 }])).toBeDefined();
  });
});
