import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { applyExport, compareTrees, isBinary, renderPatch } from '../../src/sessions/changes.js';
import { parseCache } from '../../src/sessions/storage.js';
import { resolveLifecycle } from '../../src/sessions/lifecycle-options.js';
import type { TreeEntry } from '../../src/archive.js';

const file = (text: string | Buffer, mode = 0o644): TreeEntry => ({ type: 'file', mode, content: Buffer.from(text) });
const link = (to: string): TreeEntry => ({ type: 'symlink', mode: 0o777, linkname: to });
const dir: TreeEntry = { type: 'directory', mode: 0o755 };

describe('compareTrees and renderPatch', () => {
  const host = new Map<string, TreeEntry>([['a.txt', file('one\ntwo\n')], ['gone.txt', file('bye\n')], ['src', dir], ['src/same.ts', file('x')]]);
  const inside = new Map<string, TreeEntry>([['a.txt', file('one\nTWO\n')], ['new.bin', file(Buffer.from([0, 1, 2]))], ['src', dir], ['src/same.ts', file('x')], ['l', link('a.txt')]]);
  it('lists added, modified and deleted files and links', () => {
    expect(compareTrees(host, inside).map((c) => `${c.kind} ${c.path}${c.binary ? ' binary' : ''}`)).toEqual([
      'modified a.txt', 'deleted gone.txt', 'added l', 'added new.bin binary',
    ]);
  });
  it('renders text as a unified diff and binaries as one line', () => {
    const patch = renderPatch(compareTrees(host, inside), host, inside);
    expect(patch).toContain('--- a/a.txt\n+++ b/a.txt\n@@ -1,2 +1,2 @@\n one\n-two\n+TWO\n');
    expect(patch).toContain('--- a/gone.txt\n+++ /dev/null\n');
    expect(patch).toContain('Binary files /dev/null and b/new.bin differ\n');
    expect(patch).not.toContain('====');
  });
  it('detects binary content', () => {
    expect(isBinary(Buffer.from('plain text ✓'))).toBe(false);
    expect(isBinary(Buffer.from([0xff, 0xfe, 0x41]))).toBe(true);
  });
});

describe('applyExport', () => {
  const setup = () => {
    const root = mkdtempSync(join(tmpdir(), 'aca-export-'));
    writeFileSync(join(root, 'keep.txt'), 'host');
    return root;
  };
  it('writes added and modified files and links, never deletes', () => {
    const root = setup();
    const inside = new Map<string, TreeEntry>([['keep.txt', file('session')], ['deep/new.sh', file('#!/bin/sh\n', 0o755)], ['deep/link', link('new.sh')]]);
    const changes = compareTrees(new Map([['keep.txt', file('host')], ['removed.txt', file('x')]]), inside);
    const result = applyExport(root, changes, inside);
    expect(result.written.sort()).toEqual(['deep/link', 'deep/new.sh', 'keep.txt']);
    expect(result.notDeleted).toEqual(['removed.txt']);
    expect(readFileSync(join(root, 'keep.txt'), 'utf8')).toBe('session');
    expect(readFileSync(join(root, 'deep/link'), 'utf8')).toBe('#!/bin/sh\n');
  });
  it('refuses escaping paths and symlinks before writing anything', () => {
    for (const [path, entry] of [['../evil', file('x')], ['a/../../evil', file('x')], ['out', link('/etc/passwd')], ['up', link('../../x')]] as const) {
      const root = setup();
      const inside = new Map<string, TreeEntry>([['first.txt', file('written?')], [path, entry]]);
      expect(() => applyExport(root, compareTrees(new Map(), inside), inside)).toThrow(/refusing to export/);
      expect(existsSync(join(root, 'first.txt'))).toBe(false);
    }
  });
  it('refuses to write through a host directory that links out of DIR', () => {
    const root = setup();
    const outside = mkdtempSync(join(tmpdir(), 'aca-outside-'));
    symlinkSync(outside, join(root, 'sneaky'));
    const inside = new Map<string, TreeEntry>([['sneaky/payload', file('x')]]);
    expect(() => applyExport(root, compareTrees(new Map(), inside), inside)).toThrow(/link out of/);
    expect(existsSync(join(outside, 'payload'))).toBe(false);
    mkdirSync(join(root, 'fine'));
  });
});

describe('caches and lifecycle flags', () => {
  it('maps known caches and custom paths', () => {
    expect(parseCache('npm')).toEqual({ name: 'npm', target: '/home/aca/.npm' });
    expect(parseCache('models:/data/models/')).toEqual({ name: 'models', target: '/data/models' });
    expect(() => parseCache('npm:relative')).toThrow(/absolute/);
    expect(() => parseCache('Bad')).toThrow(/invalid cache name/);
  });
  it('gives a home volume only to sessions that can outlive their command', () => {
    const now = new Date(0);
    expect(resolveLifecycle('s', {}, {}, true, now).storage.homeVolume).toBeUndefined();
    for (const flags of [{ detach: true }, { keep: true }, { tty: true }, { workspaceMode: 'copy' }]) {
      expect(resolveLifecycle('s', flags, {}, true, now).storage.homeVolume, JSON.stringify(flags)).toBe('aca-s-home');
    }
  });
  it('resolves --ttl only for detached sessions, and workspace modes', () => {
    const now = new Date(0);
    expect(resolveLifecycle('s', { detach: true, ttl: '1h' }, {}, true, now).labels['aca.expires']).toBe('1970-01-01T01:00:00.000Z');
    expect(() => resolveLifecycle('s', { ttl: '1h' }, {}, true, now)).toThrow(/--ttl applies to detached/);
    expect(resolveLifecycle('s', { workspaceRo: true }, {}, true, now).mode).toBe('ro');
    expect(() => resolveLifecycle('s', { workspaceMode: 'copy' }, {}, false, now)).toThrow(/needs a workspace/);
    expect(() => resolveLifecycle('s', { workspaceMode: 'mirror' }, {}, true, now)).toThrow(/unknown workspace mode/);
  });
});
