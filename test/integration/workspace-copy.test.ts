import { afterAll, describe, expect, it } from 'vitest';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { TEST_IMAGE } from '../helpers/engine.js';
import { engineSuite, expectOk, hasEngine } from './setup.js';

describe.skipIf(!hasEngine)('copy mode, diff, export and checkpoints', () => {
  const { aca, runId } = engineSuite();

  const made: string[] = [];
  afterAll(() => made.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
  const project = () => {
    const dir = mkdtempSync(join(tmpdir(), 'aca-copy-'));
    made.push(dir);
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
    // diff is against the copy's base, so it still lists them; a second export has only the deletion left.
    expect((await aca(['diff', '--stat', name])).stdout).toBe('A blob.bin (binary)\nA new.txt\nD old.txt\nM readme.md\n');
    const again = await aca(['export', name, '--include-deleted', '--json']);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ written: [], deleted: ['old.txt'], alreadyOnHost: ['blob.bin', 'new.txt', 'readme.md'] });
    expect(existsSync(join(dir, 'old.txt'))).toBe(false);
    expect(readdirSync(dir).filter((f) => f.startsWith('.aca-export-'))).toEqual([]);
  }, 180_000);

  it('is a three-way merge: host edits made after the copy are never reverted, and a path both changed is a conflict', async () => {
    const dir = project();
    writeFileSync(join(dir, 'host-only.txt'), 'v1\n');
    const name = `merge-${runId}`;
    expectOk(await aca(['run', '-d', '--name', name, '--workspace-mode', 'copy', '--image', TEST_IMAGE], { cwd: dir }));
    await aca(['exec', name, '--', 'sh', '-c', 'echo session > readme.md; echo fresh > new.txt']);
    // The user keeps working on the host meanwhile.
    writeFileSync(join(dir, 'host-only.txt'), 'v2 from the host\n');
    writeFileSync(join(dir, 'readme.md'), 'host edit\n');

    const stat = await aca(['diff', '--stat', name]);
    expect(stat.stdout).toBe('A new.txt\nM readme.md (changed on the host too)\n');
    const refused = await aca(['export', name]);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain('conflict: readme.md: modified in the session, changed on the host too');
    expect(refused.stdout).toBe('');
    expect(existsSync(join(dir, 'new.txt'))).toBe(false);
    const dry = await aca(['export', name, '--prefer-session', '--dry-run', '--json']);
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, written: ['new.txt', 'readme.md'], conflicts: [] });
    expect(readFileSync(join(dir, 'readme.md'), 'utf8')).toBe('host edit\n');

    const kept = await aca(['export', name, '--prefer-host']);
    expect(kept.exitCode, kept.stderr).toBe(0);
    expect(kept.stdout).toBe('new.txt\n');
    expect(readFileSync(join(dir, 'readme.md'), 'utf8')).toBe('host edit\n');
    expect(readFileSync(join(dir, 'host-only.txt'), 'utf8')).toBe('v2 from the host\n');
    expectOk(await aca(['export', name, '--prefer-session']));
    expect(readFileSync(join(dir, 'readme.md'), 'utf8')).toBe('session\n');
    expect(readFileSync(join(dir, 'host-only.txt'), 'utf8')).toBe('v2 from the host\n');
  }, 180_000);

  it('never exports git metadata, aca configuration or setuid files the session wrote; a host git status as a user runs nothing', async () => {
    const dir = project();
    execFileSync('git', ['init', '-q', dir]);
    writeFileSync(join(dir, '.git', 'hooks', 'pre-commit'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    const before = { hook: readFileSync(join(dir, '.git', 'hooks', 'pre-commit'), 'utf8'), config: readFileSync(join(dir, '.git', 'config'), 'utf8') };
    const name = `hostile-${runId}`;
    expectOk(await aca(['run', '-d', '--name', name, '--workspace-mode', 'copy', '--user', '0:0', '--image', TEST_IMAGE], { cwd: dir }));
    const pwned = join(dir, 'PWNED');
    const attack = [
      `printf '#!/bin/sh\\ntouch ${pwned}\\n' > .git/hooks/pre-commit`,
      `printf '[core]\\n\\tfsmonitor = touch ${pwned}-fsmonitor\\n' >> .git/config`,
      `echo 'require("fs").writeFileSync("${pwned}-acarc", "")' > .acarc.cjs`,
      'echo "{}" > .acarc.json',
      'cp /bin/busybox suid && chmod 4755 suid',
      'echo legit > ..weird',
      'echo ok > plain.txt',
    ].join('; ');
    const wrote = await aca(['exec', name, '--', 'sh', '-c', attack]);
    expect(wrote.exitCode, wrote.stderr).toBe(0);

    const exported = await aca(['export', name]);
    expect(exported.exitCode, exported.stderr).toBe(0);
    expect(exported.stdout.split('\n').filter(Boolean).sort()).toEqual(['..weird', 'plain.txt']);
    for (const path of ['.git/hooks/pre-commit', '.git/config', '.acarc.cjs', '.acarc.json', 'suid']) expect(exported.stderr).toContain(`skipped ${path}: `);
    expect(readFileSync(join(dir, '.git', 'hooks', 'pre-commit'), 'utf8')).toBe(before.hook);
    expect(readFileSync(join(dir, '.git', 'config'), 'utf8')).toBe(before.config);
    expect(existsSync(join(dir, '.acarc.cjs'))).toBe(false);
    expect(existsSync(join(dir, 'suid'))).toBe(false);
    expect(readFileSync(join(dir, '..weird'), 'utf8')).toBe('legit\n');

    // The user's own tools, as a non-root user, in the exported tree: nothing planted runs.
    execFileSync('chown', ['-R', '1000:1000', dir]);
    execFileSync('setpriv', ['--reuid=1000', '--regid=1000', '--clear-groups', 'git', '-C', dir, 'status', '--short'], { env: { ...process.env, HOME: dir } });
    execFileSync('setpriv', ['--reuid=1000', '--regid=1000', '--clear-groups', 'git', '-C', dir, 'add', 'plain.txt'], { env: { ...process.env, HOME: dir } });
    execFileSync('setpriv', ['--reuid=1000', '--regid=1000', '--clear-groups', 'git', '-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'x'], { env: { ...process.env, HOME: dir } });
    expect(readdirSync(dir).filter((f) => f.startsWith('PWNED'))).toEqual([]);

    // Named explicitly, a protected path is exported (a setuid file without its setuid bit).
    const named = await aca(['export', name, '--include', 'suid']);
    expect(named.exitCode, named.stderr).toBe(0);
    expect(statSync(join(dir, 'suid')).mode & 0o7777).toBe(0o755);
  }, 180_000);

  it('keeps a foreground run\'s changed workspace until it is reviewed; an unchanged one, or one run with --rm, goes', async () => {
    const dir = project();
    const name = `kept-${runId}`;
    const run = await aca(['run', '--name', name, '--workspace-mode', 'copy', '--image', TEST_IMAGE, '--', 'sh', '-c', 'echo work > result.txt'], { cwd: dir });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stderr).toContain(`aca: ${name} changed 1 path in its workspace copy; the session is kept (stopped)`);
    expect(run.stderr).toContain('  A result.txt');
    expect(run.stderr).toContain(`aca diff ${name}`);
    expect(run.stderr).toContain(`aca export ${name}`);
    const rows = JSON.parse((await aca(['ps', '-a', '--json'])).stdout) as Array<{ name: string; unexported: boolean }>;
    expect(rows.find((r) => r.name === name)).toMatchObject({ unexported: true });
    expect((await aca(['ps', '-a'])).stdout).toMatch(new RegExp(`${name}.*unexported`));

    const scope = ['--label', `acatest=${runId}`];
    const plan = JSON.parse((await aca(['gc', ...scope, '--dry-run', '--json'])).stdout) as { actions: Array<{ name: string }>; spared: Array<{ name: string; reason: string }> };
    expect(plan.actions.map((a) => a.name)).not.toContain(name);
    expect(plan.spared.find((s) => s.name === name)?.reason).toContain('un-exported changes');
    const gcText = await aca(['gc', ...scope, '--dry-run']);
    expect(gcText.stderr).toContain(`kept session ${name}: `);
    const forced = JSON.parse((await aca(['gc', ...scope, '--dry-run', '--json', '--include-unexported'])).stdout) as { actions: Array<{ name: string }> };
    expect(forced.actions.map((a) => a.name)).toContain(name);
    const aged = JSON.parse((await aca(['gc', ...scope, '--dry-run', '--json', '--unexported-max-age', '1ms'])).stdout) as { actions: Array<{ name: string }> };
    expect(aged.actions.map((a) => a.name)).toContain(name);

    expectOk(await aca(['export', name]));
    expect(readFileSync(join(dir, 'result.txt'), 'utf8')).toBe('work\n');
    const after = JSON.parse((await aca(['ps', '-a', '--json'])).stdout) as Array<{ name: string; unexported: boolean }>;
    expect(after.find((r) => r.name === name)).toMatchObject({ unexported: false });
    const cleaned = await aca(['gc', ...scope, '--json']);
    expect((JSON.parse(cleaned.stdout) as { actions: Array<{ name: string }> }).actions.map((a) => a.name)).toContain(name);

    const unchanged = `same-${runId}`;
    expectOk(await aca(['run', '--name', unchanged, '--workspace-mode', 'copy', '--image', TEST_IMAGE, '--', 'cat', 'readme.md'], { cwd: dir }));
    expect((await aca(['ps', '-a', '--json'])).stdout).not.toContain(unchanged);
    const discarded = `rm-${runId}`;
    const rm = await aca(['run', '--rm', '--name', discarded, '--workspace-mode', 'copy', '--image', TEST_IMAGE, '--', 'sh', '-c', 'echo x > y'], { cwd: dir });
    expect(rm.exitCode, rm.stderr).toBe(0);
    expect(rm.stderr).toContain(`aca: discarded the changes of ${discarded} to 1 path in its workspace copy (--rm)`);
    expect((await aca(['ps', '-a', '--json'])).stdout).not.toContain(discarded);
    expect(existsSync(join(dir, 'y'))).toBe(false);
  }, 180_000);

  it('streams the workspace in, leaving out what .acaignore (and with --respect-gitignore, .gitignore) excludes', async () => {
    const dir = project();
    mkdirSync(join(dir, 'node_modules', 'dep'), { recursive: true });
    writeFileSync(join(dir, 'node_modules', 'dep', 'index.js'), 'x');
    writeFileSync(join(dir, '.acaignore'), 'node_modules\n');
    mkdirSync(join(dir, 'src', 'build'), { recursive: true });
    writeFileSync(join(dir, 'src', 'build', 'out.o'), 'o');
    writeFileSync(join(dir, '.gitignore'), 'build/\n*.log\n');
    writeFileSync(join(dir, 'debug.log'), 'log');
    const listing = async (extra: string[]) => (await aca(['run', ...extra, '--workspace-mode', 'copy', '--image', TEST_IMAGE, '--', 'find', '.', '-type', 'f'], { cwd: dir })).stdout.split('\n').filter(Boolean).sort();
    const plain = await listing([]);
    expect(plain).not.toContain('./node_modules/dep/index.js');
    expect(plain).toContain('./src/build/out.o');
    expect(plain).toContain('./debug.log');
    const honoured = await listing(['--respect-gitignore']);
    expect(honoured).not.toContain('./src/build/out.o');
    expect(honoured).not.toContain('./debug.log');
    expect(honoured).toContain('./readme.md');

    // What the session makes at an excluded path is not exported either.
    const name = `ignored-${runId}`;
    expectOk(await aca(['run', '-d', '--name', name, '--workspace-mode', 'copy', '--image', TEST_IMAGE], { cwd: dir }));
    await aca(['exec', name, '--', 'sh', '-c', 'mkdir -p node_modules/new && echo y > node_modules/new/a.js && echo z > kept.txt']);
    expect((await aca(['diff', '--stat', name])).stdout).toBe('A kept.txt\n');
  }, 180_000);

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
  }, 180_000);

  it('says there is nothing to diff for a bind-mounted workspace', async () => {
    const name = `bind-${runId}`;
    expectOk(await aca(['run', '-d', '--name', name, '--image', TEST_IMAGE]));
    const result = await aca(['diff', name]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('works on the host tree directly');
  }, 180_000);

  it('restores a checkpoint: files in the filesystem, the home and the workspace copy', async () => {
    const dir = project();
    const name = `ckpt-${runId}`;
    const checkpoint = `snap-${runId}`.toLowerCase();
    // Root inside a copy (writing /etc needs it): never on the host tree, so allowed.
    expectOk(await aca(['run', '-d', '--name', name, '--workspace-mode', 'copy', '--writable-root', '-u', '0', '--image', TEST_IMAGE], { cwd: dir }));
    expectOk(await aca(['exec', name, '--', 'sh', '-c', 'echo in-home > $HOME/state; echo in-fs > /etc/marker; echo in-ws > /workspace/work.txt']));
    const made = await aca(['checkpoint', name, '--name', checkpoint, '--json']);
    expect(made.exitCode, made.stderr).toBe(0);
    expect(JSON.parse(made.stdout)).toMatchObject({ name: checkpoint, session: name, volumes: [`aca-ckpt-${checkpoint}-base`, `aca-ckpt-${checkpoint}-home`, `aca-ckpt-${checkpoint}-workspace`] });
    try {
      const listed = JSON.parse((await aca(['checkpoint', 'ls', '--json'])).stdout) as Array<{ name: string }>;
      expect(listed.map((c) => c.name)).toContain(checkpoint);
      expect((await aca(['checkpoint', name, '--name', checkpoint])).exitCode).toBe(1);

      // Change the original afterwards: the restore must show the checkpoint's state.
      await aca(['exec', name, '--', 'sh', '-c', 'echo later > $HOME/state']);
      const restoredName = `restored-${runId}`;
      const restored = await aca(['run', '--name', restoredName, '--from-checkpoint', checkpoint, '-u', '0', '--', 'sh', '-c', 'cat $HOME/state /etc/marker /workspace/work.txt; id -u'], { cwd: dir });
      expect(restored.exitCode, restored.stderr).toBe(0);
      // Its base is the original copy's: the checkpoint's work.txt is un-exported work, so the session is kept.
      expect(restored.stderr).toContain('  A work.txt');
      expectOk(await aca(['rm', restoredName]));
      expect(restored.stdout).toMatch(/^in-home\nin-fs\nin-ws\n\d+\n$/);
      // The session was paused for the checkpoint and resumed after it.
      expect((await aca(['ps', '--json'])).stdout).toMatch(new RegExp(`"name": "${name}",[\\s\\S]*?"state": "running"`));
    } finally {
      const removed = await aca(['checkpoint', 'rm', checkpoint]);
      expect(removed.exitCode, removed.stderr).toBe(0);
    }
    expect((await aca(['checkpoint', 'rm', checkpoint])).exitCode).toBe(1);
  }, 180_000);
});
