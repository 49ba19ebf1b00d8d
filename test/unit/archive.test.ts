/**
 * src/archive.ts's workspace packing when the tar's reader goes away mid-file (the engine answered early and closed
 * the connection: a full disk on Podman): the failure reaches the caller, never an uncaught error that kills aca.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packWorkspace } from '../../src/archive.js';

describe('packWorkspace', () => {
  const root = mkdtempSync(join(tmpdir(), 'aca-pack-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  writeFileSync(join(root, 'big.bin'), randomBytes(8 * 1024 * 1024));

  it('rejects its tree, and throws nothing, when the tar is destroyed while a file is being read', async () => {
    for (let round = 0; round < 20; round++) {
      const packed = packWorkspace(root, 'workspace', { uid: 1000, gid: 1000 });
      const tree = packed.tree.then(() => 'finished', (error: Error) => error.message);
      const closed = new Promise((r) => packed.tar.once('close', r));
      // As stream.pipeline does when the request's socket closes early: the source is destroyed with an error.
      packed.tar.on('error', () => {});
      packed.tar.on('data', () => {});
      // At a different moment each round: mid-read of the file, mid-write of the entry, waiting for the reader.
      setTimeout(() => packed.tar.destroy(Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' })), round % 5);
      await closed;
      expect(await tree).toMatch(/the tar was closed before its end/);
    }
  }, 20_000);
});
