/**
 * src/engine/tar-sanitize.ts: a volume copy's tar stream loses setuid and setgid bits and device entries, and keeps
 * everything else (owners, other modes, links, long names, contents), however the stream is cut into chunks.
 */
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import tarStream from 'tar-stream';
import { TarSanitizer } from '../../src/engine/tar-sanitize.js';

type Entry = tarStream.Headers & { content?: string };

async function pack(entries: Entry[]): Promise<Buffer> {
  const packer = tarStream.pack();
  for (const { content, ...header } of entries) packer.entry(header, content ?? '');
  packer.finalize();
  return buffer(packer);
}

async function unpack(tar: Buffer): Promise<Entry[]> {
  const entries: Entry[] = [];
  const extract = tarStream.extract();
  extract.on('entry', (header, stream, next) => {
    void buffer(stream).then((data) => {
      entries.push({ name: header.name, type: header.type, mode: header.mode, uid: header.uid, gid: header.gid, linkname: header.linkname, content: data.toString() });
      next();
    });
  });
  Readable.from([tar]).pipe(extract);
  await new Promise((resolve, reject) => extract.on('finish', resolve).on('error', reject));
  return entries;
}

/** The archive through the sanitizer, fed in chunks of `size` bytes. */
async function sanitize(tar: Buffer, size: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for (let at = 0; at < tar.length; at += size) chunks.push(tar.subarray(at, at + size));
  return buffer(Readable.from(chunks).pipe(new TarSanitizer()));
}

// Too long for a ustar header: pax headers carry it, and the device's must go with the device.
const LONG = `deep/${'f'.repeat(120)}.txt`;
const ENTRIES: Entry[] = [
  { name: 'data', type: 'directory', mode: 0o700, uid: 1000, gid: 1000 },
  { name: 'data/suid', type: 'file', mode: 0o4755, uid: 1000, gid: 1000, content: '#!/bin/sh\n' },
  { name: 'data/sgid-dir', type: 'directory', mode: 0o2775, uid: 1000, gid: 50 },
  { name: 'data/null', type: 'character-device', mode: 0o666, uid: 0, gid: 0, devmajor: 1, devminor: 3 },
  { name: `data/${LONG}-disk`, type: 'block-device', mode: 0o660, uid: 0, gid: 6, devmajor: 8, devminor: 0 },
  { name: `data/${LONG}`, type: 'file', mode: 0o640, uid: 1000, gid: 1000, content: 'x'.repeat(1500) },
  { name: 'data/link', type: 'symlink', mode: 0o777, uid: 1000, gid: 1000, linkname: '/etc/passwd' },
  { name: 'data/root-owned', type: 'file', mode: 0o600, uid: 0, gid: 0, content: 'root\n' },
];

describe('TarSanitizer', () => {
  it('drops setuid, setgid and devices, and keeps every other entry as it was', async () => {
    const expected = (await unpack(await pack(ENTRIES)))
      .filter((entry) => !entry.type?.endsWith('-device'))
      .map((entry) => ({ ...entry, mode: entry.mode! & 0o1777 }));
    expect(expected.map((entry) => entry.name)).toEqual(['data', 'data/suid', 'data/sgid-dir', `data/${LONG}`, 'data/link', 'data/root-owned']);
    const tar = await pack(ENTRIES);
    expect(tar.toString('latin1').match(/\d+ path=data\/deep\/f+\.txt(-disk)?\n/g)).toHaveLength(2);
    for (const size of [1, 7, 512, 100_000]) {
      const out = await sanitize(tar, size);
      expect(await unpack(out), `in chunks of ${size}`).toEqual(expected);
      // A valid tar still: its end blocks are there.
      expect(out.length % 512).toBe(0);
    }
  });

  it('passes an archive with nothing to change byte for byte', async () => {
    const tar = await pack(ENTRIES.filter((entry) => entry.name === 'data' || entry.name === 'data/root-owned' || entry.name === 'data/link'));
    expect((await sanitize(tar, 300)).equals(tar)).toBe(true);
  });
});

describe('TarSanitizer leaving paths out', () => {
  it('drops a named entry and everything below it, long (pax) names included, whatever the chunking', async () => {
    const tar = await pack([
      { name: 'data', type: 'directory', mode: 0o700 },
      { name: 'data/.login/auth.json', type: 'file', mode: 0o600, content: 'secret' },
      { name: 'data/.login/auth.json.d', type: 'file', mode: 0o600, content: 'kept: only the path itself and below it go' },
      { name: 'data/.other', type: 'directory', mode: 0o700 },
      { name: `data/.other/${LONG}`, type: 'file', mode: 0o600, content: 'secret' },
      { name: 'data/.other/keep', type: 'file', mode: 0o600, content: 'kept' },
    ]);
    for (const size of [1, 100, 512, 4096]) {
      const chunks: Buffer[] = [];
      for (let at = 0; at < tar.length; at += size) chunks.push(tar.subarray(at, at + size));
      const out = await unpack(await buffer(Readable.from(chunks).pipe(new TarSanitizer(['data/.login/auth.json', `data/.other/${LONG}`]))));
      expect(out.map((e) => e.name)).toEqual(['data', 'data/.login/auth.json.d', 'data/.other', 'data/.other/keep']);
      expect(out.some((e) => e.content === 'secret')).toBe(false);
    }
  });
});
