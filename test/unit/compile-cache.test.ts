import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stateDir } from '../../src/state-dir.js';

// bin/compile-cache.cjs changes how this process compiles modules: it is exercised in child processes only.
const cacheModule = fileURLToPath(new URL('../../bin/compile-cache.cjs', import.meta.url));
const { stateDir: binStateDir, cacheDir } = createRequire(import.meta.url)(cacheModule) as {
  stateDir(env: NodeJS.ProcessEnv): string;
  cacheDir(env: NodeJS.ProcessEnv): string;
};
const nodeCachesItself = typeof (await import('node:module')).default.enableCompileCache === 'function';

let root: string;
let bundle: string;
let env: NodeJS.ProcessEnv;
let dir: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'aca-compile-cache-'));
  bundle = join(root, 'bundle');
  mkdirSync(bundle);
  // The shapes the bundle has: a chunk that requires another and resolves a path, and one that imports lazily (and,
  // in case a build ever adds one, starts with #!).
  writeFileSync(join(bundle, 'entry.cjs'), [
    "'use strict';",
    "const dep = require('./dep.cjs');",
    "const lazy = require('./lazy.cjs');",
    "const bang = require('./bang.cjs');",
    "exports.answer = async () => `${dep.value}${await lazy.separator()}${require.resolve('./dep.cjs') === __dirname + '/dep.cjs'}${bang.mark}`;",
  ].join('\n'));
  writeFileSync(join(bundle, 'dep.cjs'), "'use strict';\nexports.value = 'first!';\n");
  writeFileSync(join(bundle, 'lazy.cjs'), "'use strict';\nexports.separator = async () => (await import('node:path')).sep;\n");
  writeFileSync(join(bundle, 'bang.cjs'), "#!/usr/bin/env node\n'use strict';\nexports.mark = '!';\n");
  writeFileSync(join(root, 'driver.cjs'), [
    `const cache = require(${JSON.stringify(cacheModule)}).useCompileCache(${JSON.stringify(bundle)}, process.env);`,
    `require(${JSON.stringify(join(bundle, 'entry.cjs'))}).answer().then((answer) => {`,
    '  cache.write();',
    '  process.stdout.write(JSON.stringify({ answer, used: cache.used }));',
    '});',
  ].join('\n'));
  env = { PATH: process.env.PATH, HOME: join(root, 'home'), XDG_STATE_HOME: join(root, 'state') };
  dir = cacheDir(env);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** One aca-like process: what it computed and how many entries it used. It must say nothing on stderr. */
function run(extra: NodeJS.ProcessEnv = {}): { answer: string; used: number } {
  const child = spawnSync(process.execPath, [join(root, 'driver.cjs')], { env: { ...env, ...extra }, encoding: 'utf8' });
  expect(child.stderr).toBe('');
  expect(child.status).toBe(0);
  return JSON.parse(child.stdout);
}
const entries = () => readdirSync(dir).filter((name) => name.endsWith('.bin')).sort();
const mtimes = () => entries().map((name) => statSync(join(dir, name)).mtimeMs);

describe('the compile cache (bin/compile-cache.cjs)', () => {
  it('lives in aca\'s state directory, found by the same rule as src/state-dir.ts, which no session can mount', () => {
    for (const e of [{ HOME: '/h' }, { HOME: '/h', XDG_STATE_HOME: '/s' }, { HOME: '/h', XDG_STATE_HOME: 'relative' }, { HOME: '/h', XDG_STATE_HOME: '' }]) {
      expect(binStateDir(e)).toBe(stateDir(e));
      expect(cacheDir(e).startsWith(`${stateDir(e)}/`)).toBe(true);
    }
  });

  it.runIf(!nodeCachesItself)('makes private entries on the first run and uses them, unchanged, on the next (not for a lazy import())', () => {
    expect(run()).toEqual({ answer: 'first!/true!', used: 0 });
    expect(entries()).toHaveLength(2);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    for (const name of entries()) expect(statSync(join(dir, name)).mode & 0o777).toBe(0o600);
    const made = mtimes();
    expect(run()).toEqual({ answer: 'first!/true!', used: 2 });
    expect(mtimes()).toEqual(made);
  });

  it.runIf(!nodeCachesItself)('never gives a changed module its old entry, even at the same length (which V8 alone would accept)', () => {
    run();
    writeFileSync(join(bundle, 'dep.cjs'), "'use strict';\nexports.value = 'secnd!';\n");
    expect(run()).toEqual({ answer: 'secnd!/true!', used: 1 });
    expect(entries()).toHaveLength(3);
  });

  it.runIf(!nodeCachesItself)('makes again an entry that V8 rejects', () => {
    run();
    const [first] = entries();
    const garbage = Buffer.alloc(statSync(join(dir, first!)).size, 7);
    writeFileSync(join(dir, first!), garbage);
    expect(run()).toEqual({ answer: 'first!/true!', used: 1 });
    expect(readFileSync(join(dir, first!)).equals(garbage)).toBe(false);
    expect(run().used).toBe(2);
  });

  it.runIf(!nodeCachesItself)('neither reads nor writes a cache directory that others can write, or a link to one', () => {
    run();
    chmodSync(dir, 0o777);
    rmSync(join(dir, entries()[0]!));
    expect(run()).toEqual({ answer: 'first!/true!', used: 0 });
    expect(entries()).toHaveLength(1);

    chmodSync(dir, 0o700);
    const real = `${dir}-real`;
    renameSync(dir, real);
    symlinkSync(real, dir);
    expect(run().used).toBe(0);
    expect(readdirSync(real).filter((name) => name.endsWith('.bin'))).toHaveLength(1);
  });

  it('is off with NODE_DISABLE_COMPILE_CACHE, as in Node 22', () => {
    expect(run({ NODE_DISABLE_COMPILE_CACHE: '1' })).toEqual({ answer: 'first!/true!', used: 0 });
    expect(() => readdirSync(dir)).toThrow();
  });

  it.runIf(!nodeCachesItself)('keeps the newest entries when it holds too many', () => {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const old = new Date('2026-01-01T00:00:00Z');
    for (let i = 0; i < 450; i++) {
      const file = join(dir, `${String(i).padStart(40, '0')}.bin`);
      writeFileSync(file, 'stale');
      utimesSync(file, old, old);
    }
    run();
    expect(entries()).toHaveLength(200);
    expect(run().used).toBe(2);
  });

  it.runIf(nodeCachesItself)('hands the directory to Node\'s own compile cache', () => {
    expect(run().answer).toBe('first!/true!');
    expect(readdirSync(dir).length).toBeGreaterThan(0);
  });
});
