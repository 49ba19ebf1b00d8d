/**
 * Tar streams for the engine's archive API: directory entries that set the
 * owner and mode of volume roots, a workspace packed for copy mode (streamed
 * from disk with backpressure, hashing every file on the way into a
 * manifest), and a session's workspace read back entry by entry. tar-stream
 * does the format (PAX headers for long names included); the walking and the
 * rules are ours.
 */
import { createHash } from 'node:crypto';
import { createReadStream, lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { Readable, type Writable } from 'node:stream';
import type * as TarStream from 'tar-stream';
import { directoriesUstar, type DirectoryEntry } from './ustar.js';

// tar-stream (and streamx under it, six modules) loads only where a tar is made or read, not with every command
// that imports this module.
const require = createRequire(import.meta.url);
const tarStream = (): typeof TarStream => require('tar-stream') as typeof TarStream;

export type DirEntry = DirectoryEntry;

/** A tar of bare directory entries: extracting it sets each directory's owner and mode. */
export function directoriesTar(entries: DirEntry[]): Readable {
  const plain = directoriesUstar(entries);
  if (plain) return Readable.from([plain]);
  const pack = tarStream().pack();
  for (const e of entries) pack.entry({ name: e.name, type: 'directory', uid: e.uid, gid: e.gid, mode: e.mode, mtime: new Date() });
  pack.finalize();
  return pack as unknown as Readable;
}

/** A tar holding one regular file. */
export function singleFileTar(name: string, content: Buffer, mode = 0o600): Readable {
  const pack = tarStream().pack();
  pack.entry({ name, type: 'file', mode, size: content.length, mtime: new Date() }, content);
  pack.finalize();
  return pack as unknown as Readable;
}

/** What one path held: for files their size and content hash, for links their target. */
export interface ManifestEntry {
  type: 'file' | 'directory' | 'symlink';
  mode: number;
  size: number;
  /** sha256 of a file's content (hex). */
  hash?: string;
  linkname?: string;
}

/** Path (relative, "/"-separated) → entry. */
export type Tree = Map<string, ManifestEntry>;

/** Whether a relative path is left out (and, for a directory, its contents with it). */
export type Exclude = (relative: string) => boolean;

/**
 * Pack a host directory under `prefix/`, every entry owned by uid:gid (the
 * session user). Regular files, directories and symlinks; sockets, fifos and
 * devices are left out, and so is whatever `exclude` names. Files are read
 * as a stream into the tar, which the engine drains: memory stays flat
 * whatever the workspace's size. `tree` resolves, once the tar is complete,
 * to what was packed, each file with the hash of the bytes that were sent.
 */
export function packWorkspace(root: string, prefix: string, owner: { uid: number; gid: number }, exclude: Exclude = () => false): { tar: Readable; tree: Promise<Tree> } {
  const pack = tarStream().pack();
  const tree: Tree = new Map();
  const add = async (relative: string): Promise<void> => {
    const full = join(root, relative);
    const stat = lstatSync(full);
    const name = relative ? `${prefix}/${relative}` : prefix;
    const mode = stat.mode & 0o7777;
    const common = { name, uid: owner.uid, gid: owner.gid, mode, mtime: stat.mtime };
    if (stat.isDirectory()) {
      pack.entry({ ...common, type: 'directory' });
      if (relative) tree.set(relative, { type: 'directory', mode, size: 0 });
      for (const child of readdirSync(full).sort()) {
        const path = relative ? `${relative}/${child}` : child;
        if (!exclude(path)) await add(path);
      }
    } else if (stat.isSymbolicLink()) {
      const linkname = readlinkSync(full);
      pack.entry({ ...common, type: 'symlink', linkname });
      tree.set(relative, { type: 'symlink', mode, size: 0, linkname });
    } else if (stat.isFile()) {
      tree.set(relative, { type: 'file', mode, size: stat.size, hash: await streamFile(pack, { ...common, type: 'file', size: stat.size }, full, stat.size) });
    }
  };
  const done = (async () => {
    try {
      await add('');
      pack.finalize();
      return tree;
    } catch (error) {
      pack.destroy(error as Error);
      throw error;
    }
  })();
  done.catch(() => {}); // the error reaches the reader of the tar too
  return { tar: pack as unknown as Readable, tree: done };
}

/** Stream one file into the tar, waiting whenever the tar's reader is behind; the hash of what went in. */
async function streamFile(pack: TarStream.Pack, header: Parameters<TarStream.Pack["entry"]>[0], path: string, size: number): Promise<string> {
  const hash = createHash('sha256');
  let entry!: Writable;
  const finished = new Promise<void>((ok, fail) => {
    entry = pack.entry(header, (error) => (error ? fail(error) : ok())) as unknown as Writable;
  });
  finished.catch(() => {}); // awaited below; a failed write surfaces first
  // The tar's reader may go away mid-file (the engine answered early and closed the connection, as Podman does on a
  // full disk): the entry is then destroyed with the reader's error, which the caller gets from the request. Here it
  // only stops the copy; unheard, it would be an uncaught error that kills aca.
  entry.on('error', () => {});
  if (size > 0) {
    // Exactly the size announced in the header: a file that grows meanwhile is cut there; one that shrinks fails.
    for await (const chunk of createReadStream(path, { start: 0, end: size - 1, highWaterMark: 256 * 1024 })) {
      hash.update(chunk as Buffer);
      if (!entry.write(chunk)) await drained(entry);
    }
  }
  entry.end();
  try {
    await finished;
  } catch (error) {
    if (entry.destroyed) throw new Error(`${path}: the tar was closed before its end`);
    throw new Error(`${path} changed while it was copied (${(error as Error).message})`);
  }
  return hash.digest('hex');
}

/** Resolve once `entry` takes more; reject if it is destroyed instead (it then never drains). */
function drained(entry: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const onClose = () => { entry.off('drain', onDrain); reject(new Error('the tar was closed before its end')); };
    const onDrain = () => { entry.off('close', onClose); resolve(); };
    if (entry.destroyed) return onClose();
    entry.once('drain', onDrain);
    entry.once('close', onClose);
  });
}

export interface ArchiveEntry {
  /** Relative to the archive's first component (the directory that was asked for). */
  path: string;
  type: 'file' | 'directory' | 'symlink' | 'other';
  mode: number;
  size: number;
  linkname?: string;
}

/**
 * Read a tar stream entry by entry, hashing every file. `onEntry` may take a
 * file's content as a stream (return a Writable: it is written with
 * backpressure and ended); `onFile` gets each file's hash, and its content
 * when it is at most `keepUpTo` bytes.
 */
export async function scanArchive(
  tar: Readable,
  visit: {
    onEntry?: (entry: ArchiveEntry) => Writable | undefined;
    onDone: (entry: ArchiveEntry & { hash?: string }, content?: Buffer) => void | Promise<void>;
    keepUpTo?: (entry: ArchiveEntry) => number;
  },
): Promise<void> {
  const extract = tarStream().extract();
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      void (async () => {
        // The archive API names entries after the copied directory: drop that first component.
        const path = header.name.replace(/^\.?\/?[^/]+\/?/, '').replace(/\/$/, '');
        const type = header.type === 'file' || header.type === 'directory' || header.type === 'symlink' ? header.type : 'other';
        const entry: ArchiveEntry = { path, type, mode: header.mode ?? 0o644, size: header.size ?? 0, ...(type === 'symlink' ? { linkname: header.linkname ?? '' } : {}) };
        // The directory asked for itself; a single file asked for is its own first component.
        if (!path && type !== 'file') {
          stream.resume();
          await once(stream as never, 'end');
          return next();
        }
        const hash = type === 'file' ? createHash('sha256') : undefined;
        const limit = visit.keepUpTo?.(entry) ?? 0;
        const kept: Buffer[] = [];
        let keptBytes = 0;
        const sink = visit.onEntry?.(entry);
        for await (const data of stream as AsyncIterable<Buffer>) {
          hash?.update(data);
          if (keptBytes + data.length <= limit) {
            kept.push(data);
            keptBytes += data.length;
          } else keptBytes = Number.POSITIVE_INFINITY;
          if (sink && !sink.write(data)) await once(sink as never, 'drain');
        }
        if (sink) {
          sink.end();
          await once(sink as never, 'finish');
        }
        const content = Number.isFinite(keptBytes) && type === 'file' ? Buffer.concat(kept) : undefined;
        await visit.onDone({ ...entry, ...(hash ? { hash: hash.digest('hex') } : {}) }, content);
        next();
      })().catch((error: Error) => extract.destroy(error));
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  tar.on('error', (error) => extract.destroy(error));
  tar.pipe(extract as unknown as NodeJS.WritableStream);
  await done;
}

/** A session's tree (as the manifest has it) from a tar stream: hashes only, nothing kept. */
export async function readArchiveTree(tar: Readable, exclude: Exclude = () => false): Promise<Tree> {
  const tree: Tree = new Map();
  await scanArchive(tar, {
    onDone: (entry) => {
      if (!entry.path || entry.type === 'other' || exclude(entry.path)) return;
      tree.set(entry.path, { type: entry.type, mode: entry.mode, size: entry.size, ...(entry.hash ? { hash: entry.hash } : {}), ...(entry.linkname !== undefined ? { linkname: entry.linkname } : {}) });
    },
  });
  return tree;
}

/** One host path as the manifest would record it (files hashed as a stream); undefined when absent. */
export async function hostEntry(path: string): Promise<ManifestEntry | undefined> {
  let stat;
  try {
    stat = lstatSync(path);
  } catch {
    return undefined;
  }
  const mode = stat.mode & 0o7777;
  if (stat.isDirectory()) return { type: 'directory', mode, size: 0 };
  if (stat.isSymbolicLink()) return { type: 'symlink', mode, size: 0, linkname: readlinkSync(path) };
  if (!stat.isFile()) return undefined;
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return { type: 'file', mode, size: stat.size, hash: hash.digest('hex') };
}
