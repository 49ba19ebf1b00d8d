import { describe, expect, it } from 'vitest';
import { TEST_IMAGE, sessionExists, testEngine } from '../helpers/engine.js';
import { engineSuite, hasEngine } from './setup.js';

describe.skipIf(!hasEngine)('session lifecycle: run -d, ps, logs, stop, start, rm', () => {
  const { aca, runId, workspace } = engineSuite();

  it('detaches with --json, lists, logs, stops, starts and removes a session', async () => {
    const name = `life-${runId}`;
    const started = await aca(['run', '-d', '--json', '--name', name, '--image', TEST_IMAGE, '--', 'sh', '-c', 'echo started; echo oops >&2; while :; do sleep 1; done']);
    expect(started.exitCode, started.stderr).toBe(0);
    const detached = JSON.parse(started.stdout) as { name: string; id: string };
    expect(detached.name).toBe(name);
    expect(detached.id).toMatch(/^[0-9a-f]{64}$/);

    const listed = JSON.parse((await aca(['ps', '--json'])).stdout) as Array<Record<string, string>>;
    const row = listed.find((r) => r.name === name)!;
    expect(row).toMatchObject({ name, image: TEST_IMAGE, state: 'running', workspace, health: 'none' });
    expect(Object.keys(row).sort()).toEqual(['agent', 'branch', 'created', 'health', 'id', 'image', 'isolation', 'mcp', 'name', 'orphaned', 'state', 'status', 'unexported', 'workspace']);

    // logs keeps the streams apart too (poll: the command needs a moment to print)
    let logs = await aca(['logs', name]);
    for (let i = 0; i < 50 && !logs.stdout.includes('started'); i++) logs = await aca(['logs', name]);
    expect(logs.stdout).toBe('started\n');
    expect(logs.stderr).toBe('oops\n');
    expect((await aca(['logs', '--tail', 'x', name])).exitCode).toBe(2);

    expect((await aca(['stop', '-t', '1', name])).exitCode).toBe(0);
    expect((await aca(['ps', '--json'])).stdout).not.toContain(`"${name}"`);
    expect((await aca(['ps', '--all', '--json'])).stdout).toContain(`"${name}"`);
    expect((await aca(['start', name])).exitCode).toBe(0);

    const refused = await aca(['rm', name]);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain('running');
    expect((await aca(['rm', '-f', name])).exitCode).toBe(0);
    expect(await sessionExists(name)).toBe(false);
  });

  it('generates a readable name when none is given', async () => {
    const started = await aca(['run', '-d', '--image', TEST_IMAGE]);
    expect(started.stdout.trim()).toMatch(/^[a-z]+-[a-z]+-[0-9a-f]{4}$/);
    expect((await aca(['rm', '-f', started.stdout.trim()])).exitCode).toBe(0);
  });

  it('refuses a taken name', async () => {
    const name = `taken-${runId}`;
    expect((await aca(['run', '-d', '--name', name, '--image', TEST_IMAGE])).exitCode).toBe(0);
    await aca(['exec', name, '--', 'sh', '-c', 'echo mine > $HOME/data']);
    expect((await aca(['stop', '-t', '0', name])).exitCode).toBe(0);
    const again = await aca(['run', '-d', '--name', name, '--image', TEST_IMAGE]);
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toContain(`"${name}" is taken`);
    // The clash touched nothing of the first session: its home is still there.
    expect((await aca(['start', name])).exitCode).toBe(0);
    expect((await aca(['exec', name, '--', 'cat', '/home/aca/data'])).stdout).toBe('mine\n');
  });

  it('reports each unknown session and exits 1, still acting on the others', async () => {
    const name = `multi-${runId}`;
    await aca(['run', '-d', '--name', name, '--image', TEST_IMAGE]);
    const result = await aca(['rm', '-f', 'no-such-session-abc', name]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('no such session: no-such-session-abc');
    expect(result.stdout).toBe(`${name}\n`);
    expect(await sessionExists(name)).toBe(false);
  });

  it('never matches a container aca did not create, whatever its name', async () => {
    const engine = await testEngine();
    const id = await engine.createContainer(`aca-foreign-${runId}`, {
      Image: TEST_IMAGE, Cmd: ['true'], Env: [], Labels: { acatest: runId }, User: '', WorkingDir: '', Tty: false,
      OpenStdin: false, StdinOnce: false, AttachStdin: false, AttachStdout: false, AttachStderr: false,
      HostConfig: {} as never,
    });
    try {
      const result = await aca(['rm', '-f', `foreign-${runId}`]);
      expect(result.exitCode).toBe(1);
      expect((await aca(['rm', '-f', id.slice(0, 12)])).exitCode).toBe(1);
      expect((await engine.inspectContainer(id)).Id).toBe(id);
    } finally {
      await engine.removeContainer(id, { force: true });
    }
  });
});
