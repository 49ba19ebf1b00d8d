import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { afterAll } from 'vitest';
import {
  acaKeyDiffers, checkPaths, hooksPathIn, isBinary, planExport, protectedReason, renderPatch, sessionChanges, type Decision, type ExportRules,
} from '../../src/sessions/changes.js';
import { gitignoreRules, excluder } from '../../src/sessions/manifest.js';
import { parseCache } from '../../src/parse.js';
import { resolveLifecycle } from '../../src/sessions/lifecycle-options.js';
import type { ManifestEntry, Tree } from '../../src/archive.js';

const file = (hash: string, mode = 0o644): ManifestEntry => ({ type: 'file', mode, size: 1, hash });
const link = (to: string): ManifestEntry => ({ type: 'symlink', mode: 0o777, size: 0, linkname: to });
const dir: ManifestEntry = { type: 'directory', mode: 0o755, size: 0 };
const rules: ExportRules = { origin: true, includeDeleted: false, include: [] };

describe('sessionChanges: what the session changed against the base', () => {
  const base: Tree = new Map([['a.txt', file('1')], ['gone.txt', file('g')], ['src', dir], ['src/same.ts', file('x')], ['run.sh', file('r')]]);
  const session: Tree = new Map([['a.txt', file('2')], ['new.bin', file('n')], ['src', dir], ['src/same.ts', file('x')], ['l', link('a.txt')], ['run.sh', file('r', 0o755)]]);
  it('lists added, modified (content or executable bit) and deleted files and links, sorted', () => {
    expect(sessionChanges(base, session).map((c) => `${c.kind} ${c.path}`)).toEqual(['modified a.txt', 'deleted gone.txt', 'added l', 'added new.bin', 'modified run.sh']);
  });
});

describe('planExport: a three-way merge', () => {
  const change = sessionChanges(new Map([['a', file('base')], ['d', file('del')]]), new Map([['a', file('mine')], ['n', file('new')]]));
  const plan = (host: Array<[string, ManifestEntry | undefined]>, extra: Partial<ExportRules> = {}) =>
    Object.fromEntries(planExport(change, new Map(host), { ...rules, ...extra }).map((d) => [d.path, d.outcome]));
  it('writes what the host left alone, and stops on what it changed too', () => {
    expect(plan([['a', file('base')], ['d', file('del')]])).toEqual({ a: 'write', d: 'not-deleted', n: 'write' });
    expect(plan([['a', file('host edit')], ['d', file('del')], ['n', file('host made it')]])).toEqual({ a: 'conflict', d: 'not-deleted', n: 'conflict' });
    expect(plan([['a', undefined], ['d', file('host edit')]], { includeDeleted: true })).toEqual({ a: 'conflict', d: 'conflict', n: 'write' });
  });
  it('knows what is already on the host, and picks a side only when told', () => {
    expect(plan([['a', file('mine')], ['d', undefined], ['n', file('new')]])).toEqual({ a: 'on-host', d: 'on-host', n: 'on-host' });
    expect(plan([['a', file('host')], ['d', file('del')]], { prefer: 'session', includeDeleted: true })).toEqual({ a: 'write', d: 'delete', n: 'write' });
    expect(plan([['a', file('host')], ['d', file('del')]], { prefer: 'host' })).toEqual({ a: 'kept-host', d: 'not-deleted', n: 'write' });
  });
  it('into another directory, a missing path is simply written', () => {
    expect(plan([], { origin: false })).toEqual({ a: 'write', d: 'on-host', n: 'write' });
  });
});

describe('protected paths', () => {
  it('never exports git metadata, aca configuration, hooks, a changed aca key or setuid files unless named', () => {
    for (const path of ['.git/hooks/pre-commit', 'sub/.git/config', '.GIT/config', '.acarc', '.acarc.cjs', 'pkg/.acarc.json', 'aca.config.mjs', '.config/acarc.yaml', '.husky/pre-commit']) {
      expect(protectedReason(path, file('x'), { hooksPath: '.husky' }), path).toBeDefined();
    }
    expect(protectedReason('tool', file('x', 0o4755), {})).toBe('setuid/setgid file');
    expect(protectedReason('package.json', file('x'), { acaKeyChanged: new Set(['package.json']) })).toMatch(/aca/);
    for (const path of ['..weird', 'src/.gitignore', 'git/config', 'acarc.txt', 'package.json']) expect(protectedReason(path, file('x'), {}), path).toBeUndefined();
    const changes = sessionChanges(new Map(), new Map([['.git/config', file('evil')]]));
    expect(planExport(changes, new Map(), rules)[0]).toMatchObject({ outcome: 'skipped', reason: 'git metadata' });
    expect(planExport(changes, new Map(), { ...rules, include: ['.git'] })[0]?.outcome).toBe('write');
  });
  it('reads core.hooksPath without running anything, and compares package.json aca keys', () => {
    expect(hooksPathIn('[core]\n\tbare = false\n\thooksPath = .husky/\n')).toBe('.husky');
    expect(hooksPathIn('[core]\n\thooksPath = /etc/hooks\n')).toBeUndefined();
    expect(hooksPathIn('[alias]\n\thooksPath = x\n')).toBeUndefined();
    expect(acaKeyDiffers(Buffer.from('{"name":"a"}'), Buffer.from('{"name":"b"}'))).toBe(false);
    expect(acaKeyDiffers(Buffer.from('{"name":"a"}'), Buffer.from('{"aca":{"user":"0:0"}}'))).toBe(true);
    expect(acaKeyDiffers(Buffer.from('{"aca":{"a":1}}'), Buffer.from('{"aca":{"a":1},"v":2}'))).toBe(false);
  });
});

describe('checkPaths', () => {
  const made: string[] = [];
  afterAll(() => made.forEach((d) => rmSync(d, { recursive: true, force: true })));
  const target = () => {
    const d = mkdtempSync(join(tmpdir(), 'aca-unit-export-'));
    made.push(d);
    return d;
  };
  const writes = (entries: Array<[string, ManifestEntry]>): Decision[] => entries.map(([path, after]) => ({ path, kind: 'added', type: after.type, after, outcome: 'write' }));
  it('accepts names that merely start with two dots, and refuses escapes', () => {
    const d = target();
    expect(() => checkPaths(d, writes([['..weird', file('x')], ['a/..b/c', file('y')]]), rules)).not.toThrow();
    expect(() => checkPaths(d, writes([['../out', file('x')]]), rules)).toThrow(/escapes/);
    expect(() => checkPaths(d, writes([['/etc/passwd', file('x')]]), rules)).toThrow(/escapes/);
    expect(() => checkPaths(d, writes([['l', link('/etc/passwd')]]), rules)).toThrow(/symlink to \/etc\/passwd/);
    expect(() => checkPaths(d, writes([['l', link('../../x')]]), rules)).toThrow(/outside/);
  });
  it('refuses a host directory that leads out of DIR, or into .git', () => {
    const d = target();
    symlinkSync(tmpdir(), join(d, 'out'));
    mkdirSync(join(d, '.git', 'hooks'), { recursive: true });
    symlinkSync('.git', join(d, 'repo'));
    writeFileSync(join(d, 'plain'), 'x');
    expect(() => checkPaths(d, writes([['out/payload', file('x')]]), rules)).toThrow(/link out of/);
    expect(() => checkPaths(d, writes([['repo/hooks/pre-commit', file('x')]]), rules)).toThrow(/leads to \.git\/hooks\/pre-commit \(git metadata\)/);
    expect(() => checkPaths(d, writes([['plain/child', file('x')]]), rules)).toThrow(/not a directory/);
  });
});

describe('renderPatch and isBinary', () => {
  it('renders text as a unified diff and binaries as one line', () => {
    const [change] = sessionChanges(new Map([['a.txt', file('1')]]), new Map([['a.txt', file('2')]]));
    expect(renderPatch(change!, 'one\ntwo\n', 'one\nTWO\n')).toBe('--- a/a.txt\n+++ b/a.txt\n@@ -1,2 +1,2 @@\n one\n-two\n+TWO\n');
    expect(renderPatch(change!, Buffer.from([0, 1]), Buffer.from([0, 2]))).toBe('Binary files a/a.txt and b/a.txt differ\n');
    expect(renderPatch(change!, 'x', undefined)).toBe('Files a/a.txt and b/a.txt differ (too large to show)\n');
    expect(isBinary(Buffer.from('héllo'))).toBe(false);
    expect(isBinary(Buffer.from([0xff, 0xfe]))).toBe(true);
  });
});

describe('exclusions', () => {
  it('reads a root .gitignore as .dockerignore rules', () => {
    expect(gitignoreRules('# c\nbuild/\n/dist\n*.log\n!keep.log\nsrc/gen\n')).toEqual(['**/build', 'dist', '**/*.log', '!**/keep.log', 'src/gen']);
    const exclude = excluder(gitignoreRules('build/\n*.log\n!keep.log\n'));
    expect(['build', 'a/build/x', 'x.log', 'a/b.log'].map(exclude)).toEqual([true, true, true, true]);
    expect(['keep.log', 'src/a.ts', 'builder'].map(exclude)).toEqual([false, false, false]);
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
