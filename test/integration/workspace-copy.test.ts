import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { TEST_IMAGE } from '../helpers/engine.js';
import { engineSuite, expectOk, hasEngine } from './setup.js';

describe.skipIf(!hasEngine)('copy mode, diff, export and checkpoints', () => {
  const { aca, runId } = engineSuite();

  const project = () => {
    const dir = mkdtempSync(join(tmpdir(), 'aca-copy-'));
    writeFileSync(join(dir, 'readme.md'), 'hello\nworld\n');
    writeFileSync(join(dir, 'old.txt'), 'to be deleted\n');
    symlinkSync('readme.md', join(dir, 'link'));
    return dir;
  };
  const snapshot = (dir: string) => Object.fromEntries(readdirSync(dir).sort().map((f) => [f, existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8') : '']));

  it('works on a copy: the host tree is untouched until export, and diff shows exactly what changed', async () => {
    const dir = project();
    const before = snapshot(dir);
    const name = `copy-${runId}`;
    expectOk(await aca(['run', '-d', '--name', name, '--workspace-mode', 'copy', '--image', TEST_IMAGE], { cwd: dir }));
    const edit = await aca(['exec', name, '--', 'sh', '-c', 'cat readme.md; printf "hello\\nthere\\n" > readme.md; rm old.txt; echo fresh > new.txt; printf "\\0\\1\\2" > blob.bin']);
    expect(edit.stdout).toBe('hello\nworld\n');
    expect(snapshot(dir)).toEqual(before);

    const stat = await aca(['diff', '--stat', name]);
    expect(stat.stdout).toBe('A blob.bin (binary)\nA new.txt\nD old.txt\nM readme.md\n');
    const patch = await aca(['diff', name]);
    expect(patch.stdout).toContain('--- a/readme.md\n+++ b/readme.md\n@@ -1,2 +1,2 @@\n hello\n-world\n+there\n');
    expect(patch.stdout).toContain('Binary files /dev/null and b/blob.bin differ\n');
    expect(patch.stdout).toContain('--- a/old.txt\n+++ /dev/null\n');

    const exported = await aca(['export', name]);
    expect(exported.exitCode, exported.stderr).toBe(0);
    expect(exported.stdout.split('\n').filter(Boolean).sort()).toEqual(['blob.bin', 'new.txt', 'readme.md']);
    expect(exported.stderr).toContain('old.txt was deleted in the session; left in place on the host');
    expect(readFileSync(join(dir, 'readme.md'), 'utf8')).toBe('hello\nthere\n');
    expect(readFileSync(join(dir, 'old.txt'), 'utf8')).toBe('to be deleted\n');
    expect(readFileSync(join(dir, 'blob.bin'))).toEqual(Buffer.from([0, 1, 2]));
    expect((await aca(['diff', '--stat', name])).stdout).toBe('D old.txt\n');
  });

  it('refuses an export that a symlink would lead out of the directory, writing nothing', async () => {
    const dir = project();
    const name = `escape-${runId}`;
    expectOk(await aca(['run', '-d', '--name', name, '--workspace-mode', 'copy', '--image', TEST_IMAGE], { cwd: dir }));
    await aca(['exec', name, '--', 'sh', '-c', 'echo innocent > a-first.txt; ln -s /etc/passwd escape']);
    const refused = await aca(['export', name]);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(/refusing to export "escape": it is a symlink to \/etc\/passwd/);
    expect(existsSync(join(dir, 'a-first.txt'))).toBe(false);
    expect(existsSync(join(dir, 'escape'))).toBe(false);
    const target = mkdtempSync(join(tmpdir(), 'aca-export-to-'));
    expect((await aca(['export', name, target])).exitCode).toBe(1);
  });

  it('says there is nothing to diff for a bind-mounted workspace', async () => {
    const name = `bind-${runId}`;
    expectOk(await aca(['run', '-d', '--name', name, '--image', TEST_IMAGE]));
    const result = await aca(['diff', name]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('works on the host tree directly');
  });

  it('restores a checkpoint: files in the filesystem, the home and the workspace copy', async () => {
    const dir = project();
    const name = `ckpt-${runId}`;
    const checkpoint = `snap-${runId}`.toLowerCase();
    // Root inside a copy (writing /etc needs it): never on the host tree, so allowed.
    expectOk(await aca(['run', '-d', '--name', name, '--workspace-mode', 'copy', '--writable-root', '-u', '0', '--image', TEST_IMAGE], { cwd: dir }));
    expectOk(await aca(['exec', name, '--', 'sh', '-c', 'echo in-home > $HOME/state; echo in-fs > /etc/marker; echo in-ws > /workspace/work.txt']));
    const made = await aca(['checkpoint', name, '--name', checkpoint, '--json']);
    expect(made.exitCode, made.stderr).toBe(0);
    expect(JSON.parse(made.stdout)).toMatchObject({ name: checkpoint, session: name, volumes: [`aca-ckpt-${checkpoint}-home`, `aca-ckpt-${checkpoint}-workspace`] });
    try {
      const listed = JSON.parse((await aca(['checkpoint', 'ls', '--json'])).stdout) as Array<{ name: string }>;
      expect(listed.map((c) => c.name)).toContain(checkpoint);
      expect((await aca(['checkpoint', name, '--name', checkpoint])).exitCode).toBe(1);

      // Change the original afterwards: the restore must show the checkpoint's state.
      await aca(['exec', name, '--', 'sh', '-c', 'echo later > $HOME/state']);
      const restored = await aca(['run', '--from-checkpoint', checkpoint, '-u', '0', '--', 'sh', '-c', 'cat $HOME/state /etc/marker /workspace/work.txt; id -u'], { cwd: dir });
      expect(restored.exitCode, restored.stderr).toBe(0);
      expect(restored.stdout).toMatch(/^in-home\nin-fs\nin-ws\n\d+\n$/);
    } finally {
      const removed = await aca(['checkpoint', 'rm', checkpoint]);
      expect(removed.exitCode, removed.stderr).toBe(0);
    }
    expect((await aca(['checkpoint', 'rm', checkpoint])).exitCode).toBe(1);
  });
});
