/**
 * `--agent-login` copies the user's subscription login into the session's home (mode 0600): the agent holds it while
 * the session lives, but a checkpoint of the session never carries it (issue 13). A preset of the user's own on the
 * small test image stands in for Claude Code and Codex, which name their login files the same way.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_IMAGE, testEngine } from '../helpers/engine.js';
import { scanCheckpoint } from '../helpers/scan.js';
import { engineSuite, expectOk, hasEngine } from './setup.js';

describe.skipIf(!hasEngine)('a subscription login copied into an agent session', () => {
  const suite = engineSuite();
  const scratch = mkdtempSync(join(tmpdir(), 'aca-agent-login-'));
  const env = { HOME: join(scratch, 'home'), XDG_CONFIG_HOME: join(scratch, 'config'), XDG_STATE_HOME: join(scratch, 'state') };
  const checkpoints: string[] = [];
  afterAll(async () => {
    for (const checkpoint of checkpoints) await suite.aca(['checkpoint', 'rm', checkpoint], { env }).catch(() => {});
    rmSync(scratch, { recursive: true, force: true });
  });

  it('is in the session home, mode 0600, and in no part of a checkpoint of it', async () => {
    const token = `login-${randomBytes(12).toString('hex')}`;
    mkdirSync(join(env.HOME, '.fake'), { recursive: true });
    writeFileSync(join(env.HOME, '.fake', 'auth.json'), JSON.stringify({ token }));
    mkdirSync(join(env.XDG_CONFIG_HOME, 'aca'), { recursive: true });
    writeFileSync(join(env.XDG_CONFIG_HOME, 'aca', 'config.json'), JSON.stringify({
      agents: { fake: { image: TEST_IMAGE, command: ['sleep', '600'], secrets: ['FAKE_AGENT_KEY'], loginFiles: ['.fake/auth.json'] } },
    }));
    const name = `login-${suite.runId}`;
    expectOk(await suite.aca(['run', '-d', '--name', name, '--no-workspace', '--agent', 'fake', '--agent-login'], { env }));

    // The copy runs before the agent's command: wait for it, then leave a marker beside it that a checkpoint must keep.
    const mark = `home-${randomBytes(8).toString('hex')}`;
    let copied = { exitCode: 1, stdout: '', stderr: '' };
    for (let i = 0; i < 50 && copied.exitCode !== 0; i++) {
      copied = await suite.aca(['exec', name, '--', 'sh', '-c', `stat -c %a "$HOME/.fake/auth.json" && cat "$HOME/.fake/auth.json" && echo ${mark} > "$HOME/marker.txt"`], { env });
      if (copied.exitCode !== 0) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expectOk(copied);
    expect(copied.stdout).toContain('600\n');
    expect(copied.stdout).toContain(token);

    const checkpoint = `ck-login-${suite.runId}`;
    checkpoints.push(checkpoint);
    expectOk(await suite.aca(['checkpoint', name, '--name', checkpoint], { env }));
    const listed = (JSON.parse((await suite.aca(['checkpoint', 'ls', '--json'], { env })).stdout) as Array<{ name: string; image: string; volumes: string[] }>)
      .find((c) => c.name === checkpoint);
    expect(listed, 'the checkpoint is listed').toBeDefined();
    const home = `aca-ckpt-${checkpoint}-home`;
    expect(listed!.volumes).toContain(home);
    const scan = await scanCheckpoint(await testEngine(), suite.runId, listed!, [token, mark]);
    expect([...scan.volumes[home]!], 'the home volume was scanned').toContain(mark);
    expect(scan.config.has(token), 'the login is in the checkpoint image configuration').toBe(false);
    expect(scan.filesystem.has(token), 'the login is in the checkpoint image filesystem').toBe(false);
    for (const [volume, found] of Object.entries(scan.volumes)) expect(found.has(token), `the login is in checkpoint volume ${volume}`).toBe(false);
  }, 240_000);
});
