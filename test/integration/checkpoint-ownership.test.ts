/**
 * A checkpoint round trip keeps who owns each file and its mode: a session restored from one finds its home and its
 * workspace copy as it left them (Podman's archive API reports every file as the copying container's user, root,
 * which left a restored home root-owned and unusable). No copy is setuid (it was root's, on Podman, before).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { TEST_IMAGE } from '../helpers/engine.js';
import { engineSuite, expectOk, hasEngine } from './setup.js';

describe.skipIf(!hasEngine)('checkpoint ownership', () => {
  const { aca, runId } = engineSuite();
  const dir = mkdtempSync(join(tmpdir(), 'aca-owner-'));
  writeFileSync(join(dir, 'readme.md'), 'hello\n');
  const checkpoint = `own-${runId}`.toLowerCase();
  const tampered = `own-cp-${runId}`.toLowerCase();
  const again = `own-cp2-${runId}`.toLowerCase();
  afterAll(async () => {
    // Sessions first, then the newest checkpoint: a session, or a checkpoint made from one, holds its image.
    for (const session of [`own-${runId}`, `own-cp-${runId}`, `own-cp2-${runId}`]) await aca(['rm', '-f', session]).catch(() => {});
    for (const made of [again, tampered, checkpoint]) await aca(['checkpoint', 'rm', made]).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  const FILES = '$HOME $HOME/notes $HOME/notes/private.txt $HOME/run.sh $HOME/suid /workspace /workspace/src /workspace/src/main.sh /workspace/secret.txt';
  // Where the entrypoint put HOME (it falls back to a scratch home when the home is not the user's), then each file.
  const LIST = `echo "HOME=$HOME"; stat -c '%u:%g %a %n' ${FILES}`;
  // A copy drops the setuid bit, and nothing else.
  const withoutSetuid = (out: string) => out.trim().split('\n').map((line) => line.replace(/^(\S+) 4755 (\S+\/suid)$/, '$1 755 $2'));

  it('keeps the owner and mode of every file in the home and the workspace copy of a restored session', async () => {
    const name = `own-${runId}`;
    // The image's user (1000) writes them, as an agent does.
    expectOk(await aca(['run', '-d', '--name', name, '--workspace-mode', 'copy', '--image', TEST_IMAGE], { cwd: dir }));
    expectOk(await aca(['exec', name, '--', 'sh', '-c',
      'cd $HOME && mkdir notes && echo mine > notes/private.txt && chmod 600 notes/private.txt && chmod 750 notes && ' +
      'printf "#!/bin/sh\\necho ran\\n" > run.sh && chmod 755 run.sh && echo x > suid && chmod 4755 suid && ' +
      'cd /workspace && mkdir src && printf "#!/bin/sh\\n" > src/main.sh && chmod 700 src/main.sh && echo s > secret.txt && chmod 640 secret.txt']));
    const before = await aca(['exec', name, '--', 'sh', '-c', LIST]);
    expectOk(before);
    expect(before.stdout).toMatch(/^HOME=(\S+)\n1000:1000 700 \1\n1000:1000 750 \1\/notes\n1000:1000 600 \1\/notes\/private.txt\n/);

    expectOk(await aca(['checkpoint', name, '--name', checkpoint]));
    const restored = await aca(['run', '--rm', '--from-checkpoint', checkpoint, '--', 'sh', '-c', `${LIST}; $HOME/run.sh; cat $HOME/notes/private.txt`], { cwd: dir });
    expectOk(restored);
    const expected = withoutSetuid(before.stdout);
    const lines = restored.stdout.trim().split('\n');
    expect(before.stdout).toMatch(/^1000:1000 4755 \S+\/suid$/m);
    expect(lines.slice(0, expected.length)).toEqual(expected);
    expect(lines.slice(expected.length)).toEqual(['ran', 'mine']);
  }, 240_000);

  it('copies a checkpoint with tools the session could not change: a shell it replaced in its filesystem never runs', async () => {
    const name = `own-cp-${runId}`;
    // Root in its own filesystem, the session swaps its shell for one that would plant a file in any copy made with it
    // (busybox's shell runs cp and find itself, so replacing those alone would prove nothing here).
    expectOk(await aca(['run', '-d', '--name', name, '--workspace-mode', 'copy', '--writable-root', '-u', '0', '--image', TEST_IMAGE], { cwd: dir }));
    expectOk(await aca(['exec', name, '--', 'sh', '-c',
      'echo kept > $HOME/state; echo kept > /workspace/work.txt; ' +
      'rm /bin/sh && printf "#!/bin/busybox sh\\necho planted > /aca-copy-to/planted 2>/dev/null\\nexec /bin/busybox sh \\"\\$@\\"\\n" > /bin/sh && chmod 755 /bin/sh']));
    expectOk(await aca(['checkpoint', name, '--name', tampered]));
    const check = 'cat $HOME/state /workspace/work.txt; ls -a $HOME /workspace';
    const restored = await aca(['run', '--rm', '--from-checkpoint', tampered, '-u', '0', '--', 'sh', '-c', check], { cwd: dir });
    expectOk(restored);
    expect(restored.stdout).toMatch(/^kept\nkept\n/);
    expect(restored.stdout).not.toContain('planted');

    // Nor in a checkpoint of a session restored from that one (its image is the tampered one).
    const second = `own-cp2-${runId}`;
    expectOk(await aca(['run', '-d', '--name', second, '--from-checkpoint', tampered, '-u', '0'], { cwd: dir }));
    expectOk(await aca(['checkpoint', second, '--name', again]));
    const twice = await aca(['run', '--rm', '--from-checkpoint', again, '-u', '0', '--', 'sh', '-c', check], { cwd: dir });
    expectOk(twice);
    expect(twice.stdout).toMatch(/^kept\nkept\n/);
    expect(twice.stdout).not.toContain('planted');
  }, 240_000);
});
