/**
 * A first build that never dead-ends: a base that cannot be had is named in
 * one line with the ways out (and nothing is created), and a build shows where
 * its time goes, live on a terminal and as lines in a CI log.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_IMAGE, TEST_LABEL, testEngine } from '../helpers/engine.js';
import { Terminal } from '../helpers/pty.js';
import { engineSuite, hasEngine } from './setup.js';

const NO_BASE = 'aca-test/no-such-base:1';
const DEBIAN = 'aca-test/debian:bookworm';
const alpineBuilt = hasEngine && (await (await testEngine()).images.inspect('aca/base:alpine')) !== undefined;
if (alpineBuilt) process.stderr.write('\n*** aca/base:alpine exists on this engine: the first-run test of `aca run` building it is SKIPPED.\n\n');

describe.skipIf(!hasEngine)('a base that cannot be pulled', () => {
  const { aca, runId } = engineSuite();

  it.skipIf(alpineBuilt)('aca run says so in one line with the ways out, exits 125 and creates nothing', async () => {
    const run = await aca(['run', '--image', 'aca/base:alpine', '--base', NO_BASE, '--no-workspace', '--', 'true'], { timeout: 120_000 });
    expect(run.exitCode, run.stderr).toBe(125);
    const lines = run.stderr.trim().split('\n');
    const error = lines.findIndex((line) => line.startsWith('aca: cannot build'));
    expect(lines[error]).toMatch(new RegExp(`^aca: cannot build aca/base:alpine: its base ${NO_BASE} is not on the engine and cannot be pulled \\(.+\\)$`));
    expect(lines[error + 1]).toMatch(/--base IMAGE, or base: IMAGE in aca's configuration; aca build --base IMAGE/);
    expect(lines.slice(error + 2)).toEqual([]);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    const engine = await testEngine();
    expect(await engine.images.inspect('aca/base:alpine')).toBeUndefined();
    expect(await engine.listContainers([`${TEST_LABEL}=${runId}`], true)).toEqual([]);
  }, 180_000);

  it('aca build names the local images that look like a usable base', async () => {
    const hasDebian = (await (await testEngine()).images.inspect(DEBIAN)) !== undefined;
    const build = await aca(['build', '--base', NO_BASE], { timeout: 120_000 });
    expect(build.exitCode).toBe(1);
    expect(build.stderr).toMatch(new RegExp(`^aca: cannot build aca/base:full: its base ${NO_BASE} is not on the engine and cannot be pulled`, 'm'));
    if (hasDebian) expect(build.stderr).toMatch(/Local images that look usable: (?:.*, )?(?:localhost\/)?aca-test\/debian:bookworm/);
    else expect(build.stderr).toMatch(/No Debian or Ubuntu image is on the engine/);
  }, 180_000);
});

describe.skipIf(!hasEngine)('build progress', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aca-progress-'));
  // A RUN step that takes a while and prints as it goes; a fresh ARG value each time defeats the cache.
  writeFileSync(join(dir, 'Dockerfile'), `FROM ${TEST_IMAGE}\nARG NONCE\nRUN for i in 1 2 3 4 5 6; do echo "progress-line-$i $NONCE"; sleep 1; done\n`);
  const tags: string[] = [];
  afterAll(async () => {
    const engine = await testEngine();
    for (const tag of tags) await engine.http.json('DELETE', `/images/${encodeURIComponent(tag)}`).catch(() => {});
  });
  const tag = (what: string) => { const t = `aca-test/progress-${what}:${process.pid}`; tags.push(t); return t; };

  it('without a terminal: every step and every RUN line on stderr, with the time since the start', async () => {
    const { aca } = await import('../helpers/aca.js');
    const built = await aca(['build', '-f', 'Dockerfile', '-t', tag('log'), '--build-arg', `NONCE=${Date.now()}`, '.'], { cwd: dir, timeout: 120_000 });
    expect(built.exitCode, built.stderr).toBe(0);
    expect(built.stderr).toMatch(/^\[ *\d+s\] Step 3\/\d+ : RUN for i in/m);
    for (let i = 1; i <= 6; i += 1) expect(built.stderr).toMatch(new RegExp(`^\\[ *\\d+s\\]   progress-line-${i} `, 'm'));
    expect(built.stderr).toMatch(/^\[ *\d+s\] Building aca-test\/progress-log:\d+: done$/m);
  }, 150_000);

  it('on a terminal: a spinner with the current step and the last line of a long RUN step', async () => {
    const term = Terminal.aca(['build', '-f', 'Dockerfile', '-t', tag('tty'), '--build-arg', `NONCE=${Date.now()}`, '.'], { cwd: dir, cols: 100, env: { CI: undefined } });
    try {
      await term.waitFor(/Building aca-test\/progress-tty:\d+ \(\d+s\): Step 3\/\d+ : RUN for i in/, 60_000);
      // Once the step has run a few seconds, the spinner shows its latest output line under it.
      await term.waitFor(/\n {2}progress-line-[3-6] /, 60_000);
      await term.waitFor(/Building aca-test\/progress-tty:\d+: done in \d+s/, 60_000);
      expect((await term.exited).exitCode).toBe(0);
    } finally {
      term.kill('SIGKILL');
    }
  }, 150_000);
});
