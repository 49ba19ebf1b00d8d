import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { aca } from '../helpers/aca.js';
import { TEST_IMAGE, testEngine } from '../helpers/engine.js';
import { hasEngine } from './setup.js';

describe.skipIf(!hasEngine)('aca build -f', () => {
  it('builds a Dockerfile, labels the image as aca\'s, and prints id and tags with --json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aca-build-'));
    writeFileSync(join(dir, 'Dockerfile'), `FROM ${TEST_IMAGE}\nARG GREETING\nRUN echo "$GREETING" > /greeting\n`);
    const tag = `aca-test/built:${process.pid}`;
    const result = await aca(['build', '-f', 'Dockerfile', '-t', tag, '--build-arg', 'GREETING=hello', '--json', '.'], { cwd: dir });
    expect(result.exitCode, result.stderr).toBe(0);
    const built = JSON.parse(result.stdout) as { id: string; tags: string[] };
    expect(built.tags).toEqual([tag]);
    const engine = await testEngine();
    try {
      const image = await engine.images.inspect(tag);
      expect(image?.Id).toBe(built.id);
      expect(image?.Config?.Labels?.['aca.managed']).toBe('true');
    } finally {
      await engine.http.json('DELETE', `/images/${encodeURIComponent(tag)}`).catch(() => {});
    }
  });

  it('fails on a broken step, naming the step and showing its output, exit 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aca-broken-'));
    writeFileSync(join(dir, 'Dockerfile'), `FROM ${TEST_IMAGE}\nRUN echo about-to-fail && exit 3\n`);
    const result = await aca(['build', '-f', 'Dockerfile', '-t', 'aca-test/broken:1', '.'], { cwd: dir });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/build failed at Step 2\/\d+ : RUN echo about-to-fail && exit 3/i);
    expect(result.stderr).toMatch(/\nabout-to-fail\n/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses an unknown variant and a Dockerfile outside the context', async () => {
    expect((await aca(['build', '--variant', 'tiny'])).exitCode).toBe(2);
    const dir = mkdtempSync(join(tmpdir(), 'aca-ctx-'));
    const other = mkdtempSync(join(tmpdir(), 'aca-other-'));
    writeFileSync(join(other, 'Dockerfile'), 'FROM scratch\n');
    const outside = await aca(['build', '-f', join(other, 'Dockerfile'), dir]);
    expect(outside.exitCode).toBe(2);
    expect(outside.stderr).toContain('inside the build context');
  });
});
