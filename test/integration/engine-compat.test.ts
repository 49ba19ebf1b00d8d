/**
 * Known gaps between engines' Docker-compatible APIs, checked on whichever
 * engine the suite runs against (the CI runs it on Docker and on Podman).
 */
import { PassThrough } from 'node:stream';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { ACA_BIN } from '../helpers/aca.js';
import { TEST_IMAGE } from '../helpers/engine.js';
import { engineSuite, hasEngine } from './setup.js';

describe.skipIf(!hasEngine)('engine API gaps', () => {
  const { aca, runId, workspace } = engineSuite();
  const session = `compat-${runId}`;
  beforeAll(async () => {
    const started = await aca(['run', '-d', '--name', session, '--image', TEST_IMAGE]);
    expect(started.exitCode, started.stderr).toBe(0);
  });

  it('ends exec when the command exits, though stdin is still open (podman #6853)', async () => {
    const stdin = new PassThrough();
    const child = execa(ACA_BIN, ['exec', '-i', session, '--', 'sh', '-c', 'read line; echo "got $line"; exit 3'], {
      // A hang is what this guards against: execa's timeout ends it, and timedOut says so (no wall-clock assertion).
      cwd: workspace, reject: false, stdin: 'pipe', timeout: 20_000, env: { NO_COLOR: '1' },
    });
    stdin.pipe(child.stdin!);
    stdin.write('one line\n');
    // stdin is never ended: only the command's exit can end aca.
    const result = await child;
    expect(result.timedOut).toBe(false);
    expect(result.exitCode, result.stderr).toBe(3);
    expect(result.stdout).toBe('got one line');
    stdin.destroy();
  });

  it('passes stdin byte for byte, with nothing of the request echoed into it (dockerode #742)', async () => {
    const result = await aca(['exec', '-i', session, '--', 'sh', '-c', 'od -An -c | tr -s " "'], { input: 'ab' });
    expect(result.stdout.trim()).toBe('a b');
    const run = await aca(['run', '-i', '--image', TEST_IMAGE, '--', 'sh', '-c', 'od -An -c | tr -s " "'], { input: 'cd' });
    expect(run.stdout.trim()).toBe('c d');
  });
});
