/**
 * Tar streams for the engine's archive API: directory entries that set the
 * owner and mode of volume roots, a workspace packed for copy mode, and a
 * workspace read back for diff and export. tar-stream does the format (PAX
 * headers for long names included); the walking and the rules are ours.
 */
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import tarStream from 'tar-stream';

export interface DirEntry {
  name: string;
  uid: number;
  gid: number;
  mode: number;
}

/** A tar of bare directory entries: extracting it sets each directory's owner and mode. */
export function directoriesTar(entries: DirEntry[]): Readable {
  const pack = tarStream.pack();
  for (const e of entries) pack.entry({ name: e.name, type: 'directory', uid: e.uid, gid: e.gid, mode: e.mode, mtime: new Date() });
  pack.finalize();
  return pack as unknown as Readable;
}

/**
 * Pack a host directory under `prefix/`, every entry owned by uid:gid (the
 * session user). Regular files, directories and symlinks; sockets, fifos and
 * devices are left out.
 */
export function packDirectory(root: string, prefix: string, owner: { uid: number; gid: number }): Readable {
  const pack = tarStream.pack();
  const add = (relative: string) => {
    const full = join(root, relative);
    const stat = lstatSync(full);
    const name = relative ? `${prefix}/${relative}` : prefix;
    const common = { name, uid: owner.uid, gid: owner.gid, mode: stat.mode & 0o7777, mtime: stat.mtime };
    if (stat.isDirectory()) {
      pack.entry({ ...common, type: 'directory' });
      for (const child of readdirSync(full).sort()) add(relative ? `${relative}/${child}` : child);
    } else if (stat.isSymbolicLink()) {
      pack.entry({ ...common, type: 'symlink', linkname: readlinkSync(full) });
    } else if (stat.isFile()) {
      pack.entry({ ...common, type: 'file', size: stat.size }, readFileSync(full));
    }
  };
  // Entries are added synchronously; tar-stream buffers them for the reader.
  queueMicrotask(() => {
    try {
      add('');
      pack.finalize();
    } catch (error) {
      pack.destroy(error as Error);
    }
  });
  return pack as unknown as Readable;
}

export interface TreeEntry {
  type: 'file' | 'directory' | 'symlink' | 'other';
  mode: number;
  content?: Buffer;
  linkname?: string;
}

/** Read a tar stream into a map of path (relative to its first component) → entry. */
export async function readTree(tar: Readable, maxBytes = 512 * 1024 * 1024): Promise<Map<string, TreeEntry>> {
  const extract = tarStream.extract();
  const tree = new Map<string, TreeEntry>();
  let total = 0;
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      // The archive API names entries after the copied directory: drop that first component.
      const relative = header.name.replace(/^\.?\/?[^/]+\/?/, '').replace(/\/$/, '');
      const chunks: Buffer[] = [];
      stream.on('data', (data: unknown) => {
        const chunk = data as Buffer;
        total += chunk.length;
        if (total > maxBytes) {
          extract.destroy(new Error(`the tree is larger than ${maxBytes} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      stream.on('end', () => {
        if (relative) {
          const type = header.type === 'file' || header.type === 'directory' || header.type === 'symlink' ? header.type : 'other';
          tree.set(relative, {
            type,
            mode: header.mode ?? 0o644,
            ...(type === 'file' ? { content: Buffer.concat(chunks) } : {}),
            ...(type === 'symlink' ? { linkname: header.linkname ?? '' } : {}),
          });
        }
        next();
      });
      stream.resume();
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  tar.pipe(extract as unknown as NodeJS.WritableStream);
  await done;
  return tree;
}

/** The same map, read from a host directory (for comparing against a session's copy). */
export function readHostTree(root: string): Map<string, TreeEntry> {
  const tree = new Map<string, TreeEntry>();
  const walk = (relative: string) => {
    for (const child of readdirSync(join(root, relative)).sort()) {
      const rel = relative ? `${relative}/${child}` : child;
      const stat = lstatSync(join(root, rel));
      if (stat.isDirectory()) {
        tree.set(rel, { type: 'directory', mode: stat.mode & 0o7777 });
        walk(rel);
      } else if (stat.isSymbolicLink()) {
        tree.set(rel, { type: 'symlink', mode: stat.mode & 0o7777, linkname: readlinkSync(join(root, rel)) });
      } else if (stat.isFile()) {
        tree.set(rel, { type: 'file', mode: stat.mode & 0o7777, content: readFileSync(join(root, rel)) });
      } else {
        tree.set(rel, { type: 'other', mode: stat.mode & 0o7777 });
      }
    }
  };
  walk('');
  return tree;
}
